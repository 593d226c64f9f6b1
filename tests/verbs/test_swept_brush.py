"""An object dragged past its loosely painted brush is rendered whole, not cut off at the brush's edge."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import motionkit as mk


def test_swept_adds_where_the_content_lands_and_nothing_else():
    mask = mk.RegionMask.from_polygon([(10, 10), (19, 10), (19, 19), (10, 19)], size=(40, 60))
    flow = torch.zeros(2, 40, 60)
    flow[0, 10:20, 10:20] = 25.0  # the square's content goes 25 px right
    swept = mask.swept([torch.zeros(2, 40, 60), flow]).values.numpy() > 0.5
    assert swept[10:20, 35:45].all() and swept[10:20, 10:20].all()
    assert not swept[25:, :].any() and not swept[:, 50:].any()  # nowhere the content does not go (+1 px)


@pytest.mark.filterwarnings("ignore::motionkit.errors.MotionkitWarning")
def test_an_object_dragged_past_its_brush_is_not_cut_off(coffee_photo):
    import cv2

    image = cv2.resize(coffee_photo, (200, 133), interpolation=cv2.INTER_AREA)
    h, w = image.shape[:2]
    # A square object region and a brush 10 px around it; the drag moves it 40 px, past the brush.
    brush = mk.RegionMask.from_polygon([(60, 40), (120, 40), (120, 100), (60, 100)], size=(h, w))
    drag = mk.Trajectory.line((90, 70), (130, 70), frames=4)
    motion = mk.predict_motion(image, [drag], brush=brush, frames=4)
    clip = mk.animate(image, [drag], brush=brush, frames=4)
    last = clip.frame(3).astype(float)
    flow = motion.flow[3].numpy()
    ys, xs = np.nonzero((np.abs(flow[0] - 40) < 0.5) & (np.abs(flow[1]) < 0.5))
    assert len(ys) > 500, "the drag should move a solid part of the brushed region by its full length"
    land = xs + 40
    outside = (land > 125) & (land < w)  # content that lands beyond the brush
    assert outside.sum() > 100
    error = np.abs(last[ys[outside], land[outside]] - image[ys[outside], xs[outside]].astype(float)).mean()
    assert error < 8.0, f"the moved content beyond the brush is not there (mean error {error:.1f} grey levels)"
    # Far from the brush and the travel, the frame is the input, bit for bit.
    assert np.array_equal(clip.frame(3)[:, :30], image[:, :30])
