"""The forward warp's splat of the inverse field in numpy (``numpy.bincount``): the path where numba is missing.

:func:`motionkit.ops.forward_warp.splat_inverse_numpy` runs the compiled splat of
:mod:`._inverse_kernels` where numba is installed; this is the reference it reproduces (the
same float64 sums, rounded to float32 at the end).
"""

from __future__ import annotations

import numpy as np

from motionkit.ops.grid import remap_grid


def splat_bincount(flow: np.ndarray, importance: np.ndarray | None, skip: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Splat ``-flow`` (``float32 (2, H, W)``) onto its targets: ``(inverse float32 (2, H, W), coverage float32 (H, W))``.

    ``importance``: flat ``float32 (H*W,)`` softmax weights or ``None`` (all 1); ``skip``:
    ``bool (H, W)`` sources left out, or ``None``.
    """
    _, h, w = flow.shape
    grid = remap_grid(h, w)
    ys, xs = grid[..., 1], grid[..., 0]
    tx = (xs + flow[0]).ravel()
    ty = (ys + flow[1]).ravel()
    finite = np.isfinite(tx) & np.isfinite(ty)
    if skip is not None:
        finite &= ~skip.ravel()
    tx, ty = np.where(finite, tx, -2.0), np.where(finite, ty, -2.0)
    x0, y0 = np.floor(tx), np.floor(ty)
    ax, ay = tx - x0, ty - y0
    if importance is None:
        importance = np.ones(h * w, np.float32)
    corner_index, corner_weight = [], []
    for cx, cy, wgt in ((x0, y0, (1 - ax) * (1 - ay)), (x0 + 1, y0, ax * (1 - ay)), (x0, y0 + 1, (1 - ax) * ay), (x0 + 1, y0 + 1, ax * ay)):
        inside = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        corner_index.append(np.where(inside, cy * w + cx, 0).astype(np.int64))
        corner_weight.append(np.where(inside, wgt, 0.0).astype(np.float32))
    index = np.concatenate(corner_index)
    bilinear = np.concatenate(corner_weight)
    soft = bilinear * np.tile(importance, 4)
    size = h * w
    coverage = np.bincount(index, bilinear, size)
    total = np.bincount(index, soft, size)
    inverse = np.stack([np.bincount(index, soft * np.tile(-c.ravel(), 4), size) for c in flow])
    inverse = np.where(total > 0, inverse / np.maximum(total, 1e-30), 0.0)
    return inverse.reshape(2, h, w).astype(np.float32), coverage.reshape(h, w).astype(np.float32)
