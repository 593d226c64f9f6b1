"""The algebra and edits of :class:`~motionkit.MotionField`, lazy in and lazy out where they can be.

Split from :mod:`motionkit.motion` (the value: storage, streaming, views); ``MotionField``
inherits these. Per-frame operations (``+``, ``-``, ``*``, ``compose``, ``masked``,
``resize``, spatial ``smooth``) are batched over an in-memory field and applied frame by
frame to a lazy one, with the same numbers; ``reverse``, ``loop`` and temporal smoothing need
every frame at once (whole-field).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from motionkit.errors import InvalidInputError, NonFiniteError, ShapeMismatchError
from motionkit.io.image import parse_size
from motionkit.ops import field as field_ops

if TYPE_CHECKING:
    from motionkit.mask import RegionMask
    from motionkit.motion import MotionField


class FieldAlgebra:
    """``MotionField``'s algebra and edits (mixed into :class:`~motionkit.MotionField`)."""

    __slots__ = ()

    # --- per-frame maps (lazy in, lazy out) ------------------------------------------------
    def _map(self, fn: Callable[[torch.Tensor], torch.Tensor], size: tuple[int, int] | None = None) -> MotionField:
        """``fn`` over ``(N, 2, H, W)`` frames: batched for an in-memory field, frame by frame for a lazy one."""
        if self._flow is not None:
            return type(self)._own(fn(self._flow), self._reference)
        return type(self)._lazy(lambda: (fn(f[None])[0] for f in self.iter_frames()), self._count, size or self._size,
                                reference=self._reference)

    def _zip(self, other: MotionField, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> MotionField:
        """``fn(a, b)`` over matching frames of two fields; lazy if either is."""
        if self._flow is not None and other._flow is not None:
            return type(self)._own(fn(self._flow, other._flow), self._reference)
        return type(self)._lazy(
            lambda: (fn(a[None], b[None])[0] for a, b in zip(self.iter_frames(), other.iter_frames())), self._count, self._size,
            reference=self._reference,
        )

    # --- algebra -------------------------------------------------------------------------
    def _check_same(self, other: MotionField, op: str) -> None:
        if not isinstance(other, FieldAlgebra):
            raise InvalidInputError(f"{op} needs another MotionField, got {type(other).__name__}")
        if (other._count, other._size) != (self._count, self._size):
            raise ShapeMismatchError(
                f"cannot {op} fields of shapes {(self._count, 2, *self._size)} and {(other._count, 2, *other._size)}; "
                "resize one (MotionField.resize) or match the frame counts"
            )
        if other._reference != self._reference:
            raise InvalidInputError(
                f"cannot {op} a field seen from frame {self._reference} and one seen from frame {other._reference}; "
                "bring one to the other's reference first (field.with_reference(k))"
            )

    def _need_reference0(self, op: str) -> None:
        """Operations that play time from frame 0 need frame 0 as the reference."""
        if self._reference != 0:
            raise InvalidInputError(
                f"{op} plays the motion from frame 0 but this field's reference is frame {self._reference}; "
                "call field.with_reference(0) first"
            )

    def __add__(self, other: MotionField) -> MotionField:
        """Superpose two motions: displacements add, pixel by pixel (``(a + b)_t(p) = a_t(p) + b_t(p)``).

        Example:
            >>> a = MotionField.camera(pan=(2, 0), frames=2, size=(4, 4))
            >>> (a + a).flow[1, :, 0, 0].tolist()
            [4.0, 0.0]
        """
        if not isinstance(other, FieldAlgebra):
            return NotImplemented
        self._check_same(other, "add")
        return self._zip(other, lambda a, b: a + b.to(a.device))

    def __sub__(self, other: MotionField) -> MotionField:
        """Difference of two motions, pixel by pixel: ``(a - b)_t(p) = a_t(p) - b_t(p)``."""
        if not isinstance(other, FieldAlgebra):
            return NotImplemented
        self._check_same(other, "subtract")
        return self._zip(other, lambda a, b: a - b.to(a.device))

    def __neg__(self) -> MotionField:
        """Every vector reversed: ``(-a)_t(p) = -a_t(p)`` (not the inverse motion; see :meth:`reverse`)."""
        return self._map(torch.neg)

    def __mul__(self, weight: float | Sequence[float] | torch.Tensor | np.ndarray) -> MotionField:
        """Scale every vector by a number, or frame ``t`` by ``weight[t]`` (length T).

        Example:
            >>> a = MotionField.camera(pan=(4, 0), frames=3, size=(4, 4))
            >>> (a * 0.5).flow[2, 0, 0, 0].item(), (a * [0, 0, 2]).flow[2, 0, 0, 0].item()
            (2.0, 8.0)
        """
        if isinstance(weight, numbers.Real) and not isinstance(weight, bool):
            weight = np.float32(weight)
        if isinstance(weight, torch.Tensor):
            w = weight.detach().to("cpu", torch.float32)
        else:
            try:
                w = torch.from_numpy(np.asarray(weight, dtype=np.float32))
            except (TypeError, ValueError):
                return NotImplemented
        if not field_ops.all_finite(w):
            raise NonFiniteError("weights must be finite numbers")
        if w.dim() == 0:
            scale = w.item()
            return self._map(lambda f: f * scale)
        w = w.flatten()
        if w.numel() != self.frames:
            raise ShapeMismatchError(f"per-frame weights must have one value per frame ({self.frames}), got {w.numel()}")
        if self._flow is not None:
            return type(self)._own(self._flow * w.to(self._flow.device).view(-1, 1, 1, 1), self._reference)
        return type(self)._lazy(lambda: (f * w[t].item() for t, f in enumerate(self.iter_frames())), self._count, self._size,
                                reference=self._reference)

    __rmul__ = __mul__

    def compose(self, other: MotionField) -> MotionField:
        """Chain ``other`` after this motion, ``other`` being measured where this one ends.

        ``result_t(p) = self_t(p) + other_t(p + self_t(p))``: a reference pixel ``p`` first
        moves by this field to ``q = p + self_t(p)``, then by ``other`` read at ``q``
        (bilinearly; beyond the border the edge vector). E.g. a translation composed with a
        translation adds them; a pan composed with a zoom about the centre zooms the panned
        image about the centre. Unlike ``+``, this is the order-dependent chain. Lazy if
        either field is.

        Example:
            >>> pan = MotionField.camera(pan=(2, 0), frames=2, size=(9, 9))
            >>> zoom = MotionField.camera(zoom=2.0, frames=2, size=(9, 9))
            >>> pan.compose(zoom).flow[1, :, 4, 4].tolist()   # centre pixel: 2 px right, then doubled
            [4.0, 0.0]
        """
        self._check_same(other, "compose")
        return self._zip(other, lambda a, b: field_ops.compose(a, b.to(a.device)))

    # --- edits ---------------------------------------------------------------------------
    def masked(self, mask: RegionMask | torch.Tensor | np.ndarray) -> MotionField:
        """Multiply every vector by ``mask`` (``(H, W)`` in [0, 1]): 0 outside freezes pixels exactly.

        Example:
            >>> from motionkit import RegionMask
            >>> f = MotionField.camera(pan=(5, 0), frames=2, size=(4, 4)).masked(RegionMask.empty((4, 4)))
            >>> f.magnitude().max().item()
            0.0
        """
        from motionkit.mask import RegionMask

        values = mask.values if isinstance(mask, RegionMask) else RegionMask(mask).values
        if tuple(values.shape) != self.size:
            raise ShapeMismatchError(f"mask of size {tuple(values.shape)} does not match the field's {self.size}; resize the mask")
        return self._map(lambda f: f * values.to(f.device))

    def resize(self, size: tuple[int, int]) -> MotionField:
        """Resample to ``size = (H', W')`` and rescale the vectors: dx by W'/W, dy by H'/H.

        Example:
            >>> f = MotionField.camera(pan=(3, 1), frames=2, size=(10, 10)).resize((20, 30))
            >>> f.flow[1, :, 5, 5].tolist()
            [9.0, 2.0]
        """
        target = parse_size(size, "motion field")
        return self._map(lambda f: field_ops.resize(f, target), target)

    def smooth(self, spatial_sigma: float = 0.0, temporal_sigma: float = 0.0) -> MotionField:
        """Gaussian smoothing, ``spatial_sigma`` in pixels and ``temporal_sigma`` in frames; frame 0 stays zero.

        Time is padded by an odd reflection before frame 0 and by repeating the last frame,
        so smoothing in time softens jerks without moving frame 0. Spatial smoothing alone
        keeps a lazy field lazy; smoothing in time is whole-field.

        Example:
            >>> jerky = MotionField.camera(pan=(8, 0), frames=8, size=(16, 16), easing="ease-in")
            >>> jerky.smooth(spatial_sigma=1.0, temporal_sigma=1.5).frames
            8
        """
        spatial, temporal = float(spatial_sigma), float(temporal_sigma)
        if self._flow is None and temporal == 0.0:
            field_ops.smooth(torch.zeros(1, 2, 1, 1), spatial, 0.0)  # the same argument checks, up front
            return self._map(lambda f: field_ops.blur2d(f, spatial))
        if temporal > 0.0:
            self._need_reference0("smooth(temporal_sigma > 0)")
        return type(self)._own(field_ops.smooth(self._whole("smooth(temporal_sigma > 0)"), spatial, temporal))

    def reverse(self) -> MotionField:
        """The motion played backwards from the reference image (T frames; whole-field).

        Each reference pixel retraces, in reverse order, the path that leads *to* it: frame
        ``t`` of the result equals ``g + f_{T-1-t}`` read at ``q + g(q)``, with ``g`` the
        inverse of the last frame. A pan right becomes a pan left with the same timing
        reversed (an ease-in becomes an ease-out), a zoom in a zoom out. The inverse is exact
        for smooth, fold-free motion and approximate where content is occluded.

        Example:
            >>> back = MotionField.camera(pan=(6, 0), frames=3, size=(8, 8)).reverse()
            >>> round(back.flow[2, 0, 4, 4].item(), 4)
            -6.0
        """
        self._need_reference0("reverse()")
        return type(self)._own(field_ops.reverse(self._whole("reverse()")))

    def loop(self, closed: bool = False) -> MotionField:
        """Ping-pong: frames ``0, 1, ..., T-1, T-2, ..., 1`` (2T - 2 frames), then ``0`` too if ``closed`` (2T - 1).

        The open form plays seamlessly on repeat; the closed form ends at rest. Whole-field.

        Example:
            >>> MotionField.zeros(4, (8, 8)).loop().frames, MotionField.zeros(4, (8, 8)).loop(closed=True).frames
            (6, 7)
        """
        self._need_reference0("loop()")
        return type(self)._own(field_ops.ping_pong(self._whole("loop()"), closed=closed))
