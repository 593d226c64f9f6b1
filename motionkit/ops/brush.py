"""The brush of a warped frame: the field is used inside it, the image is kept exactly outside it.

:func:`motionkit.ops.forward_warp.warp_frame_numpy` moves only what a brush mask covers: it
zeroes the field outside the brush before inverting it, and copies the input back outside the
brush after warping. Both are a frame-sized select: the field's is one compiled pass with
numba (:mod:`motionkit.ops._fill_kernels`) that also tests whether anything moves, else
OpenCV's masked copies; the image's is OpenCV's masked copy. The same values either way.

A pixel is inside the brush where ``mask > 0`` (a NaN mask is outside: the image is kept).
Without a brush, :func:`moves` is the frame's test for motion.
"""

from __future__ import annotations

import cv2
import numpy as np

from motionkit.errors import ShapeMismatchError

try:  # the compiled selects; OpenCV's masked copies where numba is missing
    from motionkit.ops import _fill_kernels as _kernels
except ImportError:  # pragma: no cover - numba is a dependency; this keeps the fallback importable
    _kernels = None


def inside(flow: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(kept, moves)``: ``float32 (2, H, W)`` ``flow`` where ``mask (H, W) > 0``, else 0; whether any of it is nonzero."""
    _check(mask, flow.shape[1:])
    if _kernels is not None and mask.dtype == np.float32:
        kept = np.empty(flow.shape, np.float32)
        return kept, bool(_kernels.brush_field(np.asarray(flow, np.float32), mask, kept))
    # OpenCV's masked copies select in a pass each (numpy's broadcast where took ~10x longer).
    brush = (mask > 0).view(np.uint8)
    kept = np.zeros(flow.shape, np.float32)
    for plane in range(2):
        cv2.copyTo(np.ascontiguousarray(flow[plane], np.float32), brush, kept[plane])
    return kept, bool(kept.any())


def moves(flow: np.ndarray) -> bool:
    """``bool(flow.any())``: whether a field without a brush moves anything (compiled for contiguous float32: it stops at the first motion)."""
    if _kernels is not None and flow.dtype == np.float32 and flow.flags.c_contiguous:
        return bool(_kernels.any_nonzero(flow.reshape(-1).view(np.uint32)))
    return bool(flow.any())


def outside(image: np.ndarray, mask: np.ndarray, out: np.ndarray, unseen: np.ndarray) -> np.ndarray:
    """Copy ``image`` (``(H, W, C)``) into ``out`` outside the brush, bit for bit; returns a new ``unseen & brush``."""
    _check(mask, image.shape[:2])
    brush = mask > 0  # (OpenCV's masked copy is vectorised: a compiled select was no faster)
    cv2.copyTo(image, (~brush).view(np.uint8), out)
    return unseen & brush


def _check(mask: np.ndarray, size: tuple[int, ...]) -> None:
    if mask.shape != tuple(size):
        raise ShapeMismatchError(f"mask must be {tuple(size)} like the frame, got {mask.shape}")
