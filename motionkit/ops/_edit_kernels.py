"""Compiled CPU kernel of the local edit model's prediction (numba): features built per pixel, applied at once.

:func:`motionkit.ops.edit_model.apply_edit_model_numpy` predicts an edited frame as a linear
function of 30 features of each pixel's neighbourhood. In numpy that is a ``(rows, W, 30)``
feature block per band (26 array temporaries, concatenated) and a matrix product: about
140 ms of one core for a 720p frame. The kernel here reads the four planes the features come
from (colour, its Gaussian means at two scales, the gradient magnitude), forms the 30
features of one pixel in registers and applies every model's ``(30, 3)`` coefficients to them,
in one pass with nothing allocated per pixel (about 20 ms). The feature order is
:func:`motionkit.ops.edit_model._features`'s; the tests compare both (to float32 rounding).

The other kernels fuse the per-pixel arithmetic of a carried edit
(:func:`motionkit.clip.carry.carried`): the photometric difference of the moved source
keyframe, the residual blend and the final quantisation, each one pass instead of several
full-frame numpy temporaries.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from motionkit.ops._kernel_threads import row_bands, run_jobs


@njit(cache=True, nogil=True, error_model="numpy", fastmath=False)
def _predict(x, m1, m2, grad, coefficients, row0, row1, out):  # pragma: no cover - compiled
    # One row at a time: the row's 30 feature planes, then each output channel as a sum of
    # planes times coefficients; the inner loops run along the row, so they vectorise.
    models = coefficients.shape[0]
    w = x.shape[1]
    f = np.empty((30, w), np.float32)
    acc = np.empty(w, np.float32)
    for y in range(row0, row1):
        for col in range(w):
            r = x[y, col, 0]
            g = x[y, col, 1]
            b = x[y, col, 2]
            f[0, col] = 1.0
            f[1, col] = r
            f[2, col] = g
            f[3, col] = b
            f[4, col] = r * r
            f[5, col] = g * g
            f[6, col] = b * b
            f[7, col] = r * g
            f[8, col] = r * b
            f[9, col] = g * b
            q = grad[y, col]
            f[28, col] = q
            f[29, col] = q * q
        for c in range(3):
            for col in range(w):
                v = x[y, col, c]
                a = m1[y, col, c]
                f[10 + c, col] = a
                f[13 + c, col] = a * a
                f[16 + c, col] = (v - a) * (v - a)
                a = m2[y, col, c]
                f[19 + c, col] = a
                f[22 + c, col] = a * a
                f[25 + c, col] = (v - a) * (v - a)
        for k in range(models):
            for c in range(3):
                for col in range(w):
                    acc[col] = 0.0
                for j in range(30):
                    coefficient = coefficients[k, j, c]
                    for col in range(w):
                        acc[col] += f[j, col] * coefficient
                for col in range(w):
                    out[k, y, col, c] = min(max(acc[col], np.float32(0.0)), np.float32(1.0))


def predict(planes: list[np.ndarray], coefficients: np.ndarray) -> np.ndarray:
    """Every model's clipped prediction: ``planes`` of :func:`~motionkit.ops.edit_model._planes`
    (``float32 (H, W, 3)`` x3, ``(H, W, 1)``), ``coefficients`` ``float32 (K, 30, 3)``;
    returns ``float32 (K, H, W, 3)`` in [0, 1]. Row bands run on the shared kernel threads.
    """
    x, m1, m2 = (np.ascontiguousarray(p, dtype=np.float32) for p in planes[:3])
    grad = np.ascontiguousarray(planes[3][..., 0], dtype=np.float32)
    coefficients = np.ascontiguousarray(coefficients, dtype=np.float32)
    h, w = x.shape[:2]
    out = np.empty((coefficients.shape[0], h, w, 3), np.float32)
    run_jobs([(lambda a=a, b=b: _predict(x, m1, m2, grad, coefficients, a, b, out)) for a, b in row_bands(h, 32)])
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _difference(moved, current, row0, row1, out):  # pragma: no cover - compiled
    w = current.shape[1]
    third = np.float32(1.0 / 3.0)
    for y in range(row0, row1):
        for x in range(w):
            out[y, x] = (abs(moved[y, x, 0] - current[y, x, 0]) + abs(moved[y, x, 1] - current[y, x, 1])
                         + abs(moved[y, x, 2] - current[y, x, 2])) * third


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _keep(alpha):  # pragma: no cover - compiled
    """``1 - alpha``, alpha clipped to [0, 1]: the share of the rendered frame's residual kept."""
    return np.float32(1.0) - min(max(alpha, np.float32(0.0)), np.float32(1.0))


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _carried(predicted, keep, rendered, modelled):  # pragma: no cover - compiled
    """The model's prediction plus the kept residual of the rendered ``uint8`` value."""
    return predicted + keep * (np.float32(rendered) * np.float32(1.0 / 255.0) - modelled)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _byte(value):  # pragma: no cover - compiled
    """``floor(value * 255 + 0.5)`` clipped to [0, 255], NaN to 0 (as motionkit.pixels.to_uint8 maps it)."""
    v = value * np.float32(255.0) + np.float32(0.5)
    if not v > 0.0:
        return np.uint8(0)
    if v >= 255.0:
        return np.uint8(255)
    return np.uint8(v)


@njit(cache=True, nogil=True, error_model="numpy")
def _residual(predicted, alpha, rendered, modelled, row0, row1, estimate, trust):  # pragma: no cover - compiled
    w = predicted.shape[1]
    for y in range(row0, row1):
        for x in range(w):
            keep = _keep(alpha[y, x])
            trust[y, x, 0] = keep
            for c in range(3):
                estimate[y, x, c] = _carried(predicted[y, x, c], keep, rendered[y, x, c], modelled[y, x, c])


@njit(cache=True, nogil=True, error_model="numpy")
def _residual_quantised(predicted, alpha, rendered, modelled, row0, row1, out):  # pragma: no cover - compiled
    # _residual's estimate, quantised as _quantise does, without storing the float frame.
    w = predicted.shape[1]
    for y in range(row0, row1):
        for x in range(w):
            keep = _keep(alpha[y, x])
            for c in range(3):
                out[y, x, c] = _byte(_carried(predicted[y, x, c], keep, rendered[y, x, c], modelled[y, x, c]))


@njit(cache=True, nogil=True, error_model="numpy")
def _quantise(image, row0, row1, out):  # pragma: no cover - compiled
    w, channels = image.shape[1], image.shape[2]
    for y in range(row0, row1):
        for x in range(w):
            for c in range(channels):
                out[y, x, c] = _byte(image[y, x, c])


def difference(moved: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Mean absolute RGB difference of ``moved`` and ``current`` (``float32 (H, W, 3)``): ``float32 (H, W)``."""
    out = np.empty(current.shape[:2], np.float32)
    run_jobs([(lambda a=a, b=b: _difference(moved, current, a, b, out)) for a, b in row_bands(current.shape[0], 32)])
    return out


def residual(predicted: np.ndarray, alpha: np.ndarray, rendered: np.ndarray, modelled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``predicted + (1 - alpha) * (rendered / 255 - modelled)`` and ``1 - alpha`` (alpha clipped to [0, 1]).

    ``predicted`` ``float32 (H, W, 3)``, ``alpha`` ``float32 (H, W)``, ``rendered`` ``uint8 (H, W, 3)``,
    ``modelled`` (the keyframe's model of itself, moved) ``float32 (H, W, 3)``; returns ``(float32 (H, W, 3), float32 (H, W, 1))``.
    """
    h, w = alpha.shape
    estimate, trust = np.empty((h, w, 3), np.float32), np.empty((h, w, 1), np.float32)
    rendered = np.ascontiguousarray(rendered, dtype=np.uint8)
    run_jobs([(lambda a=a, b=b: _residual(predicted, alpha, rendered, modelled, a, b, estimate, trust)) for a, b in row_bands(h, 32)])
    return estimate, trust


def residual_quantised(predicted: np.ndarray, alpha: np.ndarray, rendered: np.ndarray, modelled: np.ndarray) -> np.ndarray:
    """``quantise(residual(...)[0])`` in one pass: the frame of a carry that reaches it alone, ``uint8 (H, W, 3)``."""
    h, w = alpha.shape
    out = np.empty((h, w, 3), np.uint8)
    rendered = np.ascontiguousarray(rendered, dtype=np.uint8)
    run_jobs([(lambda a=a, b=b: _residual_quantised(predicted, alpha, rendered, modelled, a, b, out)) for a, b in row_bands(h, 32)])
    return out


def quantise(image: np.ndarray) -> np.ndarray:
    """``float32 (H, W, C)`` in [0, 1] -> ``uint8``: ``floor(x * 255 + 0.5)`` clipped, NaN to 0 (as ``to_uint8``)."""
    image = np.ascontiguousarray(image, dtype=np.float32)
    out = np.empty(image.shape, np.uint8)
    run_jobs([(lambda a=a, b=b: _quantise(image, a, b, out)) for a, b in row_bands(image.shape[0], 32)])
    return out
