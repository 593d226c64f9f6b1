"""A lazy MotionField: read frame by frame from a source, kept lazy by the per-frame algebra.

Every edit is checked two ways: the source is not called until frames are read (laziness),
and the frames equal what the same edit of the in-memory field gives (values).
"""

from __future__ import annotations

import pytest
import torch

from motionkit import MotionField, RegionMask, limits
from motionkit.errors import InvalidInputError, NonFiniteError, ShapeMismatchError, TooLargeError

T, H, W = 6, 12, 16


def wavy(t: int) -> torch.Tensor:
    """Frame t of a smooth, non-uniform field (frame 0 zero)."""
    y, x = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32), indexing="ij")
    return torch.stack([0.7 * t * torch.sin(y / 3.0), 0.4 * t * torch.cos(x / 4.0)])


class Source:
    """A frame source that counts how often it is started."""

    def __init__(self, frames=None) -> None:
        self.calls = 0
        self.frames = frames if frames is not None else [wavy(t) for t in range(T)]

    def __call__(self):
        self.calls += 1
        return iter(self.frames)


@pytest.fixture
def lazy() -> tuple[MotionField, Source, MotionField]:
    source = Source()
    return MotionField.from_frames(source, T, (H, W)), source, MotionField(torch.stack(source.frames))


def test_a_lazy_field_reads_nothing_until_asked(lazy):
    field, source, memory = lazy
    assert field.is_lazy and not memory.is_lazy
    assert (field.frames, field.size, len(field)) == (T, (H, W), T)
    assert repr(field) == f"MotionField(frames={T}, size=({H}, {W}), lazy=True)"
    assert source.calls == 0
    assert torch.equal(field.frame(3), memory.flow[3]) and source.calls == 1
    assert torch.equal(field.flow, memory.flow) and torch.equal(field.to_tensor(), memory.flow)
    solid = field.materialize()
    assert not solid.is_lazy and solid == memory and solid.materialize() is solid


EDITS = {
    "scale": lambda f, g: f * 0.5,
    "per-frame weights": lambda f, g: f * [0, 1, 2, 0.5, 1, -1],
    "rmul": lambda f, g: 2.0 * f,
    "add": lambda f, g: f + g,
    "add in memory": lambda f, g: f + MotionField.camera(pan=(3, 1), frames=T, size=(H, W)),
    "sub": lambda f, g: f - g,
    "neg": lambda f, g: -f,
    "compose": lambda f, g: f.compose(g),
    "compose camera": lambda f, g: MotionField.camera(zoom=1.1, frames=T, size=(H, W)).compose(f),
    "masked": lambda f, g: f.masked(RegionMask.from_polygon([(2, 2), (12, 2), (12, 9)], (H, W))),
    "resize": lambda f, g: f.resize((24, 20)),
    "spatial smooth": lambda f, g: f.smooth(spatial_sigma=1.5),
    "prefix": lambda f, g: f[:4],
    "every other": lambda f, g: f[::2],
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_per_frame_edits_stay_lazy_and_equal_the_in_memory_result(lazy, name):
    field, source, memory = lazy
    other_source = Source([wavy(t).flip(-1) for t in range(T)])
    other = MotionField.from_frames(other_source, T, (H, W))
    edited = EDITS[name](field, other)
    assert edited.is_lazy
    assert source.calls == 0 and other_source.calls == 0  # building the edit read nothing
    expected = EDITS[name](memory, MotionField(torch.stack(other_source.frames)))
    assert not expected.is_lazy
    frames = list(edited.iter_frames())
    assert source.calls == 1  # one pass over the source per pass over the edit
    assert len(frames) == expected.frames and edited.size == expected.size
    torch.testing.assert_close(torch.stack(frames), expected.flow, atol=1e-5, rtol=0)
    assert frames[0].abs().max() == 0


def test_whole_field_operations_read_a_small_lazy_field_and_match(lazy):
    field, _, memory = lazy
    assert field.reverse().allclose(memory.reverse())
    assert field.loop().allclose(memory.loop())
    assert field.smooth(temporal_sigma=1.0).allclose(memory.smooth(temporal_sigma=1.0))
    assert torch.equal(field.magnitude(), memory.magnitude())
    assert (field.numpy() == memory.numpy()).all() and field == memory and field.allclose(memory)


def test_whole_field_operations_refuse_above_the_limit(lazy, monkeypatch):
    field, source, _ = lazy
    monkeypatch.setattr(limits, "MAX_MATERIALIZE_BYTES", 2 * H * W * 4 * (T - 1))
    for call in (lambda: field.flow, field.reverse, field.loop, field.magnitude, field.numpy,
                 lambda: field.smooth(temporal_sigma=1.0), lambda: field == field):
        with pytest.raises(TooLargeError, match="iter_frames") as info:
            call()
        assert "materialize()" in str(info.value)
    assert source.calls == 0  # refused before reading anything
    assert (field * 2).frame(1).shape == (2, H, W)  # streaming still works
    assert not field.materialize().is_lazy  # asking explicitly is allowed


def test_frames_from_the_source_are_checked_as_they_come():
    bad_shape = MotionField.from_frames(lambda: iter([torch.zeros(2, H, W), torch.zeros(2, H, W + 1)]), 2, (H, W))
    with pytest.raises(ShapeMismatchError, match="frame 1"):
        list(bad_shape.iter_frames())
    nan = torch.zeros(2, H, W)
    nan[0, 3, 3] = float("nan")
    with pytest.raises(NonFiniteError, match="frame 1"):
        list(MotionField.from_frames(lambda: iter([torch.zeros(2, H, W), nan]), 2, (H, W)))
    with pytest.raises(InvalidInputError, match="frame 0"):
        list(MotionField.from_frames(lambda: iter([torch.ones(2, H, W)]), 1, (H, W)))
    with pytest.raises(InvalidInputError, match="yielded 1 frames but promised 3"):
        list(MotionField.from_frames(lambda: iter([torch.zeros(2, H, W)]), 3, (H, W)))
    with pytest.raises(InvalidInputError, match="callable"):
        MotionField.from_frames([torch.zeros(2, H, W)], 1, (H, W))
    with pytest.raises(InvalidInputError):
        MotionField.from_frames(lambda: iter([]), 0, (H, W))


def test_slices_keep_frame_0_as_the_reference(lazy):
    field, _, memory = lazy
    for key in (slice(1, None), slice(None, None, -1), slice(0, 0)):
        for f in (field, memory):
            with pytest.raises(InvalidInputError, match="frame 0"):
                f[key]
    assert torch.equal(field[-1], memory.flow[-1])
    with pytest.raises(IndexError):
        field.frame(T)


def test_lazy_and_in_memory_shapes_must_agree(lazy):
    field, _, _ = lazy
    with pytest.raises(ShapeMismatchError):
        field + MotionField.zeros(T + 1, (H, W))
    with pytest.raises(ShapeMismatchError):
        field * [1.0, 2.0]


def test_edits_of_a_lazy_field_check_each_frame_once_at_its_source(monkeypatch):
    from motionkit.motion import MotionField as Field

    checked = []
    original = Field._checked
    monkeypatch.setattr(Field, "_checked", lambda self, frame, index: checked.append(index) or original(self, frame, index))
    source_frames = [torch.full((2, 8, 8), float(t)) for t in range(5)]   # frame 0 is zeros
    field = Field.from_frames(lambda: iter(source_frames), 5, (8, 8))
    edited = ((field * 0.5).resize((16, 16)) + Field.camera(pan=(2, 0), frames=5, size=(16, 16)))[:4]
    frames = list(edited.iter_frames())
    assert checked == [0, 1, 2, 3]                           # the source's frames, once each, not once per layer
    assert frames[3][0, 0, 0].item() == pytest.approx(3.0 * 0.5 * 2 + 1.5)   # 1.5 px/frame x 2 (resize) + pan
    bad = list(source_frames)
    bad[2] = torch.full((2, 8, 8), float("nan"))
    with pytest.raises(NonFiniteError):                       # a bad source frame still stops an edited field
        list((Field.from_frames(lambda: iter(bad), 5, (8, 8)) * 0.5).iter_frames())
