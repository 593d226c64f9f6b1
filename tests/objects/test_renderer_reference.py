"""Interface I4: a field measured from frame k (``MotionField.reference == k``) through the built-in renderers.

The image a renderer is given shows frame k: output frame k is the image (bit for bit where the
renderer promises that) and every other frame moves it by that frame's displacement from frame k.
A renderer that cannot do this refuses the field with an error naming the reference.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import motionkit as mk
from motionkit.components import in_field_order, reference_first
from motionkit.errors import InvalidInputError

from tests.helpers.images import to_tensor

K, FRAMES, SPEED = 3, 6, 2.0  # frame 3 is the reference; content drifts 2 px a frame to the right


@pytest.fixture
def photo(coffee_photo) -> np.ndarray:
    """A 48 x 64 crop of the coffee photo (cup rim and wood), ``uint8 (H, W, 3)``."""
    return np.ascontiguousarray(coffee_photo[60:156:2, 100:228:2])


def drift(k: int = K, frames: int = FRAMES, speed: float = SPEED) -> torch.Tensor:
    """``(T, 2, 48, 64)``: every pixel of frame ``k`` is ``speed * (t - k)`` px right of its place in frame ``t``."""
    flow = torch.zeros(frames, 2, 48, 64)
    flow[:, 0] = (torch.arange(frames, dtype=torch.float32) - k).view(-1, 1, 1) * speed
    return flow


def lazy(flow: torch.Tensor, reference: int) -> mk.MotionField:
    return mk.MotionField.from_frames(lambda: iter(flow), flow.shape[0], tuple(flow.shape[-2:]), reference=reference)


def assert_lands_where_the_field_says(out: np.ndarray, photo: np.ndarray, k: int = K) -> None:
    """Frame t shows the image's column x at column x + 2 (t - k) (whole pixels: exact away from the borders)."""
    for t in range(len(out)):
        shift = int(SPEED * (t - k))
        inner = slice(8, 64 - 8)
        moved = out[t][:, inner]
        expected = photo[:, slice(8 - shift, 64 - 8 - shift)]
        assert np.abs(moved.astype(int) - expected).max() <= 1, t


@pytest.mark.parametrize("streamed", [False, True])
def test_the_warp_renderer_shows_the_image_at_the_reference_frame(photo, streamed):
    flow = drift()
    field = lazy(flow, K) if streamed else mk.MotionField(flow, reference=K)
    out = mk.Renderer.get("warp").render(to_tensor(photo), field).to_numpy()
    assert out.shape == (FRAMES, 48, 64, 3)
    assert np.array_equal(out[K], photo)  # bit for bit
    assert not np.array_equal(out[0], photo)  # frame 0 is 6 px to the left of the image
    assert_lands_where_the_field_says(out, photo)


class Windowed(mk.WindowRenderer):
    """A window renderer that warps each frame of its window and logs the windows' fields."""

    window, overlap = 3, 1

    def __init__(self) -> None:
        self.windows: list[torch.Tensor] = []
        self.warp = mk.Renderer.get("warp")

    def render_window(self, image, flows, mask=None):
        self.windows.append(flows.clone())
        return torch.stack([self.warp.render_frame(image, flow, mask) for flow in flows])


@pytest.mark.parametrize("streamed", [False, True])
def test_a_window_renderer_starts_its_windows_at_the_reference_frame(photo, streamed):
    flow = drift()
    field = lazy(flow, K) if streamed else mk.MotionField(flow, reference=K)
    renderer = Windowed()
    clip = renderer.render(to_tensor(photo), field)
    assert clip.is_lazy == streamed
    out = clip.to_numpy()
    assert np.array_equal(out[K], photo)  # the first window's frame 0 is frame K
    assert_lands_where_the_field_says(out, photo)
    # Every window starts at frame K (zero), then frames 0, 1, 2, 4, 5 of the field, measured from K.
    assert all(float(w[0].abs().max()) == 0.0 for w in renderer.windows)
    seen = [round(float(f[0, 0, 0])) for w in renderer.windows for f in w[1:]]
    assert sorted(set(seen)) == [-6, -4, -2, 2, 4]
    # The same frames as the reference-first field rendered from frame 0, in the field's order.
    first = Windowed().render(to_tensor(photo), reference_first(mk.MotionField(flow, reference=K))).to_numpy()
    assert np.array_equal(out, in_field_order(mk.Clip.from_array(first), K).to_numpy())


def test_reference_first_and_back_are_inverse_orders():
    flow = drift()
    field = mk.MotionField(flow, reference=K)
    first = reference_first(field)
    assert first.reference == 0 and torch.equal(first.flow, flow[[K, 0, 1, 2, 4, 5]])
    streamed = reference_first(lazy(flow, K))
    assert streamed.is_lazy and torch.equal(streamed.materialize().flow, first.flow)
    frames = np.arange(FRAMES, dtype=np.uint8)[:, None, None, None].repeat(2, 1).repeat(2, 2).repeat(3, 3)
    clip = mk.Clip.from_array(frames[[K, 0, 1, 2, 4, 5]])
    assert in_field_order(clip, K).to_numpy()[:, 0, 0, 0].tolist() == list(range(FRAMES))
    lazy_clip = mk.Clip.from_frames(lambda: iter(frames[[K, 0, 1, 2, 4, 5]]), FRAMES, (2, 2), 8)
    assert in_field_order(lazy_clip, K).to_numpy()[:, 0, 0, 0].tolist() == list(range(FRAMES))


def test_a_seamless_loop_refuses_a_later_reference_by_name(photo):
    with pytest.raises(InvalidInputError, match="reference is frame 3"):
        mk.Renderer.get("warp", loop="seamless").render(to_tensor(photo), mk.MotionField(drift(), reference=K))
