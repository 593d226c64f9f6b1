"""The two pixel grids hold the same coordinates in their two layouts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionkit.ops.grid import pixel_grid, remap_grid


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_pixel_grid_is_x_then_y_on_the_requested_device_and_dtype(device, dtype):
    grid = pixel_grid(3, 5, device=device, dtype=dtype)
    assert grid.shape == (2, 3, 5) and grid.dtype == dtype and grid.device.type == device.type
    assert grid[:, 2, 4].tolist() == [4.0, 2.0] and grid[:, 0, 0].tolist() == [0.0, 0.0]
    assert torch.equal(grid[0, 1], torch.arange(5, device=device, dtype=dtype))


def test_both_layouts_agree_and_the_numpy_one_is_cached_and_read_only():
    numpy_grid = remap_grid(4, 6)
    assert numpy_grid.dtype == np.float32 and numpy_grid.shape == (4, 6, 2)
    assert np.array_equal(numpy_grid.transpose(2, 0, 1), pixel_grid(4, 6).numpy())
    assert remap_grid(4, 6) is numpy_grid
    with pytest.raises(ValueError):
        numpy_grid[0, 0, 0] = 1.0
