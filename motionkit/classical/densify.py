"""The ``sparse`` motion predictor: drags and pins -> a dense field, without weights.

Three modes:

- ``"object"`` (default): a drag moves *the object under it* as a whole
  (:mod:`motionkit.ops.objects`: the object is the brush refined by GrabCut, or without a brush
  found from the image alone by :mod:`motionkit.ops.object_search`; inside it one drag
  translates, two give a similarity, three or more an as-rigid-as-possible deformation; the
  background stays still). :meth:`SparsePredictor.regions` shows the objects it found;
  ``predict(..., objects=...)`` takes corrected ones.
- ``"auto"``: ``"object"`` when a brush or object regions say what the objects are,
  ``"elastic"`` otherwise (the default before no-brush object finding was good enough).
- ``"elastic"``: the rubber sheet of :func:`motionkit.ops.densify.densify` (edge-aware
  geodesic distances, exact Shepard blending, Gaussian falloff, feathered brush), the
  behaviour before the object mode, kept exactly.

Example:
    >>> import torch
    >>> from motionkit.trajectory import Trajectory
    >>> image = torch.full((3, 64, 96), 0.9); image[:, 20:44, 30:60] = 0.1   # a dark box
    >>> drag = Trajectory.line((40, 30), (50, 26), frames=8)
    >>> motion = SparsePredictor(mode="object").predict(image, [drag, Trajectory([(10, 10)])])
    >>> motion.flow.shape, motion.flow[7, :, 40, 32].tolist(), motion.flow[7, :, 55, 80].tolist()
    (torch.Size([8, 2, 64, 96]), [10.0, -4.0], [0.0, 0.0])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from motionkit.components import MotionPredictor
from motionkit.errors import (
    InvalidInputError,
    NonFiniteError,
    OutOfBoundsError,
    ShapeMismatchError,
)
from motionkit.limits import check_frames
from motionkit.ops import field as field_ops
from motionkit.ops.densify import default_radius, densify, resample_time
from motionkit.ops.memo import MEMO, Recent, content_key, image_key
from motionkit.ops.objects import (
    default_feather,
    find_objects,
    layout_field,
    object_layout,
)

if TYPE_CHECKING:
    from motionkit.mask import ObjectRegion, RegionMask
    from motionkit.motion import MotionField
    from motionkit.trajectory import Trajectory

DEFAULT_FRAMES = 16
MODES = ("auto", "object", "elastic")
#: Object findings a predictor remembers (image, brush and start points each); layouts: the last few.
REMEMBERED_OBJECTS, REMEMBERED_LAYOUTS = 8, 2


class SparsePredictor(MotionPredictor):
    """Densify trajectories (and pins) under an optional motion brush into a :class:`MotionField`.

    Args:
        mode: ``"object"`` (default): each drag moves the object under it as a whole (see
            :meth:`regions`); ``"elastic"``: a rubber sheet that fades with distance from the
            drags, as before the object mode; ``"auto"``: object mode where a brush or
            ``objects`` are given, elastic otherwise.
        radius: elastic falloff radius in pixels (influence ``exp(-(d / radius)^2)``); default a
            quarter of the image's short side. In object mode it only scales ``edge_weight``.
        edge_aware: measure distances along the image, so colour edges separate regions
            (elastic: needs the image, with ``image=None`` distances are Euclidean; object: the
            geodesic ball that seeds an object's search without a brush).
        edge_weight: how strongly edges separate (a unit RGB step costs ``edge_weight * radius`` px).
        feather: elastic: width in pixels over which motion fades to 0 at the brush edge (default
            ``radius / 4``); object: width of the falloff outside each object's outline
            (default ~3 px at 512 px).

    Trajectories whose frame count differs from the requested ``frames`` are resampled
    linearly over normalised time (their first and last points are kept). A one-point
    trajectory, or one that never moves, pins its point: the field is zero there (in object
    mode it anchors the object it lies on: one pin and one drag turn the object about the pin).

    In object mode a predictor remembers what it found (the objects, for an image's content,
    brush and the drags' start points; and the objects' alphas and weights, for those and the
    start points): an edit that moves only where drags end, as a live preview's, re-uses them
    and pays only for the motion. Keep one predictor for a session of edits.

    Example:
        >>> SparsePredictor(radius=40.0)
        SparsePredictor(mode='object', radius=40.0, edge_aware=True, edge_weight=1.0, feather=None)
    """

    def __init__(
        self,
        mode: Literal["auto", "object", "elastic"] = "object",
        radius: float | None = None,
        edge_aware: bool = True,
        edge_weight: float = 1.0,
        feather: float | None = None,
    ) -> None:
        if mode not in MODES:
            raise InvalidInputError(f"mode must be one of {MODES}, got {mode!r}")
        for name, value in (("radius", radius), ("feather", feather)):
            if value is not None and not (np.isfinite(value) and value >= (0 if name == "feather" else 1e-6)):
                raise InvalidInputError(f"{name} must be a positive number of pixels or None, got {value!r}")
        if not (np.isfinite(edge_weight) and edge_weight >= 0):
            raise InvalidInputError(f"edge_weight must be >= 0, got {edge_weight!r}")
        self.mode = mode
        self.radius = None if radius is None else float(radius)
        self.edge_aware, self.edge_weight = bool(edge_aware), float(edge_weight)
        self.feather = None if feather is None else float(feather)
        self._found, self._layouts = Recent(REMEMBERED_OBJECTS), Recent(REMEMBERED_LAYOUTS)

    def __repr__(self) -> str:
        return (
            f"SparsePredictor(mode={self.mode!r}, radius={self.radius}, edge_aware={self.edge_aware}, "
            f"edge_weight={self.edge_weight}, feather={self.feather})"
        )

    def predict(
        self,
        image: torch.Tensor | None,
        trajectories: Sequence[Trajectory] = (),
        mask: RegionMask | None = None,
        *,
        frames: int | None = None,
        size: tuple[int, int] | None = None,
        objects: Sequence[ObjectRegion] | None = None,
    ) -> MotionField:
        """Dense ``(T, 2, H, W)`` field in pixels; frame 0 zero (no ``prompt``: the classical predictor reads none).

        Args:
            image: ``(3, H, W)`` in [0, 1] (guides the distances and, in object mode, finds the
                objects), or ``None`` with ``size`` (object mode then needs ``objects``).
            trajectories: :class:`Trajectory` objects (or ``(T, 2)`` arrays of (x, y) pixels).
            mask: motion brush (:class:`RegionMask` or ``(H, W)`` tensor); zero motion where 0.
                In object mode each connected part of the brush is one object, refined to the
                object inside it when painted loosely.
            frames: frame count (default: the longest trajectory's, else 16).
            size: ``(H, W)`` when there is no image.
            objects: object mode only: regions to use as given (front first) for the tracks
                they list, e.g. :meth:`regions`' output after a user corrected it; tracks not
                listed are grouped and segmented automatically.

        Raises:
            OutOfBoundsError: a trajectory starts outside the image.
            ShapeMismatchError: image, size, mask and objects disagree.
            InvalidInputError: ``objects`` in elastic mode, a track index out of range, or object
                mode without an image for a drag no given object lists.
        """
        from motionkit.motion import MotionField

        image, (h, w), values, starts, displacements = self._inputs(image, trajectories, mask, frames, size)
        if starts is None:
            return MotionField(torch.zeros(displacements, 2, h, w))
        if self._mode(values, objects) == "elastic":
            if objects is not None:
                raise InvalidInputError("objects= is for mode='object'; the elastic densifier has no objects")
            guide = image if (self.edge_aware and image is not None) else None
            field = densify(
                torch.from_numpy(starts),
                torch.from_numpy(displacements),
                (h, w),
                radius=self.radius,
                guide=guide,
                edge_weight=self.edge_weight,
                mask=values,
                feather=self.feather,
            )
            return MotionField(field)
        found, key = self._objects(image, (h, w), values, starts, displacements, objects)
        feather = default_feather((h, w)) if self.feather is None else self.feather
        moving = np.abs(displacements).max(axis=(1, 2)) > 0
        layout_key = None if key is None else (key, starts.tobytes(), feather)

        def lay_out() -> Any:
            brush = None if values is None else values.numpy()
            guide = None if image is None else np.ascontiguousarray(image.detach().to("cpu", torch.float32).numpy().transpose(1, 2, 0))
            return object_layout(found, starts, moving, (h, w), feather=feather, brush=brush, image=guide, as_given=len(objects or ()))

        layout = _remembered(self._layouts, "object-layout", layout_key, lay_out)
        field = torch.from_numpy(layout_field(layout, starts, displacements))
        if not field_ops.all_finite(field):
            raise NonFiniteError("the object motion is not finite; check the trajectories and the brush for NaN or inf")
        return MotionField._own(field)  # computed here, frame 0 zero by construction: no copy

    def regions(
        self,
        image: torch.Tensor | None,
        trajectories: Sequence[Trajectory] = (),
        mask: RegionMask | None = None,
        *,
        objects: Sequence[ObjectRegion] | None = None,
    ) -> list[ObjectRegion]:
        """The objects :meth:`predict` moves, front first, as :class:`~motionkit.ObjectRegion` values.

        Each holds the object's mask (1 on the object, at the image's size) and the indices of
        the tracks that move it (its drags and the pins lying on it); ``objects`` are returned
        as given (with the pins found on them). Correct a mask and pass the list back as
        ``predict(..., objects=...)``. Pins on no moving object are in no region. The elastic
        mode (and ``auto`` without a brush or ``objects``) has no objects: ``[]``.

        Example:
            >>> import torch
            >>> from motionkit.trajectory import Trajectory
            >>> image = torch.full((3, 40, 60), 0.9); image[:, 10:30, 10:30] = 0.1
            >>> [region] = SparsePredictor(mode="object").regions(image, [Trajectory.line((20, 20), (25, 20))])
            >>> region.tracks, float(region.mask.values.sum())
            ((0,), 400.0)
        """
        from motionkit.mask import ObjectRegion, RegionMask

        image, (h, w), values, starts, displacements = self._inputs(image, trajectories, mask, None, None)
        if starts is None or self._mode(values, objects) == "elastic":
            return []
        found, _ = self._objects(image, (h, w), values, starts, displacements, objects)
        return [ObjectRegion(RegionMask(torch.from_numpy(m.astype(np.float32))), tracks) for m, tracks in found]

    def _mode(self, brush: Any, objects: Any) -> str:
        """The mode of one call: ``auto`` is object mode when a brush or object regions are given."""
        if self.mode != "auto":
            return self.mode
        return "object" if (brush is not None or objects) else "elastic"

    def _inputs(
        self, image: Any, trajectories: Sequence[Any], mask: Any, frames: int | None, size: tuple[int, int] | None
    ) -> tuple[torch.Tensor | None, tuple[int, int], torch.Tensor | None, np.ndarray | None, Any]:
        """Checked image, ``(H, W)``, brush values and the tracks' starts ``(K, 2)`` and displacements ``(K, T, 2)``.

        With no trajectories ``starts`` is None and the last item is the frame count.
        """
        image, (h, w) = _image_and_size(image, size)
        paths = [_as_points(t) for t in trajectories]
        if frames is None:
            frames = max((len(p) for p in paths), default=DEFAULT_FRAMES)
        frames = check_frames(frames)
        for i, path in enumerate(paths):
            x, y = path[0]
            if not (-0.5 <= x < w - 0.5 and -0.5 <= y < h - 0.5):
                raise OutOfBoundsError(
                    f"trajectory {i} starts at ({x:g}, {y:g}), outside the {w} x {h} (W x H) image; "
                    f"start points need x in [0, {w - 1}] and y in [0, {h - 1}] pixels"
                )
        values = None
        if mask is not None:
            values = torch.as_tensor(getattr(mask, "values", mask), dtype=torch.float32)
            if tuple(values.shape) != (h, w):
                raise ShapeMismatchError(f"brush mask is {tuple(values.shape)} but the image is ({h}, {w}) (H, W)")
        if not paths:
            return image, (h, w), values, None, frames
        resampled = np.stack([resample_time(p, frames) for p in paths])  # (K, T, 2)
        return image, (h, w), values, resampled[:, 0].copy(), resampled - resampled[:, :1]

    def _objects(
        self,
        image: torch.Tensor | None,
        size: tuple[int, int],
        values: torch.Tensor | None,
        starts: np.ndarray,
        displacements: np.ndarray,
        objects: Sequence[ObjectRegion] | None,
    ) -> tuple[list[tuple[np.ndarray, tuple[int, ...]]], Any]:
        """Object-mode regions as ``(bool (H, W) mask, tracks)``, front first, and the key they are remembered under.

        The key holds what the search reads: the image's and the brush's contents, the start
        points' pixels, which tracks move, the given regions and the settings (None: not
        remembered, e.g. an image that cannot be keyed).
        """
        h, w = size
        k = len(starts)
        given = []
        for i, region in enumerate(objects or ()):
            region_mask = getattr(region, "mask", None)
            tracks = getattr(region, "tracks", None)
            if region_mask is None or tracks is None:
                raise InvalidInputError(f"objects[{i}] must be an ObjectRegion(mask, tracks), got {type(region).__name__}")
            if tuple(region_mask.size) != (h, w):
                raise ShapeMismatchError(f"objects[{i}]'s mask is {tuple(region_mask.size)} but the image is ({h}, {w}) (H, W)")
            bad = [t for t in tracks if t >= k]
            if bad:
                raise InvalidInputError(f"objects[{i}] lists tracks {bad}, but only {k} trajectories were given (0-based)")
            given.append((region_mask.values.detach().cpu().numpy() > 0.5, tuple(tracks)))
        moving = np.abs(displacements).max(axis=(1, 2)) > 0
        listed = {t for _, tracks in given for t in tracks}
        unlisted = [t for t in range(k) if moving[t] and t not in listed]
        if unlisted and image is None:
            raise InvalidInputError(
                f"mode='object' needs the image to find the objects that tracks {unlisted} move; "
                "pass the image, list the tracks in objects=, or use mode='elastic'"
            )
        radius = default_radius((h, w)) if self.radius is None else self.radius
        contrast_cost = self.edge_weight * radius if self.edge_aware else 0.0
        key = self._objects_key(image, (h, w), values, starts, moving, given, contrast_cost)

        def find() -> list[tuple[np.ndarray, tuple[int, ...]]]:
            guide = np.zeros((h, w, 3), np.float32) if image is None else np.ascontiguousarray(image.detach().to("cpu", torch.float32).numpy().transpose(1, 2, 0))
            return find_objects(
                guide,
                starts,
                moving,
                contrast_cost=contrast_cost,
                brush=None if values is None else values.numpy(),
                given=given,
                image_key=None if image is None else image_key(image),
                brush_key=None if values is None else image_key(values),
            )

        return _remembered(self._found, "objects", key, find), key

    @staticmethod
    def _objects_key(
        image: torch.Tensor | None,
        size: tuple[int, int],
        values: torch.Tensor | None,
        starts: np.ndarray,
        moving: np.ndarray,
        given: list[tuple[np.ndarray, tuple[int, ...]]],
        contrast_cost: float,
    ) -> Any:
        """What :func:`~motionkit.ops.objects.find_objects` depends on, as a hashable key.

        Contents, not identities: ``mk.animate`` makes a new tensor of the same photo on every
        call (a tensor's digest is itself remembered per tensor and in-place version, so a live
        preview hashes its image once). The starts count as the search reads them, rounded to
        the pixel; where a drag ends does not count.
        """
        h, w = size

        def digest(tensor: torch.Tensor) -> Any:
            return content_key(tensor.detach().to("cpu").contiguous().numpy(), image_key(tensor))

        cells = np.clip(np.rint(starts), 0, [w - 1, h - 1]).astype(np.int64)
        return (
            (h, w),
            None if image is None else digest(image),
            None if values is None else digest(values),
            cells.tobytes(),
            moving.tobytes(),
            tuple((content_key(mask), tracks) for mask, tracks in given),
            float(contrast_cost),
        )


def _remembered(recent: Recent, kind: str, key: Any, make: Callable[[], Any]) -> Any:
    """``make()``'s value under ``key`` (None: not remembered), from a predictor's own memo first.

    Then the process-wide one, which a new predictor of the same photo (one per ``mk.animate``
    call) finds too; what is made is kept in both.
    """
    found = recent.get(key)
    if found is None:
        shared = None if key is None else (kind, key)
        found = MEMO.get(shared)
        if found is None:
            found = make()
            MEMO.put(shared, found)
    recent.put(key, found)
    return found


def _image_and_size(image: Any, size: tuple[int, int] | None) -> tuple[torch.Tensor | None, tuple[int, int]]:
    """The guide image as ``(3, H, W)`` float (or None) and the field's ``(H, W)``."""
    if image is None:
        if size is None:
            raise InvalidInputError("pass the image, or size=(H, W) when predicting without one")
        return None, (int(size[0]), int(size[1]))
    if not (isinstance(image, torch.Tensor) and image.dim() == 3 and image.shape[0] == 3):
        from motionkit.io.image import image_to_tensor

        image = image_to_tensor(image)  # a uint8 (H, W, 3) array, a path, ...
    if size is not None and tuple(int(s) for s in size) != tuple(image.shape[1:]):
        raise ShapeMismatchError(f"size={tuple(size)} disagrees with the image's {tuple(image.shape[1:])} (H, W)")
    return image, (int(image.shape[1]), int(image.shape[2]))


def _as_points(trajectory: Any) -> np.ndarray:
    """A trajectory (object with ``as_tensor`` or array-like) as ``float64 (T, 2)`` (x, y)."""
    tensor = trajectory.as_tensor() if hasattr(trajectory, "as_tensor") else torch.as_tensor(trajectory)
    points = np.asarray(tensor, dtype=np.float64).reshape(-1, 2) if tensor.numel() % 2 == 0 else None
    if points is None or len(points) == 0 or not np.isfinite(points).all():
        raise InvalidInputError(f"a trajectory must be finite (T, 2) pixel points (x, y), got {tuple(tensor.shape)}")
    return points
