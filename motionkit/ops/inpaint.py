"""Hole filling by push-pull (pyramid normalised convolution, Gortler et al. 1996).

Known samples are averaged down a pyramid (push) until every cell has data, then the coarse
estimate is interpolated back up and used only where the finer level had little or no
weight (pull). The result is smooth inside holes and equal to the data where the weight is
1, in ``O(H * W)`` with a handful of OpenCV resizes. It suits smooth signals such as motion
fields; colours in large holes come out blurred.

:func:`push_pull` takes and returns torch tensors (channels first, any device);
:func:`push_pull_numpy` is its channels-last numpy twin for loops that already hold numpy;
each level's elementwise arithmetic runs as a compiled kernel (:mod:`motionkit.ops._fill_kernels`,
bit-identical to the numpy code) where numba is installed.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from motionkit.errors import ShapeMismatchError

try:  # the compiled per-level arithmetic; the numpy code below where numba is missing
    from motionkit.ops import _fill_kernels as _kernels
except ImportError:  # pragma: no cover - numba is a dependency; this keeps the numpy path importable
    _kernels = None


def push_pull(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Fill the low-weight parts of ``values`` from their surroundings.

    Args:
        values: ``(C, H, W)`` or ``(H, W)`` floating-point data; values where ``weight`` is 0
            are ignored.
        weight: ``(H, W)`` confidence in [0, 1]; 1 keeps the value, 0 marks a hole.

    Returns:
        Shaped like ``values``, on its device and in its dtype (computed in float32):
        ``weight * values + (1 - weight) * coarse``; zeros when no weight is positive.

    Example:
        >>> v = torch.zeros(1, 4, 4); v[:, :, :2] = 1.0
        >>> w = torch.zeros(4, 4); w[:, :2] = 1.0
        >>> bool(torch.allclose(push_pull(v, w), torch.ones(1, 4, 4)))
        True
    """
    if values.dim() not in (2, 3):
        raise ShapeMismatchError(f"values must be (C, H, W) or (H, W), got {tuple(values.shape)}")
    array = values.detach().to("cpu", torch.float32).numpy()
    if array.ndim == 3:
        array = array.transpose(1, 2, 0)
    out = push_pull_numpy(array, weight.detach().to("cpu", torch.float32).numpy())
    if out.ndim == 3:
        out = out.transpose(2, 0, 1)
    dtype = values.dtype if values.is_floating_point() else torch.float32
    return torch.from_numpy(np.ascontiguousarray(out)).to(values.device, dtype)


def push_pull_numpy(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """:func:`push_pull` on numpy, channels last.

    Args:
        values: ``float32 (H, W, C)`` (or ``(H, W)``) data; values where ``weight`` is 0 are ignored.
        weight: ``float32 (H, W)`` confidence in [0, 1]; 1 keeps the value, 0 marks a hole.

    Returns:
        ``float32`` array shaped like ``values``: ``weight * values + (1 - weight) * coarse``.
        When no weight is positive anywhere, zeros.

    Example:
        >>> v = np.zeros((4, 4), np.float32); v[:, :2] = 1.0
        >>> w = np.zeros((4, 4), np.float32); w[:, :2] = 1.0
        >>> bool(np.allclose(push_pull_numpy(v, w), 1.0))
        True
    """
    values = np.asarray(values, dtype=np.float32)
    weight = np.asarray(weight, dtype=np.float32)
    if values.shape[:2] != weight.shape:
        raise ShapeMismatchError(f"weight {weight.shape} must match the first two axes of values {values.shape}")
    squeeze = values.ndim == 2
    if squeeze:
        values = values[..., None]
    if _kernels is not None:
        out = _fill_compiled(values, weight)  # (its first pass clips the weight as np.clip does)
    else:
        weight = np.clip(weight, 0.0, 1.0)
        out = _fill(values * weight[..., None], weight) if (weight > 0).any() else np.zeros_like(values)
    return out[..., 0] if squeeze else out


def _fill_compiled(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """:func:`_fill` of ``values * weight`` with each level's arithmetic in one compiled pass (bit-identical)."""
    weighted = np.empty(values.shape, np.float32)
    clipped = np.empty(weight.shape, np.float32)
    if values.shape[2] == 2:  # a field: the vectorised two-channel kernels
        positive = _kernels.premultiply2(values[..., 0], values[..., 1], weight, weighted.reshape(-1), clipped)
    else:
        positive = _kernels.premultiply(values, weight, weighted, clipped)
    return _level(weighted, clipped) if positive else np.zeros_like(values)


def _level(weighted: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """One level of :func:`_fill` on contiguous float32 arrays, its elementwise steps compiled."""
    h, w = weight.shape
    pair = weighted.shape[2] == 2  # flat views of contiguous two-channel arrays for the vectorised kernels
    out = np.empty(weighted.shape, np.float32)
    if weight.min() >= 1.0 or (h <= 1 and w <= 1):
        if pair:
            _kernels.normalise2(weighted.reshape(-1), weight.reshape(-1), out.reshape(-1))
        else:
            _kernels.normalise(weighted, weight, out)
        return out
    sh, sw = max(1, (h + 1) // 2), max(1, (w + 1) // 2)
    coarse_w = cv2.resize(weight, (sw, sh), interpolation=cv2.INTER_AREA).reshape(sh, sw)
    coarse_v = _resize(weighted, (sw, sh), cv2.INTER_AREA)
    following, strength = np.empty(coarse_v.shape, np.float32), np.empty(coarse_w.shape, np.float32)
    if pair:
        _kernels.coarser2(coarse_w.reshape(-1), coarse_v.reshape(-1), following.reshape(-1), strength.reshape(-1))
    else:
        _kernels.coarser(coarse_w, coarse_v, following, strength)
    up = _resize(_level(following, strength), (w, h), cv2.INTER_LINEAR)
    if pair:
        _kernels.blend2(weighted.reshape(-1), weight.reshape(-1), up.reshape(-1), out.reshape(-1))
    else:
        _kernels.blend(weighted, weight, up, out)
    return out


def _fill(weighted: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Recursive push-pull on premultiplied values ``weighted`` (H, W, C) and ``weight`` (H, W)."""
    h, w = weight.shape
    values = weighted / np.maximum(weight, 1e-12)[..., None]
    if weight.min() >= 1.0 or (h <= 1 and w <= 1):
        return values
    sh, sw = max(1, (h + 1) // 2), max(1, (w + 1) // 2)
    # INTER_AREA averages: the coarse weight is the fraction of covered fine pixels.
    coarse_w = cv2.resize(weight, (sw, sh), interpolation=cv2.INTER_AREA)
    coarse_v = _resize(weighted, (sw, sh), cv2.INTER_AREA)
    # Renormalise so a cell with any data counts as fully known at its own level.
    gain = np.minimum(1.0 / np.maximum(coarse_w, 1e-12), 1e6)
    strength = np.minimum(coarse_w * 4.0, 1.0)
    filled = _fill(coarse_v * (gain * strength)[..., None], strength)
    up = _resize(filled, (w, h), cv2.INTER_LINEAR)
    alpha = weight[..., None]
    return np.where(alpha > 0, values, 0.0) * alpha + up * (1.0 - alpha)


def _resize(values: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    """``cv2.resize`` of ``(H, W, C)`` to ``size = (W', H')`` for any C (OpenCV takes at most 4 at once)."""
    if values.shape[2] <= 4:  # one call, no concatenated copy
        return cv2.resize(values, size, interpolation=interpolation).reshape(size[1], size[0], -1)
    parts = [cv2.resize(values[..., i : i + 4], size, interpolation=interpolation) for i in range(0, values.shape[2], 4)]
    return np.concatenate([p.reshape(size[1], size[0], -1) for p in parts], axis=2)
