"""What the warp renderer shows where the reference image shows nothing: texture, once, never a mirror.

An object moved away uncovers background the photo never showed, and a camera move brings
in content from beyond its border. Both are read from one background plate per render
(texture synthesised from the photo's own patches), so the fill is as textured as what is
around it, stays put from frame to frame, and repeats nothing mirrored at a border.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from motionkit.classical.render import WarpRenderer
from motionkit.motion import MotionField
from motionkit.ops.forward_warp import warp_frame_numpy
from motionkit.ops.patch_inpaint import inpaint_patches, inpaint_patches_numpy
from motionkit.ops.plate import BackgroundPlate

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small frames: threads only cost hand-offs

FRAMES = 6
DRAG = (64.0, -12.0)  # pixels, over the clip


def _local_std(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean = cv2.blur(grey, (7, 7))
    return np.sqrt(np.maximum(cv2.blur(grey * grey, (7, 7)) - mean * mean, 0.0))


@pytest.fixture(scope="module")
def scene(coffee_photo):
    """A disc of the coffee photo (cup and saucer) cut out and laid on a real gravel texture, with its drag."""
    from skimage import data

    gravel = cv2.resize(data.gravel(), (256, 192), interpolation=cv2.INTER_AREA)
    background = np.dstack([gravel, (gravel * 0.85).astype(np.uint8), (gravel * 0.7).astype(np.uint8)])
    cup = cv2.resize(coffee_photo, (150, 100), interpolation=cv2.INTER_AREA)
    h, w = background.shape[:2]
    yy, xx = np.mgrid[:h, :w]
    cx, cy, radius = 70, 100, 30
    disc = (xx - cx) ** 2 + (yy - cy) ** 2 < radius**2
    image = background.copy()
    image[disc] = cup[yy[disc] - cy + 50, xx[disc] - cx + 75]
    soft = torch.from_numpy(cv2.GaussianBlur(disc.astype(np.float32), (0, 0), 1.0))
    flow = torch.zeros(FRAMES, 2, h, w)
    for t in range(FRAMES):
        flow[t, 0] = soft * DRAG[0] * t / (FRAMES - 1)
        flow[t, 1] = soft * DRAG[1] * t / (FRAMES - 1)
    return image, disc, MotionField(flow)


@pytest.fixture(scope="module")
def dragged(scene):
    image, _, motion = scene
    return np.stack(list(WarpRenderer().render(image, motion).iter_frames()))


def _uncovered(disc: np.ndarray, t: int) -> np.ndarray:
    """Where the disc was and no longer is at frame ``t``, kept 4 px clear of both outlines."""
    shift = np.float32([[1, 0, DRAG[0] * t / (FRAMES - 1)], [0, 1, DRAG[1] * t / (FRAMES - 1)]])
    moved = cv2.warpAffine(disc.astype(np.uint8), shift, disc.shape[::-1], flags=cv2.INTER_NEAREST)
    clear = np.ones((9, 9), np.uint8)
    return (cv2.erode(disc.astype(np.uint8), clear) > 0) & ~(cv2.dilate(moved, clear) > 0)


def test_the_uncovered_background_is_as_textured_as_the_background_around_it(scene, dragged):
    image, disc, _ = scene
    last = dragged[-1]
    uncovered = _uncovered(disc, FRAMES - 1)
    ring = (cv2.dilate(disc.astype(np.uint8), np.ones((41, 41), np.uint8)) > 0) & ~(cv2.dilate(disc.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0)
    assert uncovered.sum() > 1000
    texture = _local_std(last)[uncovered].mean() / _local_std(image)[ring].mean()
    assert 0.7 <= texture <= 1.3, f"uncovered texture {texture:.2f} of the surrounding background's"
    # Background, not the object that left: far from the cup's colours, close to the gravel's.
    fill = last[uncovered].astype(np.float32).mean(0)
    assert np.abs(fill - image[ring].astype(np.float32).mean(0)).max() < 25
    assert np.abs(fill - image[disc].astype(np.float32).mean(0)).max() > 25
    # The smooth fill this replaces is flat: the test tells the two apart.
    smooth = cv2.inpaint(image, disc.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    assert _local_std(smooth)[uncovered].mean() / _local_std(image)[ring].mean() < 0.7


def test_the_fill_stays_put_from_frame_to_frame(scene, dragged):
    _, disc, _ = scene
    for t in range(3, FRAMES):  # from the frame where the uncovered crescents are more than thin slivers
        both = _uncovered(disc, t - 1) & _uncovered(disc, t)
        assert both.sum() > 200
        change = np.abs(dragged[t].astype(int) - dragged[t - 1].astype(int))[both]
        assert change.max() <= 2, f"frame {t}: the fill changed by up to {change.max()} levels where it stayed uncovered"


def test_one_render_synthesises_its_plate_once_and_frame0_and_still_pixels_stay_exact(scene, dragged):
    image, disc, motion = scene
    assert np.array_equal(dragged[0], image)
    far = ~(cv2.dilate(disc.astype(np.uint8), np.ones((161, 161), np.uint8)) > 0)
    assert np.array_equal(dragged[-1][far], image[far])
    plate = BackgroundPlate(image.astype(np.float32) / 255.0)
    for flow in motion.iter_frames():
        warp_frame_numpy(plate.image, flow.numpy(), plate=plate)
    assert plate.fills == 1 and plate.margins == [0, 0, 0, 0]


def _mirror_correlation(frame: np.ndarray, shift: int, band: int) -> float:
    """Normalised correlation of the entering band ``x < band`` with the frame mirrored about the old border ``x = shift``.

    On the detail (the frame minus its blur): any plausible continuation of the photo
    shares its coarse shading with the mirror image; only a copy shares its grain.
    """
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey = grey - cv2.GaussianBlur(grey, (0, 0), 2.0)
    entering = grey[:, :band]
    mirrored = grey[:, 2 * shift - np.arange(band)]  # image(x - shift) read mirrored = frame(2 shift - x)
    a, b = entering - entering.mean(), mirrored - mirrored.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def test_content_entering_across_the_border_is_synthesised_not_mirrored(coffee_photo):
    image = cv2.resize(coffee_photo, (240, 160), interpolation=cv2.INTER_AREA)
    shift = 40
    pan = MotionField.camera(pan=(shift, 0), frames=3, size=image.shape[:2])
    new = list(WarpRenderer().render(image, pan).iter_frames())[2]
    old = list(WarpRenderer(fill="stretch").render(image, pan).iter_frames())[2]
    band = shift - 4
    assert _mirror_correlation(old, shift, band) > 0.9  # the rubber sheet reads the border mirrored
    assert _mirror_correlation(new, shift, band) < 0.5
    # Still the photo's texture there, not a flat smear, and the rest is the photo moved.
    assert _local_std(new)[:, : band - 4].mean() > 0.7 * _local_std(image)[:, : band - 4].mean()
    assert np.array_equal(new[:, shift:], image[:, :-shift])


def test_patch_fill_keeps_known_pixels_and_copies_texture():
    rng = np.random.default_rng(3)
    image = rng.random((40, 40, 3), dtype=np.float32)
    hole = np.zeros((40, 40), bool)
    hole[12:28, 10:30] = True
    out = inpaint_patches_numpy(image, hole, seed=1)
    assert np.array_equal(out[~hole], image[~hole])
    assert out[hole].std() > 0.5 * image[~hole].std()
    assert np.array_equal(out, inpaint_patches_numpy(image, hole, seed=1))  # deterministic for a seed
    tensor = inpaint_patches(torch.from_numpy(image).permute(2, 0, 1), torch.from_numpy(hole), seed=1)
    assert np.array_equal(tensor.permute(1, 2, 0).numpy(), out)  # the torch op and its numpy twin agree
