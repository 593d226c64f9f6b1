"""Object mode without a brush on a real photo: the object under a drag is found, not the whole picture.

``chelsea`` at 226 x 150 is a close-up: the cat's head fills about two thirds of the frame, the
blurred room shows on the right (x >= 200) and in the top-right corner. A drag on the nose used
to take in the room too (84 % of the image), so the whole picture turned like a camera move.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from motionkit.classical.densify import SparsePredictor
from motionkit.ops.segment import flooded
from motionkit.trajectory import Trajectory


@pytest.fixture(scope="module")
def cat(cat_photo) -> torch.Tensor:
    small = cv2.resize(cat_photo, (226, 150), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(small).permute(2, 0, 1).float() / 255.0


def test_a_drag_on_the_nose_moves_the_head_and_leaves_the_room_still(cat):
    drag = Trajectory.line((132, 120), (150, 112), frames=6)
    [region] = SparsePredictor(mode="object").regions(cat, [drag])
    mask = region.mask.values.numpy() > 0.5
    assert 0.4 < mask.mean() < 0.75 and not flooded(mask)
    assert mask[45, 60] and mask[20, 100] and mask[120, 132]   # far eye, forehead, nose: the head
    assert mask[:, 205:].mean() < 0.05                         # the room on the right is not
    flow = SparsePredictor(mode="object").predict(cat, [drag]).flow.numpy()  # (T, 2, H, W)
    assert np.abs(flow[:, :, :, 205:]).max() < 0.5
    assert flow[-1, :, 45, 60] == pytest.approx((18.0, -8.0), abs=0.5)  # the head moves as one piece


def test_a_pin_on_the_head_turns_it_and_the_room_still_stays(cat):
    drag, pin = Trajectory.line((132, 120), (150, 112), frames=6), Trajectory.line((30, 125), (30, 125), frames=6)
    flow = SparsePredictor(mode="object").predict(cat, [drag, pin]).flow.numpy()
    assert flow[-1, :, 120, 132] == pytest.approx((18.0, -8.0), abs=1.0)
    assert np.abs(flow[-1, :, 125, 30]).max() < 0.5
    assert np.abs(flow[:, :, :, 205:]).max() < 0.5
    assert np.abs(flow[-1, :, :, 205:]).mean() < 0.05 and np.hypot(*flow[-1, :, 45, 60]) > 3.0


def test_a_cut_along_every_border_or_over_three_quarters_of_the_image_is_a_flood():
    region = np.zeros((100, 150), bool)
    region[20:80, 30:120] = True
    assert not flooded(region)
    region[:, :3] = region[:, -3:] = region[:3] = region[-3:] = True   # a frame around it: the background
    assert flooded(region)
    assert flooded(np.ones((100, 150), bool)) and not flooded(np.pad(np.ones((70, 150), bool), ((0, 30), (0, 0))))
