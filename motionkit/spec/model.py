"""``MotionSpec``: one versioned, resolution-independent document for a whole shot.

A spec says what should move and how: tracks (drags and pins, keyframed, eased, with
visibility), the objects they move, the region that may move at all, the camera path, the
prompt and the backend it was meant for, with the frame count, frame rate and the size it
was authored at. It is what the command line, files and reports speak; :meth:`MotionSpec.compile`
turns it into a :class:`~motionkit.MotionField` for one picture, at that picture's size.

Example:
    >>> from motionkit import MotionSpec
    >>> spec = MotionSpec.from_pixels((300, 451), frames=8, drags=[[(265, 240), (290, 228)]], pins=[(60, 250)])
    >>> [len(t.keyframes) for t in spec.trajectories], spec.trajectories[1].is_pin
    ([2, 1], True)
    >>> MotionSpec.from_json(spec.to_json()) == spec
    True
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pydantic

from motionkit.errors import InvalidInputError, MotionFileError
from motionkit.limits import check_frames
from motionkit.spec import timing
from motionkit.spec.camera_moves import camera_from_pixels
from motionkit.spec.document import (
    BackendHints,
    Brush,
    CameraPath,
    Keyframe,
    ObjectSpec,
    Part,
    Region,
    Track,
    to_uv,
    validating,
    validation_message,
)

if TYPE_CHECKING:
    from motionkit.mask import ObjectRegion, RegionMask
    from motionkit.motion import MotionField
    from motionkit.spec.validate import SpecWarning
    from motionkit.trajectory import Trajectory

#: The spec version this motionkit writes.
SPEC_VERSION = 1
#: Versions it reads: each older one maps to a function upgrading its document by one version.
_UPGRADES: dict[int, Any] = {}


class MotionSpec(Part):
    """A shot's motion as a document: what moves, how, and over how many frames.

    Coordinates are ``(u, v)`` with pixel centres (``u = (x + 0.5) / W``), times are frame
    indices of ``frames`` (fractional allowed); see the conventions page.

    Attributes:
        spec_version: the document's version (:data:`SPEC_VERSION`).
        frames: frames of the shot, frame 0 (the reference image) included.
        fps: frames per second.
        reference_size: ``(H, W)`` of the picture it was authored on (painted masks are stored
            at their own size; pixel options such as a brush's speed are read in these pixels).
        trajectories: drags and pins (a pin: one keyframe), in order; objects and reports
            refer to them by index.
        objects: regions the object-aware predictor moves as a whole, front first.
        brushes: parametric motion sources (direction, proximity, ambient noise), added to the
            object motion inside their painted regions; the ``mask`` does not gate them.
        mask: the region that may move (1 = may move, today's ``--brush``); motion outside it
            is zero, camera aside.
        camera: the camera path, composed over the object motion.
        static_camera: the author's promise that the camera does not move (an error together
            with a camera path).
        prompt: a text prompt for backends that read one.
        hints: the backend and options the author meant the shot for.

    Raises:
        InvalidInputError: a malformed document; the message names the place (``trajectories.1.keyframes.0.t``).
    """

    spec_version: Literal[1] = SPEC_VERSION
    frames: int = pydantic.Field(ge=2)
    fps: float = pydantic.Field(default=8.0, gt=0)
    reference_size: tuple[pydantic.PositiveInt, pydantic.PositiveInt]
    trajectories: tuple[Track, ...] = ()
    objects: tuple[ObjectSpec, ...] = ()
    brushes: tuple[Brush, ...] = ()
    mask: Region | None = None
    camera: CameraPath | None = None
    static_camera: bool = False
    prompt: str | None = None
    hints: BackendHints = BackendHints()

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> MotionSpec:
        check_frames(self.frames)
        last = self.frames - 1
        for i, track in enumerate(self.trajectories):
            if track.keyframes[-1].t > last:
                raise ValueError(f"trajectories.{i}: keyframe at t = {track.keyframes[-1].t} is past the last frame ({last})")
        if self.camera is not None and self.camera.keyframes[-1].t > last:
            raise ValueError(f"camera: key at t = {self.camera.keyframes[-1].t} is past the last frame ({last})")
        for i, obj in enumerate(self.objects):
            wrong = [t for t in obj.tracks if t >= len(self.trajectories)]
            if wrong:
                raise ValueError(f"objects.{i}.tracks: {wrong} name no trajectory (the spec has {len(self.trajectories)})")
        if self.static_camera and self.camera is not None:
            raise ValueError("static_camera is true but the spec has a camera path: drop one of them")
        return self

    # --- files ---------------------------------------------------------------------------
    def to_json(self, indent: int | None = 1) -> str:
        """The document as JSON (floats in their shortest exact form, so it reads back equal)."""
        return self.model_dump_json(indent=indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> MotionSpec:
        """Read a spec document; an older version is upgraded, an unknown one refused.

        Raises:
            MotionFileError: not JSON, no or an unknown ``spec_version``, or an invalid
                document (the message names each problem's place).
        """
        try:
            doc = json.loads(text)
        except (ValueError, TypeError, RecursionError) as exc:
            raise MotionFileError(f"a motion spec must be JSON ({type(exc).__name__}: {str(exc)[:120]})") from None
        return cls.from_document(doc)

    @classmethod
    def from_document(cls, doc: Any) -> MotionSpec:
        """A spec from an already parsed JSON document (``dict``), upgrading older versions."""
        if not isinstance(doc, dict) or "spec_version" not in doc:
            raise MotionFileError("not a motion spec: expected a JSON object with a 'spec_version'")
        version = doc["spec_version"]
        while isinstance(version, int) and not isinstance(version, bool) and version in _UPGRADES:
            doc = _UPGRADES[version](doc)
            version = doc["spec_version"]
        if version != SPEC_VERSION or isinstance(version, bool):
            readable = ", ".join(str(v) for v in sorted({*_UPGRADES, SPEC_VERSION}))
            newer = isinstance(version, int) and not isinstance(version, bool) and version > SPEC_VERSION
            hint = "; it was written by a newer motionkit: upgrade motionkit" if newer else ""
            raise MotionFileError(f"spec_version {version!r} is not one this motionkit reads (it reads {readable}){hint}")
        try:
            with validating():
                return cls.model_validate(doc)
        except pydantic.ValidationError as exc:
            raise MotionFileError(f"invalid motion spec: {validation_message(exc)}") from None

    def save(self, path: str | os.PathLike) -> Path:
        """Write the spec as JSON to ``path``, atomically."""
        from motionkit.spec.files import save_json

        return save_json(self.to_json(), path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> MotionSpec:
        """Read a spec file written by :meth:`save` (or by hand, or by another tool)."""
        from motionkit.spec.files import load_json

        return load_json(path, "motion spec", cls.from_json)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of the document (what ``motionkit spec schema`` prints)."""
        return cls.model_json_schema()

    # --- building ------------------------------------------------------------------------
    @classmethod
    def from_pixels(
        cls,
        size: tuple[int, int],
        *,
        frames: int = 16,
        fps: float = 8.0,
        drags: Sequence[Sequence[tuple[float, float]]] = (),
        pins: Sequence[tuple[float, float]] = (),
        mask: RegionMask | None = None,
        camera: Mapping[str, Any] | None = None,
        prompt: str | None = None,
        hints: BackendHints | None = None,
    ) -> MotionSpec:
        """The spec of drags, pins, a brush and a camera move given in pixels of a ``size = (H, W)`` picture.

        Args:
            drags: point lists ``[(x, y), ...]``; control point ``k`` of ``K`` is reached at
                frame ``k (T - 1) / (K - 1)`` along a smooth (pchip) path, as
                :meth:`Trajectory.from_points`.
            pins: points that stay put.
            mask: the region that may move, stored at its own size.
            camera: moves in pixels, ``{"pan": (dx, dy), "zoom": z, "rotate": deg, "orbit": deg,
                "dolly": d, "truck": d, "pedestal": d}`` reached at the last frame, or keyed and
                eased (``{"keys": [{"t": 8, "orbit": 10, "easing": "ease-in"}, ...]}``); see
                :func:`~motionkit.spec.camera_moves.camera_from_pixels`.
            prompt: the text prompt, for backends that read one.
            hints: backend hints kept in the document.

        Parametric brushes (direction, proximity, ambient noise) are added with
        ``spec.with_changes(brushes=[...])``; the ``mask`` does not gate them.
        """
        h, w = (int(v) for v in size)
        frames = check_frames(frames)
        tracks = []
        for drag in drags:
            points = list(drag)
            times = np.linspace(0.0, frames - 1.0, len(points)) if len(points) > 1 else [0.0]
            tracks.append(Track(keyframes=[Keyframe(t=float(t), u=to_uv(x, y, (h, w))[0], v=to_uv(x, y, (h, w))[1])
                                           for t, (x, y) in zip(times, points)]))
        for x, y in pins:
            u, v = to_uv(x, y, (h, w))
            tracks.append(Track(keyframes=[Keyframe(t=0.0, u=u, v=v)]))
        path = None
        if camera:
            path = camera_from_pixels(camera, frames, (h, w))
        return cls(frames=frames, fps=fps, reference_size=(h, w), trajectories=tracks,
                   mask=None if mask is None else Region.from_mask(mask), camera=path, prompt=prompt,
                   hints=hints or BackendHints())

    @classmethod
    def from_tracks(cls, tracks: Any, size: tuple[int, int], visibility: Any = None, fps: float = 8.0) -> MotionSpec:
        """A spec from point tracks ``(T, N, 2)`` (x, y) pixels of an ``(H, W)`` picture, with optional ``visibility (T, N)``.

        Each track gets one keyframe per frame (linear between them), so nothing is lost.

        Example:
            >>> import numpy as np
            >>> spec = MotionSpec.from_tracks(np.array([[[10.0, 20.0]], [[14.0, 20.0]]]), size=(100, 200))
            >>> spec.to_tracks((100, 200))[0][:, 0].tolist()
            [[10.0, 20.0], [14.0, 20.0]]
        """
        from motionkit.spec.interop import tracks_to_spec

        return tracks_to_spec(cls, tracks, size, visibility, fps)

    def to_tracks(self, size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(tracks float32 (T, N, 2), visibility bool (T, N))``: every trajectory at every frame, pixels of ``size``."""
        from motionkit.spec.interop import spec_to_tracks

        return spec_to_tracks(self, size or self.reference_size)

    @classmethod
    def import_tracks(cls, path: str | os.PathLike, format: str, size: tuple[int, int] | None = None,
                      fps: float | None = None) -> MotionSpec:
        """Read a peer's point-track file: ``format`` one of :data:`motionkit.io.track_formats.FORMATS`.

        The formats: ``"wan-move"``, ``"ati"``, ``"tora"``, ``"sg-i2v"``, ``"dragnuwa"``,
        ``"mofa-video"``, ``"motion-i2v"``. ``size`` is ``(H, W)`` of the picture the file's
        pixels belong to (the files do not say; default: the project's own video size);
        ``fps`` defaults to the project's frame rate where it fixes one (ATI: 16), else 8.
        """
        from motionkit.spec.interop import import_tracks

        return import_tracks(cls, path, format, size, fps)

    def export_tracks(self, path: str | os.PathLike, format: str, size: tuple[int, int] | None = None) -> None:
        """Write the trajectories as a peer's point-track file, in pixels of ``size`` (default the reference size)."""
        from motionkit.spec.interop import export_tracks

        export_tracks(self, path, format, size)

    def with_frames(self, frames: int) -> MotionSpec:
        """The same shot over ``frames`` frames: every time scaled by ``(frames - 1) / (self.frames - 1)``."""
        frames = check_frames(frames)
        if frames == self.frames:
            return self
        scale = (frames - 1) / (self.frames - 1)
        tracks = [t.model_copy(update={"keyframes": tuple(k.model_copy(update={"t": k.t * scale}) for k in t.keyframes)})
                  for t in self.trajectories]
        camera = None
        if self.camera is not None:
            keys = tuple(k.model_copy(update={"t": k.t * scale}) for k in self.camera.keyframes)
            camera = self.camera.model_copy(update={"keyframes": keys})
        return self.model_copy(update={"frames": frames, "trajectories": tuple(tracks), "camera": camera})

    def extended(self, other: MotionSpec) -> MotionSpec:
        """This spec with ``other``'s tracks appended (its objects re-indexed), masks united, prompt taken if set.

        The frame count, rate and reference size stay this spec's (``other``'s times must fit in
        them). Two camera paths cannot be merged: that is an error.

        Raises:
            InvalidInputError: both specs have a camera path.
        """
        if self.camera is not None and other.camera is not None:
            raise InvalidInputError("both specs have a camera path; edit one spec's camera instead of adding a second")
        offset = len(self.trajectories)
        objects = [obj.model_copy(update={"tracks": tuple(t + offset for t in obj.tracks)}) for obj in other.objects]
        mask = self.mask if other.mask is None else other.mask
        if self.mask is not None and other.mask is not None:
            mask = Region.from_mask(self.mask_at(self.reference_size) | other.mask_at(self.reference_size))
        return self.with_changes(
            trajectories=[*self.trajectories, *other.trajectories], objects=[*self.objects, *objects], mask=mask,
            camera=self.camera if other.camera is None else other.camera,
            static_camera=self.static_camera or other.static_camera,
            prompt=self.prompt if other.prompt is None else other.prompt,
        )

    def with_changes(self, **changes: Any) -> MotionSpec:
        """A copy with fields replaced, validated again (``spec.with_changes(fps=24)``)."""
        try:
            with validating():
                return type(self).model_validate({**self.model_dump(), **changes})
        except pydantic.ValidationError as exc:
            raise InvalidInputError(f"invalid MotionSpec: {validation_message(exc)}") from None

    # --- views at a size -------------------------------------------------------------------
    def trajectories_at(self, size: tuple[int, int]) -> list[Trajectory]:
        """Every track as a :class:`~motionkit.Trajectory` of ``frames`` positions on an ``(H, W)`` picture."""
        from motionkit.trajectory import Trajectory

        return [Trajectory(timing.track_positions(t, self.frames, size)) for t in self.trajectories]

    def visibility(self) -> np.ndarray:
        """``bool (K, T)``: whether each track is visible in each frame."""
        return np.array([timing.track_visibility(t, self.frames) for t in self.trajectories], dtype=bool).reshape(-1, self.frames)

    def mask_at(self, size: tuple[int, int]) -> RegionMask | None:
        """The region that may move as a :class:`~motionkit.RegionMask` of ``size``, or None."""
        from motionkit.spec.regions import region_mask

        return None if self.mask is None else region_mask(self.mask, size)

    def objects_at(self, size: tuple[int, int]) -> list[ObjectRegion]:
        """The objects as :class:`~motionkit.ObjectRegion` values of ``size``, front first."""
        from motionkit.mask import ObjectRegion
        from motionkit.spec.regions import region_mask

        return [ObjectRegion(region_mask(obj.region, size), obj.tracks) for obj in self.objects]

    def camera_at(self, size: tuple[int, int], depth: Any = None, depth_kind: str | None = None) -> MotionField | None:
        """The camera path's field ``(frames, 2, H, W)`` (pixels), or None without a camera path.

        ``depth``: a depth map for the 3D moves' parallax (see :meth:`compile`).
        """
        from motionkit.spec.compile import camera_motion

        return None if self.camera is None else camera_motion(self.camera, self.frames, size, depth, depth_kind)

    def render_mask(self, size: tuple[int, int], motion: MotionField | None = None) -> RegionMask | None:
        """The mask a renderer keeps still outside: the region mask, or None when a camera moves every pixel.

        Given the compiled ``motion`` (in memory), the mask is widened to where its content
        travels (:meth:`RegionMask.swept`), so an object dragged past its brush is not cut off.
        """
        mask = None if self.camera is not None else self.mask_at(size)
        if mask is None or motion is None or motion.is_lazy:
            return mask
        return mask.swept(list(motion.iter_frames()))  # in memory: a list, swept on two threads

    def validate_for(self, backend: str = "classical", size: tuple[int, int] | None = None) -> list[SpecWarning]:
        """What may go wrong rendering this spec with ``backend``, each with its place in the document.

        Tracks that leave the picture while marked visible, drags that pull one object apart,
        motions beyond what the backend handles well, frame counts it cannot make in one
        window, parts it ignores. Warnings unless the render is impossible, which raises.

        Example:
            >>> spec = MotionSpec.from_pixels((100, 100), frames=4, drags=[[(50, 50), (140, 50)]])
            >>> [str(w) for w in spec.validate_for("classical")][0][:40]
            'trajectories.0.keyframes.0: the point le'
        """
        from motionkit.spec.validate import validate_for

        return validate_for(self, backend, size)

    def compile(self, image: Any, predictor: Any = "sparse", *, depth: Any = None, depth_kind: str | None = None,
                **options: Any) -> MotionField:
        """The shot's :class:`~motionkit.MotionField` for ``image``, at the image's size.

        Tracks are placed on the image by their ``(u, v)`` (so their displacements scale
        exactly with its size), the region mask and objects are rasterised or resampled to it,
        the predictor densifies the tracks (the object-aware one needs the image), the brushes
        add their motion, and the camera path is composed over the result (the objects move,
        then the camera films them). See :mod:`motionkit.spec.compile` for the layers.

        Args:
            image: the reference frame (a path, ``uint8 (H, W, 3)`` array, ``(3, H, W)`` tensor).
            predictor: a registered predictor name or a ready predictor (``options`` then empty).
            depth: the scene's depth map for the camera's 3D moves: an ``(H, W)`` array or a
                ``.npy`` file of depths (larger = farther), or an image (white = near); resized
                to the image. Without one the scene is a flat plane.
            depth_kind: ``"depth"`` or ``"disparity"`` to override how ``depth`` is read.
            **options: the predictor's constructor arguments (pixel options are in the image's pixels).

        Returns:
            ``(frames, 2, H, W)`` field in pixels; frame 0 is zero.
        """
        from motionkit.spec.compile import compile_spec

        return compile_spec(self, image, predictor, options, depth, depth_kind)
