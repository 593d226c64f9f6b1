"""The found region of a close-up follows a pale, defocused rim of the subject (chelsea's cheek).

The cat's right cheek ends in white fur, slightly out of focus, before a pale blurred room: its
colours are the room's, so the blurred-background cut gave it away and the region ended along
the orange-to-white colour edge inside the cheek (a notch, right edge at x = 337 on rows
195-215), and the white chest fur at the bottom border left gaps. Shallow dents of the sharp
subject's outline are now filled (:func:`motionkit.ops.object_search.fill_dents`). Pixel
positions are chelsea's own (451 x 300).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from skimage import color

from motionkit.classical.densify import SparsePredictor
from motionkit.ops.object_search import fill_dents
from motionkit.trajectory import Trajectory


@pytest.fixture(scope="module")
def eye_region(cat_photo) -> np.ndarray:
    image = torch.from_numpy(np.ascontiguousarray(cat_photo)).permute(2, 0, 1).float() / 255.0
    [region] = SparsePredictor(mode="object").regions(image, [Trajectory.line((240, 110), (268, 100), frames=16)])
    return region.mask.values.numpy() > 0.5


def _outer_edges(photo: np.ndarray, rows: range, x0: int, x1: int) -> dict[int, int]:
    """Per row, the x of the strongest colour edge (CIELAB gradient across x, sigma 2 px) in [x0, x1)."""
    lab = color.rgb2lab(photo)
    grad = sum(cv2.Sobel(cv2.GaussianBlur(lab[..., c], (0, 0), 2.0), cv2.CV_64F, 1, 0, ksize=3) ** 2 for c in range(3))
    return {y: x0 + int(np.argmax(grad[y, x0:x1])) for y in rows}


def test_the_region_follows_the_cats_right_cheek_to_its_outline(eye_region, cat_photo):
    right = {y: int(np.nonzero(eye_region[y])[0].max()) for y in range(180, 216)}
    # The cheek's outer outline, measured from the photo: right of the warm fur's strong edge
    # (x 337-350 on these rows, where the old region ended) the white fur meets the room at a
    # weak edge, x 359-366 on rows 180-205 (how found: the CIELAB gradient's local maxima
    # along each row, checked on a 4x crop; the room's own edges lie beyond x 372). Below row
    # 205 the edge fades; the region must not dent in towards the fur edge there.
    edges = _outer_edges(cat_photo, range(180, 206, 5), 354, 372)
    for y, x in edges.items():
        assert abs(right[y] - x) <= 6, (y, right[y], x)
    assert min(right.values()) >= 352, right
    # The room beyond stays out.
    assert not eye_region[200, 385] and not eye_region[150, 440]
    assert eye_region[:, 420:].mean() < 0.1


def test_the_cats_white_chest_fur_at_the_bottom_border_is_in_the_region(eye_region):
    # Along the bottom border the cat's chest and whiskers run from the left edge to x ~ 325
    # (the room starts right of it); the white fur at x 60-100, 190-210 and 250-280 was left out.
    assert eye_region[-1, :320].all(), np.nonzero(~eye_region[-1, :320])[0]
    assert eye_region[-12, [75, 200, 265]].all()
    assert not eye_region[-1, 400:].any()


def test_fill_dents_fills_shallow_dents_and_keeps_deep_bays():
    shape = np.zeros((120, 160), bool)
    shape[10:110, 10:150] = True
    shape[10:18, 40:60] = False  # a shallow dent (8 px deep, 20 wide) at the top
    shape[60:110, 70:90] = False  # a deep bay (50 px deep) from the bottom
    filled = fill_dents(shape, 30.0, 12.0)
    assert filled[14, 50] and not shape[14, 50]
    assert not filled[90, 80] and not filled[62, 80]
    assert not filled[5, 50] and not filled[115, 80]  # nothing outside the hull
    assert (filled >= shape).all()
    assert not fill_dents(shape, 10.0, 12.0)[14, 50]  # its mouth too wide
    assert not fill_dents(shape, 30.0, 5.0)[14, 50]  # too deep
