"""Keyframes -> per-frame values: a track's positions and visibility, the camera's parameters.

A segment from keyframe ``k`` (time ``t_k``) to ``k + 1`` is timed by ``k``'s easing: frame
``f`` in it is drawn at the path's time ``t_k + ease((f - t_k) / (t_k+1 - t_k)) (t_k+1 - t_k)``,
so the easing changes the speed along the path, never its shape. Before the first keyframe a
camera is at rest; after the last keyframe a track or the camera holds still.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from motionkit.ops.easing import ease
from motionkit.spec.document import CameraKey, CameraPath, Track, to_pixels


def eased_times(times: np.ndarray, easings: list[str], frames: int) -> np.ndarray:
    """``(T,)`` path times of frames ``0 .. frames - 1`` under keyframes at ``times`` with segment ``easings``."""
    f = np.arange(frames, dtype=np.float64)
    out = np.clip(f, times[0], times[-1])
    for k in range(len(times) - 1):
        a, b = times[k], times[k + 1]
        inside = (f >= a) & (f < b)
        if inside.any():
            out[inside] = a + ease((f[inside] - a) / (b - a), easings[k]) * (b - a)
    return out


def track_positions(track: Track, frames: int, size: tuple[int, int]) -> np.ndarray:
    """``float64 (T, 2)`` pixel positions ``(x, y)`` of ``track`` on an ``(H, W)`` picture, one per frame.

    Example:
        >>> from motionkit.spec.document import Keyframe
        >>> track = Track(keyframes=[Keyframe(t=0, u=0.125, v=0.5), Keyframe(t=2, u=0.625, v=0.5)])
        >>> track_positions(track, 4, (4, 4)).tolist()
        [[0.0, 1.5], [1.0, 1.5], [2.0, 1.5], [2.0, 1.5]]
    """
    keys = track.keyframes
    points = np.array([to_pixels(k.u, k.v, size) for k in keys], dtype=np.float64)
    if len(keys) == 1:
        return np.repeat(points, frames, axis=0)
    times = np.array([k.t for k in keys], dtype=np.float64)
    when = eased_times(times, [k.easing for k in keys], frames)
    if track.interpolation == "linear" or len(keys) == 2:
        return np.stack([np.interp(when, times, points[:, i]) for i in range(2)], axis=1)
    from scipy.interpolate import PchipInterpolator  # imported only when a curved path is asked for

    return PchipInterpolator(times, points, axis=0)(when)


def track_visibility(track: Track, frames: int) -> np.ndarray:
    """``bool (T,)``: frame ``f`` is visible when the last keyframe at or before ``f`` is.

    Example:
        >>> from motionkit.spec.document import Keyframe
        >>> hidden = Track(keyframes=[Keyframe(t=0, u=0.5, v=0.5), Keyframe(t=2, u=0.9, v=0.5, visible=False)])
        >>> track_visibility(hidden, 4).tolist()
        [True, True, False, False]
    """
    times = np.array([k.t for k in track.keyframes])
    flags = np.array([k.visible for k in track.keyframes])
    last = np.searchsorted(times, np.arange(frames, dtype=np.float64), side="right") - 1
    return flags[np.clip(last, 0, None)]


def last_visible_frame(track: Track, frames: int) -> int:
    """The frame a track's final error is read at: the last frame if visible there, else its last visible keyframe."""
    visible = track_visibility(track, frames)
    if visible[-1]:
        return frames - 1
    shown = [k.t for k in track.keyframes if k.visible and k.t <= frames - 1]
    return int(round(max(shown))) if shown else 0


class CameraPose(NamedTuple):
    """The camera at one frame: ``pan`` (dx, dy) pixels, ``zoom``, ``rotate`` degrees and the 3D moves."""

    pan: tuple[float, float] = (0.0, 0.0)
    zoom: float = 1.0
    rotate: float = 0.0
    orbit: float = 0.0
    dolly: float = 0.0
    truck: float = 0.0
    pedestal: float = 0.0

    @property
    def moves_3d(self) -> bool:
        """True when the camera moves through the scene (parallax), not only the picture."""
        return any((self.orbit, self.dolly, self.truck, self.pedestal))


_LINEAR = ("rotate", "orbit", "dolly", "truck", "pedestal")


def camera_parameters(path: CameraPath, frames: int, size: tuple[int, int]) -> list[CameraPose]:
    """The camera's :class:`CameraPose` at each frame on an ``(H, W)`` picture.

    Pan, roll and the 3D moves are interpolated linearly and zoom geometrically (a steady zoom
    rate) along each eased segment; an implicit identity key sits at ``t = 0`` when the path
    has none. Frames that fall on a key get its values exactly.
    """
    h, w = size
    keys = list(path.keyframes)
    if keys[0].t > 0:
        keys.insert(0, CameraKey(t=0.0))
    times = np.array([k.t for k in keys], dtype=np.float64)
    values = {"pan_x": [k.pan[0] * w for k in keys], "pan_y": [k.pan[1] * h for k in keys],
              "log_zoom": list(np.log([k.zoom for k in keys])), **{name: [getattr(k, name) for k in keys] for name in _LINEAR}}
    if len(keys) == 1:
        per_frame = {name: np.full(frames, v[0], dtype=np.float64) for name, v in values.items()}
    else:
        when = eased_times(times, [k.easing for k in keys], frames)
        per_frame = {name: np.interp(when, times, v) for name, v in values.items()}
    per_frame["zoom"] = np.exp(per_frame.pop("log_zoom"))
    for i, key in enumerate(keys):  # exact values on the keys (no exp(log(z)) rounding)
        if float(key.t).is_integer() and key.t < frames:
            f = int(key.t)
            per_frame["pan_x"][f], per_frame["pan_y"][f], per_frame["zoom"][f] = key.pan[0] * w, key.pan[1] * h, key.zoom
            for name in _LINEAR:
                per_frame[name][f] = getattr(key, name)
    return [CameraPose((float(per_frame["pan_x"][f]), float(per_frame["pan_y"][f])), float(per_frame["zoom"][f]),
                       *(float(per_frame[name][f]) for name in _LINEAR)) for f in range(frames)]
