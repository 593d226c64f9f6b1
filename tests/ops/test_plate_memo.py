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


def test_a_picture_wide_foreground_is_filled_only_where_the_reads_touch_it(coffee_photo):
    # A pan's estimated field moves every pixel, so the whole picture reads as foreground; the
    # entering column's reads touch only the left edge. Synthesising behind the whole picture
    # cost a frame-sized fill (1.9 GB peak on a 720p pan); only the edge is needed.
    image = cv2.resize(coffee_photo, (144, 96), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    h, w = image.shape[:2]
    ys = np.arange(h, dtype=np.float32)
    everything = np.ones((h, w), bool)
    wide = plate.BackgroundPlate(image)
    values = wide.sample(np.full(h, -0.5, np.float32), ys, everything)   # reads that straddle the left border
    left, top = wide.margins[0], wide.margins[1]
    inside = wide.filled[top : top + h, left : left + w]
    assert values.shape == (h, 3) and np.isfinite(values).all()
    assert inside[:, : plate.SOURCE_REACH + 2].any() and not inside[:, w // 2 :].any()
    # an object (a small foreground) is still synthesised whole, wherever the read touches it
    disc = np.zeros((h, w), np.uint8)
    cv2.circle(disc, (72, 48), 12, 1, -1)
    small = plate.BackgroundPlate(image)
    small.sample(np.array([72.0]), np.array([48.0]), disc > 0)
    left, top = small.margins[0], small.margins[1]
    assert small.filled[top : top + h, left : left + w][disc > 0].all()
