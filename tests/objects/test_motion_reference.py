"""A MotionField's reference frame (I3): frame ``reference`` is zero, displacements start from its pixels."""

from __future__ import annotations

import pytest
import torch

from motionkit import MotionField
from motionkit.errors import InvalidInputError


def pan(frames: int = 5, step: float = 2.0, size: tuple[int, int] = (12, 16)) -> torch.Tensor:
    flow = torch.zeros(frames, 2, *size)
    flow[:, 0] = (torch.arange(frames, dtype=torch.float32) * step).view(-1, 1, 1)
    return flow


def test_default_reference_is_frame0_and_another_frame_must_be_zero():
    assert MotionField(pan()).reference == 0
    seen = pan() - pan()[3:4]
    field = MotionField(seen, reference=3)
    assert field.reference == 3 and field.frame(0)[0, 5, 5].item() == -6.0
    with pytest.raises(InvalidInputError, match="frame 3 of a motion field must be zero"):
        MotionField(pan(), reference=3)
    with pytest.raises(InvalidInputError, match="out of range"):
        MotionField(seen, reference=5)


def test_lazy_field_checks_its_reference_frame():
    seen = pan() - pan()[4:5]
    lazy = MotionField.from_frames(lambda: iter(seen), count=5, size=(12, 16), reference=4)
    assert torch.equal(lazy.materialize().flow, seen) and lazy.materialize().reference == 4
    wrong = MotionField.from_frames(lambda: iter(pan()), count=5, size=(12, 16), reference=4)
    with pytest.raises(InvalidInputError, match="frame 4"):
        list(wrong.iter_frames())


def test_edits_keep_the_reference_and_mixing_references_is_refused():
    field = MotionField(pan() - pan()[2:3], reference=2)
    assert (field * 0.5).reference == 2 and (field + field).reference == 2
    assert field.resize((24, 32)).reference == 2
    assert field[1:].reference == 1 and field[::2].reference == 1
    with pytest.raises(InvalidInputError, match="reference frame 2"):
        field[3:]
    with pytest.raises(InvalidInputError, match="seen from frame 2"):
        field + MotionField(pan())
    with pytest.raises(InvalidInputError, match="reverse"):
        field.reverse()
    assert MotionField(field) == field and MotionField(field).reference == 2


def test_with_reference_sees_the_same_motion_from_another_frame():
    field = MotionField(pan(step=3.0))
    seen = field.with_reference(2)
    assert seen.reference == 2
    # From frame 2, frame 0 is 6 px to the left and frame 4 6 px to the right, for every pixel.
    assert torch.allclose(seen.flow[0, 0, 2:-2, 8:-2], torch.full((8, 6), -6.0), atol=1e-3)
    assert torch.allclose(seen.flow[4, 0, 2:-2, 2:-8], torch.full((8, 6), 6.0), atol=1e-3)
    assert seen.flow[2].abs().max().item() == 0.0
    back = seen.with_reference(0)  # near the borders the inverse clamps; the interior round-trips
    assert torch.allclose(back.flow[:, :, 2:-2, 8:-8], field.flow[:, :, 2:-2, 8:-8], atol=1e-3)


@pytest.mark.parametrize("reference", [0, 2])
def test_own_zeroes_the_reference_frame_in_place_and_nothing_else(reference):
    flow = torch.randn(4, 2, 6, 5)
    flow[reference] = -0.0  # the sign of zero counts: frame `reference` must be +0.0 bits
    before = flow.clone()
    field = MotionField._own(flow, reference=reference)
    assert field.flow.data_ptr() == flow.data_ptr()  # wrapped, not copied
    assert (field.flow[reference].view(torch.int32) == 0).all()
    others = [t for t in range(4) if t != reference]
    assert torch.equal(field.flow[others], before[others])
