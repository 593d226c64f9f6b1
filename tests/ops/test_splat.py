"""Forward splatting: the official softsplat 'avg' vectors, a brute-force loop, gradients."""

from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import load_file

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops.splat import splat, splat_sum


def brute_force_sum(values: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """A literal per-pixel loop of bilinear forward splatting, in float64."""
    n, c, h, w = values.shape
    out = torch.zeros(n, c, h, w, dtype=torch.float64)
    for b in range(n):
        for y in range(h):
            for x in range(w):
                fx = x + float(flow[b, 0, y, x])
                fy = y + float(flow[b, 1, y, x])
                if not (math.isfinite(fx) and math.isfinite(fy)):
                    continue
                x0, y0 = math.floor(fx), math.floor(fy)
                for cx, cy, wgt in (
                    (x0, y0, (x0 + 1 - fx) * (y0 + 1 - fy)),
                    (x0 + 1, y0, (fx - x0) * (y0 + 1 - fy)),
                    (x0, y0 + 1, (x0 + 1 - fx) * (fy - y0)),
                    (x0 + 1, y0 + 1, (fx - x0) * (fy - y0)),
                ):
                    if 0 <= cx < w and 0 <= cy < h:
                        out[b, :, cy, cx] += wgt * values[b, :, y, x].double()
    return out


def test_matches_official_softsplat_avg_cases(official_fixtures):
    cases = load_file(official_fixtures / "softsplat_avg_cases.safetensors")
    names = sorted({key.rsplit(".", 1)[0] for key in cases})
    assert len(names) == 6
    for name in names:
        values, flow = cases[f"{name}.input"], cases[f"{name}.flow"]
        avg = splat(values, flow, mode="avg")
        torch.testing.assert_close(avg, cases[f"{name}.avg"], atol=1e-5, rtol=0, msg=name)
        torch.testing.assert_close(splat_sum(values, flow), cases[f"{name}.sum"], atol=1e-5, rtol=0, msg=name)
        holes = cases[f"{name}.sum_weights"] == 0
        assert (avg[holes.expand_as(avg)] == 0).all(), f"{name}: holes must be exactly 0"


@pytest.mark.parametrize("scale", [0.7, 3.0])
def test_matches_brute_force_with_borders_and_fractions(scale):
    values = torch.rand(2, 3, 6, 7)
    flow = torch.randn(2, 2, 6, 7) * scale  # many targets fall outside at scale 3
    torch.testing.assert_close(splat_sum(values, flow).double(), brute_force_sum(values, flow), atol=1e-5, rtol=0)


def test_pixel_lands_where_flow_points():
    values = torch.zeros(1, 1, 5, 5)
    values[0, 0, 1, 1] = 1.0
    flow = torch.zeros(1, 2, 5, 5)
    flow[0, :, 1, 1] = torch.tensor([2.0, 3.0])  # to (x=3, y=4)
    out = splat_sum(values, flow)
    assert out[0, 0, 4, 3] == pytest.approx(1.0, abs=1e-6)
    assert out.sum() == pytest.approx(1.0, abs=1e-6)
    # in 'avg' mode it collides with the static (zero) pixel already at (3, 4)
    assert splat(values, flow)[0, 0, 4, 3] == pytest.approx(0.5, abs=1e-6)


def test_softmax_mode_prefers_larger_metric_on_collision():
    values = torch.tensor([[[[0.0, 1.0, 0.0]]]])
    flow = torch.zeros(1, 2, 1, 3)
    flow[0, 0, 0, 0] = 1.0  # pixel 0 (value 0) collides with pixel 1 (value 1)
    metric = torch.tensor([[[[10.0, 0.0, 0.0]]]])
    assert splat(values, flow, mode="softmax", metric=metric)[0, 0, 0, 1] == pytest.approx(0.0, abs=1e-4)
    assert splat(values, flow, mode="softmax", metric=-metric)[0, 0, 0, 1] == pytest.approx(1.0, abs=1e-4)
    assert splat(values, flow, mode="avg")[0, 0, 0, 1] == pytest.approx(0.5, abs=1e-6)


def test_gradcheck_values_and_flow():
    values = torch.rand(1, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    # keep fractional parts away from integers, where floor() makes the weights kink
    flow = (torch.rand(1, 2, 4, 5, dtype=torch.float64) * 0.6 + 0.2).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v, f: splat(v, f, mode="avg"), (values, flow))


def test_rejects_bad_shapes_and_modes():
    with pytest.raises(ShapeMismatchError):
        splat(torch.rand(1, 3, 4, 4), torch.rand(1, 2, 4, 5))
    with pytest.raises(InvalidInputError):
        splat(torch.rand(1, 3, 4, 4), torch.rand(1, 2, 4, 4), mode="max")
    with pytest.raises(InvalidInputError):
        splat(torch.rand(1, 3, 4, 4), torch.rand(1, 2, 4, 4), mode="softmax")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_pixel_lands_where_its_flow_points_on_every_device(device, dtype):
    values = torch.zeros(1, 1, 4, 4, device=device, dtype=dtype)
    values[0, 0, 1, 1] = 1.0
    flow = torch.zeros(1, 2, 4, 4, device=device, dtype=dtype)
    flow[0, 0, 1, 1], flow[0, 1, 1, 1] = 2.0, 1.0
    out = splat(values, flow, "sum")
    assert out.device.type == device.type and out.dtype == dtype
    assert out[0, 0, 2, 3].item() == 1.0 and out.sum().item() == 1.0
