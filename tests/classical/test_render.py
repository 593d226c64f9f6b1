"""The warp renderer: pixels land where the field says, frame 0 and the outside stay exact, holes get filled."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from helpers.images import to_tensor
from motionkit.classical.render import WarpRenderer
from motionkit.errors import NonFiniteError, ShapeMismatchError
from motionkit.mask import RegionMask
from motionkit.motion import MotionField
from motionkit.ops.forward_warp import source_map_numpy, warp_frame_numpy


@pytest.fixture(scope="module")
def photo(coffee_photo) -> np.ndarray:
    return cv2.resize(coffee_photo, (240, 160), interpolation=cv2.INTER_AREA)



@pytest.mark.parametrize("work_size", [256, 64])  # inverted at full and at reduced resolution
@pytest.mark.parametrize("shift", [(5.0, -3.0), (-7.0, 4.0)])
def test_constant_translation_moves_every_pixel_by_exactly_that(photo, shift, work_size):
    dx, dy = shift
    flow = torch.zeros(2, *photo.shape[:2])
    flow[0], flow[1] = dx, dy
    out = WarpRenderer(work_size=work_size).render_frame(to_tensor(photo), flow)
    out = np.rint(out.permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    h, w = photo.shape[:2]
    ix, iy = int(dx), int(dy)
    # Source pixel (x, y) is now at (x + dx, y + dy).
    src = photo[max(0, -iy) : h - max(0, iy), max(0, -ix) : w - max(0, ix)]
    dst = out[max(0, iy) : h + min(0, iy), max(0, ix) : w + min(0, ix)]
    assert np.array_equal(dst, src)


def test_subpixel_translation_matches_a_bilinear_shift(photo):
    image = photo.astype(np.float32) / 255.0
    flow = np.zeros((2, *photo.shape[:2]), np.float32)
    flow[0], flow[1] = 2.25, -1.5
    out, _ = warp_frame_numpy(image, flow)
    reference = cv2.warpAffine(image, np.float32([[1, 0, 2.25], [0, 1, -1.5]]), photo.shape[1::-1], flags=cv2.INTER_LINEAR)
    assert np.abs(out - reference)[8:-8, 8:-8].max() < 0.02


def test_frame0_and_pixels_outside_the_brush_are_bit_identical(photo):
    h, w = photo.shape[:2]
    flow = torch.zeros(6, 2, h, w)
    for t in range(6):
        flow[t, 0] = 2.0 * t * torch.exp(-((torch.arange(w) - 120.0) ** 2) / 2000.0)
    brush = np.zeros((h, w), np.float32)
    brush[40:120, 60:200] = 0.7
    clip = WarpRenderer().render(to_tensor(photo), MotionField(flow), RegionMask(brush), fps=12.0)
    frames = np.stack(list(clip.iter_frames()))
    assert len(clip) == 6 and clip.fps == 12.0
    assert np.array_equal(frames[0], photo)
    assert not np.array_equal(frames[-1], photo)  # something did move inside the brush
    for frame in frames:
        assert np.array_equal(frame[brush == 0], photo[brush == 0])


def test_moved_object_covers_the_background_and_its_old_place_is_filled(photo):
    # A bright square moves 12 px right over the photo; the rest stays.
    image = photo.astype(np.float32) / 255.0
    image[50:90, 60:100] = [1.0, 0.9, 0.2]
    flow = np.zeros((2, *photo.shape[:2]), np.float32)
    flow[0, 50:90, 60:100] = 12.0
    for fill in ("stretch", "background"):
        out, unseen = warp_frame_numpy(image, flow, fill=fill)
        # Foreground wins where it lands, including over pixels that stayed (softmax metric).
        assert np.allclose(out[52:88, 74:110], [1.0, 0.9, 0.2], atol=1e-4)
        # The strip it left (x 60..71) is reported unseen and filled: not black, and not the square.
        assert unseen[55:85, 62:70].all() and not unseen[:, 120:].any()
        hole = out[55:85, 62:70]
        assert hole.min() > 0.02
        if fill == "background":  # background colours, not a smeared copy of the square
            assert np.abs(hole - [1.0, 0.9, 0.2]).sum(-1).min() > 0.3
    # Outside the image, the source map points back inside or marks the pixel unseen.
    src, unseen = source_map_numpy(np.full((2, 10, 10), 3.0, np.float32))
    assert unseen[:, :3].all() and unseen[:3, :].all() and not unseen[3:, 3:].any()


def test_average_splat_and_invalid_input(photo):
    flow = torch.zeros(2, *photo.shape[:2])
    flow[0] = 1.0
    assert WarpRenderer(splat="avg").render_frame(to_tensor(photo), flow).shape == (3, *photo.shape[:2])
    with pytest.raises(ShapeMismatchError):
        WarpRenderer().render_frame(torch.rand(3, 10, 10), torch.zeros(2, 12, 10))
    flow[0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteError):
        WarpRenderer().render_frame(to_tensor(photo), flow)


def test_uint8_photos_are_accepted_like_tensors(photo):
    flow = torch.zeros(2, *photo.shape[:2])
    flow[0] = 4.0
    from_array = WarpRenderer().render_frame(photo, flow)
    from_tensor = WarpRenderer().render_frame(to_tensor(photo), flow)
    assert torch.equal(from_array, from_tensor)
