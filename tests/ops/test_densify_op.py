"""ops.densify (the numerics under the sparse predictor): handles move exactly, far pixels stay, the brush zeroes motion, any device."""

from __future__ import annotations

import pytest
import torch

from motionkit.errors import NonFiniteError, ShapeMismatchError
from motionkit.ops.densify import densify, feathered_mask, resample_time


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_handle_moves_exactly_and_far_pixels_stay_on_the_callers_device(device, dtype):
    starts = torch.tensor([[10.0, 8.0]], device=device, dtype=dtype)
    disp = torch.tensor([[[0.0, 0.0], [3.0, -1.0]]], device=device, dtype=dtype)
    field = densify(starts, disp, (32, 64), radius=6.0)
    assert field.shape == (2, 2, 32, 64) and field.dtype == torch.float32 and field.device.type == device.type
    assert field[1, :, 8, 10].tolist() == [3.0, -1.0]
    assert field[0].abs().max() == 0 and field[1, :, :, 50:].abs().max() < 1e-6


def test_guide_and_mask_on_the_device_and_the_brush_zeroes_motion(device):
    guide = torch.zeros(3, 24, 24, device=device)
    guide[:, :, 12:] = 1.0  # a strong vertical edge at x = 12
    mask = torch.ones(24, 24, device=device)
    mask[:, 18:] = 0.0
    starts = torch.tensor([[6.0, 12.0]], device=device)
    disp = torch.tensor([[[0.0, 0.0], [2.0, 0.0]]], device=device)
    plain = densify(starts, disp, (24, 24), radius=10.0)
    edged = densify(starts, disp, (24, 24), radius=10.0, guide=guide, mask=mask, feather=0.0)
    assert edged.device.type == device.type
    assert edged[1, 0, 12, 6] == pytest.approx(2.0)
    assert edged[1, 0, 12, 14] < plain[1, 0, 12, 14]  # motion stops at the edge
    assert edged[1, :, :, 18:].abs().max() == 0


def test_pinned_points_give_zeros_and_bad_input_is_refused(device):
    zero = densify(torch.tensor([[3.0, 3.0]], device=device), torch.zeros(1, 4, 2, device=device), (8, 8))
    assert zero.device.type == device.type and zero.shape == (4, 2, 8, 8) and zero.abs().max() == 0
    with pytest.raises(ShapeMismatchError):
        densify(torch.zeros(2, 2), torch.zeros(1, 3, 2), (8, 8))
    with pytest.raises(NonFiniteError):
        densify(torch.tensor([[float("nan"), 1.0]]), torch.ones(1, 2, 2), (8, 8))


def test_helpers():
    assert resample_time(torch.tensor([[0.0, 0.0], [2.0, 4.0]]).numpy(), 3).tolist() == [[0, 0], [1, 2], [2, 4]]
    import numpy as np

    mask = np.zeros((9, 9), np.float32)
    mask[:, :5] = 1.0
    ramp = feathered_mask(mask, 3.0)
    assert ramp[4, 0] == 1.0 and 0 < ramp[4, 4] < 1 and ramp[4, 6] == 0
