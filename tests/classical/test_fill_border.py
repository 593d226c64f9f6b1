"""Content entering across the border continues what is at the border, textured to its edge.

The band a pan brings in is synthesised in the background plate. Two failures are checked on
coffee (whose top-left corner is dark and whose left edge is wood grain below it): a band
that turns into a smooth smear somewhere (a fill that fell back to a smooth average when its
source strip was too thin for the coarsest pyramid level: the "light column"), and a dark
corner continued as wood.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from motionkit.classical.render import WarpRenderer
from motionkit.motion import MotionField
from motionkit.ops.patch_inpaint import inpaint_patches_numpy

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SHIFT = 40  # px the content moves right: the band x < SHIFT enters from beyond the left border


def _local_std(grey: np.ndarray) -> np.ndarray:
    mean = cv2.blur(grey, (7, 7))
    return np.sqrt(np.maximum(cv2.blur(grey * grey, (7, 7)) - mean * mean, 0.0))


@pytest.fixture(scope="module")
def panned(coffee_photo):
    image = cv2.resize(coffee_photo, (240, 160), interpolation=cv2.INTER_AREA)
    pan = MotionField.camera(pan=(SHIFT, 0), frames=3, size=image.shape[:2])
    frame = list(WarpRenderer().render(image, pan).iter_frames())[-1]
    return image, cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)


def test_every_column_of_the_entering_band_is_as_textured_as_the_photo_beside_it(panned):
    _, grey = panned
    texture = _local_std(grey)
    beside = texture[:, SHIFT + 4 : 2 * SHIFT].mean()
    columns = [texture[:, x : x + 8].mean() / beside for x in range(0, SHIFT - 8, 8)]
    # The session-2 plate had a smooth column at the far left (0.31 of the photo's texture here).
    assert min(columns) > 0.6, f"local std of the band's 8-column blocks vs the photo beside it: {np.round(columns, 2)}"


def test_the_dark_corner_continues_dark_and_the_wood_as_wood(panned):
    image, grey = panned
    h = grey.shape[0]
    photo = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    top, bottom = slice(0, int(0.2 * h)), slice(int(0.5 * h), h)
    band = slice(0, SHIFT - 2)
    edge = photo[:, :8]  # the photo's own left edge, what the band continues
    for rows in (top, bottom):
        assert abs(grey[rows, band].mean() - edge[rows].mean()) < 20, (rows, grey[rows, band].mean(), edge[rows].mean())
    assert grey[top, band].mean() < 0.5 * grey[bottom, band].mean()  # dark above, wood below


def test_a_thin_source_strip_still_gives_texture_not_a_smooth_fill(coffee_photo):
    """A wide hole whose only source is a strip too thin for its coarse levels (a margin grown a second time)."""
    image = np.ascontiguousarray(coffee_photo[200:360, 400:600]).astype(np.float32) / 255.0  # wood grain
    hole = np.zeros(image.shape[:2], bool)
    hole[:, 130:] = True
    source = np.zeros_like(hole)
    source[:, 106:130] = True  # 24 px: no whole 7 x 7 patch is left of it at 1/4 size
    out = inpaint_patches_numpy(image, hole, source=source)
    texture = _local_std(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY))
    columns = [texture[:, x : x + 8].mean() / texture[:, 106:130].mean() for x in range(134, 194, 8)]
    assert min(columns) > 0.6, np.round(columns, 2)


@pytest.mark.slow
def test_the_place_a_half_picture_object_left_is_filled_with_what_surrounds_it(coffee_photo):
    # Cup and saucer together are half of coffee: a fill that took them for a camera-like move
    # (the whole picture moving) kept the saucer as a texture source and painted its red into
    # the wood it uncovered.
    import motionkit as mk

    image = coffee_photo  # full size: the grown foreground passes half the picture here
    motion = mk.predict_motion(image, [mk.Trajectory.line((200, 130), (260, 150), frames=6)], frames=6)
    moving = np.abs(motion.frame(5).numpy()).sum(0) > 1
    assert 0.4 < moving.mean() < 0.9, "the object is about half of the picture"
    last = mk.render(image, motion).frame(5).astype(np.float64)
    dx, dy = np.median(motion.frame(5).numpy()[:, moving], axis=1).round().astype(int)
    covered = np.roll(np.roll(moving, dy, axis=0), dx, axis=1)
    left = cv2.erode((moving & ~covered).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert left.sum() > 200
    def saucer_red(pixels):  # the saucer's deep red: strong red, little green (the wood is orange-brown)
        return (pixels[:, 0] > 90) & (pixels[:, 1] < 0.33 * pixels[:, 0])

    wood = cv2.erode((~moving).astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
    assert saucer_red(image[left].astype(np.float64)).mean() > 0.5, "the uncovered place was the saucer"
    assert saucer_red(image[wood].astype(np.float64)).mean() < 0.1, "and the wood around is not that red"
    assert saucer_red(last[left]).mean() < 0.15, "the saucer's red was painted into the uncovered wood"
