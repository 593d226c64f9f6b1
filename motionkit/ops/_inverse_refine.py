"""The full-resolution refinement of the forward warp's inverse map: numpy/OpenCV and compiled.

:mod:`motionkit.ops.forward_warp` inverts a field at reduced resolution and refines the
inverse here by Newton steps, in the compiled kernels of :mod:`._inverse_kernels` where numba
is installed and in numpy/OpenCV otherwise. The two agree to the refinement's accuracy and mark
the same pixels unseen but for a few in a thousand (tests/ops/test_splat_inverse_kernels.py):
the compiled Newton steps use the bilinear patch's own Jacobian, the numpy ones central differences.
"""

from __future__ import annotations

import cv2
import numpy as np


try:  # the compiled inversion; the numpy/OpenCV code where numba is missing
    from motionkit.ops import _inverse_kernels as _kernels
except ImportError:  # pragma: no cover
    _kernels = None

#: Splat weight below which a target pixel counts as a hole.
HOLE_WEIGHT = 0.05
#: Inverse-map error (pixels) below which no Newton refinement is spent on a pixel.
ACCURACY = 0.05
#: Inverse-map error (pixels) above which a refined pixel counts as unseen (no source lands there).
UNRESOLVED = 1.0


def _refine_inverse(flow: np.ndarray, inv: np.ndarray, grid: np.ndarray, steps: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps on ``q + g(q) = p`` with ``g = -f(p)``, at full resolution.

    The residual is ``r = g + f(q + g)`` and a step is ``g <- g - (I + Df)^-1 r`` with the
    field's Jacobian ``Df`` looked up at the source. Only pixels whose residual exceeds ``ACCURACY``
    are iterated (as a flat list, so smooth or static areas cost nothing), and a step is kept
    only where it shrinks the residual (folds and disocclusions have no exact inverse).

    Returns the refined inverse and ``unresolved (H, W) bool``: pixels still off by more than
    :data:`UNRESOLVED` px. No input pixel lands there (the coarse inverse smeared an object's
    motion over the place it left), so they are unseen, not a speckle of the object.
    """
    forward = np.ascontiguousarray(flow.transpose(1, 2, 0))
    src = grid + inv
    res = (inv + cv2.remap(forward, src[..., 0], src[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)).reshape(-1, 2)
    active = np.flatnonzero(res[:, 0] ** 2 + res[:, 1] ** 2 > ACCURACY**2)
    unresolved = np.zeros(inv.shape[:2], bool)
    if active.size == 0:
        return inv, unresolved
    d_fx_dy, d_fx_dx = np.gradient(flow[0])
    d_fy_dy, d_fy_dx = np.gradient(flow[1])
    table = np.dstack([flow[0], flow[1], d_fx_dx, d_fx_dy, d_fy_dx, d_fy_dy]).astype(np.float32)

    def lookup(q: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # remap wants a 2-D map under 32767 a side: lay the point list out in rows of 1024.
        n = len(q)
        src = np.zeros((-(-n // 1024) * 1024, 2), np.float32)
        src[:n] = q + g
        src = src.reshape(-1, 1024, 2)
        looked = cv2.remap(table, src[..., 0], src[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        looked = looked.reshape(-1, 6)[:n]
        return g + looked[:, :2], looked[:, 2:]

    flat_inv = inv.reshape(-1, 2)
    q, g = grid.reshape(-1, 2)[active], flat_inv[active]
    res, jac = lookup(q, g)
    for _ in range(steps):
        a, b, c, d = 1.0 + jac[:, 0], jac[:, 1], jac[:, 2], 1.0 + jac[:, 3]
        det = a * d - b * c
        ok = det > 0.05
        det = np.where(ok, det, 1.0)
        step = g - np.stack([(d * res[:, 0] - b * res[:, 1]) / det, (a * res[:, 1] - c * res[:, 0]) / det], axis=1)
        step_res, step_jac = lookup(q, step)
        keep = (ok & ((step_res**2).sum(1) < (res**2).sum(1)))[:, None]
        g, res, jac = np.where(keep, step, g), np.where(keep, step_res, res), np.where(keep, step_jac, jac)
    out = flat_inv.copy()
    out[active] = g
    unresolved.ravel()[active[(res**2).sum(1) > UNRESOLVED**2]] = True
    return out.reshape(inv.shape), unresolved
