"""Push-pull's finest level in bands of rows gives the one-pass level's values bit for bit.

The banded level premultiplies, halves (``INTER_AREA``) and doubles (``INTER_LINEAR``, one
coarse row beyond each band) band by band on the kernel threads; a band edge that dropped or
re-clamped a row, or a NaN lost from the minimum, would change values. Compared here with the
serial level (``thread_count() == 1``) on the benchmark's coverage, holes, NaN, -0.0 and
out-of-range weights, a weight that is all 1 or all 0, and several even sizes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionkit.ops import inpaint

pytestmark = pytest.mark.skipif(inpaint._kernels is None, reason="numba is not installed")


def _serial(values, weight, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(inpaint, "thread_count", lambda: 1)
        return inpaint.push_pull_numpy(values, weight)


def _cases():
    rng = np.random.default_rng(3)
    out = []
    for h, w in ((256, 256), (144, 256), (256, 130), (512, 384)):
        values = rng.normal(size=(2, h, w)).astype(np.float32) * 20
        weight = np.clip(rng.normal(0.6, 0.5, size=(h, w)), -0.2, 1.3).astype(np.float32)
        weight[h // 3 : h // 2, w // 4 : w // 2] = 0.0  # a hole across the band edges
        weight[h // 2 - 1 : h // 2 + 1] = 0.0  # the rows at the middle band edge
        out.append((f"{h}x{w}", values, weight))
    values, weight = out[0][1].copy(), out[0][2].copy()
    weight[10, 10] = np.nan
    values[1, 200, 5] = np.nan
    weight[127:129, 50:60] = -0.0
    out.append(("non-finite and -0.0", values, weight))
    out.append(("all ones", out[0][1], np.ones((256, 256), np.float32)))
    out.append(("all ones but a NaN", out[0][1], np.where(np.arange(256)[:, None] == 200, np.nan, 1.0).astype(np.float32) + np.zeros((1, 256), np.float32)))
    out.append(("all zero", out[0][1], np.zeros((256, 256), np.float32)))
    return out


@pytest.fixture(scope="module")
def benchmark_cover():
    from benchmarks.common import smooth_flows
    from motionkit.ops import _inverse_kernels, forward_warp

    flow = np.ascontiguousarray(smooth_flows(16, 512, 512)[15], np.float32)
    small, metric = _inverse_kernels.box_downscale(flow, 2, 1.0)
    inv, cover = _inverse_kernels.splat_inverse(small, forward_warp._softmax_weights(metric))
    assert (cover < 1).any() and (cover > 1).any()  # holes and overlaps: clipped and pulled
    return inv, cover


@pytest.mark.parametrize("case", range(len(_cases())), ids=[name for name, _, _ in _cases()])
def test_banded_finest_level_is_the_serial_level_bit_for_bit(case, monkeypatch):
    _, values, weight = _cases()[case]
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        if inpaint.thread_count() < 2:
            pytest.skip("one usable core")
        got = inpaint.push_pull_numpy(values.transpose(1, 2, 0), weight)
    finally:
        torch.set_num_threads(before)
    want = _serial(values.transpose(1, 2, 0), weight, monkeypatch)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def test_the_benchmarks_inverse_fills_the_same_in_bands(benchmark_cover, monkeypatch):
    inv, cover = benchmark_cover
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        if inpaint.thread_count() < 2:
            pytest.skip("one usable core")
        got = inpaint.push_pull_numpy(inv.transpose(1, 2, 0), cover)
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(got.view(np.uint32), _serial(inv.transpose(1, 2, 0), cover, monkeypatch).view(np.uint32))
