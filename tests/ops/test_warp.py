"""Backward warping reads the source at p + flow(p), in pixels."""

from __future__ import annotations

import pytest
import torch

from motionkit.ops.warp import backward_warp, sample_at


def test_integer_shift_moves_pixels_exactly():
    image = torch.rand(1, 3, 8, 9)
    flow = torch.zeros(1, 2, 8, 9)
    flow[:, 0], flow[:, 1] = 2.0, -1.0  # read from (x + 2, y - 1)
    out = backward_warp(image, flow)
    torch.testing.assert_close(out[0, :, 1:, :7], image[0, :, :-1, 2:])


def test_half_pixel_averages_neighbours():
    image = torch.tensor([[[[0.0, 1.0, 2.0, 3.0]]]])
    flow = torch.zeros(1, 2, 1, 4)
    flow[:, 0] = 0.5
    torch.testing.assert_close(backward_warp(image, flow)[0, 0, 0, :3], torch.tensor([0.5, 1.5, 2.5]))


def test_sample_at_points():
    values = torch.arange(20.0).reshape(1, 1, 4, 5)  # value = 5 y + x
    points = torch.tensor([[[1.0, 2.0], [3.5, 0.5]]])
    torch.testing.assert_close(sample_at(values, points)[0, :, 0], torch.tensor([11.0, 6.0]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_backward_warp_keeps_dtype_and_device(device, dtype):
    image = torch.arange(12.0).reshape(1, 1, 3, 4).to(device, dtype)
    flow = torch.zeros(1, 2, 3, 4, device=device, dtype=dtype)
    flow[:, 0] = 1.0
    out = backward_warp(image, flow)
    assert out.dtype == dtype and out.device.type == device.type
    assert out[0, 0, 1].tolist() == [5.0, 6.0, 7.0, 7.0]
