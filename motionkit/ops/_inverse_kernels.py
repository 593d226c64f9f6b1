"""Compiled CPU kernels of the forward warp's field inversion (numba): block downscale, splat, despeckle.

:mod:`motionkit.ops.forward_warp` inverts a field by splatting ``-f`` onto the targets (at
reduced resolution), fills the holes, upsamples, and refines the inverse at full resolution
by Newton steps. Its numpy version takes four ``bincount`` passes over tiled index arrays for
the splat, and five full-frame ``cv2.remap`` look-ups plus gradient tables for the
refinement; the kernels here do each in one pass with nothing allocated per pixel, and fuse
the source map and the unseen mask into the refinement's pass (:func:`refine_inverse`, from
:mod:`._refine_kernels`). They compute the same sums (the splat's in float64, like
``bincount``, in row bands on the kernel threads that keep every target's order of sums);
the refinement's bilinear look-ups are exact where ``cv2.remap`` rounds its weights to
1/32 px, and its Newton steps use the Jacobian of the bilinear patch itself where the numpy
version takes central differences, so results agree to within the refinement's own accuracy
(0.05 px), not bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from motionkit.ops._kernel_threads import row_bands, run_jobs
from motionkit.ops._refine_kernels import refine_inverse

__all__ = ["box_downscale", "despeckle", "refine_inverse", "splat_inverse"]


@njit(cache=True, nogil=True, error_model="numpy")
def _inverse(flow, importance, weighted, skip, skipping, row0, row1, src0, src1, sums, inverse, coverage):
    """Splat the sources of rows ``[src0, src1)`` and normalise the targets of rows ``[row0, row1)``.

    Only corners in the band are accumulated (into the band's zeroed ``sums (rows, W, 4)``
    float64, the four sums of a target side by side: one cache line per corner), sources in
    raster order as in one serial pass: every target's sums are the same numbers added in the
    same order, whatever the bands.
    """
    _, h, w = flow.shape
    rows = row1 - row0
    for y in range(src0, src1):
        for x in range(w):
            if skipping and skip[y, x]:
                continue
            dx = flow[0, y, x]
            dy = flow[1, y, x]
            tx = np.float32(x) + dx
            ty = np.float32(y) + dy
            if not (tx > -1.0 and tx < w and ty > -1.0 and ty < h):
                continue
            y0f = np.floor(ty)
            x0f = np.floor(tx)
            ax = np.float64(tx - x0f)
            ay = np.float64(ty - y0f)
            x0 = int(x0f)
            y0 = int(y0f) - row0  # in the band's rows
            if y0 < -1 or y0 >= rows:
                continue  # both corner rows outside the band
            imp = np.float64(importance[y * w + x]) if weighted else 1.0
            if ax == 0.0 and ay == 0.0:
                # On a pixel centre (a still source): all its weight goes to one corner. The other
                # three would add zeros, which leave every sum as it is (a sum is never -0.0 here).
                if y0 >= 0:
                    soft = np.float32(np.float32(1.0) * np.float32(imp))
                    sums[y0, x0, 0] += np.float32(1.0)
                    sums[y0, x0, 1] += soft
                    sums[y0, x0, 2] -= soft * dx
                    sums[y0, x0, 3] -= soft * dy
                continue
            for k in range(4):
                cx = x0 + (k & 1)
                cy = y0 + (k >> 1)
                if cx < 0 or cx >= w or cy < 0 or cy >= rows:
                    continue
                # float32 weights, as the bincount version rounded them before summing
                wk = np.float32((ax if k & 1 else 1.0 - ax) * (ay if k >> 1 else 1.0 - ay))
                soft = np.float32(wk * np.float32(imp))
                sums[cy, cx, 0] += wk
                sums[cy, cx, 1] += soft
                sums[cy, cx, 2] -= soft * dx
                sums[cy, cx, 3] -= soft * dy
    _normalise(sums, row0, inverse, coverage)


@njit(cache=True, nogil=True, error_model="numpy")
def _normalise(sums, row0, inverse, coverage):
    """``inverse = sums / total`` where the total is positive (0 elsewhere), rounded to float32 as numpy's ``astype`` does.

    ``sums`` holds the rows from ``row0`` on.
    """
    rows, w, _ = sums.shape
    for r in range(rows):
        y = row0 + r
        for x in range(w):
            total = sums[r, x, 1]
            if total > 0:
                scale = max(total, 1e-30)
                inverse[0, y, x] = sums[r, x, 2] / scale
                inverse[1, y, x] = sums[r, x, 3] / scale
            else:
                inverse[0, y, x] = 0.0
                inverse[1, y, x] = 0.0
            coverage[y, x] = sums[r, x, 0]


def _source_rows(dy: np.ndarray, bands: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """For each band of target rows ``[row0, row1)``, the source rows ``[src0, src1)`` whose splat can reach it.

    A source in row ``y`` lands in rows ``floor(y + dy)`` and the one below, ``dy`` within its
    extremes over the field; one row of margin each side covers float32's rounding of ``y + dy``.
    A field with a non-finite ``dy`` scans all rows for every band.
    """
    h = dy.shape[0]
    if len(bands) == 1:
        return [(0, h)]
    lo, hi = float(dy.min()), float(dy.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return [(0, h)] * len(bands)
    return [(max(0, min(h, int(np.floor(row0 - 2 - hi)))), max(0, min(h, int(np.ceil(row1 + 1 - lo)))))
            for row0, row1 in bands]


def splat_inverse(flow: np.ndarray, importance: np.ndarray | None, skip: np.ndarray | None = None,
                  bands: list[tuple[int, int]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of a forward field by (softmax-weighted) bilinear splatting.

    ``flow`` is ``float32 (2, H, W)`` in pixels, ``importance`` the flattened ``float32 (H*W,)``
    softmax weights or ``None``, ``skip`` ``bool (H, W)`` source pixels left out (or ``None``). Returns ``(inverse float32 (2, H, W), coverage float32 (H, W))``:
    at each target the weighted mean of ``-flow`` over the sources landing there (0 where none
    does) and their summed bilinear weight. Sums are float64, as ``numpy.bincount``'s are.
    The targets are cut into ``bands`` of rows (``[(start, stop), ...]`` covering ``[0, H)``;
    default: one per thread), splatted in parallel, each from the sources that can reach it
    in raster order: every target gets the same sums whatever the split.
    """
    _, h, w = flow.shape
    weighted = importance is not None
    imp = importance if weighted else np.empty(1, np.float32)
    skipping = skip is not None
    mask = np.ascontiguousarray(skip, np.bool_) if skipping else np.zeros((1, 1), np.bool_)
    inverse = np.empty((2, h, w), np.float32)
    coverage = np.empty((h, w), np.float32)
    bands = row_bands(h, 32) if bands is None else bands
    run_jobs([
        (lambda a=a, b=b, s0=s0, s1=s1: _inverse(flow, imp, weighted, mask, skipping, a, b, s0, s1,
                                                np.zeros((b - a, w, 4)), inverse, coverage))
        for (a, b), (s0, s1) in zip(bands, _source_rows(flow[1], bands))
    ])
    return inverse, coverage


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _mirror(i, n):
    """OpenCV's BORDER_REFLECT_101 index: ``-1 -> 1``, ``n -> n - 2``."""
    if n == 1:
        return 0
    if i < 0:
        return -i
    if i >= n:
        return 2 * n - 2 - i
    return i


@njit(cache=True, nogil=True, error_model="numpy")
def _despeckle(unseen, row0, row1, out):
    h, w = unseen.shape
    column = np.empty(w, np.int32)  # unseen count of the three rows around y, per column
    for y in range(row0, row1):
        above = unseen[_mirror(y - 1, h)]
        here = unseen[y]
        below = unseen[_mirror(y + 1, h)]
        for x in range(w):
            column[x] = above[x] + here[x] + below[x]
        row = out[y]
        for x in range(1, w - 1):  # the interior: no mirroring, a loop the compiler vectorises
            row[x] = (here[x] + 8 * ((column[x - 1] + column[x] + column[x + 1]) >= 6)) > 0
        for x in (0, w - 1):
            count = column[_mirror(x - 1, w)] + column[x] + column[_mirror(x + 1, w)]
            row[x] = here[x] | (count >= 6)


def despeckle(unseen: np.ndarray) -> np.ndarray:
    """``unseen`` plus every pixel at least 6 of whose 3x3 neighbours (itself counted) are unseen.

    A pixel or two landing alone inside a hole is a speckle, not content. This is exactly
    ``unseen | (cv2.blur(unseen.astype(np.float32), (3, 3)) > 0.6)`` (a mean of nine 0/1
    values is above 0.6 iff at least six are 1; the border mirrored as OpenCV's default),
    in one pass with no float copy. ``bool (H, W)`` in, a new ``bool (H, W)`` out.
    """
    unseen = np.ascontiguousarray(unseen, np.bool_)
    out = np.empty_like(unseen)
    # One thread: a 720p mask takes well under a millisecond, less than handing half of it over.
    _despeckle(unseen.view(np.uint8), 0, unseen.shape[0], out)  # 0/1 bytes, summed as integers
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _box(flow, k, sharpness, want_metric, row0, row1, small, metric):
    sw = small.shape[2]
    norm = 1.0 / (k * k)
    width = sw * k
    magnitude = np.empty(width)
    sums = np.empty((3, sw))
    for by in range(row0, row1):
        sums[:] = 0.0
        for y in range(by * k, by * k + k):
            row_x = flow[0, y]
            row_y = flow[1, y]
            if want_metric:  # a whole row of |f| first: one loop the compiler vectorises
                for x in range(width):
                    magnitude[x] = np.sqrt(np.float64(row_x[x]) * row_x[x] + np.float64(row_y[x]) * row_y[x])
            # Each block's sums run over its rows, then its columns, in that order (as before: the same sums).
            for bx in range(sw):
                sx = sums[0, bx]
                sy = sums[1, bx]
                sm = sums[2, bx]
                for x in range(bx * k, bx * k + k):
                    sx += row_x[x]
                    sy += row_y[x]
                    if want_metric:
                        sm += magnitude[x]
                sums[0, bx] = sx
                sums[1, bx] = sy
                sums[2, bx] = sm
        for bx in range(sw):
            # The mean of the block (cv2.INTER_AREA at an integer factor), vectors in the small grid's pixels.
            small[0, by, bx] = sums[0, bx] * norm / k
            small[1, by, bx] = sums[1, bx] * norm / k
            if want_metric:
                metric[by, bx] = sums[2, bx] * norm * sharpness


@njit(cache=True, nogil=True, error_model="numpy")
def _box2(flow, sharpness, want_metric, row0, row1, small, metric):
    """:func:`_box` at ``k = 2``: each block's four values summed in ``_box``'s order (its rows, then its
    columns, from 0.0: the same float64 sums, bit for bit), in loops over the blocks of a row that
    the compiler vectorises (``_box``'s inner loop of ``k`` columns it does not)."""
    sw = small.shape[2]
    norm = 1.0 / 4
    for by in range(row0, row1):
        x0 = flow[0, 2 * by]
        x1 = flow[0, 2 * by + 1]
        y0 = flow[1, 2 * by]
        y1 = flow[1, 2 * by + 1]
        for bx in range(sw):
            a = 2 * bx
            b = a + 1
            small[0, by, bx] = ((((0.0 + x0[a]) + x0[b]) + x1[a]) + x1[b]) * norm / 2
            small[1, by, bx] = ((((0.0 + y0[a]) + y0[b]) + y1[a]) + y1[b]) * norm / 2
        if want_metric:
            for bx in range(sw):
                a = 2 * bx
                b = a + 1
                m00 = np.sqrt(np.float64(x0[a]) * x0[a] + np.float64(y0[a]) * y0[a])
                m01 = np.sqrt(np.float64(x0[b]) * x0[b] + np.float64(y0[b]) * y0[b])
                m10 = np.sqrt(np.float64(x1[a]) * x1[a] + np.float64(y1[a]) * y1[a])
                m11 = np.sqrt(np.float64(x1[b]) * x1[b] + np.float64(y1[b]) * y1[b])
                metric[by, bx] = ((((0.0 + m00) + m01) + m10) + m11) * norm * sharpness


def box_downscale(flow: np.ndarray, factor: int, metric_scale: float | None,
                  copy: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Shrink ``flow (2, H, W)`` by an integer ``factor`` (block means, as ``cv2.INTER_AREA``), in one pass.

    Returns ``(small float32 (2, H/f, W/f)`` with vectors divided by ``factor``, and the block
    means of ``|flow| * metric_scale`` (``None`` when ``metric_scale`` is ``None``)). ``copy``, a
    ``float32 (2, H, W)`` array, receives ``flow``'s values on the way: each band of rows is copied
    by the thread that has just read it, instead of in a serial pass of its own afterwards.
    """
    flow = np.ascontiguousarray(flow, np.float32)
    _, h, w = flow.shape
    sh, sw = h // factor, w // factor
    small = np.empty((2, sh, sw), np.float32)
    want = metric_scale is not None
    metric = np.empty((sh, sw), np.float32) if want else np.empty((1, 1), np.float32)
    scale = float(metric_scale or 0.0)

    def band(a: int, b: int) -> None:
        if factor == 2:
            _box2(flow, scale, want, a, b, small, metric)
        else:
            _box(flow, factor, scale, want, a, b, small, metric)
        if copy is not None:
            rows = slice(a * factor, h if b == sh else b * factor)  # the last band takes the rows left over
            copy[:, rows] = flow[:, rows]

    run_jobs([(lambda a=a, b=b: band(a, b)) for a, b in row_bands(sh, 16)])
    return small, (metric if want else None)
