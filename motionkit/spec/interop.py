"""Specs to and from peers' point tracks (plain ``(T, N, 2)`` arrays and the files of :mod:`motionkit.io.track_formats`)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.spec import timing
from motionkit.spec.document import Keyframe, ObjectSpec, Region, Track, to_uv

if TYPE_CHECKING:
    from motionkit.spec.model import MotionSpec


def _format(name: str):
    from motionkit.io.track_formats import FORMATS

    if name not in FORMATS:
        raise InvalidInputError(f"unknown track format {name!r}; motionkit reads and writes {', '.join(sorted(FORMATS))}")
    return FORMATS[name]


def tracks_to_spec(cls: type[MotionSpec], tracks: np.ndarray, size: tuple[int, int], visibility: np.ndarray | None = None,
                   fps: float = 8.0) -> MotionSpec:
    """A spec whose trajectories are ``tracks (T, N, 2)`` (x, y) pixels of an ``(H, W)`` picture, one keyframe per frame."""
    tracks = np.asarray(tracks, dtype=np.float64)
    if tracks.ndim != 3 or tracks.shape[2] != 2 or tracks.shape[0] < 2:
        raise ShapeMismatchError(f"tracks must be (T >= 2, N, 2) (x, y) pixels, got shape {tracks.shape}")
    shown = np.ones(tracks.shape[:2], bool) if visibility is None else np.asarray(visibility, dtype=bool)
    if shown.shape != tracks.shape[:2]:
        raise ShapeMismatchError(f"visibility must be (T, N) = {tracks.shape[:2]}, got {shown.shape}")
    frames = tracks.shape[0]
    trajectories = []
    for n in range(tracks.shape[1]):
        keys = [Keyframe(t=float(t), u=to_uv(*tracks[t, n], size)[0], v=to_uv(*tracks[t, n], size)[1], visible=bool(shown[t, n]))
                for t in range(frames)]
        trajectories.append(Track(keyframes=keys, interpolation="linear"))
    return cls(frames=frames, fps=fps, reference_size=tuple(int(s) for s in size), trajectories=trajectories)


def spec_to_tracks(spec: MotionSpec, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(tracks float32 (T, N, 2) (x, y) pixels of size (H, W), visibility bool (T, N))`` of the spec's trajectories."""
    if not spec.trajectories:
        return np.zeros((spec.frames, 0, 2), np.float32), np.zeros((spec.frames, 0), bool)
    tracks = np.stack([timing.track_positions(t, spec.frames, size) for t in spec.trajectories], axis=1)
    return tracks.astype(np.float32), spec.visibility().T.copy()


def to_motionkit_pixels(tracks: np.ndarray, units: str, size: tuple[int, int]) -> np.ndarray:
    """A format's ``tracks (T, N, 2)`` in its ``units`` -> motionkit's pixels of ``size = (H, W)`` (centres at integers)."""
    tracks = np.asarray(tracks, dtype=np.float64)
    if units == "fraction":  # (u, v) -> pixels
        return tracks * np.array([size[1], size[0]]) - 0.5
    if units == "corner-pixels":  # measured from the top-left corner: a centre is at +0.5
        return tracks - 0.5
    return tracks


def from_motionkit_pixels(tracks: np.ndarray, units: str, size: tuple[int, int]) -> np.ndarray:
    """The inverse of :func:`to_motionkit_pixels`."""
    tracks = np.asarray(tracks, dtype=np.float64)
    if units == "fraction":
        return (tracks + 0.5) / np.array([size[1], size[0]])
    if units == "corner-pixels":
        return tracks + 0.5
    return tracks


def import_tracks(cls: type[MotionSpec], path: str | os.PathLike, format: str, size: tuple[int, int] | None = None,
                  fps: float | None = None) -> MotionSpec:
    """Read a peer's track file (``format``, e.g. ``"wan-move"``) of an ``(H, W)`` picture (default: the project's own size).

    ``fps`` defaults to the project's own frame rate where it fixes one, else 8.
    """
    module = _format(format)
    size = tuple(size or module.DEFAULT_SIZE)
    tracks, visibility = module.read(path)
    tracks = to_motionkit_pixels(tracks, module.UNITS, size)
    spec = tracks_to_spec(cls, tracks, size, visibility, fps or getattr(module, "FPS", 8.0))
    if hasattr(module, "read_boxes"):  # each box is the object its track moves
        objects = [ObjectSpec(region=Region(polygons=[[to_uv(x, y, size) for x, y in ((x1, y1), (x2, y1), (x2, y2), (x1, y2))]]),
                              tracks=[n]) for n, (x1, y1, x2, y2) in enumerate(module.read_boxes(path))]
        spec = spec.with_changes(objects=objects)
    return spec


def track_boxes(spec: MotionSpec, size: tuple[int, int]) -> np.ndarray:
    """``(N, 4)`` ``x1, y1, x2, y2`` pixels: the bounding box of the object each track moves (a 32 px square without one)."""
    from motionkit.spec.regions import region_mask

    starts = [t.start for t in spec.trajectories_at(size)]
    boxes = np.array([[x - 16, y - 16, x + 16, y + 16] for x, y in starts], dtype=np.float64).reshape(-1, 4)
    for obj in spec.objects:
        ys, xs = np.nonzero(region_mask(obj.region, size).numpy() > 0.5)
        if len(xs):
            for n in obj.tracks:
                boxes[n] = [xs.min(), ys.min(), xs.max(), ys.max()]
    return boxes


def export_tracks(spec: MotionSpec, path: str | os.PathLike, format: str, size: tuple[int, int] | None = None) -> None:
    """Write the spec's trajectories as a peer's track file, in pixels of ``size`` (default the reference size).

    A format that holds one frame count only (ATI's 81) gets the shot resampled to it first
    (:meth:`MotionSpec.with_frames`: the same paths, times scaled).
    """
    module = _format(format)
    size = tuple(size or spec.reference_size)
    fixed = getattr(module, "FIXED_FRAMES", None)
    if fixed is not None and spec.frames != fixed:
        spec = spec.with_frames(fixed)
    tracks, visibility = spec_to_tracks(spec, size)
    tracks = from_motionkit_pixels(tracks, module.UNITS, size)
    if hasattr(module, "read_boxes"):
        module.write(path, tracks, visibility, boxes=track_boxes(spec, size))
    else:
        module.write(path, tracks, visibility)
