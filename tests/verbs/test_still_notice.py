"""The "nothing moves" notice: said for a still field, never for one that moves in any frame.

``warn_if_still`` tests the last frame first and the whole field only when that one is still,
so a field moving only in an early frame, or only by one pixel, must still count as moving,
exactly as ``flow.any()`` decided before.
"""

from __future__ import annotations

import warnings

import pytest
import torch

import motionkit as mk
from motionkit.notices import _moves, warn_if_still


def _notices(motion: mk.MotionField) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_if_still(motion)
    return [str(w.message) for w in caught if issubclass(w.category, mk.errors.MotionkitWarning)]


def test_a_still_field_is_noticed():
    assert any("nothing moves" in text for text in _notices(mk.MotionField(torch.zeros(5, 2, 12, 16))))


@pytest.mark.parametrize("frame", [1, 2, 4])
def test_one_moved_pixel_in_any_frame_is_motion(frame):
    flow = torch.zeros(5, 2, 12, 16)
    flow[frame, 1, 11, 15] = 1e-6
    assert _notices(mk.MotionField(flow)) == []


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_moves_agrees_with_torch_any_on_nan_negative_zero_and_every_dtype(dtype):
    cases = [torch.zeros(4, 2, 6, 7), torch.full((4, 2, 6, 7), -0.0), torch.zeros(4, 2, 6, 7), torch.zeros(4, 2, 6, 7),
             torch.zeros(0, 2, 6, 7)]
    cases[2][1, 0, 3, 3] = float("nan")  # NaN is not zero: flow.any() said it moves
    cases[3][3, 1, 0, 0] = -2.0
    for flow in cases:
        flow = flow.to(dtype)
        assert _moves(flow) == bool(flow.any())
    assert [_moves(flow.to(dtype)) for flow in cases] == [False, False, True, True, False]


def test_a_field_with_gradients_is_tested_too():
    flow = torch.zeros(3, 2, 4, 4, requires_grad=True)
    assert _moves(flow) is False
    assert _moves(flow + 1.0) is True
