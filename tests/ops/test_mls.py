"""ops.mls: an object follows its handles - translation, similarity, rigid moving least squares."""

from __future__ import annotations

import numpy as np
import pytest

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops.mls import handle_motion


def _rotation(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def _grid() -> np.ndarray:
    yy, xx = np.mgrid[0:60:3, 0:80:3]
    return np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float64)


def test_one_handle_translates_every_point():
    moved = handle_motion(np.array([[10.0, 10.0]]), np.array([[[0.0, 0.0], [3.0, -2.0], [6.0, -4.0]]]), _grid())
    assert moved.shape == (3, len(_grid()), 2) and moved.dtype == np.float32
    assert np.abs(moved[0]).max() == 0 and np.allclose(moved[2], [6.0, -4.0])


def test_two_handles_give_the_similarity_through_both():
    starts = np.array([[20.0, 30.0], [60.0, 30.0]])
    centre, rot, scale = np.array([40.0, 30.0]), _rotation(25.0), 1.2
    targets = (starts - centre) @ (scale * rot).T + centre + [5.0, 2.0]
    disp = np.stack([np.zeros_like(starts), targets - starts], axis=1)  # (K, T=2, 2)
    points = _grid()
    expected = (points - centre) @ (scale * rot).T + centre + [5.0, 2.0] - points
    assert np.allclose(handle_motion(starts, disp, points)[1], expected, atol=1e-3)


@pytest.mark.parametrize("alpha", [1.0, 4.0])
def test_three_consistent_handles_move_rigidly_and_frame_zero_is_still(alpha):
    starts = np.array([[10.0, 10.0], [70.0, 15.0], [40.0, 55.0]])
    centre, rot = np.array([40.0, 30.0]), _rotation(-15.0)
    disp = np.stack([np.zeros_like(starts), (starts - centre) @ rot.T + centre - starts], axis=1)
    points = _grid()
    moved = handle_motion(starts, disp, points, alpha=alpha)
    assert np.abs(moved[0]).max() < 1e-4
    assert np.allclose(moved[1], (points - centre) @ rot.T + centre - points, atol=1e-3)


def test_handles_move_exactly_and_pins_anchor():
    starts = np.array([[10.0, 30.0], [40.0, 30.0], [70.0, 30.0]])
    disp = np.zeros((3, 2, 2))
    disp[2, 1] = [0.0, -12.0]  # the right end lifts; the other two are pins
    moved = handle_motion(starts, disp, starts)
    assert np.allclose(moved[1], disp[:, 1], atol=0.01)  # to a hundredth of a pixel
    assert np.abs(handle_motion(starts, np.zeros((3, 4, 2)), _grid())).max() == 0


def test_bad_inputs():
    with pytest.raises(InvalidInputError):
        handle_motion(np.zeros((0, 2)), np.zeros((0, 2, 2)), _grid())
    with pytest.raises(ShapeMismatchError):
        handle_motion(np.zeros((2, 2)), np.zeros((1, 2, 2)), _grid())
