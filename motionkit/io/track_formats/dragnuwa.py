"""DragNUWA's drags: the demo's ``tracking_points``, a list of drags of clicked ``(x, y)`` points, as JSON.

Read from the project's own code (github.com/ProjectNUWA/DragNUWA, ``DragNUWA_demo.py``):
DragNUWA keeps no track file. Its demo holds ``tracking_points`` (a gradio ``State``) as a
list of drags, each the list of ``(x, y)`` pixels clicked on the first frame, cropped and
resized to 576 x 320 (``preprocess_image``); ``Drag.run`` scales them to the model's size,
turns a single click into the stationary drag ``p -> p + (1, 1)``, and
``interpolate_trajectory`` spreads every drag over ``model_length = 14`` frames with a PCHIP
curve through its points at evenly spaced times (``np.linspace(0, 1, len(points))``).
motionkit's ``dragnuwa`` file is that list as JSON, ``[[[x, y], ...], ...]``, in pixels of
the 576 x 320 frame; :func:`read` spreads it over the frames the same way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from motionkit.errors import MotionFileError

#: Tracks are pixels of DragNUWA's 576 x 320 first frame.
UNITS = "pixels"
#: (H, W) of the frame the demo's clicks are on.
DEFAULT_SIZE = (320, 576)
#: Frames DragNUWA 1.5 makes (``model_length = 14``).
FRAMES = 14


def spread(points: np.ndarray, frames: int) -> np.ndarray:
    """One drag's ``(K, 2)`` points over ``frames`` frames, as ``interpolate_trajectory`` does: ``(frames, 2)``."""
    if len(points) == 1:  # a click on its own stays put (DragNUWA nudges it by (1, 1) px to make a drag)
        return np.repeat(points, frames, axis=0)
    from scipy.interpolate import PchipInterpolator

    return PchipInterpolator(np.linspace(0, 1, len(points)), points, axis=0)(np.linspace(0, 1, frames))


def read(path: str | os.PathLike, frames: int = FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """``(tracks float32 (T, N, 2) (x, y) pixels, visibility (T, N) all true)`` from a ``tracking_points`` JSON file."""
    path = Path(path)
    try:
        drags = json.loads(path.read_text(encoding="utf-8"))
        arrays = [np.asarray(drag, dtype=np.float64) for drag in drags]
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise MotionFileError(f"cannot read DragNUWA drags {path}: {exc}") from None
    if not arrays or any(a.ndim != 2 or a.shape[1] != 2 or len(a) == 0 or not np.isfinite(a).all() for a in arrays):
        raise MotionFileError(f"{path}: DragNUWA drags are a list of drags, each a non-empty list of [x, y] pixels")
    tracks = np.stack([spread(a, frames) for a in arrays], axis=1).astype(np.float32)
    return tracks, np.ones(tracks.shape[:2], dtype=bool)


def write(path: str | os.PathLike, tracks: np.ndarray, visibility: np.ndarray | None = None) -> Path:
    """Write ``tracks (T, N, 2)`` as ``tracking_points`` JSON: one point per frame per drag (PCHIP through them keeps them)."""
    from motionkit.io.atomic import atomic_path

    path = Path(path)
    drags = [[[float(x), float(y)] for x, y in np.asarray(tracks[:, n], dtype=np.float64)] for n in range(tracks.shape[1])]
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(drags), encoding="utf-8")
    return path
