"""Forward splatting: push every source pixel along its flow onto a target grid.

This is the differentiable, pure-PyTorch counterpart of the CUDA ``softsplat`` used by
Motion-I2V (Niklaus & Liu, 2020). Each source pixel ``(x, y)`` lands at
``(x + dx, y + dy)`` and is distributed bilinearly onto the four surrounding integer pixels;
corners outside the image are dropped independently (no clamping) and pixels whose target is
not finite contribute nothing. The Motion-I2V stage-2 network and the classical ``warp``
renderer share this code.

On the CPU the scatter runs in compiled kernels (:mod:`motionkit.ops._splat_kernels`, numba),
wrapped in a :class:`torch.autograd.Function` with its own backward kernel; on other devices
(CUDA) and where numba is missing it runs as torch ``scatter_add`` (:func:`splat_sum_torch`,
the reference the kernels are tested against). Both give the same values to float rounding.
"""

from __future__ import annotations

from typing import Literal

import torch

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops.grid import pixel_grid

try:  # numba is a dependency; a broken install still splats, in torch
    from motionkit.ops import _splat_kernels as _kernels
except ImportError:  # pragma: no cover - exercised only without numba
    _kernels = None

SplatMode = Literal["sum", "avg", "softmax"]

#: Added to the accumulated weight before normalising, as the official ``softsplat`` does,
#: so holes (weight 0) come out as exactly 0.
NORMALISE_EPS = 1e-7


def splat_sum(values: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Bilinear forward splat without normalisation.

    Args:
        values: ``(N, C, H, W)`` source values.
        flow: ``(N, 2, H, W)`` displacement in pixels of every source pixel (dx, dy).

    Returns:
        ``(N, C, H, W)``: for every target pixel, the sum of ``weight * value`` over the
        source pixels that land on it, with bilinear weights in [0, 1].

    Example:
        >>> v = torch.zeros(1, 1, 3, 3); v[0, 0, 1, 1] = 1.0
        >>> f = torch.zeros(1, 2, 3, 3); f[0, 0] = 0.5   # half a pixel right
        >>> splat_sum(v, f)[0, 0, 1, 1:].tolist()
        [0.5, 0.5]
    """
    _check(values, flow)
    dtype = torch.promote_types(values.dtype, torch.float32)
    if _use_kernels(values, flow, dtype):
        return _KernelSplat.apply(values.to(dtype), flow.to(dtype), None, False)[0]
    return splat_sum_torch(values, flow)


_KERNEL_DTYPES = (torch.float32, torch.float64)


class _KernelSplat(torch.autograd.Function):
    """The compiled CPU splat: ``(S(i v) [/ (S(i) + eps)], S(i))``, ``i`` = 1 when ``importance`` is ``None``."""

    @staticmethod
    def forward(ctx, values: torch.Tensor, flow: torch.Tensor, importance: torch.Tensor | None, normalised: bool):
        v, f = values.detach().contiguous(), flow.detach().contiguous()
        i = None if importance is None else importance.detach().contiguous()
        out, den = _kernels.splat(v.numpy(), f.numpy(), None if i is None else i.numpy(), normalised, NORMALISE_EPS)
        out, den = torch.from_numpy(out), torch.from_numpy(den)
        ctx.weighted, ctx.normalised = i is not None, normalised
        ctx.save_for_backward(v, f, out, den, *((i,) if i is not None else ()))
        return out, den

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: torch.Tensor | None, grad_den: torch.Tensor | None):
        v, f, out, den, *rest = ctx.saved_tensors
        i = rest[0] if ctx.weighted else None
        go = torch.zeros_like(out) if grad_out is None else grad_out.detach().to(v.dtype).contiguous()
        gd = None if grad_den is None else grad_den.detach().to(v.dtype).contiguous().numpy()
        grads = _kernels.splat_backward(
            go.numpy(), gd, out.numpy(), den.numpy(), ctx.normalised, NORMALISE_EPS, v.numpy(), f.numpy(),
            None if i is None else i.numpy(), tuple(bool(x) for x in ctx.needs_input_grad[:3]),
        )
        return (*(None if g is None else torch.from_numpy(g) for g in grads), None)


def _use_kernels(values: torch.Tensor, flow: torch.Tensor, dtype: torch.dtype) -> bool:
    """The compiled kernels apply: numba present, CPU tensors, float32 or float64 arithmetic."""
    return _kernels is not None and values.device.type == "cpu" and flow.device.type == "cpu" and dtype in _KERNEL_DTYPES


def splat_sum_torch(values: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """:func:`splat_sum` in plain torch (``scatter_add``): any device, autograd through torch.

    What CUDA tensors run, and the reference the compiled CPU kernels are tested against.
    """
    _check(values, flow)
    n, c, h, w = values.shape
    dtype = torch.promote_types(values.dtype, torch.float32)
    values = values.to(dtype)
    flow = flow.to(dtype)

    xs, ys = pixel_grid(h, w, device=flow.device, dtype=dtype)
    fx = xs + flow[:, 0]  # (N, H, W)
    fy = ys + flow[:, 1]
    finite = torch.isfinite(fx) & torch.isfinite(fy)
    fx = torch.where(finite, fx, torch.zeros_like(fx))
    fy = torch.where(finite, fy, torch.zeros_like(fy))
    x0 = torch.floor(fx)
    y0 = torch.floor(fy)

    out = values.new_zeros(n, c, h * w)
    flat_values = values.reshape(n, c, h * w)
    for cx, cy, weight in (
        (x0, y0, (x0 + 1 - fx) * (y0 + 1 - fy)),
        (x0 + 1, y0, (fx - x0) * (y0 + 1 - fy)),
        (x0, y0 + 1, (x0 + 1 - fx) * (fy - y0)),
        (x0 + 1, y0 + 1, (fx - x0) * (fy - y0)),
    ):
        inside = finite & (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        weight = torch.where(inside, weight, torch.zeros_like(weight))
        index = torch.where(inside, cy * w + cx, torch.zeros_like(cx)).long().reshape(n, 1, h * w)
        contribution = flat_values * weight.reshape(n, 1, h * w)
        out = out.scatter_add(2, index.expand(n, c, h * w), contribution)
    return out.reshape(n, c, h, w)


def splat(
    values: torch.Tensor,
    flow: torch.Tensor,
    mode: SplatMode = "avg",
    metric: torch.Tensor | None = None,
    return_weight: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Forward-warp ``values`` along ``flow`` by splatting.

    Args:
        values: ``(N, C, H, W)`` source values (any float dtype; computed in float32 or wider).
        flow: ``(N, 2, H, W)`` displacement in pixels, channel 0 = dx (right), 1 = dy (down).
        mode: ``"sum"`` adds weighted contributions; ``"avg"`` divides by the splatted
            weight (collisions are averaged, holes are 0); ``"softmax"`` weights each source
            pixel by ``exp(metric)`` before averaging, so where several pixels collide the one
            with the larger metric (e.g. the nearer one) wins.
        metric: ``(N, 1, H, W)`` importance for ``"softmax"`` mode; ignored otherwise.
        return_weight: also return the ``(N, 1, H, W)`` splatted weight (0 marks holes).

    Returns:
        ``(N, C, H, W)`` warped values (and the weight map if ``return_weight``).

    Example:
        >>> v = torch.rand(1, 3, 4, 4)
        >>> torch.allclose(splat(v, torch.zeros(1, 2, 4, 4)), v, atol=1e-6)
        True
    """
    if mode not in ("sum", "avg", "softmax"):
        raise InvalidInputError(f"splat mode must be 'sum', 'avg' or 'softmax', got {mode!r}")
    _check(values, flow)
    if mode == "sum":
        dtype = torch.promote_types(values.dtype, torch.float32)
        if _use_kernels(values, flow, dtype):
            out, weight = _KernelSplat.apply(values.to(dtype), flow.to(dtype), None, False)
            return (out, weight) if return_weight else out
        out = splat_sum(values, flow)
        if return_weight:
            return out, splat_sum(torch.ones_like(values[:, :1]), flow)
        return out

    ones = torch.ones_like(values[:, :1])
    importance = None
    if mode == "softmax":
        if metric is None:
            raise InvalidInputError("splat mode 'softmax' needs a metric of shape (N, 1, H, W)")
        if metric.shape != ones.shape:
            raise ShapeMismatchError(f"metric must have shape {tuple(ones.shape)}, got {tuple(metric.shape)}")
        # Subtracting the per-image maximum leaves the ratio unchanged and keeps exp() finite.
        metric = metric - metric.amax(dim=(1, 2, 3), keepdim=True).detach()
        importance = torch.exp(metric)
    dtype = torch.promote_types(values.dtype, torch.float32)
    if _use_kernels(values, flow, dtype) and (importance is None or importance.device.type == "cpu"):
        out, weight = _KernelSplat.apply(values.to(dtype), flow.to(dtype), None if importance is None else importance.to(dtype), True)
        return (out, weight) if return_weight else out
    if importance is not None:
        values = values * importance
        ones = importance
    summed = splat_sum_torch(torch.cat([values, ones], dim=1), flow)
    weight = summed[:, -1:]
    out = summed[:, :-1] / (weight + NORMALISE_EPS)
    return (out, weight) if return_weight else out


def _check(values: torch.Tensor, flow: torch.Tensor) -> None:
    if values.dim() != 4:
        raise ShapeMismatchError(f"values must be (N, C, H, W), got shape {tuple(values.shape)}")
    n, _, h, w = values.shape
    if flow.shape != (n, 2, h, w):
        raise ShapeMismatchError(f"flow must be (N, 2, H, W) = {(n, 2, h, w)} to match values, got {tuple(flow.shape)}")
