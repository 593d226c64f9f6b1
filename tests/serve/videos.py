"""Reading the service's mp4 answers back, and finding where a patch went (template matching)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np


def frames_of(data: bytes) -> np.ndarray:
    """``uint8 (T, H, W, 3)`` frames of an mp4 given as bytes."""
    assert data[4:8] == b"ftyp", "not an mp4"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        path.write_bytes(data)
        capture = cv2.VideoCapture(str(path))
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame[..., ::-1])
        capture.release()
    return np.stack(frames)


def find_patch(first: np.ndarray, last: np.ndarray, at: tuple[float, float], half: int = 6) -> tuple[float, float]:
    """Where the ``(2*half+1)``-px patch of ``first`` around ``at`` (x, y) is best found in ``last`` (x, y)."""
    x, y = round(at[0]), round(at[1])
    template = first[y - half:y + half + 1, x - half:x + half + 1]
    scores = cv2.matchTemplate(last, template, cv2.TM_CCOEFF_NORMED)
    _, _, _, best = cv2.minMaxLoc(scores)
    return best[0] + half, best[1] + half
