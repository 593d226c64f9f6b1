"""Keyframes -> per-frame values: a track's positions and visibility, the camera's parameters.

A segment from keyframe ``k`` (time ``t_k``) to ``k + 1`` is timed by ``k``'s easing: frame
``f`` in it is drawn at the path's time ``t_k + ease((f - t_k) / (t_k+1 - t_k)) (t_k+1 - t_k)``,
so the easing changes the speed along the path, never its shape. Before the first keyframe a
camera is at rest; after the last keyframe a track or the camera holds still.
"""

from __future__ import annotations

import numpy as np

from motionkit.ops.easing import ease
from motionkit.spec.document import CameraPath, Track, to_pixels


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


def camera_parameters(path: CameraPath, frames: int, size: tuple[int, int]) -> list[tuple[tuple[float, float], float, float]]:
    """``[(pan (dx, dy) pixels, zoom, rotate degrees), ...]`` per frame on an ``(H, W)`` picture.

    Pan and roll are interpolated linearly and zoom geometrically (a steady zoom rate) along
    each eased segment; an implicit identity key sits at ``t = 0`` when the path has none.
    """
    h, w = size
    keys = list(path.keyframes)
    times = [k.t for k in keys]
    pans = [(k.pan[0] * w, k.pan[1] * h) for k in keys]
    zooms, rolls, easings = [k.zoom for k in keys], [k.rotate for k in keys], [k.easing for k in keys]
    if times[0] > 0:
        times, pans = [0.0, *times], [(0.0, 0.0), *pans]
        zooms, rolls, easings = [1.0, *zooms], [0.0, *rolls], ["linear", *easings]
    times_a = np.array(times, dtype=np.float64)
    if len(times_a) == 1:
        return [(pans[0], zooms[0], rolls[0])] * frames
    when = eased_times(times_a, easings, frames)
    log_zoom = np.log(np.array(zooms))
    pan_x = np.interp(when, times_a, [p[0] for p in pans])
    pan_y = np.interp(when, times_a, [p[1] for p in pans])
    zoom = np.exp(np.interp(when, times_a, log_zoom))
    roll = np.interp(when, times_a, rolls)
    # Keys are exact where frames fall on them (no exp(log(z)) rounding).
    for i, t in enumerate(times_a):
        if float(t).is_integer() and 0 <= t < frames:
            pan_x[int(t)], pan_y[int(t)], zoom[int(t)], roll[int(t)] = pans[i][0], pans[i][1], zooms[i], rolls[i]
    return [((float(pan_x[f]), float(pan_y[f])), float(zoom[f]), float(roll[f])) for f in range(frames)]
