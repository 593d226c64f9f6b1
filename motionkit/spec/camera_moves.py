"""Camera paths from moves given in pixels: what ``animate --camera`` and ``MotionSpec.from_pixels(camera=)`` say.

The command line and Python callers speak pixels and plain numbers (a pan of 20 px, an orbit of
10 degrees reached at frame 8); a :class:`~motionkit.spec.document.CameraPath` speaks fractions
of the picture. :func:`camera_from_pixels` turns the one into the other, keys and easing included.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from motionkit.errors import InvalidInputError
from motionkit.spec.document import CameraKey, CameraPath, check_finite, to_uv

#: Camera moves given in pixels or plain numbers (``pan`` in pixels; see :class:`CameraKey` for the rest).
CAMERA_MOVES = ("pan", "zoom", "rotate", "orbit", "dolly", "truck", "pedestal")
_IDENTITY = {"pan": (0.0, 0.0), "zoom": 1.0, "rotate": 0.0, "orbit": 0.0, "dolly": 0.0, "truck": 0.0, "pedestal": 0.0}


def camera_from_pixels(camera: Mapping[str, Any], frames: int, size: tuple[int, int]) -> CameraPath:
    """A camera path from moves in pixels of an ``(H, W)`` picture.

    ``camera`` holds moves reached at the last frame, ``{"pan": (dx, dy) px, "zoom": z,
    "rotate": deg, "orbit": deg, "dolly": d, "truck": d, "pedestal": d}`` (3D distances as
    fractions of the distance to the look-at point, as :class:`CameraKey`), and optionally
    ``"keys"``: a list of such mappings, each with its time ``"t"`` (a frame index) and the
    ``"easing"`` of the move that arrives there. A move a key leaves out is interpolated in
    time between the keys that give it (geometrically for zoom), starting from rest at frame 0
    and holding after its last key. ``"easing"`` at the top is every segment's easing unless
    a key says otherwise; ``"center"`` ``(x, y)`` px is the fixed point and look-at point;
    ``"field_of_view"`` degrees is the camera's, for the 3D moves.

    Example:
        >>> path = camera_from_pixels({"keys": [{"t": 4, "orbit": 10}, {"t": 8, "orbit": 0, "zoom": 1.2}]}, 9, (100, 200))
        >>> [(k.t, k.orbit, round(k.zoom, 4)) for k in path.keyframes]
        [(0.0, 0.0, 1.0), (4.0, 10.0, 1.0954), (8.0, 0.0, 1.2)]
    """
    h, w = size
    known = {*CAMERA_MOVES, "easing", "center", "field_of_view", "keys"}
    unknown = sorted(set(camera) - known)
    if unknown:
        raise InvalidInputError(f"camera: unknown move(s) {unknown}; expected {sorted(known)}")
    keys = [dict(k) for k in camera.get("keys", ())]
    last_moves = {m: camera[m] for m in CAMERA_MOVES if m in camera}
    if last_moves or not keys:
        keys.append({"t": frames - 1.0, **last_moves})
    for key in keys:
        wrong = sorted(set(key) - {*CAMERA_MOVES, "t", "easing"})
        if wrong or "t" not in key:
            raise InvalidInputError(f"camera key {key}: expected a time 't' and moves among {list(CAMERA_MOVES)} and 'easing'"
                                    + (f", not {wrong}" if wrong else ""))
    keys.sort(key=lambda k: float(k["t"]))
    times = np.array([0.0] + [float(k["t"]) for k in keys])
    check_finite(*times, what="camera key times")
    if len(set(times[1:])) != len(keys) or times[1] <= 0 or times[-1] > frames - 1:
        raise InvalidInputError(f"camera key times must be distinct frames in (0, {frames - 1}], got {times[1:].tolist()}")

    def values(move: str) -> np.ndarray:
        given = [(0.0, _IDENTITY[move])] + [(float(k["t"]), k[move]) for k in keys if move in k]
        at = np.array([t for t, _ in given])
        points = np.array([np.atleast_1d(np.asarray(v, dtype=np.float64)) for _, v in given])
        check_finite(*points.ravel(), what=f"camera {move}")
        if move == "zoom":
            if (points <= 0).any():
                raise InvalidInputError(f"camera zoom must be positive, got {points.ravel().tolist()}")
            points = np.log(points)
        out = np.stack([np.interp(times, at, points[:, i]) for i in range(points.shape[1])], axis=1)
        return np.exp(out) if move == "zoom" else out

    table = {move: values(move) for move in CAMERA_MOVES}
    default_easing = camera.get("easing", "linear")
    # A key's "easing" is how the camera arrives at it: the easing of the path key before it.
    arriving = [k.get("easing", default_easing) for k in keys] + ["linear"]
    path = []
    for i, t in enumerate(times):
        pan = table["pan"][i]
        path.append(CameraKey(t=float(t), pan=(float(pan[0]) / w, float(pan[1]) / h), easing=arriving[i],
                              **{m: float(table[m][i, 0]) for m in CAMERA_MOVES if m != "pan"}))
    center = camera.get("center")
    extra = {} if "field_of_view" not in camera else {"field_of_view": float(camera["field_of_view"])}
    return CameraPath(keyframes=path, center=None if center is None else to_uv(*center, size), **extra)
