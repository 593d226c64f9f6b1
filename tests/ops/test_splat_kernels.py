"""The compiled CPU splat kernels against the torch reference, and their gradients.

``splat`` / ``splat_sum`` on CPU tensors run numba kernels; CUDA tensors (and a machine
without numba) run ``splat_sum_torch``. Both must give the same numbers, so each test runs
the same inputs through both paths and compares, on real image content where it matters.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import motionkit.ops.splat as splat_module
from motionkit.ops.splat import splat, splat_sum, splat_sum_torch

pytestmark = pytest.mark.skipif(splat_module._kernels is None, reason="numba is not installed")


def torch_reference(*args, **kwargs):
    """``splat`` with the compiled kernels switched off: today's pure-torch path."""
    kernels, splat_module._kernels = splat_module._kernels, None
    try:
        return splat(*args, **kwargs)
    finally:
        splat_module._kernels = kernels


@pytest.fixture(scope="module")
def photo_batch():
    """Three 48x64 crops of scikit-image's astronaut and a swirling flow with far, NaN and infinite targets."""
    from skimage import data

    img = torch.from_numpy(data.astronaut()[100:292:4, 120:376:4].copy()).permute(2, 0, 1).float() / 255.0
    values = torch.stack([img, img.flip(-1), img.flip(-2)])
    gen = torch.Generator().manual_seed(0)
    flow = torch.randn(3, 2, 48, 64, generator=gen) * 4.0
    flow[0, 0, 0, :5] = float("nan")
    flow[1, 1, 3, 3] = float("inf")
    flow[2, 0, 10, 10] = 1e30  # far outside: contributes nothing
    metric = torch.randn(3, 1, 48, 64, generator=gen) * 3.0
    return values, flow, metric


@pytest.mark.parametrize("mode", ["sum", "avg", "softmax"])
def test_kernels_match_the_torch_reference(photo_batch, mode):
    values, flow, metric = photo_batch
    out, weight = splat(values, flow, mode=mode, metric=metric, return_weight=True)
    ref_out, ref_weight = torch_reference(values, flow, mode=mode, metric=metric, return_weight=True)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, ref_out, atol=1e-5, rtol=0)
    torch.testing.assert_close(weight, ref_weight, atol=1e-5, rtol=0)


def test_one_image_splits_into_bands_and_matches(photo_batch):
    # A batch smaller than the thread count is cut into row bands with private buffers.
    values, flow, _ = photo_batch
    torch.testing.assert_close(splat_sum(values[:1], flow[:1]), splat_sum_torch(values[:1], flow[:1]), atol=1e-5, rtol=0)
    torch.testing.assert_close(splat(values[:1], flow[:1]), torch_reference(values[:1], flow[:1]), atol=1e-5, rtol=0)


def test_a_pixel_lands_between_four_targets():
    values = torch.zeros(1, 2, 4, 5)
    values[0, :, 1, 1] = torch.tensor([1.0, 2.0])
    flow = torch.zeros(1, 2, 4, 5)
    flow[0, :, 1, 1] = torch.tensor([1.25, 1.5])  # to (x=2.25, y=2.5)
    out = splat_sum(values, flow)[0, 0]
    expected = {(2, 2): 0.75 * 0.5, (2, 3): 0.25 * 0.5, (3, 2): 0.75 * 0.5, (3, 3): 0.25 * 0.5}
    for (y, x), wgt in expected.items():
        assert out[y, x].item() == pytest.approx(wgt, abs=1e-6)
    assert out.sum().item() == pytest.approx(1.0, abs=1e-6)


def test_lower_precision_inputs_are_computed_in_float32():
    values = torch.rand(2, 3, 8, 8).half()
    flow = (torch.randn(2, 2, 8, 8) * 2).half()
    out = splat(values, flow)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, torch_reference(values, flow), atol=1e-5, rtol=0)


@pytest.mark.parametrize("mode", ["sum", "avg", "softmax"])
def test_gradients_pass_gradcheck(mode):
    gen = torch.Generator().manual_seed(1)
    values = torch.rand(2, 3, 5, 6, dtype=torch.float64, generator=gen, requires_grad=True)
    # Wide flows (targets off the border, collisions); fractional parts away from integers,
    # where floor() kinks the weights.
    raw = torch.rand(2, 2, 5, 6, dtype=torch.float64, generator=gen) * 3.0 - 1.0
    flow = (raw.floor() + 0.2 + 0.6 * (raw - raw.floor())).requires_grad_(True)
    metric = torch.rand(2, 1, 5, 6, dtype=torch.float64, generator=gen).requires_grad_(True)
    if mode == "softmax":
        assert torch.autograd.gradcheck(lambda v, f: splat(v, f, mode=mode, metric=metric.detach()), (values, flow))
        # The metric's gradient, where every target is well covered (the detached maximum and
        # the normalising epsilon make it inexact only where the weight is ~1e-7).
        near = (torch.rand(2, 2, 5, 6, dtype=torch.float64, generator=gen) * 0.6 + 0.2).requires_grad_(True)
        assert torch.autograd.gradcheck(lambda v, f, m: splat(v, f, mode=mode, metric=m), (values, near, metric))
    else:
        assert torch.autograd.gradcheck(lambda v, f: splat(v, f, mode=mode, return_weight=True), (values, flow))


def test_gradients_match_the_torch_reference(photo_batch):
    values, flow, metric = photo_batch
    flow = torch.nan_to_num(flow, nan=0.0, posinf=0.0)
    grads = []
    for fn in (splat, torch_reference):
        v, f, m = (t.clone().requires_grad_(True) for t in (values, flow, metric))
        out, weight = fn(v, f, mode="softmax", metric=m, return_weight=True)
        (out * torch.linspace(0, 1, out.numel()).reshape(out.shape)).sum().add(weight.sum()).backward()
        grads.append((v.grad, f.grad, m.grad))
    for ours, ref in zip(*grads):
        torch.testing.assert_close(ours, ref, atol=1e-4, rtol=1e-4)


def test_no_gradient_asked_costs_no_gradient():
    values = torch.rand(1, 3, 6, 6, requires_grad=True)
    flow = torch.randn(1, 2, 6, 6)
    splat(values, flow).sum().backward()
    assert values.grad is not None and values.grad.abs().sum() > 0


def test_cuda_tensors_run_the_torch_path(device):
    values = torch.rand(1, 3, 6, 6, device=device)
    flow = torch.randn(1, 2, 6, 6, device=device)
    out = splat(values, flow)
    assert out.device.type == device.type
    expected = torch_reference(values.cpu(), flow.cpu())
    np.testing.assert_allclose(out.cpu().numpy(), expected.numpy(), atol=1e-5)
