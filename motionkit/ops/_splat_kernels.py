"""Compiled CPU kernels of bilinear forward splatting (numba), forward and backward.

A splat is a scatter: every source pixel adds into the four target pixels around where it
lands. In torch that is four ``scatter_add`` passes over ``(N, C, H*W)`` with their index,
weight and product tensors (~50 ms a 512x512 RGB frame on one core); a compiled loop does
the same additions in one pass over the source with nothing allocated (~3 ms).

One kernel serves the three modes of :func:`motionkit.ops.splat.splat`: it accumulates the
numerator ``S(i v)`` and the weight ``S(i)`` in the same pass (``i`` = the softmax importance,
or 1), then divides by ``S(i) + eps`` unless the mode is ``"sum"``. Where rounding matters it
follows :func:`motionkit.ops.splat.splat_sum_torch` operation for operation: the target
``x + dx`` is formed in the input's precision, corners outside the image are dropped one by
one, and a source whose target is not finite contributes nothing.

Parallelism (see :mod:`motionkit.ops._kernel_threads`): the images of a batch are shared out
over threads; a batch smaller than the thread count is cut into bands of source rows, each
band splatting into its own buffer (bands may reach the same target pixel, so they cannot
share one), and the buffers are summed. The backward pass is a gather (each source pixel
reads its four targets) and is cut into row bands with no buffers.

Numba compiles each kernel on first use (seconds) and caches the machine code beside this
file (or in numba's cache folder), so later processes only load it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from motionkit.ops._kernel_threads import run_jobs, thread_count


@njit(cache=True, nogil=True, error_model="numpy")
def _accumulate(values, importance, weighted, flow, xs, ys, b, row0, row1, num, den, part):
    """Source rows ``row0:row1`` of image ``b``: ``num[part] += w i v`` and ``den[part] += w i``."""
    _, c, h, w = values.shape
    for y in range(row0, row1):
        for x in range(w):
            fx = xs[x] + flow[b, 0, y, x]
            fy = ys[y] + flow[b, 1, y, x]
            # Also false for NaN; a target a pixel or more beyond the border touches nothing.
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


@njit(cache=True, nogil=True, error_model="numpy")
def _normalise(num, den, eps, b0, b1):
    """``num[b0:b1] /= den + eps`` in place."""
    _, c, h, w = num.shape
    for b in range(b0, b1):
        for y in range(h):
            for x in range(w):
                r = 1.0 / (den[b, 0, y, x] + eps)
                for ch in range(c):
                    num[b, ch, y, x] *= r


@njit(cache=True, nogil=True, error_model="numpy")
def _backward(grad_out, grad_den, out, den, normalised, eps, values, importance, weighted, flow, xs, ys,
              b, row0, row1, grad_values, grad_importance, grad_flow, want_values, want_importance, want_flow):
    """Gradients for source rows ``row0:row1`` of image ``b``.

    ``out = S(i v) * r`` with ``r = 1 / (S(i) + eps)`` (normalised) or ``r = 1`` (sum), and
    ``den = S(i)``. At a target ``d/d num_c = g_c r`` and ``d/d den = g_den - r sum_c g_c out_c``
    (the second term only when normalised); each source gathers those at its four corners with
    the bilinear weights (values, importance) or their derivatives in ``fx``, ``fy`` (flow; the
    floor is piecewise constant, so its gradient is 0, as in torch).
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
                r = 1.0 / (den[b, 0, cy, cx] + eps) if normalised else 1.0
                g_den = grad_den[b, 0, cy, cx]
                if normalised:
                    for ch in range(c):
                        g_den -= r * grad_out[b, ch, cy, cx] * out[b, ch, cy, cx]
                vg = 0.0  # sum_c v_c d/d num_c at this corner
                for ch in range(c):
                    g_num = r * grad_out[b, ch, cy, cx]
                    vg += values[b, ch, y, x] * g_num
                    if want_values:
                        grad_values[b, ch, y, x] += wx * wy * imp * g_num
                gi += wx * wy * (vg + g_den)
                gfx += (1.0 if k & 1 else -1.0) * wy * imp * (vg + g_den)
                gfy += (1.0 if k >> 1 else -1.0) * wx * imp * (vg + g_den)
            if want_importance:
                grad_importance[b, 0, y, x] = gi
            if want_flow:
                grad_flow[b, 0, y, x] = gfx
                grad_flow[b, 1, y, x] = gfy


def _coordinates(h: int, w: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(w, dtype=dtype), np.arange(h, dtype=dtype)


def _bands(n: int, h: int, threads: int) -> int:
    """Row bands per image so that ``n * bands`` jobs keep ``threads`` threads busy."""
    return 1 if n >= threads else max(1, min(-(-threads // n), h // 8))


def splat(
    values: np.ndarray, flow: np.ndarray, importance: np.ndarray | None, normalised: bool, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(S(i v) [/ (S(i) + eps)], S(i))``: the bilinear splat of ``values`` along ``flow``.

    Args:
        values: ``(N, C, H, W)`` float32 or float64, C-contiguous (as are the others).
        flow: ``(N, 2, H, W)`` displacement in pixels, same dtype.
        importance: ``(N, 1, H, W)`` per-source weight (softmax mode) or ``None`` (all 1).
        normalised: divide the numerator by the weight plus ``eps`` (modes avg, softmax).

    Returns:
        ``(out (N, C, H, W), weight (N, 1, H, W))``, new arrays of ``values``' dtype.
    """
    n, c, h, w = values.shape
    xs, ys = _coordinates(h, w, values.dtype)
    weighted = importance is not None
    imp = importance if weighted else np.empty((1, 1, 1, 1), values.dtype)
    threads = thread_count()
    bands = _bands(n, h, threads)
    num = np.zeros((n * bands, c, h, w), values.dtype)
    den = np.zeros((n * bands, 1, h, w), values.dtype)
    jobs = [
        (lambda b=b, k=k: _accumulate(values, imp, weighted, flow, xs, ys, b, (h * k) // bands, (h * (k + 1)) // bands,
                                      num, den, b * bands + k))
        for b in range(n) for k in range(bands)
    ]
    run_jobs(jobs)
    if bands > 1:
        num = num.reshape(n, bands, c, h, w).sum(axis=1)
        den = den.reshape(n, bands, 1, h, w).sum(axis=1)
    if normalised:
        step = -(-n // threads)
        run_jobs([(lambda b0=b0: _normalise(num, den, eps, b0, min(n, b0 + step))) for b0 in range(0, n, step)])
    return num, den


def splat_backward(
    grad_out: np.ndarray, grad_den: np.ndarray | None, out: np.ndarray, den: np.ndarray, normalised: bool, eps: float,
    values: np.ndarray, flow: np.ndarray, importance: np.ndarray | None, want: tuple[bool, bool, bool],
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Gradients of :func:`splat` for the incoming ``grad_out`` and ``grad_den`` (``None``: 0).

    ``want`` = (values, flow, importance); returns ``(d values, d flow, d importance)``, each
    ``None`` where not wanted (or, for the importance, not given).
    """
    want_values, want_flow, want_importance = want
    want_importance = want_importance and importance is not None
    n, _, h, w = values.shape
    xs, ys = _coordinates(h, w, values.dtype)
    dummy = np.empty((1, 1, 1, 1), values.dtype)
    weighted = importance is not None
    imp = importance if weighted else dummy
    g_den = grad_den if grad_den is not None else np.zeros_like(den)
    grad_values = np.zeros_like(values) if want_values else dummy
    grad_flow = np.zeros_like(flow) if want_flow else dummy
    grad_importance = np.zeros((n, 1, h, w), values.dtype) if want_importance else dummy
    bands = _bands(n, h, thread_count())
    run_jobs([
        (lambda b=b, k=k: _backward(grad_out, g_den, out, den, normalised, eps, values, imp, weighted, flow, xs, ys,
                                    b, (h * k) // bands, (h * (k + 1)) // bands,
                                    grad_values, grad_importance, grad_flow, want_values, want_importance, want_flow))
        for b in range(n) for k in range(bands)
    ])
    return (
        grad_values if want_values else None,
        grad_flow if want_flow else None,
        grad_importance if want_importance else None,
    )
