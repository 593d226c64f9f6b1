"""A lazy field through the Motion-I2V renderer: streamed window by window, joined by cross-fades."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionkit.components import WindowRenderer, plan_windows
from motionkit.motion import MotionField
from motionkit.ops.colour import to_uint8
from motionkit.pipelines.motion_i2v import MotionI2VRenderer

FAST = {"steps": 2, "seed": 0, "device": "cpu"}


@pytest.fixture
def image(cat_photo) -> torch.Tensor:
    photo = torch.from_numpy(cat_photo[100:228, 150:278].copy()).permute(2, 0, 1).float() / 255
    return torch.nn.functional.interpolate(photo[None], size=(64, 64), mode="area")[0]


def drift(frames: int, speed: float = 0.6) -> torch.Tensor:
    """``(T, 2, 64, 64)``: every pixel drifts right by ``speed * t`` pixels, frame 0 zero."""
    flow = torch.zeros(frames, 2, 64, 64)
    flow[:, 0] = torch.arange(frames, dtype=torch.float32).view(-1, 1, 1) * speed
    return flow


class Source:
    """A lazy field's frame source that logs every frame it hands out, and every pass."""

    def __init__(self, flow: torch.Tensor, log: list) -> None:
        self.flow, self.log, self.passes = flow, log, 0

    def __call__(self):
        self.passes += 1
        for t, frame in enumerate(self.flow):
            self.log.append(("read", t))
            yield frame

    def field(self) -> MotionField:
        return MotionField.from_frames(self, len(self.flow), (64, 64))


def test_is_a_window_renderer_with_its_options(animator):
    renderer = MotionI2VRenderer(pipeline=animator, window=5, overlap=2, **FAST)
    assert isinstance(renderer, WindowRenderer)
    assert (renderer.window, renderer.overlap) == (5, 2)


def test_a_short_lazy_field_gives_a_lazy_clip_equal_to_the_in_memory_render(animator, image):
    flow = drift(4)
    source = Source(flow, [])
    renderer = MotionI2VRenderer(pipeline=animator, **FAST)
    clip = renderer.render(image, source.field(), fps=5)
    assert clip.is_lazy and len(clip) == 4 and clip.size == (64, 64) and clip.fps == 5
    assert source.passes == 0  # nothing is read until the clip is
    in_memory = renderer.render(image, MotionField(flow), fps=5)
    assert not in_memory.is_lazy
    np.testing.assert_array_equal(clip.to_numpy(), in_memory.to_numpy())
    assert source.passes == 1


def test_a_long_lazy_field_is_read_window_by_window(animator, image, monkeypatch):
    log: list = []
    source = Source(drift(10), log)
    renderer = MotionI2VRenderer(pipeline=animator, window=4, overlap=1, **FAST)
    frames = renderer._frames

    def logged(image, flow, *args):
        log.append(("window", flow.shape[0]))
        return frames(image, flow, *args)

    monkeypatch.setattr(renderer, "_frames", logged)
    clip = renderer.render(image, source.field())
    stream = clip.iter_frames()
    next(stream)  # frame 0 needs the first window only
    assert log == [("read", t) for t in range(4)] + [("window", 4)]
    rest = list(stream)
    assert len(rest) == 9 and source.passes == 1
    # [0,1,2,3] [0,3,4,5] [0,5,6,7] [0,7,8,9]: each window's new frames are read just before it runs.
    assert plan_windows(10, 4, 1) == [[0, 1, 2, 3], [0, 3, 4, 5], [0, 5, 6, 7], [0, 7, 8, 9]]
    assert log[5:] == [("read", 4), ("read", 5), ("window", 4), ("read", 6), ("read", 7), ("window", 4),
                       ("read", 8), ("read", 9), ("window", 4)]


def test_frames_windows_share_are_blends_of_both_windows(animator, image):
    flow = drift(6)
    streamed = MotionI2VRenderer(pipeline=animator, window=4, overlap=1, **FAST).render(image, MotionField.from_frames(
        lambda: iter(flow), 6, (64, 64)))
    assert plan_windows(6, 4, 1) == [[0, 1, 2, 3], [0, 3, 4, 5]]
    # The same pass by hand: one generator seeded 0, drawn from window after window.
    by_hand = MotionI2VRenderer(pipeline=animator, window=4, overlap=1, steps=2, device="cpu",
                                generator=torch.Generator().manual_seed(0))
    first = by_hand.render_window(image, flow[[0, 1, 2, 3]])
    second = by_hand.render_window(image, flow[[0, 3, 4, 5]])
    expected = torch.cat([first[:3], ((first[3] * 0.5 + second[1] * 0.5) / 1.0)[None], second[2:]])
    np.testing.assert_array_equal(streamed.to_numpy(), to_uint8(expected).permute(0, 2, 3, 1).numpy())
    # ... and frame 3 is a real blend: neither window alone.
    blended = streamed.frame(3)
    for alone in (first[3], second[1]):
        assert not np.array_equal(blended, to_uint8(alone).permute(1, 2, 0).numpy())


def test_a_fixed_seed_gives_each_window_its_own_noise_and_each_pass_the_same(animator, image):
    still = torch.zeros(7, 2, 64, 64)  # no motion: with the same noise, two windows would render alike
    renderer = MotionI2VRenderer(pipeline=animator, window=4, overlap=0, **FAST)
    assert plan_windows(7, 4, 0) == [[0, 1, 2, 3], [0, 4, 5, 6]]
    # render_window alone starts from the seed every call, so the same window renders the same.
    torch.testing.assert_close(renderer.render_window(image, still[:4]), renderer.render_window(image, still[:4]), rtol=0, atol=0)
    clip = renderer.render(image, MotionField.from_frames(lambda: iter(still), 7, (64, 64)))
    frames = clip.to_numpy()
    assert not np.array_equal(frames[4:7], frames[1:4])  # the second window drew fresh noise
    np.testing.assert_array_equal(clip.to_numpy(), frames)  # reading again starts from the seed again
