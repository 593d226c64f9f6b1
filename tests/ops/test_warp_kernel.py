"""The compiled backward warp (CPU float tensors without gradients) against grid_sample, on a real photo."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionkit.ops import warp

pytestmark = pytest.mark.skipif(warp._kernels is None, reason="numba is not installed")


def grid_sample_path(*args, **kwargs):
    kernels, warp._kernels = warp._kernels, None
    try:
        return warp.backward_warp(*args, **kwargs)
    finally:
        warp._kernels = kernels


@pytest.fixture(scope="module")
def scene(coffee_photo):
    from benchmarks.common import smooth_flows

    image = torch.from_numpy(coffee_photo[:200, :260].astype(np.float32) / 255.0).permute(2, 0, 1).contiguous()
    flows = torch.from_numpy(smooth_flows(3, 200, 260, seed=5)) * 6  # up to ~60 px: reads beyond every border
    return image, flows


@pytest.mark.parametrize("padding", ["border", "zeros", "reflection"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_compiled_warp_is_grid_sample(scene, padding, dtype):
    image, flows = scene
    image, flows = image.to(dtype), flows.to(dtype)
    ours = warp.backward_warp(image, flows, padding=padding)
    ref = grid_sample_path(image, flows, padding=padding)
    assert ours.dtype == ref.dtype == dtype and ours.shape == ref.shape == (3, 3, 200, 260)
    assert float((ours - ref).abs().max()) <= 1e-5
    # the look-ups really leave the image: the padding decides those pixels
    assert float((flows[-1, 0] + torch.arange(260.0, dtype=dtype)).min()) < -10
    if padding == "zeros":
        assert float(ours[-1].sum(0).min()) == 0.0


def test_moves_content_where_the_flow_says(scene):
    image, _ = scene
    flow = torch.zeros(1, 2, 200, 260)
    flow[:, 0], flow[:, 1] = 7.0, -3.0  # read 7 px right, 3 px up
    out = warp.backward_warp(image, flow)[0]
    torch.testing.assert_close(out[:, 3:, :-7], image[:, :-3, 7:], atol=5e-5, rtol=0)  # the grid's rounding
    torch.testing.assert_close(out, grid_sample_path(image, flow)[0], atol=1e-6, rtol=0)  # which grid_sample shares


def test_gradients_cuda_and_non_finite_look_ups_take_grid_sample(scene, monkeypatch):
    image, flows = scene
    calls = []
    original = warp._kernels.backward_warp
    monkeypatch.setattr(warp._kernels, "backward_warp", lambda *a: calls.append(1) or original(*a))
    wanted = flows[:1].clone().requires_grad_(True)
    out = warp.backward_warp(image, wanted)
    out.sum().backward()
    assert not calls and wanted.grad is not None and float(wanted.grad.abs().sum()) > 0
    with torch.no_grad():
        warp.backward_warp(image, wanted)
    assert len(calls) == 1  # no gradient wanted: compiled
    broken = flows[:1].clone()
    broken[0, 0, 5, 5] = float("nan")
    torch.testing.assert_close(warp.backward_warp(image, broken), grid_sample_path(image, broken), equal_nan=True)
    assert len(calls) == 2  # tried, reported the NaN, fell back
    nearest = warp.backward_warp(image, flows[:1], mode="nearest")
    assert len(calls) == 2 and nearest.shape == (1, 3, 200, 260)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_tensors_stay_on_grid_sample(scene):
    image, flows = scene
    out = warp.backward_warp(image.cuda(), flows.cuda())
    assert out.is_cuda
    torch.testing.assert_close(out.cpu(), warp.backward_warp(image, flows), atol=1e-5, rtol=0)
