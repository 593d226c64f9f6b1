"""Push-pull fills holes from their surroundings and keeps known values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionkit.errors import ShapeMismatchError
from motionkit.ops.inpaint import push_pull, push_pull_numpy


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_hole_in_a_constant_is_filled_with_it_and_known_values_stay(device, dtype):
    values = torch.zeros(2, 16, 16, device=device, dtype=dtype)
    values[0], values[1] = 0.25, 0.75
    weight = torch.ones(16, 16, device=device)
    weight[4:12, 4:12] = 0.0
    values[:, 4:12, 4:12] = 99.0  # ignored: weight 0
    out = push_pull(values, weight)
    assert out.dtype == dtype and out.device.type == device.type and out.shape == values.shape
    torch.testing.assert_close(out[0].cpu(), torch.full((16, 16), 0.25, dtype=dtype))
    torch.testing.assert_close(out[1].cpu(), torch.full((16, 16), 0.75, dtype=dtype))


def test_tensor_and_numpy_agree_and_no_weight_gives_zeros(device):
    rng = np.random.default_rng(0)
    values = rng.random((12, 10, 3)).astype(np.float32)
    weight = (rng.random((12, 10)) > 0.6).astype(np.float32)
    out = push_pull(torch.from_numpy(values.transpose(2, 0, 1).copy()).to(device), torch.from_numpy(weight).to(device))
    np.testing.assert_array_equal(out.cpu().numpy().transpose(1, 2, 0), push_pull_numpy(values, weight))
    two_d = push_pull(torch.ones(5, 5, device=device), torch.zeros(5, 5, device=device))
    assert two_d.shape == (5, 5) and two_d.eq(0).all()
    with pytest.raises(ShapeMismatchError):
        push_pull(torch.ones(1, 5, 5), torch.ones(4, 4))
