"""``all_finite``: the element test's answer, however the array is cut into parts and summed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionkit.ops.field import _SHARED_FROM, all_finite


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("threads", [1, 2])
def test_a_single_nan_or_infinity_anywhere_is_found(dtype, threads):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        field = torch.zeros(5, 2, 300, 400, dtype=dtype)  # 1.2 M values: tested in parts
        assert field.numel() >= _SHARED_FROM and all_finite(field)
        flat = field.view(-1)
        for index in (0, flat.numel() // 2 - 1, flat.numel() // 2, flat.numel() - 1):
            for bad in (float("nan"), float("inf"), float("-inf")):
                flat[index] = bad
                assert not all_finite(field), (index, bad)
                flat[index] = 0.0
        assert all_finite(field)
    finally:
        torch.set_num_threads(before)


def test_finite_values_whose_sum_overflows_are_finite():
    big = torch.full((4, 2, 400, 400), float(np.finfo(np.float32).max))
    assert np.isinf(big.numpy().sum())  # the sum shortcut cannot decide: the element test does
    assert all_finite(big)
    big[3, 1, 399, 399] = float("nan")
    assert not all_finite(big)


def test_small_non_contiguous_and_other_tensors_take_the_plain_tests():
    field = torch.zeros(3, 2, 600, 700)
    view = field.permute(0, 1, 3, 2)  # not contiguous
    assert all_finite(view)
    field[2, 0, 5, 9] = float("inf")
    assert not all_finite(view) and not all_finite(field[2:, :, :10, :10])
    assert all_finite(torch.zeros(2, 2, 4, 4, dtype=torch.float16))
    assert not all_finite(torch.full((2,), float("nan"), requires_grad=True))
