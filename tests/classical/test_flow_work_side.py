"""DIS at a working size: the flow of shrunk frames, handed back at the frames' size and in their pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from helpers.synth_video import moving_photo

from motionkit.classical.flow import DISFlowEstimator
from motionkit.errors import InvalidInputError


def test_flow_at_a_working_size_lands_where_the_photo_moves(coffee_photo):
    photo = cv2.resize(coffee_photo, (480, 320), interpolation=cv2.INTER_AREA)
    video, truth = moving_photo(photo, 5, velocity=(2.5, -1.5), size=(240, 320))
    full = list(DISFlowEstimator().iter_flows(iter(video)))
    small = list(DISFlowEstimator(work_side=160).iter_flows(iter(video)))
    assert small[-1].shape == (2, 240, 320)  # the frames' size, not the working size
    inner = (slice(None), slice(24, -24), slice(24, -24))
    error_small = np.hypot(*(small[-1].numpy() - truth[-1])[inner])
    error_full = np.hypot(*(full[-1].numpy() - truth[-1])[inner])
    # In the frames' pixels: 10 px right and 6 px up after four frames, not half of it.
    assert np.median(error_small) < 0.35, np.median(error_small)
    assert np.median(error_full) < 0.35
    assert small[0].abs().max().item() == 0.0


def test_frames_smaller_than_the_working_size_are_measured_as_they_are(coffee_photo):
    photo = cv2.resize(coffee_photo, (300, 200), interpolation=cv2.INTER_AREA)
    video, _ = moving_photo(photo, 3, velocity=(1.5, 0.5), size=(96, 128))
    same = [a.equal(b) for a, b in zip(DISFlowEstimator(work_side=640).iter_flows(iter(video)),
                                         DISFlowEstimator().iter_flows(iter(video)))]
    assert all(same)


@pytest.mark.parametrize("bad", [0, 8, 2.5, True, "640"])
def test_a_working_size_must_be_a_long_side_in_pixels(bad):
    with pytest.raises(InvalidInputError, match="work_side"):
        DISFlowEstimator(work_side=bad)


def test_the_flow_is_resampled_to_the_frames_pixels_exactly_as_one_resize_and_scale(coffee_photo):
    from motionkit.classical.flow import _upscaled

    rng = np.random.default_rng(3)
    flow = (rng.standard_normal((60, 100, 2)) * 4).astype(np.float32)
    out = _upscaled(flow, (211, 333))
    # The plain form: resize the channels-last flow, scale x by 333/100 and y by 211/60, channels first.
    expected = cv2.resize(flow, (333, 211), interpolation=cv2.INTER_LINEAR) * np.array([333 / 100, 211 / 60], np.float32)
    assert out.shape == (2, 211, 333) and out.dtype == np.float32 and out.flags.c_contiguous
    assert np.array_equal(out, np.ascontiguousarray(expected.transpose(2, 0, 1)))
    assert np.array_equal(_upscaled(flow, (60, 100)), np.ascontiguousarray(flow.transpose(2, 0, 1)))


def test_a_wider_patch_stride_still_lands_where_the_photo_moves_and_is_translate_s_default(coffee_photo):
    from motionkit.clip.translation import FLOW_PATCH_STRIDE, FLOW_REFINEMENT, default_options

    photo = cv2.resize(coffee_photo, (480, 320), interpolation=cv2.INTER_AREA)
    video, truth = moving_photo(photo, 5, velocity=(2.5, -1.5), size=(240, 320))
    estimator = DISFlowEstimator(patch_stride=4)
    assert repr(estimator) == "DISFlowEstimator(preset='medium', strategy='hybrid', patch_stride=4)"
    flows = list(estimator.iter_flows(iter(video)))
    inner = (slice(None), slice(24, -24), slice(24, -24))
    assert np.median(np.hypot(*(flows[-1].numpy() - truth[-1])[inner])) < 0.35
    # It is a different solver from the preset's (stride 3), not the same one renamed.
    preset = list(DISFlowEstimator().iter_flows(iter(video)))
    assert not np.array_equal(flows[-1].numpy(), preset[-1].numpy())
    flow_options, _ = default_options("dis", "warp", None, None, None)
    assert flow_options == {"work_side": 960, "patch_stride": 4, "refinement_iterations": 3}
    assert (FLOW_PATCH_STRIDE, FLOW_REFINEMENT) == (4, 3)
    lighter = list(DISFlowEstimator(patch_stride=4, refinement_iterations=3).iter_flows(iter(video)))
    assert np.median(np.hypot(*(lighter[-1].numpy() - truth[-1])[inner])) < 0.35
    assert not np.array_equal(lighter[-1].numpy(), flows[-1].numpy())
    assert default_options("dis", "warp", {"patch_stride": None}, None, None)[0]["patch_stride"] is None  # the caller's wins


@pytest.mark.parametrize("bad", [0, 9, 2.5, True, "4"])
def test_a_patch_stride_must_be_pixels_between_patches(bad):
    with pytest.raises(InvalidInputError, match="patch_stride"):
        DISFlowEstimator(patch_stride=bad)
    with pytest.raises(InvalidInputError, match="refinement_iterations"):
        DISFlowEstimator(refinement_iterations=-1 if bad == 0 else bad if bad != 9 else 51)
