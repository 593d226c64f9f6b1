"""Compiled CPU kernels of the frame fill (numba): the tear test and push-pull's per-level arithmetic.

Every warped frame runs :func:`motionkit.ops.plate.torn` on the working-size field and
:func:`motionkit.ops.inpaint.push_pull_numpy` on its inverse. In numpy both were chains of
full-array temporaries (two ``np.gradient`` calls and a dozen elementwise passes; about ten
``(H, W, C)`` temporaries per push-pull level) that cost more than the arithmetic. The
kernels here do the same float32 operations in the same order, one pixel at a time, so the
results are **bit-identical** to the numpy code they replace (no fastmath: no reassociation
and no fused multiply-adds; every constant is a float32 like numpy's weak Python scalars).
The pyramid's resizes stay ``cv2.resize`` calls.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_ZERO = np.float32(0.0)
_ONE = np.float32(1.0)
_HALF = np.float32(0.5)
_TWO = np.float32(2.0)
_FOUR = np.float32(4.0)
_TINY = np.float32(1e-12)
_MICRO = np.float32(1e-6)
_QUARTER = np.float32(0.25)
_CAP = np.float32(1e6)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _torn(b, ax, c, dy, limit):
    """Whether ``I + Df`` (``Df = [[ax, b], [c, dy]]``) stretches more than ``sqrt(limit)``: its largest squared singular value."""
    a = _ONE + ax
    d = _ONE + dy
    total = a * a + b * b + c * c + d * d
    det = a * d - b * c
    disc = total * total - _FOUR * det * det
    if disc < _ZERO:  # noqa: PLR1730 - an if keeps a NaN as np.maximum does; max() would not
        disc = _ZERO
    return _HALF * (total + np.sqrt(disc)) > limit


@njit(cache=True, nogil=True, error_model="numpy")
def tears(flow, limit, out):
    """Mark in ``out`` (``bool (H, W)``) the pixels whose stretch ``I + Df`` exceeds ``sqrt(limit)``; returns how many do.

    ``flow``: ``float32 (2, H, W)``, ``H, W >= 2``; ``limit``: float32, the squared stretch.
    ``Df`` is ``np.gradient``'s: central differences inside, one-sided at the edges (a
    difference times 0.5 is exactly ``np.gradient``'s difference divided by 2; times 1 at an edge).
    """
    h, w = flow.shape[1], flow.shape[2]
    fx, fy = flow[0], flow[1]
    count = 0
    for i in range(h):
        above = i - 1 if i > 0 else 0
        below = i + 1 if i < h - 1 else h - 1
        sy = _HALF if 0 < i < h - 1 else _ONE
        for j in (0, w - 1):  # the edge columns: one-sided in x
            left, right = (0, 1) if j == 0 else (w - 2, w - 1)
            hit = _torn((fx[below, j] - fx[above, j]) * sy, fx[i, right] - fx[i, left],
                        fy[i, right] - fy[i, left], (fy[below, j] - fy[above, j]) * sy, limit)
            out[i, j] = hit
            count += hit
        for j in range(1, w - 1):
            hit = _torn((fx[below, j] - fx[above, j]) * sy, (fx[i, j + 1] - fx[i, j - 1]) * _HALF,
                        (fy[i, j + 1] - fy[i, j - 1]) * _HALF, (fy[below, j] - fy[above, j]) * sy, limit)
            out[i, j] = hit
            count += hit
    return count


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _unit(a):
    """``a`` clipped to [0, 1] as ``np.clip`` does it: a NaN stays NaN (``min``/``max`` would not keep it)."""
    if a < _ZERO:  # noqa: PLR1730
        a = _ZERO
    if a > _ONE:  # noqa: PLR1730
        a = _ONE
    return a


@njit(cache=True, nogil=True, error_model="numpy")
def premultiply(values, weight, weighted, clipped):
    """``clipped = clip(weight, 0, 1)``, ``weighted = values * clipped[..., None]``; returns whether any weight is positive.

    ``values``: ``float32 (H, W, C)`` (any strides); ``weight``: ``float32 (H, W)``.
    """
    h, w, channels = values.shape
    positive = False
    for i in range(h):
        for j in range(w):
            a = _unit(weight[i, j])
            clipped[i, j] = a
            positive |= a > _ZERO
            for k in range(channels):
                weighted[i, j, k] = values[i, j, k] * a
    return positive


@njit(cache=True, nogil=True, error_model="numpy")
def normalise(weighted, weight, out):
    """``out = weighted / max(weight, 1e-12)[..., None]`` (a level that needs no coarser one)."""
    divide(weighted, weight, _TINY, out)


@njit(cache=True, nogil=True, error_model="numpy")
def coarser(coarse_w, coarse_v, weighted, strength):
    """The next level's inputs: ``strength = min(4 w, 1)``, ``weighted = v * (min(1 / max(w, 1e-12), 1e6) * strength)``."""
    h, w, channels = coarse_v.shape
    for i in range(h):
        for j in range(w):
            cw = coarse_w[i, j]
            gain = min(_ONE / max(cw, _TINY), _CAP)
            s = min(cw * _FOUR, _ONE)
            strength[i, j] = s
            g = gain * s
            for k in range(channels):
                weighted[i, j, k] = coarse_v[i, j, k] * g


@njit(cache=True, nogil=True, error_model="numpy")
def blend(weighted, weight, up, out):
    """``out = where(w > 0, weighted / max(w, 1e-12), 0) * w + up * (1 - w)``: the level's data over the coarse estimate."""
    h, w, channels = weighted.shape
    for i in range(h):
        for j in range(w):
            a = weight[i, j]
            norm = max(a, _TINY)
            rest = _ONE - a
            for k in range(channels):
                value = weighted[i, j, k] / norm if a > _ZERO else _ZERO
                out[i, j, k] = value * a + up[i, j, k] * rest


@njit(cache=True, nogil=True, error_model="numpy")
def magnitude(flow, out):
    """``out = hypot(flow[0], flow[1])`` in float32 (``float32 (2, H, W)`` in): the float64 root of the float64 sum of squares, rounded once more.

    This is how glibc's ``hypotf`` (what ``np.hypot`` calls on float32) computes it; the
    squares of float32 values are exact in float64.
    """
    h, w = flow.shape[1], flow.shape[2]
    for i in range(h):
        for j in range(w):
            x = np.float64(flow[0, i, j])
            y = np.float64(flow[1, i, j])
            out[i, j] = np.float32(np.sqrt(x * x + y * y))


@njit(cache=True, nogil=True, error_model="numpy")
def divide(values, weight, floor, out):
    """``out = values / max(weight, floor)[..., None]`` in float32."""
    h, w, channels = values.shape
    for i in range(h):
        for j in range(w):
            a = max(weight[i, j], floor)
            for k in range(channels):
                out[i, j, k] = values[i, j, k] / a


# Two-channel twins on flat arrays (a field's x and y, what the frame path pushes and pulls):
# with the channel count fixed, LLVM vectorises the pixel loop (about 10x the generic loops).
# The same operations in the same order as the generic kernels above.


@njit(cache=True, nogil=True, error_model="numpy")
def premultiply2(v0, v1, weight, weighted, clipped):
    """:func:`premultiply` of two channels given as planes ``v0``, ``v1`` (``(H, W)``); ``weighted`` is flat ``(2 H W,)``."""
    h, w = weight.shape
    positive = False
    for i in range(h):
        for j in range(w):
            a = _unit(weight[i, j])
            n = i * w + j
            clipped[i, j] = a
            positive |= a > _ZERO
            weighted[2 * n] = v0[i, j] * a
            weighted[2 * n + 1] = v1[i, j] * a
    return positive


@njit(cache=True, nogil=True, error_model="numpy")
def normalise2(weighted, weight, out):
    """:func:`normalise` on flat arrays: ``weighted``/``out`` ``(2 N,)``, ``weight`` ``(N,)``."""
    for n in range(weight.shape[0]):
        a = max(weight[n], _TINY)
        out[2 * n] = weighted[2 * n] / a
        out[2 * n + 1] = weighted[2 * n + 1] / a


@njit(cache=True, nogil=True, error_model="numpy")
def coarser2(coarse_w, coarse_v, weighted, strength):
    """:func:`coarser` on flat arrays."""
    for n in range(coarse_w.shape[0]):
        cw = coarse_w[n]
        gain = min(_ONE / max(cw, _TINY), _CAP)
        s = min(cw * _FOUR, _ONE)
        strength[n] = s
        g = gain * s
        weighted[2 * n] = coarse_v[2 * n] * g
        weighted[2 * n + 1] = coarse_v[2 * n + 1] * g


@njit(cache=True, nogil=True, error_model="numpy")
def blend2(weighted, weight, up, out):
    """:func:`blend` on flat arrays."""
    for n in range(weight.shape[0]):
        a = weight[n]
        norm = max(a, _TINY)
        rest = _ONE - a
        v0 = weighted[2 * n] / norm
        v1 = weighted[2 * n + 1] / norm
        if not a > _ZERO:
            v0 = _ZERO
            v1 = _ZERO
        out[2 * n] = v0 * a + up[2 * n] * rest
        out[2 * n + 1] = v1 * a + up[2 * n + 1] * rest


@njit(cache=True, nogil=True, error_model="numpy")
def without2(field, moving, out):
    """``out = field * (~moving)[..., None]`` on flat arrays (``field``/``out`` ``(2 N,)``, ``moving`` ``bool (N,)``): the kept pixels' values."""
    for n in range(moving.shape[0]):
        keep = _ZERO if moving[n] else _ONE
        out[2 * n] = field[2 * n] * keep
        out[2 * n + 1] = field[2 * n + 1] * keep


@njit(cache=True, nogil=True, error_model="numpy")
def without_planes(f0, f1, moving, out):
    """:func:`without2` of a field given as two flat planes ``f0``, ``f1`` (``(N,)``): ``out`` interleaved ``(2 N,)``."""
    for n in range(moving.shape[0]):
        keep = _ZERO if moving[n] else _ONE
        out[2 * n] = f0[n] * keep
        out[2 * n + 1] = f1[n] * keep


@njit(cache=True, nogil=True, error_model="numpy")
def kept_cells2(f0, f1, moving, weight, small):
    """The 2x2 cells of a field with ``moving`` taken out: ``weight`` their kept share, ``small`` the kept pixels' mean.

    ``f0``, ``f1``: the field's planes ``float32 (H, W)``; ``moving``: ``bool (H, W)``;
    ``weight (H / 2, W / 2)``, ``small (H / 2, W / 2, 2)``. The same values as
    ``cv2.resize(~moving, INTER_AREA)`` and ``cv2.resize(field * keep, INTER_AREA) / max(weight, 1e-6)``
    at exactly half the size: OpenCV's sum of a cell, row by row from zero, times 0.25
    (checked against OpenCV at first use, see :func:`motionkit.ops.plate._area_matches`).
    """
    sh, sw = weight.shape
    for i in range(sh):
        y = 2 * i
        for j in range(sw):
            x = 2 * j
            k00 = _ZERO if moving[y, x] else _ONE
            k01 = _ZERO if moving[y, x + 1] else _ONE
            k10 = _ZERO if moving[y + 1, x] else _ONE
            k11 = _ZERO if moving[y + 1, x + 1] else _ONE
            share = (k00 + k01 + k10 + k11) * _QUARTER  # whole numbers: exact in any order
            weight[i, j] = share
            floor = max(share, _MICRO)
            a = _ZERO + (((f0[y, x] * k00 + f0[y, x + 1] * k01) + f0[y + 1, x] * k10) + f0[y + 1, x + 1] * k11)
            b = _ZERO + (((f1[y, x] * k00 + f1[y, x + 1] * k01) + f1[y + 1, x] * k10) + f1[y + 1, x + 1] * k11)
            small[i, j, 0] = (a * _QUARTER) / floor
            small[i, j, 1] = (b * _QUARTER) / floor


@njit(cache=True, nogil=True, error_model="numpy")
def choose_planes(moving, inside, f0, f1, out):
    """:func:`choose2` with the outside given as two flat planes ``f0``, ``f1`` (``(N,)``): ``out = where(moving, inside, (f0, f1))`` interleaved ``(2 N,)``."""
    for n in range(moving.shape[0]):
        if moving[n]:
            out[2 * n] = inside[2 * n]
            out[2 * n + 1] = inside[2 * n + 1]
        else:
            out[2 * n] = f0[n]
            out[2 * n + 1] = f1[n]


@njit(cache=True, nogil=True, error_model="numpy")
def choose2(moving, inside, outside, out):
    """``out = where(moving[..., None], inside, outside)`` on flat arrays (``moving`` ``bool (N,)``, the rest ``(2 N,)``)."""
    for n in range(moving.shape[0]):
        pick = moving[n]
        out[2 * n] = inside[2 * n] if pick else outside[2 * n]
        out[2 * n + 1] = inside[2 * n + 1] if pick else outside[2 * n + 1]


@njit(cache=True, nogil=True, error_model="numpy")
def touched_unfilled(x, y, filled, left, top, out):
    """Mark in ``out`` (``bool (H, W)``, zeroed) the image pixels a bilinear read at ``(x, y)`` touches that ``filled`` has not synthesised.

    ``x``, ``y``: ``float32 (N,)`` image coordinates; ``filled``: the canvas's ``bool`` mask,
    the image at ``[top : top + H, left : left + W]``.
    """
    h, w = out.shape
    for n in range(x.shape[0]):
        x0 = np.int64(np.floor(x[n]))
        y0 = np.int64(np.floor(y[n]))
        for cy in (y0, y0 + 1):
            if cy < 0 or cy >= h:
                continue
            for cx in (x0, x0 + 1):
                if 0 <= cx < w and not filled[top + cy, left + cx]:
                    out[cy, cx] = True


@njit(cache=True, nogil=True, error_model="numpy")
def label_means(labels, values, count):
    """``float64 (count,)``: the mean of ``values`` over each label (0 where a label has no pixel); sums in ``np.bincount``'s order."""
    sums = np.zeros(count, np.float64)
    sizes = np.zeros(count, np.int64)
    if labels.shape[0] == 0:
        return sums
    # Labels come in long runs: a run's sum is carried in a register (the same additions in
    # the same order as through memory; bincount's loop was bound by the store-load chain).
    k = labels[0]
    total = sums[k]
    size = np.int64(0)
    for n in range(labels.shape[0]):
        label = labels[n]
        if label != k:
            sums[k] = total
            sizes[k] += size
            k = label
            total = sums[k]
            size = np.int64(0)
        total += np.float64(values[n])
        size += 1
    sums[k] = total
    sizes[k] += size
    out = np.empty(count, np.float64)
    for k in range(count):
        out[k] = sums[k] / max(sizes[k], 1)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def least_outside(band, motion):
    """``int(np.argmin(np.where(band, np.inf, motion)))`` on flat arrays: the first least-moving pixel off the band (0 if all are on it)."""
    best = np.inf
    at = 0
    for n in range(motion.shape[0]):
        if band[n]:
            value = np.inf
        else:
            value = np.float64(motion[n])
        if np.isnan(value):  # argmin stops at the first NaN
            return n
        if value < best:
            best = value
            at = n
    return at


@njit(cache=True, nogil=True, error_model="numpy")
def band_or_labels(band, labels, inner, out):
    """``out = band | inner[labels]`` on flat arrays (``labels`` int, ``inner`` bool per label), without the gathered temporary."""
    for n in range(band.shape[0]):
        out[n] = band[n] or inner[labels[n]]


@njit(cache=True, nogil=True, error_model="numpy")
def upscale2(small, out):
    """``out[i, j] = small[i // 2, j // 2] != 0``: ``cv2.resize(small, (2 w, 2 h), INTER_NEAREST) > 0`` for ``uint8 (h, w)`` in, ``bool (2 h, 2 w)`` out."""
    h, w = out.shape
    for i in range(h):
        row = small[i >> 1]
        for j in range(w):
            out[i, j] = row[j >> 1] != 0


@njit(cache=True, nogil=True, error_model="numpy")
def brush_field(flow, mask, out):
    """``out = flow`` where ``mask > 0``, else 0 (``float32 (2, H, W)``, ``mask (H, W)``); returns whether any of ``out`` is nonzero.

    The two masked copies and the ``any`` of :func:`motionkit.ops.forward_warp.warp_frame_numpy`
    in one pass: values are copied bit for bit, and NaN counts as nonzero (as ``ndarray.any``).
    """
    h, w = mask.shape
    nonzero = False
    for i in range(h):
        for j in range(w):
            if mask[i, j] > _ZERO:
                a = flow[0, i, j]
                b = flow[1, i, j]
                out[0, i, j] = a
                out[1, i, j] = b
                nonzero |= (a != _ZERO) | (b != _ZERO)
            else:
                out[0, i, j] = _ZERO
                out[1, i, j] = _ZERO
    return nonzero


@njit(cache=True, nogil=True, error_model="numpy")
def any_nonzero(bits):
    """``values.any()`` of float32 ``values`` given as their flat ``uint32`` bits: stops at the first nonzero block.

    A value is nonzero unless its bits without the sign are 0 (``-0.0`` is zero; NaN is not,
    as for ``ndarray.any``). A moving field is answered after its first few thousand values.
    """
    n = bits.shape[0]
    for start in range(0, n, 4096):
        found = np.uint32(0)
        for k in range(start, min(start + 4096, n)):
            found |= bits[k] & np.uint32(0x7FFFFFFF)
        if found:
            return True
    return False
