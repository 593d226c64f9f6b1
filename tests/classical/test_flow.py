"""DIS and Farneback recover known motion of a real photo, frame-0-relative and streamed."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
import torch
from helpers.synth_video import median_epe, moving_photo

from motionkit.classical.flow import DISFlowEstimator, FarnebackFlowEstimator, compose
from motionkit.clip import Clip
from motionkit.errors import InvalidInputError, ShapeMismatchError


@pytest.fixture(scope="module")
def photo(coffee_photo) -> np.ndarray:
    return cv2.resize(coffee_photo, (300, 200), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def slow_pan(photo):
    """12 frames moving 0.3 px right and 0.2 px up per frame, with the true F_0t."""
    return moving_photo(photo, 12, velocity=(0.3, -0.2), size=(160, 240))


def test_dis_recovers_subpixel_motion_from_frame0(slow_pan):
    video, truth = slow_pan
    motion = DISFlowEstimator().estimate(Clip.from_array(video, fps=10))
    flow = motion.flow.numpy()
    assert flow.shape == truth.shape and np.abs(flow[0]).max() == 0
    assert median_epe(flow, truth) < 0.5
    # The last frame is 3.3 px right, 2.2 px up of frame 0; check the median vector too.
    last = np.median(flow[-1, :, 16:-16, 16:-16].reshape(2, -1), axis=1)
    assert np.allclose(last, truth[-1, :, 0, 0], atol=0.3)


def test_farneback_recovers_subpixel_motion_reasonably(slow_pan):
    video, truth = slow_pan
    flows = np.stack(list(FarnebackFlowEstimator().iter_flows(iter(video))))
    assert median_epe(flows, truth) < 1.0


@pytest.mark.parametrize("strategy", ["hybrid", "direct", "chained"])
def test_every_strategy_follows_a_faster_pan(photo, strategy):
    video, truth = moving_photo(photo, 8, velocity=(2.5, 1.0), size=(160, 240))
    flows = np.stack(list(DISFlowEstimator(strategy=strategy).iter_flows(iter(video))))
    assert median_epe(flows, truth) < 0.5


def test_zoom_is_recovered(photo):
    video, truth = moving_photo(photo, 8, zoom_per_frame=1.01, size=(160, 240))
    flows = np.stack(list(DISFlowEstimator().iter_flows(iter(video))))
    assert median_epe(flows, truth) < 0.5


def test_iter_flows_streams_lazily(photo):
    video, _ = moving_photo(photo, 4, velocity=(1.0, 0.0), size=(64, 96))
    pulled = []

    def endless():
        for i in itertools.count():
            pulled.append(i)
            yield video[i % 4]

    flows = DISFlowEstimator(preset="fast").iter_flows(endless())
    first = list(itertools.islice(flows, 3))
    assert len(pulled) == 3  # frame t is read only when flow t is asked for
    assert first[0].shape == (2, 64, 96) and first[0].dtype == torch.float32 and not first[0].any()


def test_compose_adds_the_second_flow_where_the_first_lands():
    first = np.zeros((8, 8, 2), np.float32)
    first[..., 0] = 2.0
    second = np.zeros((8, 8, 2), np.float32)
    second[:, 4:, 1] = 1.0  # only pixels right of x=4 move down
    total = compose(first, second)
    assert np.allclose(total[3, 2], [2.0, 1.0]) and np.allclose(total[3, 1], [2.0, 0.0])


def test_bad_frames_and_options_are_refused(photo):
    with pytest.raises(InvalidInputError):
        DISFlowEstimator(preset="slowest")
    with pytest.raises(InvalidInputError):
        FarnebackFlowEstimator(strategy="sideways")
    frames = [np.zeros((20, 30, 3), np.uint8), np.zeros((20, 31, 3), np.uint8)]
    with pytest.raises(ShapeMismatchError):
        list(DISFlowEstimator().iter_flows(iter(frames)))
    with pytest.raises(InvalidInputError):
        list(DISFlowEstimator().iter_flows(iter([np.zeros((20, 30, 3), np.float32)])))


def test_estimate_returns_a_lazy_field_at_once_and_reads_the_video_when_read(photo):
    video, _ = moving_photo(photo, 5, velocity=(1.0, 0.0), size=(64, 96))
    reads = []

    def source():
        for frame in video:
            reads.append(1)
            yield frame

    field = DISFlowEstimator(preset="fast").estimate(Clip.from_frames(source, 5, (64, 96)))
    assert field.is_lazy and field.frames == 5 and reads == []  # nothing decoded or estimated yet
    halved = field * 0.5
    assert reads == []
    np.testing.assert_allclose(halved.frame(4).numpy(), 0.5 * field.frame(4).numpy())
    assert 3.5 < np.median(field.frame(4)[0, 8:-8, 8:-8].numpy()) < 4.5  # 1 px/frame for 4 frames
