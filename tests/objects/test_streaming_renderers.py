"""The streaming bases: FrameRenderer and WindowRenderer turn one small method into ``render``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import motionkit as mk
from motionkit.components import plan_windows
from motionkit.errors import ShapeMismatchError

H, W = 6, 8


def counting_field(frames: int) -> tuple[mk.MotionField, list[int]]:
    """A lazy field whose frame t moves t px right; ``reads`` lists the frames handed out."""
    reads: list[int] = []

    def source():
        for t in range(frames):
            reads.append(t)
            yield torch.full((2, H, W), float(t)) * torch.tensor([1.0, 0.0]).view(2, 1, 1)

    return mk.MotionField.from_frames(source, frames, (H, W)), reads


class Shift(mk.FrameRenderer):
    """Rolls the image by the (integer) flow: where pixels land is known exactly."""

    def render_frame(self, image, flow, mask=None):
        return torch.roll(image, int(flow[0, 0, 0]), dims=2)


def test_frame_renderer_is_lazy_in_lazy_out_and_moves_pixels():
    field, reads = counting_field(5)
    image = torch.zeros(3, H, W)
    image[:, :, 0] = 1.0  # a white column at x = 0
    clip = Shift().render(image, field, fps=5)
    assert clip.is_lazy and reads == [] and clip.fps == 5
    frames = clip.to_numpy()
    assert [int(np.flatnonzero(f[0, :, 0])[0]) for f in frames] == [0, 1, 2, 3, 4]  # the column moves t px
    in_memory = Shift().render(image, field.materialize())
    assert not in_memory.is_lazy and np.array_equal(in_memory.to_numpy(), frames)
    with pytest.raises(ShapeMismatchError):
        Shift().render(torch.zeros(3, H + 1, W), field)


class WindowMarker(mk.WindowRenderer):
    """Every frame of the k-th window rendered as the gray level 0.1 * k: shows the cross-fade."""

    window, overlap = 4, 1

    def __init__(self) -> None:
        self.calls: list[list[float]] = []

    def render_window(self, image, flows, mask=None):
        self.calls.append([float(f[0, 0, 0]) for f in flows])
        return torch.full((len(flows), 3, H, W), 0.1 * (len(self.calls) - 1))


def test_window_renderer_streams_windows_and_cross_fades_shared_frames():
    assert plan_windows(8, 4, 1) == [[0, 1, 2, 3], [0, 3, 4, 5], [0, 5, 6, 7]]
    field, reads = counting_field(8)
    renderer = WindowMarker()
    clip = renderer.render(torch.zeros(3, H, W), field)
    assert clip.is_lazy and reads == []
    levels = [int(frame[0, 0, 0]) for frame in clip.iter_frames()]
    # Frames 3 and 5 are shared by two windows and blended half and half.
    assert levels == [0, 0, 0, 13, 26, 38, 51, 51]
    assert renderer.calls == [[0, 1, 2, 3], [0, 3, 4, 5], [0, 5, 6, 7]]  # each window: frame 0 + a run
    assert reads == list(range(8))  # the field was read once, in order


def test_a_window_of_the_wrong_shape_is_refused():
    class Broken(WindowMarker):
        def render_window(self, image, flows, mask=None):
            return torch.zeros(len(flows) - 1, 3, H, W)

    with pytest.raises(ShapeMismatchError, match="render_window returned"):
        Broken().render(torch.zeros(3, H, W), counting_field(8)[0]).to_numpy()
