"""Colour conversions every motionkit path shares.

:func:`to_uint8` is *the* quantiser (defined once in :mod:`motionkit.pixels`, which ``io``
can import too): float ``[0, 1]`` to ``uint8`` by rounding half up and clipping, for torch
tensors (any device) and numpy arrays alike, so a frame rendered by any backend and written
by any writer gets the same bytes.

The colour map carries a colour edit of one image over to others (video-to-video: the edit
of frame 0 applied to source pixels frame 0 does not show): a least-squares fit, quadratic in
RGB, so global grades, channel swaps and gamma curves carry over. :func:`fit_colour_map` and
:func:`apply_colour_map` take ``(3, H, W)`` tensors on any device; their ``*_numpy`` twins take
``(H, W, 3)`` arrays for per-frame loops that already hold numpy.

Example:
    >>> import torch
    >>> to_uint8(torch.tensor([0.0, 0.5, 1.0, 1.2])).tolist()
    [0, 128, 255, 255]
"""

from __future__ import annotations

import numpy as np
import torch

from motionkit.errors import ShapeMismatchError
from motionkit.pixels import to_uint8

__all__ = ["to_uint8", "colour_features", "fit_colour_map", "apply_colour_map",
           "colour_features_numpy", "fit_colour_map_numpy", "apply_colour_map_numpy"]


def colour_features(image: torch.Tensor) -> torch.Tensor:
    """``(..., 3, H, W)`` RGB in [0, 1] -> ``(..., 10, H, W)`` quadratic features ``1, r, g, b, r², g², b², rg, rb, gb``.

    Same device and dtype as ``image``.
    """
    r, g, b = image.unbind(-3)
    return torch.stack([torch.ones_like(r), r, g, b, r * r, g * g, b * b, r * g, r * b, g * b], dim=-3)


def fit_colour_map(source: torch.Tensor, edited: torch.Tensor, *, samples: int = 40_000) -> torch.Tensor:
    """Least-squares quadratic colour map from ``source`` to ``edited``, both ``(3, H, W)`` in [0, 1].

    Returns:
        ``float32 (10, 3)`` coefficients for :func:`apply_colour_map`, on ``source``'s device.
        At most ``samples`` pixels (a fixed random subset) enter the fit; a tiny ridge keeps it
        stable when the image has few distinct colours.

    Example:
        >>> src = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(0))
        >>> coef = fit_colour_map(src, src.flip(0))
        >>> bool((apply_colour_map(coef, src) - src.flip(0)).abs().max() < 1e-3)
        True
    """
    if source.dim() != 3 or source.shape[0] != 3 or source.shape != edited.shape:
        raise ShapeMismatchError(f"source and edited must both be (3, H, W), got {tuple(source.shape)} and {tuple(edited.shape)}")
    coefficients = fit_colour_map_numpy(_channels_last(source), _channels_last(edited), samples=samples)
    return torch.from_numpy(coefficients).to(source.device)


def apply_colour_map(coefficients: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """Apply a :func:`fit_colour_map` result to ``(..., 3, H, W)`` -> same shape, clipped to [0, 1].

    Computed on ``image``'s device in its floating dtype (at least float32).
    """
    dtype = torch.promote_types(image.dtype, torch.float32)
    features = colour_features(image.to(dtype))
    mapped = torch.einsum("...fhw,fc->...chw", features, coefficients.to(image.device, dtype))
    return mapped.clamp_(0.0, 1.0)


def colour_features_numpy(image: np.ndarray) -> np.ndarray:
    """:func:`colour_features` on numpy, channels last: ``(..., 3)`` -> ``(..., 10)``."""
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    return np.stack([np.ones_like(r), r, g, b, r * r, g * g, b * b, r * g, r * b, g * b], axis=-1)


def fit_colour_map_numpy(source: np.ndarray, edited: np.ndarray, *, samples: int = 40_000) -> np.ndarray:
    """:func:`fit_colour_map` on numpy: ``float32 (H, W, 3)`` twice -> ``float32 (10, 3)``.

    Example:
        >>> src = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
        >>> coef = fit_colour_map_numpy(src, src[..., ::-1])
        >>> bool(np.abs(apply_colour_map_numpy(coef, src) - src[..., ::-1]).max() < 1e-3)
        True
    """
    x = colour_features_numpy(source.reshape(-1, 3).astype(np.float64))
    y = edited.reshape(-1, 3).astype(np.float64)
    if len(x) > samples:
        pick = np.random.default_rng(0).choice(len(x), samples, replace=False)
        x, y = x[pick], y[pick]
    gram = x.T @ x + 1e-6 * len(x) * np.eye(x.shape[1])
    return np.linalg.solve(gram, x.T @ y).astype(np.float32)


def apply_colour_map_numpy(coefficients: np.ndarray, image: np.ndarray) -> np.ndarray:
    """:func:`apply_colour_map` on numpy: ``float32 (H, W, 3)`` -> ``(H, W, 3)`` in [0, 1]."""
    return np.clip(colour_features_numpy(image.astype(np.float32)) @ coefficients, 0.0, 1.0)


def _channels_last(image: torch.Tensor) -> np.ndarray:
    return image.detach().to("cpu", torch.float32).numpy().transpose(1, 2, 0)
