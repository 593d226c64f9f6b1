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
