"""Backward warping and point sampling in pixel units.

Backward warping reads, for every output pixel ``p``, the source at ``p + flow(p)``:
``out(p) = image(p + flow(p))``. Pixel centres sit at integer coordinates, so the
conversion to ``grid_sample``'s normalised grid uses ``align_corners=True``. Bilinear warps
of CPU float tensors that need no gradient run a compiled kernel of the same interpolation
and padding (:mod:`motionkit.ops._warp_kernels`, within 1e-5 of grid_sample); CUDA tensors,
gradients and the other modes run grid_sample.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from motionkit.errors import ShapeMismatchError
from motionkit.ops.grid import pixel_grid

try:  # the compiled CPU path; grid_sample everywhere else
    from motionkit.ops import _warp_kernels as _kernels
except ImportError:  # pragma: no cover
    _kernels = None

Padding = Literal["zeros", "border", "reflection"]


def _normalise(coords: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Pixel coordinates ``(..., 2)`` (x, y) -> grid_sample's [-1, 1] with align_corners=True."""
    scale = coords.new_tensor([2.0 / max(width - 1, 1), 2.0 / max(height - 1, 1)])
    return coords * scale - 1.0


def backward_warp(
    image: torch.Tensor,
    flow: torch.Tensor,
    *,
    mode: Literal["bilinear", "nearest", "bicubic"] = "bilinear",
    padding: Padding = "border",
) -> torch.Tensor:
    """Sample ``image`` at ``p + flow(p)`` for every pixel ``p``.

    Args:
        image: ``(N, C, H, W)`` or ``(C, H, W)`` source (broadcast over N when N == 1).
        flow: ``(N, 2, H, W)`` look-up offsets in pixels (dx, dy).
        mode: interpolation of the source.
        padding: what a look-up outside the image returns.

    Returns:
        ``(N, C, H, W)`` warped image, same dtype as ``image``.

    Example:
        >>> img = torch.arange(4.0).reshape(1, 1, 1, 4)
        >>> flow = torch.zeros(1, 2, 1, 4); flow[:, 0] = 1.0   # read one pixel to the right
        >>> backward_warp(img, flow)[0, 0, 0].tolist()
        [1.0, 2.0, 3.0, 3.0]
    """
    if image.dim() == 3:
        image = image.unsqueeze(0)
    if image.dim() != 4 or flow.dim() != 4 or flow.shape[1] != 2:
        raise ShapeMismatchError(
            f"backward_warp expects image (N, C, H, W) and flow (N, 2, H, W), got {tuple(image.shape)} and {tuple(flow.shape)}"
        )
    n, _, h, w = flow.shape
    if image.shape[-2:] != (h, w) or image.shape[0] not in (1, n):
        raise ShapeMismatchError(f"image {tuple(image.shape)} does not match flow {tuple(flow.shape)}")
    if mode == "bilinear" and _compiled(image, flow):
        out = _kernels.backward_warp(image.detach().contiguous().numpy(), flow.detach().contiguous().numpy(), padding)
        if out is not None:
            return torch.from_numpy(out)
    if image.shape[0] == 1 and n > 1:
        image = image.expand(n, -1, -1, -1)
    compute = torch.promote_types(image.dtype, torch.float32)
    # The normalised sampling grid in one fused pass: base + flow * scale, where base holds
    # the pixel centres already in grid_sample's [-1, 1] units.
    scale = flow.new_tensor([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], dtype=compute)
    base = _normalise(pixel_grid(h, w, device=flow.device, dtype=compute).permute(1, 2, 0), h, w)
    grid = torch.addcmul(base, flow.to(compute).permute(0, 2, 3, 1), scale)
    out = F.grid_sample(image.to(compute), grid, mode=mode, padding_mode=padding, align_corners=True)
    return out.to(image.dtype)


def _compiled(image: torch.Tensor, flow: torch.Tensor) -> bool:
    """Whether the compiled kernel runs: CPU tensors of one float dtype (32 or 64 bit), no gradient wanted."""
    return (
        _kernels is not None
        and image.device.type == "cpu" and flow.device.type == "cpu"
        and image.dtype == flow.dtype and image.dtype in (torch.float32, torch.float64)
        and not (torch.is_grad_enabled() and (image.requires_grad or flow.requires_grad))
    )


def sample_at(values: torch.Tensor, points: torch.Tensor, *, padding: Padding = "border") -> torch.Tensor:
    """Bilinearly sample ``values`` at arbitrary pixel coordinates.

    Args:
        values: ``(N, C, H, W)``.
        points: ``(N, P, 2)`` pixel coordinates (x, y).

    Returns:
        ``(N, P, C)`` the values at those points.
    """
    n, _, h, w = values.shape
    if points.dim() != 3 or points.shape[0] != n or points.shape[-1] != 2:
        raise ShapeMismatchError(f"points must be (N={n}, P, 2), got {tuple(points.shape)}")
    grid = _normalise(points.to(values.dtype), h, w).unsqueeze(1)  # (N, 1, P, 2)
    out = F.grid_sample(values, grid, mode="bilinear", padding_mode=padding, align_corners=True)
    return out[:, :, 0].transpose(1, 2)
