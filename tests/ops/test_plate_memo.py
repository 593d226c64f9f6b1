"""The background plate's fill is reused when the same image and footprint come again (a preview re-renders per edit)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from motionkit.classical.render import WarpRenderer
from motionkit.motion import MotionField
from motionkit.ops import plate

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _drag(image: np.ndarray, dx: float) -> MotionField:
    h, w = image.shape[:2]
    disc = np.zeros((h, w), np.float32)
    cv2.circle(disc, (60, 50), 18, 1.0, -1)
    soft = torch.from_numpy(cv2.GaussianBlur(disc, (0, 0), 1.0))
    flow = torch.zeros(3, 2, h, w)
    flow[1, 0], flow[2, 0] = soft * dx / 2, soft * dx
    return MotionField(flow)


def test_the_same_image_and_footprint_reuse_the_fill_and_another_image_does_not(coffee_photo):
    image = cv2.resize(coffee_photo, (144, 96), interpolation=cv2.INTER_AREA)
    first = np.stack(list(WarpRenderer().render(image, _drag(image, 30.0)).iter_frames()))
    hits = plate._fill_memo.hits
    again = np.stack(list(WarpRenderer().render(image, _drag(image, 30.0)).iter_frames()))
    assert plate._fill_memo.hits > hits and np.array_equal(first, again)
    hits = plate._fill_memo.hits
    brighter = np.clip(image.astype(int) + 1, 0, 255).astype(np.uint8)  # another image: never the old fill
    list(WarpRenderer().render(brighter, _drag(brighter, 30.0)).iter_frames())
    assert plate._fill_memo.hits == hits
    # The same object dragged the other way (an edit of the drag) uncovers the same place: the fill is reused.
    list(WarpRenderer().render(image, _drag(image, -30.0)).iter_frames())
    assert plate._fill_memo.hits > hits
