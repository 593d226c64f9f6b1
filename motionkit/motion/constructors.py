"""The constructors of :class:`~motionkit.MotionField`: zeros, camera moves, velocity, trajectories, files.

Split from :mod:`motionkit.motion` (the value and its algebra); ``MotionField`` inherits
these, so they are called as ``MotionField.camera(...)`` and so on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from motionkit import limits
from motionkit.errors import InvalidInputError, NonFiniteError, ShapeMismatchError
from motionkit.io.image import image_to_tensor, parse_size
from motionkit.ops import camera as camera_ops
from motionkit.ops import field as field_ops

if TYPE_CHECKING:
    from motionkit.io.image import ImageLike
    from motionkit.mask import RegionMask
    from motionkit.motion import MotionField
    from motionkit.trajectory import Trajectory


def _frames(frames: Any, size: tuple[int, int]) -> int:
    """A valid frame count for an in-memory field of ``size``, refusing absurd allocations up front."""
    frames = limits.check_frames(frames)
    limits.check_field_bytes(frames, size)
    return frames


def as_float_tensor(values: Any) -> torch.Tensor:
    """A new, contiguous ``float32`` tensor of ``values`` (a tensor or array of real numbers)."""
    if isinstance(values, torch.Tensor):
        tensor = values.detach()
    else:
        try:
            array = np.asarray(values)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"a motion field must be a tensor or array (T, 2, H, W), got {type(values).__name__}") from exc
        if array.dtype.kind not in "biuf":
            raise InvalidInputError(f"a motion field must hold real numbers, got dtype {array.dtype}")
        tensor = torch.from_numpy(np.array(array, dtype=np.float32))
    if tensor.is_complex() or tensor.dtype == torch.bool:
        raise InvalidInputError(f"a motion field must hold real numbers, got {tensor.dtype}")
    return tensor.to(torch.float32).clone().contiguous()


class FieldConstructors:
    """``MotionField``'s class-level constructors (mixed into :class:`~motionkit.MotionField`)."""

    __slots__ = ()

    @classmethod
    def zeros(cls, frames: int, size: tuple[int, int]) -> MotionField:
        """A field that moves nothing: ``(frames, 2, H, W)`` zeros.

        Example:
            >>> MotionField.zeros(16, (320, 512)).flow.shape
            torch.Size([16, 2, 320, 512])
        """
        size = parse_size(size, "motion field")
        return cls._own(torch.zeros(_frames(frames, size), 2, *size))

    @classmethod
    def camera(
        cls,
        pan: tuple[float, float] = (0.0, 0.0),
        zoom: float = 1.0,
        rotate: float = 0.0,
        frames: int = 16,
        size: tuple[int, int] | None = None,
        easing: Literal["linear", "ease-in", "ease-out", "ease-in-out"] = "linear",
        center: tuple[float, float] | None = None,
    ) -> MotionField:
        """Where a pixel of frame 0 appears in frame t under a camera pan / zoom / roll.

        ``p_t = c + z_t R(theta_t) (p - c) + s_t * pan`` with progress ``s_t`` from ``easing``
        (0 at frame 0, 1 at the last), ``z_t = zoom ** s_t`` and ``theta_t = s_t * rotate``.

        Args:
            pan: total content shift ``(dx, dy)`` pixels at the last frame.
            zoom: content magnification at the last frame (> 1 zooms in).
            rotate: degrees at the last frame, counter-clockwise on screen.
            frames: T.
            size: ``(H, W)``, required.
            easing: ``"linear"``, ``"ease-in"``, ``"ease-out"`` or ``"ease-in-out"``.
            center: ``(x, y)`` fixed point of zoom and roll; default the image centre.

        Example:
            >>> f = MotionField.camera(zoom=2.0, frames=3, size=(5, 5))
            >>> f.flow[-1, :, 2, 4].tolist()   # 2 px right of the centre ends 4 px right
            [2.0, 0.0]
        """
        if size is None:
            raise InvalidInputError("MotionField.camera needs size=(H, W), e.g. the image's size")
        size = parse_size(size, "motion field")
        frames = _frames(frames, size)
        return cls(camera_ops.camera_field(pan=pan, zoom=zoom, rotate=rotate, frames=frames, size=size, easing=easing, center=center))

    @classmethod
    def from_velocity(
        cls,
        velocity: torch.Tensor | np.ndarray,
        frames: int = 16,
        mask: RegionMask | torch.Tensor | np.ndarray | None = None,
        *,
        substeps: int | None = None,
    ) -> MotionField:
        """Integrate a static velocity field (pixels per frame) by following particles.

        The cinemagraph case: water or clouds flow along a steady field ``v``. Each reference
        pixel moves by ``p_{t+1} = p_t + v(p_t)`` (Runge-Kutta steps of at most 2 px),
        so it follows the streamline rather than a straight line. ``mask`` (``(H, W)`` in
        [0, 1]) multiplies the velocity first: particles stop where the mask is 0.

        Args:
            velocity: ``(2, H, W)`` pixels per frame.
            frames: T.
            mask: optional ``(H, W)`` mask or :class:`~motionkit.RegionMask`.
            substeps: integration steps per frame (default: automatic, at most 16).

        Returns:
            ``(T, 2, H, W)`` field; frame ``t`` is ``p_t - p_0``.

        Example:
            >>> import torch
            >>> v = torch.zeros(2, 32, 32); v[0] = 1.5          # a steady current to the right
            >>> MotionField.from_velocity(v, frames=5).flow[4, 0, 16, 16].item()
            6.0
        """
        from motionkit.mask import RegionMask

        v = as_float_tensor(velocity)
        if v.dim() != 3 or v.shape[0] != 2:
            raise ShapeMismatchError(f"velocity must be (2, H, W) pixels per frame, got {tuple(v.shape)}")
        if not field_ops.all_finite(v):
            raise NonFiniteError("velocity holds NaN or infinite values")
        if mask is not None:
            m = mask.values if isinstance(mask, RegionMask) else RegionMask(mask).values
            if tuple(m.shape) != tuple(v.shape[1:]):
                raise ShapeMismatchError(f"mask {tuple(m.shape)} does not match velocity {tuple(v.shape[1:])}")
            v = v * m.to(v.device)
        frames = _frames(frames, (v.shape[1], v.shape[2]))
        return cls._own(field_ops.integrate_velocity(v, frames, substeps=substeps))

    @classmethod
    def from_trajectories(
        cls,
        trajectories: Iterable[Trajectory],
        size: tuple[int, int] | None = None,
        image: ImageLike | None = None,
        frames: int | None = None,
        mask: RegionMask | torch.Tensor | np.ndarray | None = None,
        **options: Any,
    ) -> MotionField:
        """Densify sparse trajectories with the classical ``"sparse"`` predictor (found through the registry).

        Args:
            trajectories: dragged (or pinned) points, see :class:`~motionkit.Trajectory`.
            size: ``(H, W)`` when no ``image`` is given.
            image: optional reference image; its edges guide the densification and its objects
                move as a whole (without one the field is the smooth ``mode="elastic"`` one).
            frames: T (default: the trajectories' length).
            mask: motion brush, 1 where things may move.
            options: passed to the predictor's constructor.

        Example:
            >>> from motionkit import Trajectory
            >>> drag = Trajectory.line((40, 30), (60, 30), frames=8)
            >>> motion = MotionField.from_trajectories([drag], size=(64, 96))  # doctest: +SKIP
        """
        from motionkit import registry
        from motionkit.mask import RegionMask

        tensor = image_to_tensor(image) if image is not None else None
        if tensor is not None:
            if size is not None and tuple(size) != tuple(tensor.shape[-2:]):
                raise ShapeMismatchError(f"size {tuple(size)} does not match the image's {tuple(tensor.shape[-2:])}")
            size = tuple(tensor.shape[-2:])
        elif size is None:
            raise InvalidInputError("from_trajectories needs an image or size=(H, W)")
        else:
            size = parse_size(size, "motion field")
        if mask is not None and not isinstance(mask, RegionMask):
            mask = RegionMask(mask)
        if tensor is None:
            options = {"mode": "elastic", **options}  # objects are found in the image: without one, a smooth field
        predictor = registry.create("predictor", "sparse", **options)
        return predictor.predict(tensor, list(trajectories), mask, frames=frames, size=size)
