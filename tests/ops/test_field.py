"""Field numerics: composition, resizing, smoothing, integration, inversion, on every device."""

from __future__ import annotations

import pytest
import torch

from motionkit.errors import InvalidInputError, ShapeMismatchError, TooLargeError
from motionkit.limits import MAX_FRAMES
from motionkit.ops.field import blur2d, compose, integrate_velocity, invert, ping_pong, resize, reverse, smooth


def _shift(dx, dy, frames=2, size=(6, 8), device="cpu", dtype=torch.float32):
    f = torch.zeros(frames, 2, *size, device=device, dtype=dtype)
    f[1:, 0], f[1:, 1] = dx, dy
    return f


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_composed_shifts_add_up(device, dtype):
    out = compose(_shift(1.0, 0.0, device=device, dtype=dtype), _shift(0.0, 2.0, device=device, dtype=dtype))
    assert out.device.type == device.type and out.dtype == dtype
    assert out[1, :, 3, 3].tolist() == [1.0, 2.0] and out[0].abs().max() == 0


def test_resize_rescales_vectors(device):
    out = resize(_shift(1.0, 1.0, size=(4, 4), device=device), (8, 2))
    assert out.shape == (2, 2, 8, 2) and out.device.type == device.type
    assert out[1, 0, 3, 1].item() == pytest.approx(0.5) and out[1, 1, 3, 1].item() == pytest.approx(2.0)


def test_smoothing_keeps_frame0_zero_and_a_constant_constant(device):
    f = _shift(3.0, -1.0, frames=5, device=device)
    s = smooth(f, spatial_sigma=1.5, temporal_sigma=1.0)
    assert s.device.type == device.type and s[0].abs().max() == 0
    torch.testing.assert_close(smooth(f, spatial_sigma=2.0), f)
    x = torch.zeros(1, 1, 9, 9, device=device)
    x[0, 0, 4, 4] = 1.0
    assert blur2d(x, 1.0).sum().item() == pytest.approx(1.0, abs=1e-5)


def test_integrating_a_constant_velocity_and_the_frame_validator(device):
    v = torch.zeros(2, 4, 4, device=device)
    v[0] = 0.5
    out = integrate_velocity(v, 5)
    assert out.device.type == device.type and out[4, 0].eq(2.0).all() and out[:, 1].abs().max() == 0
    with pytest.raises(InvalidInputError):
        integrate_velocity(v, 0)
    with pytest.raises(TooLargeError):
        integrate_velocity(v, MAX_FRAMES + 1)


def test_invert_and_reverse_undo_a_shift(device):
    f = _shift(1.5, -0.5, size=(8, 8), device=device)
    inv = invert(f[1:])
    assert inv.device.type == device.type
    assert inv[0, :, 4, 4].tolist() == pytest.approx([-1.5, 0.5], abs=1e-5)
    back = reverse(f)
    assert back[0].abs().max() == 0 and back[1, :, 4, 4].tolist() == pytest.approx([-1.5, 0.5], abs=1e-5)


def test_ping_pong_lengths_and_shape_checks():
    f = _shift(1.0, 0.0, frames=4)
    assert len(ping_pong(f)) == 6 and len(ping_pong(f, closed=True)) == 7
    with pytest.raises(ShapeMismatchError):
        compose(torch.zeros(2, 2, 4, 4), torch.zeros(2, 2, 4, 5))
    with pytest.raises(ShapeMismatchError):
        smooth(torch.zeros(2, 3, 4, 4))
