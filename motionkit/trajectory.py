"""``Trajectory``: the path of one tracked pixel over time, a drag in the motion editor.

``points[t]`` is the ``(x, y)`` position in pixels (pixel centres at integers) of one point
of the reference image at frame ``t``; ``points[0]`` is where it starts. A trajectory whose
points are all equal is a *pin*: that pixel must stay put.

Trajectories are frozen pydantic models, so they round-trip through JSON exactly.

Example:
    >>> from motionkit import Trajectory
    >>> drag = Trajectory.from_points([(100, 80), (130, 60), (160, 70)], frames=9)
    >>> drag.points[4]                       # the middle control point, at the middle frame
    (130.0, 60.0)
    >>> Trajectory.from_json(drag.to_json()) == drag
    True
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import pydantic
import torch

from motionkit.errors import InvalidInputError, MotionFileError, NonFiniteError, OutOfBoundsError
from motionkit.io.atomic import atomic_path
from motionkit.io.motion_files import writing
from motionkit.limits import check_frames
from motionkit.ops.easing import check_easing, ease, progress

Point = tuple[float, float]

_FILE_FORMAT = "motionkit.trajectories"
_FILE_VERSION = 1


def _points_array(points: Any, what: str = "points") -> np.ndarray:
    try:
        raw = np.asarray(points.detach().cpu() if isinstance(points, torch.Tensor) else points)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{what} must be a sequence of (x, y) pairs ({exc})") from None
    if raw.dtype.kind not in "iuf":  # no strings, booleans or None parsed into coordinates
        raise InvalidInputError(f"{what} must be numbers (x, y), got values of dtype {raw.dtype}")
    arr = raw.astype(np.float64)
    if arr.ndim == 1 and arr.shape == (2,) and what == "point":
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) == 0:
        raise InvalidInputError(f"{what} must be a non-empty sequence of (x, y) pairs, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise NonFiniteError(f"{what} contain NaN or infinite coordinates")
    return arr


def _validation_message(exc: pydantic.ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'document'}: {e['msg']}" for e in exc.errors())


class Trajectory(pydantic.BaseModel):
    """One pixel's positions ``(x, y)`` in pixels, one per frame (T >= 1), frame 0 first.

    Args:
        points: ``[(x, y), ...]`` of length T; any sequence or ``(T, 2)`` array.

    Raises:
        InvalidInputError: not a non-empty sequence of pairs.
        NonFiniteError: NaN or infinite coordinates.

    Example:
        >>> Trajectory([(0, 0), (1, 2)]).end
        (1.0, 2.0)
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    points: tuple[Point, ...] = pydantic.Field(min_length=1)

    def __init__(self, points: Any = None, /, **data: Any) -> None:
        if points is None:
            if "points" not in data:
                raise InvalidInputError("a Trajectory needs points: [(x, y), ...], one per frame")
            points = data.pop("points")
        if data:
            raise InvalidInputError(f"unexpected Trajectory field(s): {', '.join(sorted(data))}")
        arr = _points_array(points)
        try:
            super().__init__(points=tuple((float(x), float(y)) for x, y in arr))
        except pydantic.ValidationError as exc:  # unreachable for a validated array, kept as a guard
            raise InvalidInputError(f"invalid trajectory: {_validation_message(exc)}") from None

    # --- constructors --------------------------------------------------------------------
    @classmethod
    def line(cls, start: Point, end: Point, frames: int = 16, easing: str = "linear") -> Trajectory:
        """A straight drag from ``start`` (frame 0) to ``end`` (frame T-1), timed by ``easing``.

        Example:
            >>> Trajectory.line((0, 0), (10, 0), frames=3).points
            ((0.0, 0.0), (5.0, 0.0), (10.0, 0.0))
        """
        ends = _points_array([start, end], "start and end")
        s = progress(check_frames(frames), easing)[:, None]
        return cls(ends[0] + s * (ends[1] - ends[0]))

    @classmethod
    def pin(cls, point: Point, frames: int = 16) -> Trajectory:
        """A point that stays where it is for ``frames`` frames.

        Example:
            >>> Trajectory.pin((40, 50), frames=3).is_pinned
            True
        """
        p = _points_array(point, "point")
        return cls(np.repeat(p, check_frames(frames), axis=0))

    @classmethod
    def from_points(
        cls, points: Sequence[Point], frames: int = 16, interpolation: Literal["pchip", "linear"] = "pchip"
    ) -> Trajectory:
        """A smooth path through control points spread evenly over time.

        Control point ``k`` of ``K`` sits at time ``k (T - 1) / (K - 1)`` (the first at frame 0,
        the last at frame T-1). ``"pchip"`` interpolates each coordinate with a monotone cubic
        (no overshoot: between two controls the path never leaves their range); ``"linear"``
        joins them with straight segments. One control point gives a pin.

        Example:
            >>> Trajectory.from_points([(0, 0), (10, 5)], frames=3).points
            ((0.0, 0.0), (5.0, 2.5), (10.0, 5.0))
        """
        frames = check_frames(frames)
        ctrl = _points_array(points, "control points")
        if interpolation not in ("pchip", "linear"):
            raise InvalidInputError(f"interpolation must be 'pchip' or 'linear', got {interpolation!r}")
        if len(ctrl) == 1:
            return cls.pin(ctrl[0], frames)
        knots = np.linspace(0.0, frames - 1.0, len(ctrl))
        times = np.arange(frames, dtype=np.float64)
        if interpolation == "linear":
            path = np.stack([np.interp(times, knots, ctrl[:, i]) for i in range(2)], axis=1)
        else:
            from scipy.interpolate import PchipInterpolator  # 0.8 s to import: only when used

            path = PchipInterpolator(knots, ctrl, axis=0)(times)
        return cls(path)

    # --- views -------------------------------------------------------------------------
    @property
    def frames(self) -> int:
        """T, the number of frames."""
        return len(self.points)

    @property
    def start(self) -> Point:
        """Position at frame 0."""
        return self.points[0]

    @property
    def end(self) -> Point:
        """Position at the last frame."""
        return self.points[-1]

    @property
    def is_pinned(self) -> bool:
        """True when the point never moves (all positions equal the start)."""
        return all(p == self.points[0] for p in self.points)

    def as_tensor(self) -> torch.Tensor:
        """``float32 (T, 2)`` positions (x, y) in pixels."""
        return torch.tensor(self.points, dtype=torch.float32)

    def displacements(self) -> torch.Tensor:
        """``float32 (T, 2)`` positions relative to the start (row 0 is zero)."""
        pts = np.asarray(self.points, dtype=np.float64)
        return torch.from_numpy((pts - pts[0]).astype(np.float32))

    # --- edits ---------------------------------------------------------------------------
    def resample(self, frames: int, easing: str = "linear") -> Trajectory:
        """The same path over ``frames`` frames, retimed by ``easing`` (straight between samples).

        New frame ``j`` is the old path at time ``ease(j / (T' - 1)) * (T - 1)``, so the path's
        ends are kept and ``easing`` changes only the speed along it.

        Example:
            >>> Trajectory.line((0, 0), (8, 0), frames=2).resample(3, easing="ease-in").points
            ((0.0, 0.0), (1.0, 0.0), (8.0, 0.0))
        """
        frames = check_frames(frames)
        check_easing(easing)
        pts = np.asarray(self.points, dtype=np.float64)
        if frames == 1:
            return Trajectory(pts[:1])
        times = ease(np.linspace(0.0, 1.0, frames), easing) * (len(pts) - 1)
        old = np.arange(len(pts), dtype=np.float64)
        return Trajectory(np.stack([np.interp(times, old, pts[:, i]) for i in range(2)], axis=1))

    def translated(self, dx: float, dy: float) -> Trajectory:
        """Every position moved by ``(dx, dy)`` pixels.

        Example:
            >>> Trajectory.pin((1, 2), 2).translated(3, -1).start
            (4.0, 1.0)
        """
        return Trajectory(np.asarray(self.points) + np.array([dx, dy], dtype=np.float64))

    def scaled(self, sx: float, sy: float) -> Trajectory:
        """Positions in an image resized by ``(sx, sy)`` (new width = sx * W, new height = sy * H).

        Follows the resize convention of pixel centres at integers, ``x' = (x + 0.5) sx - 0.5``,
        so a point stays on the same image content (and displacements scale by ``sx``, ``sy``).

        Example:
            >>> Trajectory([(0, 0), (10, 0)]).scaled(0.5, 0.5).points
            ((-0.25, -0.25), (4.75, -0.25))
        """
        if not (math.isfinite(sx) and math.isfinite(sy)) or sx <= 0 or sy <= 0:
            raise InvalidInputError(f"scale factors must be positive finite numbers, got ({sx!r}, {sy!r})")
        scale = np.array([sx, sy], dtype=np.float64)
        return Trajectory((np.asarray(self.points) + 0.5) * scale - 0.5)

    def check_inside(self, size: tuple[int, int]) -> None:
        """Raise :class:`OutOfBoundsError` unless the start lies on an image of ``size = (H, W)``.

        The image covers ``[-0.5, W - 0.5) x [-0.5, H - 0.5)`` (pixel centres at integers).

        Example:
            >>> Trajectory.pin((640, 10), 2).check_inside((480, 640))
            Traceback (most recent call last):
            ...
            motionkit.errors.OutOfBoundsError: trajectory starts at (640, 10), outside the 640 x 480 (W x H) image; ...
        """
        h, w = size
        x, y = self.start
        if not (-0.5 <= x < w - 0.5 and -0.5 <= y < h - 0.5):
            raise OutOfBoundsError(
                f"trajectory starts at ({x:g}, {y:g}), outside the {w} x {h} (W x H) image; "
                f"x must lie in [0, {w - 1}] and y in [0, {h - 1}] (pixels)"
            )

    # --- pictures ------------------------------------------------------------------------
    def draw(self, image: np.ndarray | torch.Tensor, color: tuple[int, int, int] = (255, 64, 64), thickness: int = 2) -> np.ndarray:
        """The path with an arrowhead at its end, drawn on a copy of ``image``: ``uint8 (H, W, 3)``.

        ``image`` is ``uint8 (H, W, 3)`` or a float ``(3, H, W)`` tensor in [0, 1]; it is not
        modified. A pinned point is drawn as a ring.

        Example:
            >>> import numpy as np
            >>> picture = Trajectory.line((5, 5), (25, 10), frames=4).draw(np.zeros((32, 32, 3), np.uint8))
            >>> picture.shape, bool(picture[5, 10].any())
            ((32, 32, 3), True)
        """
        from motionkit.io.image import load_image

        canvas = np.ascontiguousarray(load_image(image))
        shift = 4  # OpenCV's sub-pixel drawing: coordinates in 1/16 pixel
        pts = np.round(np.asarray(self.points) * (1 << shift)).astype(np.int64)
        pts = np.clip(pts, -(1 << 28), 1 << 28).astype(np.int32)
        color = tuple(int(c) for c in color)
        if self.is_pinned:
            cv2.circle(canvas, tuple(int(v) for v in pts[0]), (thickness + 2) << shift, color, thickness, cv2.LINE_AA, shift)
            return canvas
        cv2.polylines(canvas, [pts.reshape(-1, 1, 2)], False, color, thickness, cv2.LINE_AA, shift)
        # The arrowhead follows the last real movement (trailing frames may be at rest).
        moved = np.nonzero(np.any(pts != pts[-1], axis=1))[0]
        tail = pts[moved[-1]]
        length = float(np.hypot(*(pts[-1] - tail))) / (1 << shift)
        tip = min(0.9, (4.0 + 3.0 * thickness) / max(length, 1e-6))
        cv2.arrowedLine(canvas, tuple(int(v) for v in tail), tuple(int(v) for v in pts[-1]), color, thickness, cv2.LINE_AA, shift, tip)
        return canvas

    # --- JSON ----------------------------------------------------------------------------
    def to_json(self) -> str:
        """``{"points": [[x, y], ...]}``; floats written exactly (shortest round-trip form).

        Example:
            >>> Trajectory.pin((1.5, 2), 2).to_json()
            '{"points":[[1.5,2.0],[1.5,2.0]]}'
        """
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> Trajectory:
        """Read :meth:`to_json`'s document; malformed input raises :class:`MotionFileError`."""
        return _from_document(_parse_json(text, "trajectory JSON"), "trajectory JSON")


def _parse_json(text: str | bytes, where: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:  # ValueError covers bad UTF-8 and huge integers
        raise MotionFileError(f"{where} is not valid JSON ({type(exc).__name__}: {str(exc)[:120]})") from None


def _coordinate(value: Any, where: str) -> float:
    # JSON numbers only: no strings, booleans or nulls coerced into coordinates.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MotionFileError(f"{where}: a coordinate must be a number, got {str(value)[:40]!r}")
    try:
        return float(value)
    except OverflowError:
        raise MotionFileError(f"{where}: coordinate {str(value)[:20]}... is too large") from None


def _from_document(doc: Any, where: str) -> Trajectory:
    if not isinstance(doc, dict) or set(doc) != {"points"}:
        raise MotionFileError(f"{where} must be an object with exactly one key 'points', got {str(doc)[:80]!r}")
    points = doc["points"]
    if not isinstance(points, list) or not points:
        raise MotionFileError(f"{where}: 'points' must be a non-empty list of [x, y] pairs")
    pairs = []
    for i, point in enumerate(points):
        if not isinstance(point, list) or len(point) != 2:
            raise MotionFileError(f"{where}: point {i} must be an [x, y] pair, got {str(point)[:40]!r}")
        pairs.append((_coordinate(point[0], where), _coordinate(point[1], where)))
    try:
        return Trajectory(pairs)
    except InvalidInputError as exc:
        raise MotionFileError(f"{where}: {exc}") from None


def save_trajectories(path: str | os.PathLike, trajectories: Sequence[Trajectory]) -> Path:
    """Write trajectories to a JSON file, atomically.

    The document is ``{"format": "motionkit.trajectories", "version": 1, "trajectories":
    [{"points": [[x, y], ...]}, ...]}``.

    Example:
        >>> save_trajectories("drags.json", [Trajectory.line((10, 10), (30, 12))])  # doctest: +SKIP
    """
    items = list(trajectories)
    if not all(isinstance(t, Trajectory) for t in items):
        raise InvalidInputError("save_trajectories takes a list of Trajectory objects")
    doc = {"format": _FILE_FORMAT, "version": _FILE_VERSION, "trajectories": [t.model_dump(mode="json") for t in items]}
    path = Path(path)
    with writing(path), atomic_path(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def load_trajectories(path: str | os.PathLike) -> list[Trajectory]:
    """Read a file written by :func:`save_trajectories` (a bare JSON list of trajectories also works).

    Raises:
        MotionFileError: unreadable, not JSON, another format, a newer version, or a bad
            trajectory (the message names its index and the problem).

    Example:
        >>> drags = load_trajectories("drags.json")  # doctest: +SKIP
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MotionFileError(f"cannot read trajectory file {path}: {exc}") from None
    doc = _parse_json(text, str(path))
    if isinstance(doc, dict):
        if doc.get("format") != _FILE_FORMAT:
            raise MotionFileError(f"{path} is not a motionkit trajectory file (its 'format' is {doc.get('format')!r})")
        if type(doc.get("version")) is not int or doc["version"] > _FILE_VERSION:
            raise MotionFileError(f"{path} has version {doc.get('version')!r}; this motionkit reads up to {_FILE_VERSION}")
        doc = doc.get("trajectories")
    if not isinstance(doc, list):
        raise MotionFileError(f"{path}: expected a list of trajectories under 'trajectories'")
    return [_from_document(item, f"{path}, trajectory {i}") for i, item in enumerate(doc)]
