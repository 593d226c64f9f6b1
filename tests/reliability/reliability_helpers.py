"""Plain helpers of the reliability tests (a module with a unique name, importable from any test file)."""

from __future__ import annotations

import numpy as np


def pan_frames(photo: np.ndarray, frames: int, step: int = 2) -> np.ndarray:
    """``(T, H, W, 3)``: ``photo`` panning right by ``step`` px per frame (edge-padded)."""
    w = photo.shape[1]
    padded = np.pad(photo, ((0, 0), (step * frames, 0), (0, 0)), mode="edge")
    return np.stack([padded[:, step * (frames - t) : step * (frames - t) + w] for t in range(frames)])
