"""The ``sparse`` motion predictor: drags and pins -> a dense field, without weights.

A thin shell over :func:`motionkit.ops.densify.densify` (edge-aware geodesic distances,
exact Shepard blending, Gaussian falloff, feathered brush; the method and why it was chosen
are in that module's docstring).

Example:
    >>> import torch
    >>> from motionkit.trajectory import Trajectory
    >>> image = torch.rand(3, 64, 96)
    >>> drag = Trajectory.line((40, 30), (50, 26), frames=8)
    >>> motion = SparsePredictor().predict(image, [drag, Trajectory([(10, 10)])])
    >>> motion.flow.shape, [round(v, 3) for v in motion.flow[7, :, 30, 40].tolist()]
    (torch.Size([8, 2, 64, 96]), [10.0, -4.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from motionkit.components import MotionPredictor
from motionkit.errors import InvalidInputError, OutOfBoundsError, ShapeMismatchError
from motionkit.limits import check_frames
from motionkit.ops.densify import densify, resample_time

if TYPE_CHECKING:
    from motionkit.mask import RegionMask
    from motionkit.motion import MotionField
    from motionkit.trajectory import Trajectory

DEFAULT_FRAMES = 16


class SparsePredictor(MotionPredictor):
    """Densify trajectories (and pins) under an optional motion brush into a :class:`MotionField`.

    Args:
        radius: falloff radius in pixels (influence ``exp(-(d / radius)^2)``); default a
            quarter of the image's short side.
        edge_aware: measure distances along the image, so colour edges separate regions
            (needs the image; with ``image=None`` distances are Euclidean).
        edge_weight: how strongly edges separate (a unit RGB step costs ``edge_weight * radius`` px).
        feather: width in pixels over which motion fades to 0 at the brush edge; default ``radius / 4``.

    Trajectories whose frame count differs from the requested ``frames`` are resampled
    linearly over normalised time (their first and last points are kept). A one-point
    trajectory, or one that never moves, pins its point: the field is zero there.

    Example:
        >>> SparsePredictor(radius=40.0)
        SparsePredictor(radius=40.0, edge_aware=True, edge_weight=1.0, feather=None)
    """

    def __init__(
        self, radius: float | None = None, edge_aware: bool = True, edge_weight: float = 1.0, feather: float | None = None
    ) -> None:
        for name, value in (("radius", radius), ("feather", feather)):
            if value is not None and not (np.isfinite(value) and value >= (0 if name == "feather" else 1e-6)):
                raise InvalidInputError(f"{name} must be a positive number of pixels or None, got {value!r}")
        if not (np.isfinite(edge_weight) and edge_weight >= 0):
            raise InvalidInputError(f"edge_weight must be >= 0, got {edge_weight!r}")
        self.radius = None if radius is None else float(radius)
        self.edge_aware, self.edge_weight = bool(edge_aware), float(edge_weight)
        self.feather = None if feather is None else float(feather)

    def __repr__(self) -> str:
        return (
            f"SparsePredictor(radius={self.radius}, edge_aware={self.edge_aware}, "
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
    ) -> MotionField:
        """Dense ``(T, 2, H, W)`` field in pixels; frame 0 zero (no ``prompt``: the classical predictor reads none).

        Args:
            image: ``(3, H, W)`` in [0, 1] (guides the edge-aware distances), or ``None`` with ``size``.
            trajectories: :class:`Trajectory` objects (or ``(T, 2)`` arrays of (x, y) pixels).
            mask: motion brush (:class:`RegionMask` or ``(H, W)`` tensor); zero motion where 0.
            frames: frame count (default: the longest trajectory's, else 16).
            size: ``(H, W)`` when there is no image.

        Raises:
            OutOfBoundsError: a trajectory starts outside the image.
            ShapeMismatchError: image, size and mask disagree.
        """
        from motionkit.motion import MotionField

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
            return MotionField(torch.zeros(frames, 2, h, w))
        resampled = np.stack([resample_time(p, frames) for p in paths])  # (K, T, 2)
        starts = torch.from_numpy(resampled[:, 0])
        displacements = torch.from_numpy(resampled - resampled[:, :1])
        guide = image if (self.edge_aware and image is not None) else None
        field = densify(
            starts,
            displacements,
            (h, w),
            radius=self.radius,
            guide=guide,
            edge_weight=self.edge_weight,
            mask=values,
            feather=self.feather,
        )
        return MotionField(field)


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
