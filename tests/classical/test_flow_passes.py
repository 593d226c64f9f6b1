"""One DIS estimator serves interleaved passes and videos of different sizes (one solver per pass)."""

from __future__ import annotations

import cv2
import torch
from helpers.synth_video import moving_photo

from motionkit.classical.flow import DISFlowEstimator


def test_one_estimator_on_two_sizes_and_two_interleaved_passes(coffee_photo):
    photo = cv2.resize(coffee_photo, (300, 200), interpolation=cv2.INTER_AREA)
    small, _ = moving_photo(photo, 4, velocity=(1.5, 0.5), size=(96, 128))
    large, _ = moving_photo(photo, 4, velocity=(1.5, 0.5), size=(120, 176))
    estimator = DISFlowEstimator(preset="fast")
    first = list(estimator.iter_flows(iter(small)))  # hybrid: later pairs start from a flow of this size
    second = list(estimator.iter_flows(iter(large)))  # OpenCV's shared solver used to crash here
    assert second[-1].shape == (2, 120, 176) and first[-1].shape == (2, 96, 128)
    a, b = estimator.iter_flows(iter(small)), estimator.iter_flows(iter(small))
    interleaved = [torch.equal(x, y) for x, y in zip(a, b)]
    assert all(interleaved)
    inner = second[-1][:, 16:-16, 16:-16]
    assert abs(inner[0].median().item() - 4.5) < 0.3 and abs(inner[1].median().item() - 1.5) < 0.3
