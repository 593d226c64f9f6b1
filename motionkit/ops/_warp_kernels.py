"""Compiled CPU kernel of the backward warp (numba): bilinear sampling at ``p + flow(p)``.

:func:`motionkit.ops.warp.backward_warp` runs ``torch.nn.functional.grid_sample``; on CPU
float tensors that need no gradient it runs this kernel instead, which computes the same
bilinear interpolation (``align_corners=True``: pixel centres at integer coordinates) with
the same padding rules and grid_sample's own order of operations (the normalised grid with
its fused multiply-add, the weights from the neighbours' distances), so the two agree to a
float32 rounding (2e-7 on photos). The weights of a pixel are computed once for all its channels, and rows are shared out over the
kernel threads (:mod:`motionkit.ops._kernel_threads`). A non-finite look-up is left to
grid_sample (the kernel reports it and the caller falls back).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from motionkit.ops._kernel_threads import row_bands, run_jobs

#: Padding codes of the kernel: grid_sample's ``zeros``, ``border`` and ``reflection``.
PADDING = {"zeros": 0, "border": 1, "reflection": 2}


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _reflect(x, span, zero):
    """grid_sample's reflection with ``align_corners=True``: mirrored about the edge pixels' centres (``0`` and ``span``)."""
    if span <= zero:
        return zero
    x = abs(x)
    flips = np.floor(x / span)
    extra = x - flips * span
    return extra if int(flips) % 2 == 0 else span - extra


@njit(cache=True, nogil=True, error_model="numpy")
def _warp(image, flow, xs, ys, consts, padding, row0, row1, out, bad):
    """``out[n, :, y, x] = image[n or 0](x + fx, y + fy)`` for rows ``row0 .. row1`` of the flattened ``N * H`` rows.

    All arithmetic is in the arrays' dtype, in grid_sample's order of operations.
    """
    n_img, c, h, w = image.shape
    one, bx, by, hx, hy, zero = consts[0], consts[1], consts[2], consts[3], consts[4], consts[5]
    top_x, top_y = consts[6], consts[7]
    cell = np.empty(2, consts.dtype)
    for r in range(row0, row1):
        n = r // h
        y = r % h
        src = image[n if n_img > 1 else 0]
        base_y = ys[y] * by - one
        for x in range(w):
            # grid_sample's own arithmetic: the normalised grid (pixel centre * 2 / (W - 1) - 1
            # + flow * 2 / (W - 1), as backward_warp builds it), then back to pixels.
            # torch's addcmul fuses the multiply-add (one rounding): done in float64, rounded on store.
            cell[0] = np.float64(xs[x] * bx - one) + np.float64(flow[n, 0, y, x]) * np.float64(bx)
            cell[1] = np.float64(base_y) + np.float64(flow[n, 1, y, x]) * np.float64(by)
            gx = cell[0]
            gy = cell[1]
            sx = (gx + one) * hx
            sy = (gy + one) * hy
            if not (np.isfinite(sx) and np.isfinite(sy)):
                bad[0] = True
                continue
            if padding == 2:
                sx = _reflect(sx, top_x, zero)
                sy = _reflect(sy, top_y, zero)
            if padding >= 1:  # border (and reflection's final clip): the coordinate is clipped
                sx = min(max(sx, zero), top_x)
                sy = min(max(sy, zero), top_y)
            x0f = np.floor(sx)
            y0f = np.floor(sy)
            east = (x0f + one) - sx
            west = sx - x0f
            north = sy - y0f
            south = (y0f + one) - sy
            x0 = int(x0f)
            y0 = int(y0f)
            x1 = x0 + 1
            y1 = y0 + 1
            w00 = south * east
            w01 = south * west
            w10 = north * east
            w11 = north * west
            if 0 <= x0 and x1 < w and 0 <= y0 and y1 < h:  # all four neighbours inside: no tests per channel
                for ch in range(c):
                    plane = src[ch]
                    out[n, ch, y, x] = plane[y0, x0] * w00 + plane[y0, x1] * w01 + plane[y1, x0] * w10 + plane[y1, x1] * w11
                continue
            in_x0 = 0 <= x0 < w
            in_x1 = 0 <= x1 < w
            in_y0 = 0 <= y0 < h
            in_y1 = 0 <= y1 < h
            for ch in range(c):
                v00 = src[ch, y0, x0] if in_y0 and in_x0 else zero
                v01 = src[ch, y0, x1] if in_y0 and in_x1 else zero
                v10 = src[ch, y1, x0] if in_y1 and in_x0 else zero
                v11 = src[ch, y1, x1] if in_y1 and in_x1 else zero
                out[n, ch, y, x] = v00 * w00 + v01 * w01 + v10 * w10 + v11 * w11


def backward_warp(image: np.ndarray, flow: np.ndarray, padding: str) -> np.ndarray | None:
    """Bilinear backward warp of ``image (N or 1, C, H, W)`` along ``flow (N, 2, H, W)`` pixels, both float32 or float64.

    Returns ``(N, C, H, W)`` in ``image``'s dtype, or ``None`` where a look-up is not finite
    (the caller then runs grid_sample, whose rules for those the kernel does not copy).
    """
    n, _, h, w = flow.shape
    dtype = image.dtype.type
    out = np.empty((n, image.shape[1], h, w), image.dtype)
    two = dtype(2.0)
    consts = np.array([1.0, two / dtype(max(w - 1, 1)), two / dtype(max(h - 1, 1)), dtype(w - 1) / two,
                       dtype(h - 1) / two, 0.0, w - 1, h - 1], image.dtype)
    xs, ys = np.arange(w, dtype=image.dtype), np.arange(h, dtype=image.dtype)
    bad = np.zeros(1, np.bool_)
    rows = n * h
    code = PADDING[padding]
    run_jobs([
        (lambda a=a, b=b: _warp(image, flow, xs, ys, consts, code, a, b, out, bad))
        for a, b in row_bands(rows, 16, per_thread=4)
    ])
    return None if bad[0] else out
