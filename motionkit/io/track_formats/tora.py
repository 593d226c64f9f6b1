"""Tora's trajectories: one text file per trajectory, one ``x,y`` line per point on a 256 x 256 grid.

Read from the project's own code (github.com/alibaba/Tora): ``sat/utils/flow_utils.py``
``read_points`` reads each line as ``int(x), int(y)``; ``process_traj`` maps a point to the
video's pixel ``[int(w * x / 256), int(h * y / 256)]`` (``xy_range = 256``: the grid spans the
whole picture whatever its size, so ``x / 256`` is the fraction of the width from the left
edge) after ``process_points`` has fitted the list to the frame count: a list longer than the
shot is subsampled (``points[::skip][: frames - 1] + points[-1:]``), a shorter one gets
straight-line points inserted, spread over its segments from the first (``insert_num_dict``).
``sat/sample_video.py`` makes ``(T - 1) * 4 + 1`` frames (49 for CogVideoX's 13 latent
frames) and passes several files as one list (``--point_path``); ``sat/trajs/*.txt`` are the
shipped examples. The files hold no visibility and no timing beyond that rule.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from motionkit.errors import MotionFileError

GRID = 256
#: Tracks are fractions ``(u, v)`` of the picture (``x / 256``), not pixels.
UNITS = "fraction"
#: The video size Tora's sampler renders (``image_size = [480, 720]`` in ``sat/sample_video.py``), (H, W).
DEFAULT_SIZE = (480, 720)
#: Frames Tora's sampler makes (CogVideoX: 13 latent frames -> (13 - 1) * 4 + 1).
FRAMES = 49


def frame_of_points(count: int, frames: int) -> np.ndarray:
    """The frame each of ``count`` points lands on under Tora's ``process_points`` (-1: dropped)."""
    if count >= frames:
        skip = count // frames
        out = np.full(count, -1)
        kept = list(range(0, count, skip))[: frames - 1]
        out[kept] = np.arange(len(kept))
        out[-1] = frames - 1
        return out
    inserts = np.full(count - 1, (frames - count) // (count - 1))
    inserts[: (frames - count) % (count - 1)] += 1
    return np.concatenate([[0], np.cumsum(inserts + 1)])


def read(path: str | os.PathLike, frames: int = FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """``(tracks float32 (T, N, 2) as fractions (u, v) of the picture, visibility (T, N))`` from Tora files.

    ``path`` is one ``.txt`` trajectory or a folder of them (sorted by name). Points are placed
    on the frames Tora's rule gives them and joined by straight lines.
    """
    path = Path(path)
    files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
    if not files:
        raise MotionFileError(f"{path}: no Tora trajectory (.txt) files")
    tracks = []
    for file in files:
        try:
            lines = [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
            points = np.array([[int(v) for v in line.split(",")] for line in lines], dtype=np.float64)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise MotionFileError(f"{file}: a Tora trajectory is lines of two integers 'x,y' ({exc})") from None
        if points.ndim != 2 or points.shape[1] != 2 or len(points) < 2:
            raise MotionFileError(f"{file}: a Tora trajectory needs at least two 'x,y' lines")
        at = frame_of_points(len(points), frames)
        keep = at >= 0
        times, kept = at[keep].astype(np.float64), points[keep] / GRID
        grid = np.arange(frames, dtype=np.float64)
        tracks.append(np.stack([np.interp(grid, times, kept[:, i]) for i in range(2)], axis=1))
    out = np.stack(tracks, axis=1).astype(np.float32)
    return out, np.ones(out.shape[:2], dtype=bool)


def write(path: str | os.PathLike, tracks: np.ndarray, visibility: np.ndarray | None = None) -> list[Path]:
    """Write ``tracks (T, N, 2)`` fractions ``(u, v)`` as Tora files ``00.txt``, ``01.txt`` ... in the folder ``path``.

    Each file holds one point per frame, rounded to Tora's 256-step grid (so a round trip is
    exact to half a grid step); ``visibility`` has no place in the format and is dropped.
    """
    from motionkit.io.atomic import atomic_path

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for n in range(tracks.shape[1]):
        grid = np.clip(np.round(np.asarray(tracks[:, n], dtype=np.float64) * GRID), 0, GRID).astype(int)
        target = folder / f"{n:02d}.txt"
        with atomic_path(target) as tmp:
            tmp.write_text("".join(f"{x},{y}\n" for x, y in grid), encoding="utf-8")
        written.append(target)
    return written
