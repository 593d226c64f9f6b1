"""Compiled CPU kernels of bilinear forward splatting (numba), forward and backward.

A splat is a scatter: every source pixel adds into the four target pixels around where it
lands. In torch that is four ``scatter_add`` passes over ``(N, C, H*W)`` with their index,
weight and product tensors (~50 ms a 512x512 RGB frame on one core); a compiled loop does
the same additions in one pass over the source with nothing allocated (~2 ms).

The kernels run on float32 or float64 numpy arrays in ``(N, C, H, W)`` layout and follow
:func:`motionkit.ops.splat.splat_sum_torch` operation for operation where rounding matters:
the target ``x + dx`` is formed in the input's precision, corners outside the image are
dropped one by one, a source whose target is not finite contributes nothing.

Parallelism: images of a batch run on separate threads. A batch smaller than the thread
count is cut into bands of source rows instead, each band splatting into its own buffer,
and the buffers are summed (several bands may reach the same target pixel, so they cannot
share one). The backward pass is a gather (each source pixel reads its four targets) and
runs in parallel over rows with no buffers.

Numba compiles each kernel on first use (a few seconds) and caches the machine code beside
this file (or in numba's cache folder), so later processes start at once.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True)
def _splat_rows(values, flow, xs, ys, b, row0, row1, out, part):
    """Splat source rows ``row0:row1`` of image ``b`` into ``out[part]``."""
    _, c, h, w = values.shape
    for y in range(row0, row1):
        for x in range(w):
            fx = xs[x] + flow[b, 0, y, x]
            fy = ys[y] + flow[b, 1, y, x]
            # Also false for NaN; a target beyond the border by a pixel or more touches nothing.
            if not (fx > -1.0 and fx < w and fy > -1.0 and fy < h):
                continue
            x0f = np.floor(fx)
            y0f = np.floor(fy)
            ax = fx - x0f
            ay = fy - y0f
            x0 = int(x0f)
            y0 = int(y0f)
            w00 = (1.0 - ax) * (1.0 - ay)
            w10 = ax * (1.0 - ay)
            w01 = (1.0 - ax) * ay
            w11 = ax * ay
            in_x0 = x0 >= 0
            in_x1 = x0 + 1 < w
            in_y0 = y0 >= 0
            in_y1 = y0 + 1 < h
            for ch in range(c):
                v = values[b, ch, y, x]
                if in_y0:
                    if in_x0:
                        out[part, ch, y0, x0] += w00 * v
                    if in_x1:
                        out[part, ch, y0, x0 + 1] += w10 * v
                if in_y1:
                    if in_x0:
                        out[part, ch, y0 + 1, x0] += w01 * v
                    if in_x1:
                        out[part, ch, y0 + 1, x0 + 1] += w11 * v


@njit(parallel=True, cache=True, nogil=True)
def _forward_batch(values, flow, xs, ys, out):
    """One thread per image: ``out (N, C, H, W)`` += the splat of every image."""
    n, _, h, _ = values.shape
    for b in prange(n):
        _splat_rows(values, flow, xs, ys, b, 0, h, out, b)


@njit(parallel=True, cache=True, nogil=True)
def _forward_bands(values, flow, xs, ys, bands, parts):
    """``parts (N * bands, C, H, W)``: band ``k`` of image ``b`` splatted into ``parts[b * bands + k]``."""
    n, _, h, _ = values.shape
    for job in prange(n * bands):
        b = job // bands
        k = job % bands
        row0 = (h * k) // bands
        row1 = (h * (k + 1)) // bands
        _splat_rows(values, flow, xs, ys, b, row0, row1, parts, job)


@njit(parallel=True, cache=True, nogil=True)
def _backward(grad, values, flow, xs, ys, grad_values, grad_flow, want_values, want_flow):
    """Gradients of ``sum(grad * splat(values, flow))`` with respect to ``values`` and ``flow``.

    ``d out[q] / d v[p]`` is the bilinear weight of corner ``q``; ``d w / d fx`` is
    ``+-(1 - ay)`` or ``+-ay`` (the floor is piecewise constant: zero gradient, as in torch).
    """
    n, c, h, w = values.shape
    for job in prange(n * h):
        b = job // h
        y = job % h
        for x in range(w):
            fx = xs[x] + flow[b, 0, y, x]
            fy = ys[y] + flow[b, 1, y, x]
            if not (fx > -1.0 and fx < w and fy > -1.0 and fy < h):
                continue
            x0f = np.floor(fx)
            y0f = np.floor(fy)
            ax = fx - x0f
            ay = fy - y0f
            x0 = int(x0f)
            y0 = int(y0f)
            in_x0 = x0 >= 0
            in_x1 = x0 + 1 < w
            in_y0 = y0 >= 0
            in_y1 = y0 + 1 < h
            # g** = <grad at corner, value of this source>; zero for a corner outside.
            gx = 0.0
            gy = 0.0
            for ch in range(c):
                g00 = grad[b, ch, y0, x0] if (in_y0 and in_x0) else 0.0
                g10 = grad[b, ch, y0, x0 + 1] if (in_y0 and in_x1) else 0.0
                g01 = grad[b, ch, y0 + 1, x0] if (in_y1 and in_x0) else 0.0
                g11 = grad[b, ch, y0 + 1, x0 + 1] if (in_y1 and in_x1) else 0.0
                if want_values:
                    grad_values[b, ch, y, x] = (
                        (1.0 - ax) * (1.0 - ay) * g00 + ax * (1.0 - ay) * g10 + (1.0 - ax) * ay * g01 + ax * ay * g11
                    )
                if want_flow:
                    v = values[b, ch, y, x]
                    gx += v * ((1.0 - ay) * (g10 - g00) + ay * (g11 - g01))
                    gy += v * ((1.0 - ax) * (g01 - g00) + ax * (g11 - g10))
            if want_flow:
                grad_flow[b, 0, y, x] = gx
                grad_flow[b, 1, y, x] = gy


@njit(cache=True, nogil=True)
def _splat_norm_rows(values, importance, weighted, flow, xs, ys, b, row0, row1, num, den, part):
    """Rows ``row0:row1`` of image ``b``: ``num[part] += w * i * v`` and ``den[part] += w * i``.

    ``i`` is ``importance[b, 0, y, x]`` when ``weighted``, else 1.
    """
    _, c, h, w = values.shape
    for y in range(row0, row1):
        for x in range(w):
            fx = xs[x] + flow[b, 0, y, x]
            fy = ys[y] + flow[b, 1, y, x]
            if not (fx > -1.0 and fx < w and fy > -1.0 and fy < h):
                continue
            x0f = np.floor(fx)
            y0f = np.floor(fy)
            ax = fx - x0f
            ay = fy - y0f
            x0 = int(x0f)
            y0 = int(y0f)
            imp = importance[b, 0, y, x] if weighted else 1.0
            for k in range(4):
                cx = x0 + (k & 1)
                cy = y0 + (k >> 1)
                if cx < 0 or cx >= w or cy < 0 or cy >= h:
                    continue
                wk = (ax if k & 1 else 1.0 - ax) * (ay if k >> 1 else 1.0 - ay) * imp
                den[part, 0, cy, cx] += wk
                for ch in range(c):
                    num[part, ch, cy, cx] += wk * values[b, ch, y, x]


@njit(parallel=True, cache=True, nogil=True)
def _normalise(num, den, eps):
    """``num /= den + eps`` in place, in parallel over rows."""
    n, c, h, w = num.shape
    for job in prange(n * h):
        b = job // h
        y = job % h
        for x in range(w):
            r = 1.0 / (den[b, 0, y, x] + eps)
            for ch in range(c):
                num[b, ch, y, x] *= r


@njit(parallel=True, cache=True, nogil=True)
def _norm_batch(values, importance, weighted, flow, xs, ys, num, den):
    n, _, h, _ = values.shape
    for b in prange(n):
        _splat_norm_rows(values, importance, weighted, flow, xs, ys, b, 0, h, num, den, b)


@njit(parallel=True, cache=True, nogil=True)
def _norm_bands(values, importance, weighted, flow, xs, ys, bands, num, den):
    n, _, h, _ = values.shape
    for job in prange(n * bands):
        b = job // bands
        k = job % bands
        _splat_norm_rows(values, importance, weighted, flow, xs, ys, b, (h * k) // bands, (h * (k + 1)) // bands, num, den, job)


@njit(parallel=True, cache=True, nogil=True)
def _norm_backward(grad_out, grad_den, out, den, eps, values, importance, weighted, flow, xs, ys,
                   grad_values, grad_importance, grad_flow, want_values, want_importance, want_flow):
    """Gradients of the normalised splat ``out = S(i v) / (S(i) + eps)`` (and of ``den = S(i)``).

    With ``r = 1 / (den + eps)`` at a target, ``d/d num = g r`` and
    ``d/d den = g_den - r sum_c g_c out_c``; each source then gathers those at its four
    corners with the bilinear weights (values, importance) or their derivatives (flow).
    """
    n, c, h, w = values.shape
    for job in prange(n * h):
        b = job // h
        y = job % h
        for x in range(w):
            fx = xs[x] + flow[b, 0, y, x]
            fy = ys[y] + flow[b, 1, y, x]
            if not (fx > -1.0 and fx < w and fy > -1.0 and fy < h):
                continue
            x0f = np.floor(fx)
            y0f = np.floor(fy)
            ax = fx - x0f
            ay = fy - y0f
            x0 = int(x0f)
            y0 = int(y0f)
            imp = importance[b, 0, y, x] if weighted else 1.0
            gi = 0.0
            gfx = 0.0
            gfy = 0.0
            for k in range(4):
                cx = x0 + (k & 1)
                cy = y0 + (k >> 1)
                if cx < 0 or cx >= w or cy < 0 or cy >= h:
                    continue
                wx = ax if k & 1 else 1.0 - ax
                wy = ay if k >> 1 else 1.0 - ay
                dwx = (1.0 if k & 1 else -1.0) * wy  # d (wx wy) / d fx
                dwy = (1.0 if k >> 1 else -1.0) * wx
                r = 1.0 / (den[b, 0, cy, cx] + eps)
                g_den = grad_den[b, 0, cy, cx]
                for ch in range(c):
                    g_den -= r * grad_out[b, ch, cy, cx] * out[b, ch, cy, cx]
                # sum_c v_c d/d num_c at this corner, and each channel's d/d num for the values.
                vg = 0.0
                for ch in range(c):
                    g_num = r * grad_out[b, ch, cy, cx]
                    vg += values[b, ch, y, x] * g_num
                    if want_values:
                        grad_values[b, ch, y, x] += wx * wy * imp * g_num
                gi += wx * wy * (vg + g_den)
                gfx += dwx * imp * (vg + g_den)
                gfy += dwy * imp * (vg + g_den)
            if want_importance:
                grad_importance[b, 0, y, x] = gi
            if want_flow:
                grad_flow[b, 0, y, x] = gfx
                grad_flow[b, 1, y, x] = gfy


def _coordinates(h: int, w: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(w, dtype=dtype), np.arange(h, dtype=dtype)


def splat_forward(values: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Bilinear splat sum of ``values (N, C, H, W)`` along ``flow (N, 2, H, W)`` (same float dtype, C-contiguous).

    Returns a new ``(N, C, H, W)`` array of ``values``' dtype.
    """
    n, c, h, w = values.shape
    xs, ys = _coordinates(h, w, values.dtype)
    threads = numba.get_num_threads()
    if n >= threads or h < 2 * threads:
        out = np.zeros_like(values)
        _forward_batch(values, flow, xs, ys, out)
        return out
    bands = -(-threads // n)
    parts = np.zeros((n * bands, c, h, w), values.dtype)
    _forward_bands(values, flow, xs, ys, bands, parts)
    return parts.reshape(n, bands, c, h, w).sum(axis=1)


def splat_backward(
    grad: np.ndarray, values: np.ndarray, flow: np.ndarray, want_values: bool, want_flow: bool
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Gradients of :func:`splat_forward` for the incoming ``grad (N, C, H, W)``: ``(d values, d flow)``.

    Each is ``None`` unless asked for.
    """
    n, c, h, w = values.shape
    xs, ys = _coordinates(h, w, values.dtype)
    grad_values = np.zeros_like(values) if want_values else np.empty((1, 1, 1, 1), values.dtype)
    grad_flow = np.zeros_like(flow) if want_flow else np.empty((1, 1, 1, 1), values.dtype)
    _backward(grad, values, flow, xs, ys, grad_values, grad_flow, want_values, want_flow)
    return (grad_values if want_values else None), (grad_flow if want_flow else None)


def splat_normalised(
    values: np.ndarray, flow: np.ndarray, importance: np.ndarray | None, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(S(i v) / (S(i) + eps), S(i))`` for ``values (N, C, H, W)``, ``importance (N, 1, H, W)`` or ``None`` (all 1).

    ``S`` is the bilinear splat sum along ``flow (N, 2, H, W)``; one pass over the source
    accumulates both sums, a second divides. Arrays share one float dtype, C-contiguous.
    """
    n, c, h, w = values.shape
    xs, ys = _coordinates(h, w, values.dtype)
    weighted = importance is not None
    imp = importance if weighted else np.empty((1, 1, 1, 1), values.dtype)
    threads = numba.get_num_threads()
    if n >= threads or h < 2 * threads:
        num = np.zeros_like(values)
        den = np.zeros((n, 1, h, w), values.dtype)
        _norm_batch(values, imp, weighted, flow, xs, ys, num, den)
    else:
        bands = -(-threads // n)
        num_parts = np.zeros((n * bands, c, h, w), values.dtype)
        den_parts = np.zeros((n * bands, 1, h, w), values.dtype)
        _norm_bands(values, imp, weighted, flow, xs, ys, bands, num_parts, den_parts)
        num = num_parts.reshape(n, bands, c, h, w).sum(axis=1)
        den = den_parts.reshape(n, bands, 1, h, w).sum(axis=1)
    _normalise(num, den, eps)
    return num, den


def splat_normalised_backward(
    grad_out: np.ndarray, grad_den: np.ndarray | None, out: np.ndarray, den: np.ndarray, eps: float,
    values: np.ndarray, flow: np.ndarray, importance: np.ndarray | None, want: tuple[bool, bool, bool],
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Gradients of :func:`splat_normalised` for the incoming ``grad_out`` (and ``grad_den``, ``None`` = 0).

    ``want`` = (values, flow, importance); returns ``(d values, d flow, d importance)``,
    ``None`` where not wanted.
    """
    want_values, want_flow, want_importance = want
    n, c, h, w = values.shape
    xs, ys = _coordinates(h, w, values.dtype)
    weighted = importance is not None
    dummy = np.empty((1, 1, 1, 1), values.dtype)
    imp = importance if weighted else dummy
    g_den = grad_den if grad_den is not None else np.zeros_like(den)
    grad_values = np.zeros_like(values) if want_values else dummy
    grad_flow = np.zeros_like(flow) if want_flow else dummy
    grad_importance = np.zeros((n, 1, h, w), values.dtype) if (want_importance and weighted) else dummy
    _norm_backward(grad_out, g_den, out, den, eps, values, imp, weighted, flow, xs, ys,
                   grad_values, grad_importance, grad_flow, want_values, want_importance and weighted, want_flow)
    return (
        grad_values if want_values else None,
        grad_flow if want_flow else None,
        grad_importance if (want_importance and weighted) else None,
    )
