"""Checks shared by the modules of :class:`~motionkit.Clip`: frame rate, frame count, one frame."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from motionkit import limits
from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.io.image import load_image


def check_fps(fps: Any) -> float:
    """``fps`` as a finite float > 0, or :class:`~motionkit.errors.InvalidInputError`."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) or not math.isfinite(fps) or fps <= 0:
        raise InvalidInputError(f"fps must be a finite number > 0, got {fps!r}")
    return float(fps)


def check_count(count: Any) -> int:
    """A clip's frame count: an integer in ``[1, limits.MAX_FRAMES]``."""
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)):
        raise InvalidInputError(f"a frame count must be an integer, got {count!r}")
    if count <= 0:
        raise InvalidInputError(f"a clip needs at least one frame, got {count}")
    return limits.check_frames(count, "a clip's frame count")


def coerce_frame(frame: Any, size: tuple[int, int], index: int) -> np.ndarray:
    """A frame from a source -> ``uint8 (H, W, 3)`` of the clip's size, or a clear error."""
    if not (isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3):
        frame = load_image(frame)
    if frame.shape[:2] != tuple(size):
        raise ShapeMismatchError(
            f"frame {index} is {frame.shape[0]}x{frame.shape[1]} but the clip is {size[0]}x{size[1]} (HxW); "
            "all frames of a clip must have one size"
        )
    return frame
