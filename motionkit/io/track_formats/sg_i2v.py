"""SG-I2V's trajectory conditions: ``traj.npy`` beside ``img.png``, one bounding box and its centre's path per object.

Read from the project's own code: ``inference.py`` ``read_condition(input_dir, config)`` of
SG-I2V (github.com/Kmcode1/SG-I2V; the README of the github.com/EigenTom/SG-I2V copy points to
the same function). Its docstring: ``traj.npy`` is an ndarray of shape ``[N, (2 + F), 2]``;
the first ``[N, 2, 2]`` are each box's top-left and bottom-right corners ``[[w1, h1], [w2, h2]]``,
the remaining ``[N, F, 2]`` the path of the box's centre over the ``F`` frames, ``(w, h)``
order, in pixels of ``img.png``. The code scales both by ``config.width / original_width`` (and
heights alike) to the generated size, 1024 x 576, and makes ``num_frames = 14`` frames; each
box is moved by its centre's displacement from frame 0. No visibility.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from motionkit.errors import MotionFileError

#: Tracks are pixels of ``img.png``.
UNITS = "pixels"
#: SG-I2V's generated size (``height, width = 576, 1024``), (H, W).
DEFAULT_SIZE = (576, 1024)
#: Frames SG-I2V makes (``num_frames = 14``).
FRAMES = 14


def _load(path: str | os.PathLike) -> np.ndarray:
    path = Path(path)
    if path.is_dir():
        path = path / "traj.npy"
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise MotionFileError(f"cannot read SG-I2V trajectories {path}: {exc}") from None
    if data.ndim != 3 or data.shape[1] < 4 or data.shape[2] != 2 or data.dtype.kind not in "iuf" or not np.isfinite(data).all():
        raise MotionFileError(f"{path}: SG-I2V's traj.npy is finite [N, 2 + F, 2] (two box corners, then F centres), "
                              f"got {data.dtype} {data.shape}")
    return data.astype(np.float64)


def read(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """``(tracks float32 (F, N, 2) box centres (x, y) pixels, visibility (F, N) all true)`` from ``traj.npy`` (or its folder)."""
    centres = _load(path)[:, 2:].transpose(1, 0, 2).astype(np.float32)
    return centres, np.ones(centres.shape[:2], dtype=bool)


def read_boxes(path: str | os.PathLike) -> np.ndarray:
    """``float32 (N, 4)``: each box's ``x1, y1, x2, y2`` (top-left, bottom-right) in pixels of frame 0."""
    return _load(path)[:, :2].reshape(-1, 4).astype(np.float32)


def write(path: str | os.PathLike, tracks: np.ndarray, visibility: np.ndarray | None = None,
          boxes: np.ndarray | None = None) -> Path:
    """Write ``traj.npy`` (``path`` a file, or a folder to hold ``traj.npy``) from ``tracks (F, N, 2)`` and ``boxes (N, 4)``.

    Without ``boxes`` each box is a 32 px square around its track's start.
    """
    from motionkit.io.atomic import atomic_path

    path = Path(path)
    if path.is_dir() or not path.suffix:
        path.mkdir(parents=True, exist_ok=True)
        path = path / "traj.npy"
    tracks = np.asarray(tracks, dtype=np.float64)
    if boxes is None:
        half = 16.0
        boxes = np.concatenate([tracks[0] - half, tracks[0] + half], axis=1)
    corners = np.asarray(boxes, dtype=np.float64).reshape(-1, 2, 2)
    data = np.concatenate([corners, tracks.transpose(1, 0, 2)], axis=1).astype(np.float32)
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, data)
    return path
