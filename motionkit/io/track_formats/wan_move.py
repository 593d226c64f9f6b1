"""Wan-Move's point tracks: two ``.npy`` files, ``NAME_tracks.npy`` and ``NAME_visibility.npy``.

Read from the project's own code (github.com/ali-vilab/Wan-Move): ``generate.py`` loads
``--track`` and ``--track_visibility`` with ``np.load`` (MoveBench keeps them as
``track/<mode>/<id>_tracks.npy`` and ``<id>_visibility.npy``), and ``wan/wan_move.py``
(``WanMove.generate``) takes ``track`` as ``[T, N, 2]`` or ``[1, T, N, 2]`` and
``track_visibility`` as ``[T, N]`` or ``[1, T, N]``, dropping the leading batch axis.
``wan/modules/trajectory.py`` (``create_pos_feature_map``) reads each point as ``x, y`` in
pixels of the generated video (compared with its width and height, then divided by the VAE
stride), skips points whose visibility is false or that lie outside the picture, and
treats frame 0 as the reference (features are copied from frame 0 to later frames). The
tracks come from CoTracker, whose coordinates put pixel centres at integers, as motionkit's.
Wan-Move makes 81 frames (4n + 1).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from motionkit.errors import MotionFileError

#: Tracks are pixels of the video.
UNITS = "pixels"
#: Wan-Move's 480p size (``--size 480*832``), (H, W).
DEFAULT_SIZE = (480, 832)
#: Frames Wan-Move makes (``--frame_num``, 4n + 1).
FRAMES = 81
SUFFIX = "_tracks.npy"
VISIBILITY_SUFFIX = "_visibility.npy"


def visibility_path(tracks_path: str | os.PathLike) -> Path:
    """``NAME_tracks.npy`` -> ``NAME_visibility.npy`` (beside it)."""
    path = Path(tracks_path)
    stem = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.stem
    return path.with_name(stem + VISIBILITY_SUFFIX)


def read(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """``(tracks float32 (T, N, 2) (x, y) pixels, visibility bool (T, N))`` from a Wan-Move track file.

    The visibility file beside it is read when it exists; without it every point is visible.

    Raises:
        MotionFileError: unreadable, or not ``[T, N, 2]`` / ``[1, T, N, 2]`` finite numbers.
    """
    path = Path(path)
    try:
        tracks = np.load(path, allow_pickle=False)
        shown = visibility_path(path)
        visibility = np.load(shown, allow_pickle=False) if shown.exists() else None
    except (OSError, ValueError) as exc:
        raise MotionFileError(f"cannot read Wan-Move tracks {path}: {exc}") from None
    if tracks.ndim == 4 and tracks.shape[0] == 1:
        tracks = tracks[0]
    if tracks.ndim != 3 or tracks.shape[2] != 2 or tracks.dtype.kind not in "iuf" or not np.isfinite(tracks).all():
        raise MotionFileError(f"{path}: Wan-Move tracks are finite [T, N, 2] (x, y) pixels, got {tracks.dtype} {tracks.shape}")
    if visibility is None:
        visibility = np.ones(tracks.shape[:2], dtype=bool)
    if visibility.ndim == 3 and visibility.shape[0] == 1:
        visibility = visibility[0]
    if visibility.shape != tracks.shape[:2]:
        raise MotionFileError(f"{path}: visibility is {visibility.shape} but the tracks are {tracks.shape[:2]} (T, N)")
    return tracks.astype(np.float32), visibility.astype(bool)


def write(path: str | os.PathLike, tracks: np.ndarray, visibility: np.ndarray) -> tuple[Path, Path]:
    """Write ``NAME_tracks.npy`` (float32 ``[T, N, 2]``) and ``NAME_visibility.npy`` (bool ``[T, N]``), atomically."""
    from motionkit.io.atomic import atomic_path

    path = Path(path)
    shown = visibility_path(path)
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, np.asarray(tracks, dtype=np.float32))
    with atomic_path(shown, suffix=".npy") as tmp:
        np.save(tmp, np.asarray(visibility, dtype=bool))
    return path, shown
