"""The compiled full-resolution refinement of the forward warp's inverse map (numba).

:mod:`motionkit.ops._inverse_kernels` splats the field's inverse at reduced resolution; the
pass here upsamples it, tests every pixel's residual, Newton-refines the few that miss, and
writes the source map and the unseen mask, with nothing allocated per pixel. Its bilinear
look-ups are exact where ``cv2.remap`` rounds its weights to 1/32 px, and its Newton steps use
the Jacobian of the bilinear patch itself where the numpy version (:mod:`._inverse_refine`)
takes central differences, so the two agree to the refinement's own accuracy (0.05 px).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from motionkit.errors import InvalidInputError
from motionkit.ops._kernel_threads import row_bands, run_jobs


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _clamp(i, n):
    return 0 if i < 0 else (n - 1 if i >= n else i)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _cell(x0f, y0f, w, h):
    """``(xa, xb, ya, yb)``: the bilinear cell whose corner is ``(floor x, floor y)``, border replicated."""
    if x0f >= 0.0 and x0f < w - 1 and y0f >= 0.0 and y0f < h - 1:  # inside: no clamping
        xa = int(x0f)
        ya = int(y0f)
        return xa, xa + 1, ya, ya + 1
    x0 = int(max(min(x0f, w + 1.0), -2.0))
    y0 = int(max(min(y0f, h + 1.0), -2.0))
    return _clamp(x0, w), _clamp(x0 + 1, w), _clamp(y0, h), _clamp(y0 + 1, h)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _lookup_cell(flow, x, y, out, values=True):
    """Bilinear ``flow`` at ``(x, y)`` and the derivatives of that bilinear patch, border replicated.

    ``out`` receives ``fx, fy, dfx/dx, dfx/dy, dfy/dx, dfy/dy`` (without ``values``, the
    derivatives only: ``out[:2]`` is left as it was): the Jacobian of the very
    interpolant whose residual Newton drives to zero, from the cell's four corners: one
    look-up's worth of reads, where central differences (``numpy.gradient``, as the
    numpy path uses) take four cells' (the same accuracy on smooth fields, fewer misses
    left at a drag's outline; tests/ops/test_splat_inverse_kernels.py).
    """
    _, h, w = flow.shape
    x0f = np.floor(x)
    y0f = np.floor(y)
    ax = x - x0f
    ay = y - y0f
    xa, xb, ya, yb = _cell(x0f, y0f, w, h)
    bx = 1.0 - ax
    by = 1.0 - ay
    for ch in range(2):
        v00 = flow[ch, ya, xa]
        v01 = flow[ch, ya, xb]
        v10 = flow[ch, yb, xa]
        v11 = flow[ch, yb, xb]
        if values:
            out[ch] = by * (bx * v00 + ax * v01) + ay * (bx * v10 + ax * v11)
        out[2 + 2 * ch] = by * (v01 - v00) + ay * (v11 - v10)
        out[3 + 2 * ch] = bx * (v10 - v00) + ax * (v11 - v01)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _blend(flat, c00, c01, c10, c11, fax, fay):
    """Bilinear blend of ``flat`` at the cell of flat corner indices ``c00 .. c11``, fractions ``(fax, fay)``."""
    fbx = 1.0 - fax
    fby = 1.0 - fay
    return fby * (fbx * flat[c00] + fax * flat[c01]) + fay * (fbx * flat[c10] + fax * flat[c11])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _resize_coordinate(x, scale, size):
    """``cv2.resize``'s INTER_LINEAR source of output index ``x``: ``(index, fraction)``, edges clamped."""
    f = (x + 0.5) * scale - 0.5
    i = int(np.floor(f))
    f -= i
    if i < 0:
        return 0, 0.0
    if i >= size - 1:
        return size - 1, 0.0
    return i, f


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _upsample(row, col_i, col_j, col_a, col_b, x):
    """Output ``x`` of one row's bilinear upsampling, through the column tables."""
    return col_b[x] * row[col_i[x]] + col_a[x] * row[col_j[x]]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _upsample_rows(gx, gy, cov, col_i, col_j, col_a, col_b, pairs, out_gx, out_gy, out_cov):
    """The rows ``gx, gy, cov`` upsampled to ``out_*`` (:func:`_upsample` at every output).

    With ``pairs`` (a factor of 2: output ``2m`` blends inputs ``m - 1, m`` and ``2m + 1``
    blends ``m, m + 1``) the interior reads the rows at those fixed offsets instead of through
    the index tables, a loop the compiler vectorises; the same products and sums.
    """
    w = out_gx.size
    if pairs:
        for m in range(1, gx.size - 1):
            e = 2 * m
            o = e + 1
            out_gx[e] = col_b[e] * gx[m - 1] + col_a[e] * gx[m]
            out_gy[e] = col_b[e] * gy[m - 1] + col_a[e] * gy[m]
            out_cov[e] = col_b[e] * cov[m - 1] + col_a[e] * cov[m]
            out_gx[o] = col_b[o] * gx[m] + col_a[o] * gx[m + 1]
            out_gy[o] = col_b[o] * gy[m] + col_a[o] * gy[m + 1]
            out_cov[o] = col_b[o] * cov[m] + col_a[o] * cov[m + 1]
        for x in (0, 1, w - 2, w - 1):
            out_gx[x] = _upsample(gx, col_i, col_j, col_a, col_b, x)
            out_gy[x] = _upsample(gy, col_i, col_j, col_a, col_b, x)
            out_cov[x] = _upsample(cov, col_i, col_j, col_a, col_b, x)
    else:
        for x in range(w):
            out_gx[x] = _upsample(gx, col_i, col_j, col_a, col_b, x)
            out_gy[x] = _upsample(gy, col_i, col_j, col_a, col_b, x)
            out_cov[x] = _upsample(cov, col_i, col_j, col_a, col_b, x)


# fastmath: contracted multiply-adds and no NaN paths (fields are checked finite first); the
# source map moves by float32 roundings (1e-5 px), within the 0.05 px the refinement aims at.
@njit(cache=True, nogil=True, error_model="numpy", fastmath=True)
def _refine(flow, inv, cover, accuracy, hole_weight, unresolved, steps, row0, row1, src, unseen):
    _, h, w = flow.shape
    sh, sw = cover.shape
    scale_x, scale_y = sw / w, sh / h
    look = np.empty(6)
    # The columns' upsampling taps are the same on every row: computed once.
    col_i = np.empty(w, np.int64)
    col_j = np.empty(w, np.int64)
    col_a = np.empty(w)
    for x in range(w):
        col_i[x], col_a[x] = _resize_coordinate(x, scale_x, sw)
        col_j[x] = min(col_i[x] + 1, sw - 1)
    col_b = 1.0 - col_a
    pairs = w == 2 * sw and sw >= 3
    for m in range(1, sw - 1 if pairs else 1):
        pairs &= col_i[2 * m] == m - 1 and col_j[2 * m] == m and col_i[2 * m + 1] == m and col_j[2 * m + 1] == m + 1
    # One row of the reduced-resolution inverse and coverage, already blended between its two
    # source rows (upsampling is separable: per pixel only the horizontal blend is left).
    row_gx = np.empty(sw)
    row_gy = np.empty(sw)
    row_c = np.empty(sw)
    # The row's pixels go through the pass in loops of one step each, over arrays of a row:
    # the arithmetic ones vectorise; only the field look-ups (gathers) and Newton stay scalar.
    gxs, gys, covs, pxs, pys = np.empty(w), np.empty(w), np.empty(w), np.empty(w), np.empty(w)
    fxs, fys, rxs, rys, r2s = np.empty(w), np.empty(w), np.empty(w), np.empty(w), np.empty(w)
    # flat indices of the source cell's corners (images under 2**31 px)
    c00s, c01s, c10s, c11s = np.empty(w, np.int32), np.empty(w, np.int32), np.empty(w, np.int32), np.empty(w, np.int32)
    fx_flat = flow[0].ravel()
    fy_flat = flow[1].ravel()
    accuracy2 = accuracy * accuracy
    miss2 = unresolved * unresolved
    test_miss = unresolved >= 0.0
    xmax = np.float64(w - 1)
    ymax = np.float64(h - 1)
    width = np.int32(w)
    for y in range(row0, row1):
        iy, ay = _resize_coordinate(y, scale_y, sh)
        iy1 = min(iy + 1, sh - 1)
        by = 1.0 - ay
        for i in range(sw):
            row_gx[i] = (by * inv[iy, i, 0] + ay * inv[iy1, i, 0]) / scale_x
            row_gy[i] = (by * inv[iy, i, 1] + ay * inv[iy1, i, 1]) / scale_y
            row_c[i] = by * cover[iy, i] + ay * cover[iy1, i]
        # Still parts of the image (an inverse of exactly 0: the field and its inverse are 0 there)
        # take the cheap test without a cell; a row with none (of its taps) takes the plain loop.
        still = False
        for i in range(sw):
            still |= (row_gx[i] == 0.0) & (row_gy[i] == 0.0)
        # The reduced-resolution inverse and coverage, upsampled as cv2.resize does.
        _upsample_rows(row_gx, row_gy, row_c, col_i, col_j, col_a, col_b, pairs, gxs, gys, covs)
        yf = np.float64(y)
        for x in range(w):
            # The source and its bilinear cell of the field, border replicated (clamping the
            # integral floor before converting it: the cell _cell gives).
            px = x + gxs[x]
            py = yf + gys[x]
            x0f = np.floor(px)
            y0f = np.floor(py)
            fxs[x] = px - x0f
            fys[x] = py - y0f
            xa = np.int32(min(max(x0f, 0.0), xmax))
            xb = np.int32(min(max(x0f + 1.0, 0.0), xmax))
            ra = np.int32(min(max(y0f, 0.0), ymax)) * width
            rb = np.int32(min(max(y0f + 1.0, 0.0), ymax)) * width
            c00s[x] = ra + xa
            c01s[x] = ra + xb
            c10s[x] = rb + xa
            c11s[x] = rb + xb
            pxs[x] = px
            pys[x] = py
        # The residual g + f(q + g) (no Jacobian: the cheap test).
        worst = 0.0
        if still:  # where q is its own source, the blend is f(q): read without the cell
            for x in range(w):
                gx = gxs[x]
                gy = gys[x]
                if gx == 0.0 and gy == 0.0:  # the cell's weights are 1 and 0: the same value
                    rx = gx + fx_flat[y * w + x]
                    ry = gy + fy_flat[y * w + x]
                else:
                    rx = gx + _blend(fx_flat, c00s[x], c01s[x], c10s[x], c11s[x], fxs[x], fys[x])
                    ry = gy + _blend(fy_flat, c00s[x], c01s[x], c10s[x], c11s[x], fxs[x], fys[x])
                rxs[x] = rx
                rys[x] = ry
                r2s[x] = r2 = rx * rx + ry * ry
                worst = max(worst, r2)
        else:
            for x in range(w):
                rx = gxs[x] + _blend(fx_flat, c00s[x], c01s[x], c10s[x], c11s[x], fxs[x], fys[x])
                ry = gys[x] + _blend(fy_flat, c00s[x], c01s[x], c10s[x], c11s[x], fxs[x], fys[x])
                rxs[x] = rx
                rys[x] = ry
                r2s[x] = r2 = rx * rx + ry * ry
                worst = max(worst, r2)
        for x in range(w if worst > accuracy2 else 0):  # most rows have no pixel to refine
            r2 = r2s[x]
            if r2 > accuracy2:
                gx, gy, rx, ry = gxs[x], gys[x], rxs[x], rys[x]
                _lookup_cell(flow, pxs[x], pys[x], look, False)  # the values are (rx, ry) - (gx, gy) already
                for _ in range(steps):
                    a = 1.0 + look[2]
                    b = look[3]
                    c = look[4]
                    d = 1.0 + look[5]
                    det = a * d - b * c
                    if not det > 0.05:
                        break  # a fold: no exact inverse, and no later step would change that
                    sx = gx - (d * rx - b * ry) / det
                    sy = gy - (a * ry - c * rx) / det
                    _lookup_cell(flow, x + sx, yf + sy, look)
                    nx = sx + look[0]
                    ny = sy + look[1]
                    n2 = nx * nx + ny * ny
                    if not n2 < r2:
                        break  # not kept: the next step would start from the same point again
                    gx, gy, rx, ry, r2 = sx, sy, nx, ny, n2
                pxs[x] = x + gx
                pys[x] = yf + gy
                r2s[x] = r2
        # The stores: the source map's interleaved pairs, then the mask (as 0/1 bytes), each a loop
        # of its own the compiler vectorises.
        src_row = src[y].ravel()
        for x in range(w):
            src_row[2 * x] = pxs[x]
            src_row[2 * x + 1] = pys[x]
        unseen_row = unseen[y].view(np.uint8)
        for x in range(w):
            px = pxs[x]
            py = pys[x]
            # r2 is the residual at the kept inverse: where q + g lands, minus q.
            # Bitwise ors: no branch per test.
            unseen_row[x] = ((covs[x] <= hole_weight) | (px < -0.5) | (px > w - 0.5) | (py < -0.5) | (py > h - 0.5)
                             | (test_miss & (r2s[x] > miss2)))


def refine_inverse(
    flow: np.ndarray, inverse: np.ndarray, cover: np.ndarray, *, accuracy: float, hole_weight: float, steps: int = 2,
    unresolved: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Upsample an approximate inverse map and Newton-refine it at full resolution, in one compiled pass.

    Args:
        flow: ``float32 (2, H, W)`` forward displacement ``f`` in pixels.
        inverse: ``float32 (h, w, 2)`` approximate inverse ``g`` at any resolution up to the
            field's (``q + g(q)`` = the source of ``q``; vectors in that resolution's pixels),
            upsampled bilinearly as ``cv2.resize`` does, vectors rescaled.
        cover: ``float32 (h, w)`` splat coverage of every target, upsampled likewise.
        accuracy: residual ``|g + f(q + g)|`` (pixels) under which a pixel is left as it is.
        hole_weight: coverage at or under which a target is unseen.
        steps: Newton steps ``g <- g - (I + Df)^-1 r`` at most; a step is kept only where it
            shrinks the residual (folds and disocclusions have no exact inverse).
        unresolved: residual (pixels) above which a target counts as unseen too (no source
            lands there); ``None`` leaves that test to the caller. The residual is the one
            the refinement ends with, exact bilinear, where a check by ``cv2.remap`` rounds
            its weights to 1/32 px (the masks agree but for pixels within that of the threshold).

    Returns:
        ``(source float32 (H, W, 2), unseen bool (H, W))``: ``q + g`` and the targets either
        uncovered, whose source lies outside the image or (with ``unresolved``) whose inverse misses.
    """
    _, h, w = flow.shape
    if h * w >= 2**31:
        raise InvalidInputError(f"the compiled refinement takes fields under 2**31 pixels, got {h} x {w}")
    src = np.empty((h, w, 2), np.float32)
    unseen = np.empty((h, w), np.bool_)
    run_jobs([
        (lambda a=a, b=b: _refine(flow, inverse, cover, float(accuracy), float(hole_weight),
                                  -1.0 if unresolved is None else float(unresolved), int(steps), a, b, src, unseen))
        for a, b in row_bands(h, 32)
    ])
    return src, unseen
