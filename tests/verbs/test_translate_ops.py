"""The pieces translate stands on: scene cuts found on a real clip, the local edit model on real frames."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.real_clips import psnr, real_clip, stylize

from motionkit.errors import InvalidInputError
from motionkit.ops.colour import apply_colour_map_numpy, fit_colour_map_numpy
from motionkit.ops.edit_model import apply_edit_model_numpy, fit_edit_model_numpy
from motionkit.ops.scene_cuts import SceneCutDetector, find_cuts


def test_the_cut_of_bikes_is_found_and_fast_motion_is_no_cut():
    frames = real_clip("bikes", 20, 60, 0.25)  # the file cuts at frames 30 and 76; fast pans between
    assert find_cuts(frames) == [10, 56]
    assert find_cuts(real_clip("carphone", 0, 60, 1.0)) == []  # head turns, hand waves, camera moves
    with pytest.raises(InvalidInputError, match="threshold"):
        SceneCutDetector(threshold=1.5)


def f32(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32) / 255.0


def test_edit_model_carries_a_stylisation_the_colour_map_cannot():
    frames = real_clip("carphone", 0, 30, 1.0)
    source, edited = f32(frames[0]), f32(stylize(frames[0]))
    model, grade = fit_edit_model_numpy(source, edited), fit_colour_map_numpy(source, edited)
    later = frames[29]
    truth = stylize(later)
    by_model = psnr(np.rint(apply_edit_model_numpy(model, f32(later)) * 255), truth)
    by_grade = psnr(np.rint(apply_colour_map_numpy(grade, f32(later)) * 255), truth)
    assert by_model > by_grade + 3.0, (by_model, by_grade)


def test_edit_model_leaves_a_painted_stroke_to_the_motion():
    frame = f32(real_clip("carphone", 0, 1, 1.0)[0])
    painted = frame.copy()
    painted[40:70, 60:110] = (0.0, 1.0, 0.0)  # green paint on the face
    predicted = apply_edit_model_numpy(fit_edit_model_numpy(frame, painted), frame)
    outside = np.ones(frame.shape[:2], bool)
    outside[36:74, 56:114] = False
    # Away from the stroke the model is the identity it is; it does not smear green over skin.
    assert np.abs(predicted - frame)[outside].mean() < 0.01
    assert (predicted[..., 1] - predicted[..., 0] > 0.3).sum() < 20


def test_compiled_edit_model_and_carry_arithmetic_match_numpy(cat_photo, coffee_photo):
    import cv2

    from motionkit.clip import carry
    from motionkit.ops import edit_model

    if edit_model._kernels is None:
        pytest.skip("numba is not installed: only the numpy path exists")
    source = cv2.resize(cat_photo, (160, 120), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    other = cv2.resize(coffee_photo, (160, 120), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    model = fit_edit_model_numpy(source, stylize((source * 255).astype(np.uint8)).astype(np.float32) / 255)
    compiled = apply_edit_model_numpy([model, model[::-1].copy()], other)
    kernels, edit_model._kernels = edit_model._kernels, None
    try:
        plain = apply_edit_model_numpy([model, model[::-1].copy()], other)
    finally:
        edit_model._kernels = kernels
    for a, b in zip(compiled, plain):
        assert np.abs(a - b).max() < 1e-5
        assert 0.0 <= a.min() and a.max() <= 1.0
    # The carried edit: where the moved source matches the frame, the rendered residual enters.
    rng = np.random.default_rng(0)
    moved, modelled = other.copy(), compiled[0]
    moved[:40] = rng.random((40, 160, 3), np.float32)  # a band the motion got wrong
    unseen = np.zeros((120, 160), bool)
    unseen[:, :10] = True
    rendered = (np.clip(compiled[0] + 0.1, 0, 1) * 255).astype(np.uint8)
    results = []
    for use in (kernels, None):
        carry._kernels = use
        try:
            estimate, trust = carry.carried(rendered, moved, modelled, unseen, other, compiled[1], 0.08)
            results.append((estimate, trust, carry.blend([(estimate, trust, 1.0)])))
            # A carry reaching the frame alone: the frame in one pass, the same bytes as blending it.
            alone = carry.carried(rendered, moved, modelled, unseen, other, compiled[1], 0.08, alone=True)
            assert alone.dtype == np.uint8 and np.array_equal(alone, results[-1][2])
        finally:
            carry._kernels = kernels
    (e1, t1, o1), (e2, t2, o2) = results
    assert np.abs(e1 - e2).max() < 1e-5 and np.abs(t1 - t2).max() < 1e-6
    assert np.abs(o1.astype(int) - o2).max() <= 1
    assert t1[60:, 20:].min() > 0.99 and t1[:30].max() < 0.01 and t1[:, :5].max() < 0.01


def test_edit_model_features_are_the_blurred_luma_s_gradient_to_float_rounding(coffee_photo):
    import cv2

    from motionkit.ops.edit_model import _planes

    image = cv2.resize(coffee_photo, (200, 150), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    planes = _planes(image)
    # The definition: colour, its 1 px and 3 px Gaussian means, and |Sobel / 8| of the 1 px blurred channel mean.
    assert np.array_equal(planes[1], cv2.GaussianBlur(image, (0, 0), 1.0))
    # The 3 px mean is blurred at half size: within a few levels of the full-size blur, 0.001-0.002 on average.
    wide = cv2.GaussianBlur(image, (0, 0), 3.0)
    assert np.abs(planes[2] - wide)[8:-8, 8:-8].max() < 0.06 and np.abs(planes[2] - wide).mean() < 0.003
    assert np.abs(planes[2] - planes[1]).mean() > 0.004  # and it is the wider mean, not the 1 px one
    luma = cv2.GaussianBlur(image.mean(axis=2), (0, 0), 1.0)
    gx, gy = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3) / 8, cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3) / 8
    gradient = np.sqrt(gx * gx + gy * gy)
    assert planes[3].shape == (150, 200, 1) and np.abs(planes[3][..., 0] - gradient).max() < 1e-6
    assert gradient.max() > 0.05  # the photo has edges: the check is not of zeros


def test_edit_model_features_of_sampled_pixels_are_those_of_the_whole_frame(coffee_photo):
    from motionkit.ops.edit_model import FEATURES, _features, _planes

    image = coffee_photo[:120, :160].astype(np.float32) / 255
    planes = _planes(image)
    pick = np.random.default_rng(1).choice(120 * 160, 500, replace=False)
    whole = _features(planes, slice(None)).reshape(-1, FEATURES)
    assert np.array_equal(_features(planes, pick).reshape(-1, FEATURES), whole[pick])


def test_moved_guides_are_the_warp_of_both_guides_bit_for_bit(cat_photo, coffee_photo):
    import cv2
    import torch

    from motionkit.clip.carry import Keyframe, moved_guides
    from motionkit.ops.forward_warp import warp_frame_numpy

    source = cv2.resize(cat_photo, (160, 120), interpolation=cv2.INTER_AREA)
    key = Keyframe(0, source, np.ascontiguousarray(source[..., ::-1]))
    yy, xx = np.mgrid[0:120, 0:160].astype(np.float32)
    flow = np.stack([2.5 + 0.03 * xx, -1.5 + 0.02 * yy]).astype(np.float32)  # a pan with a zoom: holes at the border
    moved, modelled, unseen = moved_guides(key, torch.from_numpy(flow))
    expected_moved, expected_unseen = warp_frame_numpy(key.source, flow, fill="stretch")
    assert np.array_equal(moved, expected_moved) and np.array_equal(unseen, expected_unseen) and unseen.any()
    assert np.array_equal(modelled, warp_frame_numpy(key.modelled, flow, fill="stretch")[0])
    still = moved_guides(key, torch.zeros(2, 120, 160))
    assert np.array_equal(still[0], key.source) and not still[2].any()
