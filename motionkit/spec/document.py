"""The parts of a :class:`~motionkit.MotionSpec`: keyframes, tracks, regions, objects, the camera path.

Everything here is resolution independent. A point is ``(u, v)`` with pixel centres,
``u = (x + 0.5) / W`` and ``v = (y + 0.5) / H`` (so ``(0, 0)`` is the top-left corner of the
picture, ``(1, 1)`` the bottom-right one, and ``x = u W - 0.5`` on any size); a time ``t`` is
a frame index of the spec's frame count, fractional allowed (``0`` is the reference frame).
The models are frozen pydantic values that refuse unknown fields, so a document round-trips
through JSON exactly and a typo in a field name is an error, not a silent default.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
from collections.abc import Iterator
from typing import Any, Literal

import pydantic

from motionkit.errors import InvalidInputError

Easing = Literal["linear", "ease-in", "ease-out", "ease-in-out"]
UV = tuple[float, float]


def validation_message(exc: pydantic.ValidationError) -> str:
    """One line naming every problem of a pydantic error and its place in the document."""
    problems = []
    for error in exc.errors():
        place = ".".join(str(part) for part in error["loc"]) or "document"
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{place}: {message}")
    return "; ".join(problems)


# Set while a document validates: nested models (pydantic calls a custom __init__ for them too)
# then let pydantic's errors through, so the outermost call names each problem's full place.
_validating: contextvars.ContextVar[bool] = contextvars.ContextVar("motionkit_spec_validating", default=False)


@contextlib.contextmanager
def validating() -> Iterator[None]:
    """Within this block the models raise pydantic's own ``ValidationError`` (for a caller that reports it)."""
    token = _validating.set(True)
    try:
        yield
    finally:
        _validating.reset(token)


class Part(pydantic.BaseModel):
    """Base of the spec's models: frozen, no unknown fields, no NaN; errors as :class:`InvalidInputError`."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    def __init__(self, **data: Any) -> None:
        if _validating.get():
            super().__init__(**data)
            return
        try:
            with validating():
                super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise InvalidInputError(f"invalid {type(self).__name__}: {validation_message(exc)}") from None


class Keyframe(Part):
    """Where a tracked point is at one time.

    Attributes:
        t: frame index (fractional allowed) of the spec's frame count; the first keyframe of a
            track is at ``t = 0``, the reference frame.
        u, v: the point, normalised with pixel centres (``u = (x + 0.5) / W``); outside [0, 1]
            once the point has left the picture.
        visible: whether the point can be seen from this keyframe until the next one (a track
            may leave the frame or be hidden, and come back).
        easing: how the point moves from this keyframe to the next one.

    Example:
        >>> Keyframe(t=0, u=0.25, v=0.5)
        Keyframe(t=0.0, u=0.25, v=0.5, visible=True, easing='linear')
    """

    t: float = pydantic.Field(ge=0)
    u: float
    v: float
    visible: bool = True
    easing: Easing = "linear"


class Track(Part):
    """One point's path: a drag, or a pin when it never moves (one keyframe, or all at one place).

    Attributes:
        keyframes: at least one, times strictly increasing, the first at ``t = 0``; after the
            last one the point holds still.
        interpolation: the path through the keyframes, ``"pchip"`` (a monotone cubic: smooth,
            never overshooting the keyframes) or ``"linear"`` (straight segments); the easing
            of each segment only changes the speed along it.
        name: an optional label (shown in adherence reports).

    Example:
        >>> Track(keyframes=[Keyframe(t=0, u=0.2, v=0.5)]).is_pin
        True
    """

    keyframes: tuple[Keyframe, ...] = pydantic.Field(min_length=1)
    interpolation: Literal["pchip", "linear"] = "pchip"
    name: str | None = None

    @pydantic.field_validator("keyframes")
    @classmethod
    def _times(cls, keyframes: tuple[Keyframe, ...]) -> tuple[Keyframe, ...]:
        if keyframes[0].t != 0:
            raise ValueError(f"the first keyframe must be at t = 0 (the reference frame), got t = {keyframes[0].t}")
        times = [k.t for k in keyframes]
        if any(b <= a for a, b in zip(times, times[1:])):
            raise ValueError(f"keyframe times must increase strictly, got {times}")
        return keyframes

    @property
    def is_pin(self) -> bool:
        """True when the point never moves."""
        first = self.keyframes[0]
        return all((k.u, k.v) == (first.u, first.v) for k in self.keyframes)


class EncodedMask(Part):
    """A mask stored value by value at the size it was painted: float32, zlib, base64 (as :meth:`RegionMask.to_json`).

    Attributes:
        size: ``(H, W)`` of the stored values; resampled bilinearly to the size a spec is compiled at.
        encoding: ``"zlib-float32-le"``.
        data: the compressed values, base64.
    """

    size: tuple[pydantic.PositiveInt, pydantic.PositiveInt]
    encoding: Literal["zlib-float32-le"] = "zlib-float32-le"
    data: str


class Region(Part):
    """A part of the picture: polygons in ``(u, v)`` (filled, union) or a painted mask (exactly one).

    Example:
        >>> Region(polygons=[[(0.1, 0.1), (0.5, 0.1), (0.5, 0.6)]]).polygons[0][1]
        (0.5, 0.1)
    """

    polygons: tuple[tuple[UV, ...], ...] | None = None
    mask: EncodedMask | None = None

    @pydantic.model_validator(mode="after")
    def _one_kind(self) -> Region:
        if (self.polygons is None) == (self.mask is None):
            raise ValueError("a region is either polygons or a mask: give exactly one of them")
        if self.polygons is not None and (not self.polygons or any(len(p) < 3 for p in self.polygons)):
            raise ValueError("each polygon needs at least three (u, v) vertices")
        return self

    @classmethod
    def from_mask(cls, mask: Any) -> Region:
        """The region of a :class:`~motionkit.RegionMask`, stored exactly at the mask's size."""
        doc = json.loads(mask.to_json())
        return cls(mask=EncodedMask(size=tuple(doc["size"]), encoding=doc["encoding"], data=doc["data"]))


class ObjectSpec(Part):
    """An object the object-aware predictor moves as a whole (the spec's form of :class:`~motionkit.ObjectRegion`).

    Attributes:
        region: where the object is in the reference frame.
        tracks: indices into the spec's ``trajectories`` of the drags and pins that move or hold it.
    """

    region: Region
    tracks: tuple[pydantic.NonNegativeInt, ...] = ()


class Brush(Part):
    """A parametric motion source painted on the picture (a motion brush with direction sliders).

    Unlike the spec's ``mask`` (which only gates what may move), a brush *makes* motion inside
    its region: its terms add up, and several brushes add up too.

    Attributes:
        region: where the brush is painted (its soft edge fades the motion).
        direction: ``(dx, dy)`` pixels per frame, in pixels of the spec's reference size:
            a pixel inside is displaced by ``t * (dx, dy)`` at frame ``t`` (Lagrangian).
        proximity: motion towards (> 0) or away from (< 0) the camera: the region's content is
            scaled about its centre by ``(1 + proximity) ** t`` at frame ``t``.
        ambient: amplitude, pixels of the reference size, of small smooth looping noise motion
            (water, foliage, hair); every pixel stays within ``ambient`` of its place.
        ambient_scale: the noise's wavelength as a fraction of the picture's short side.
        period: frames of one ambient loop (default: the spec's frame count, so the clip loops).
        seed: the ambient noise's seed (same seed, same motion).
        name: an optional label.

    Example:
        >>> Brush(region=Region(polygons=[[(0, 0), (0.5, 0), (0.5, 0.5)]]), direction=(2, 0)).direction
        (2.0, 0.0)
    """

    region: Region
    direction: tuple[float, float] = (0.0, 0.0)
    proximity: float = pydantic.Field(default=0.0, gt=-1)
    ambient: float = pydantic.Field(default=0.0, ge=0)
    ambient_scale: float = pydantic.Field(default=0.25, gt=0)
    period: float | None = pydantic.Field(default=None, gt=0)
    seed: int = 0
    name: str | None = None


class CameraKey(Part):
    """The camera at one time, relative to the reference frame: 2D moves of the picture, 3D moves of the camera.

    The 2D moves act on the picture as a whole; the 3D moves move the camera through the scene
    and give parallax from the depth map passed to :meth:`MotionSpec.compile` (a flat plane at
    the look-at distance without one). 3D distances are fractions of the distance from the
    camera to the look-at point (the path's ``center`` at the depth there).

    Attributes:
        t: frame index (fractional allowed).
        pan: content shift ``(du, dv)`` as fractions of the width and height (``(0.1, 0)`` moves
            the picture right by a tenth of its width).
        zoom: content magnification (> 0; 1 = none); interpolated geometrically.
        rotate: content roll in degrees, counter-clockwise on screen.
        orbit: degrees the camera circles the look-at point to its right (the scene turns the
            other way; points nearer than it move against points beyond it).
        dolly: how far the camera moves towards the look-at point (< 1; near content grows most).
        truck: how far the camera moves right (content slides left, near content fastest).
        pedestal: how far the camera moves up (content slides down, near content fastest).
        easing: how the camera moves from this key to the next one.
    """

    t: float = pydantic.Field(ge=0)
    pan: UV = (0.0, 0.0)
    zoom: float = pydantic.Field(default=1.0, gt=0)
    rotate: float = 0.0
    orbit: float = 0.0
    dolly: float = pydantic.Field(default=0.0, lt=1)
    truck: float = 0.0
    pedestal: float = 0.0
    easing: Easing = "linear"

    @property
    def is_identity(self) -> bool:
        """True when this key does not move the picture."""
        return self.pan == (0.0, 0.0) and self.zoom == 1.0 and not any((self.rotate, *self.moves_3d))

    @property
    def moves_3d(self) -> tuple[float, float, float, float]:
        """``(orbit, dolly, truck, pedestal)``."""
        return (self.orbit, self.dolly, self.truck, self.pedestal)


class CameraPath(Part):
    """Camera keys over time; before the first key the camera is at rest, after the last it holds.

    Attributes:
        keyframes: at least one, times strictly increasing; a key at ``t = 0`` must be the
            identity (frame 0 is the reference).
        center: ``(u, v)`` fixed point of zoom and roll, and the look-at point of the 3D
            moves; default the picture's centre.
        field_of_view: the camera's horizontal field of view in degrees, for the 3D moves.

    Example:
        >>> CameraPath(keyframes=[CameraKey(t=15, zoom=1.2)]).keyframes[0].zoom
        1.2
    """

    keyframes: tuple[CameraKey, ...] = pydantic.Field(min_length=1)
    center: UV | None = None
    field_of_view: float = pydantic.Field(default=50.0, gt=1, lt=170)

    @pydantic.field_validator("keyframes")
    @classmethod
    def _times(cls, keyframes: tuple[CameraKey, ...]) -> tuple[CameraKey, ...]:
        times = [k.t for k in keyframes]
        if any(b <= a for a, b in zip(times, times[1:])):
            raise ValueError(f"camera key times must increase strictly, got {times}")
        if keyframes[0].t == 0 and not keyframes[0].is_identity:
            raise ValueError("a camera key at t = 0 must be the identity (pan 0, zoom 1, rotate 0): frame 0 is the reference")
        return keyframes


class BackendHints(Part):
    """What the author meant the shot for; renderers and validation read it, nothing requires it.

    Attributes:
        backend: a registered backend name (``"classical"``, ``"motion-i2v"`` ...).
        predictor_options, renderer_options: keyword arguments the author used (JSON values).
    """

    backend: str | None = None
    predictor_options: dict[str, pydantic.JsonValue] = pydantic.Field(default_factory=dict)
    renderer_options: dict[str, pydantic.JsonValue] = pydantic.Field(default_factory=dict)


def to_uv(x: float, y: float, size: tuple[int, int]) -> UV:
    """Pixel ``(x, y)`` on an ``(H, W)`` picture -> ``(u, v)``.

    Example:
        >>> to_uv(0, 0, (4, 8))
        (0.0625, 0.125)
    """
    h, w = size
    return ((float(x) + 0.5) / w, (float(y) + 0.5) / h)


def to_pixels(u: float, v: float, size: tuple[int, int]) -> tuple[float, float]:
    """``(u, v)`` -> pixel ``(x, y)`` on an ``(H, W)`` picture (the inverse of :func:`to_uv`).

    Example:
        >>> to_pixels(0.0625, 0.125, (8, 16))
        (0.5, 0.5)
    """
    h, w = size
    return (u * w - 0.5, v * h - 0.5)


def check_finite(*values: float, what: str) -> None:
    """Refuse NaN or infinite ``values`` with a message naming ``what``."""
    if not all(math.isfinite(float(v)) for v in values):
        raise InvalidInputError(f"{what} must be finite numbers, got {values}")
