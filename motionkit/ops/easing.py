"""Easing curves: how a motion is spread over time.

An easing maps normalised time ``u`` in [0, 1] to progress in [0, 1], with ``ease(0) = 0`` and
``ease(1) = 1``. ``"linear"`` moves at constant speed, ``"ease-in"`` starts slowly,
``"ease-out"`` stops slowly, ``"ease-in-out"`` does both. The curves are cubic
(smoothstep for in-out), so they are monotone and stay within [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from motionkit.errors import InvalidInputError
from motionkit.limits import check_frames

Easing = Literal["linear", "ease-in", "ease-out", "ease-in-out"]

_CURVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda u: u,
    "ease-in": lambda u: u**3,
    "ease-out": lambda u: 1.0 - (1.0 - u) ** 3,
    "ease-in-out": lambda u: u * u * (3.0 - 2.0 * u),
}

#: The names :func:`ease` accepts.
EASINGS: tuple[str, ...] = tuple(_CURVES)


def check_easing(name: str) -> str:
    """Return ``name`` if it is a known easing, else raise :class:`InvalidInputError`."""
    if name not in _CURVES:
        raise InvalidInputError(f"unknown easing {name!r}; expected one of {', '.join(EASINGS)}")
    return name


def ease(u: np.ndarray | float, name: str = "linear") -> np.ndarray:
    """Apply the easing ``name`` to normalised times ``u`` (clipped to [0, 1]).

    Args:
        u: times in [0, 1], any shape.
        name: one of :data:`EASINGS`.

    Returns:
        float64 array of the same shape: progress in [0, 1].

    Example:
        >>> ease(np.array([0.0, 0.5, 1.0]), "ease-in").tolist()
        [0.0, 0.125, 1.0]
    """
    curve = _CURVES[check_easing(name)]
    return curve(np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0))


def progress(frames: int, name: str = "linear") -> np.ndarray:
    """Progress of each of ``frames`` frames: ``(T,)`` float64, 0 at frame 0 and 1 at frame T-1.

    A single frame has progress 0 (it is the reference).

    Example:
        >>> progress(3).tolist()
        [0.0, 0.5, 1.0]
    """
    frames = check_frames(frames)
    if frames == 1:
        return np.zeros(1)
    return ease(np.linspace(0.0, 1.0, frames), name)
