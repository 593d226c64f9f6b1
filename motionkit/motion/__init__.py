"""``MotionField``: where every pixel of a reference image is in each frame.

A field is ``float32 (T, 2, H, W)`` in pixels: frame ``t`` holds, for every pixel ``p`` of the
reference image (frame 0), the displacement ``d`` such that the pixel's content is at
``p + d`` in frame ``t`` (channel 0 = dx to the right, channel 1 = dy down, pixel centres at
integers). Frame 0 is zero. This is Motion-I2V's ``f(0 -> t)``.

The reference frame may be another one: ``MotionField(flow, reference=k)`` holds the
displacements from frame ``k``'s pixels, and frame ``k`` is the zero one (video-to-video
carries an edit of frame ``k`` backwards and forwards along such a field). The default, 0,
is the meaning above everywhere; the per-frame algebra keeps the reference, and the
operations that play time from frame 0 (``reverse``, ``loop``, smoothing in time) need it.

A field is held in memory or is **lazy**: backed by a frame source (a flow estimator running
over a video, a computation) and read one ``(2, H, W)`` frame at a time, like a lazy
:class:`~motionkit.Clip`. The per-frame algebra (``*``, ``+``, ``-``, ``compose``, ``masked``,
``resize``, spatial ``smooth``, slicing from frame 0) keeps a lazy field lazy; operations
that need every frame at once say so and materialise it, refusing above
:data:`motionkit.limits.MAX_MATERIALIZE_BYTES` (call :meth:`MotionField.materialize` to ask
for the memory explicitly, or stream with :meth:`MotionField.iter_frames`).

Fields are immutable values: every edit returns a new field. The numerics live in
:mod:`motionkit.ops.field`, :mod:`motionkit.ops.camera` and :mod:`motionkit.ops.flowviz`;
the algebra is in :mod:`motionkit.motion.algebra`, the constructors in
:mod:`motionkit.motion.constructors`, files and pictures in :mod:`motionkit.motion.files`.

Example:
    >>> from motionkit import MotionField
    >>> pan = MotionField.camera(pan=(12, 0), frames=8, size=(64, 96))
    >>> zoom = MotionField.camera(zoom=1.2, frames=8, size=(64, 96), easing="ease-in-out")
    >>> both = pan.compose(zoom)            # pan, then zoom where the panned pixels are
    >>> (both * 0.5).magnitude().shape
    torch.Size([8, 64, 96])
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from motionkit import limits
from motionkit.errors import (
    InvalidInputError,
    NonFiniteError,
    ShapeMismatchError,
    TooLargeError,
)
from motionkit.io.image import parse_size
from motionkit.motion.algebra import FieldAlgebra
from motionkit.motion.constructors import FieldConstructors, as_float_tensor
from motionkit.motion.files import FieldFilesAndPictures
from motionkit.ops import field as field_ops

#: Largest |frame 0| (pixels) accepted as "zero"; anything larger is a wrong reference frame.
FRAME0_TOLERANCE = 1e-3

#: A zero-argument callable returning a fresh iterator of ``(2, H, W)`` float32 frames, frame 0 first.
FlowSource = Callable[[], Iterator[torch.Tensor]]


def _as_flow_tensor(flow: Any) -> torch.Tensor:
    if isinstance(flow, MotionField):
        return flow.flow.clone()
    return as_float_tensor(flow)


def _check_frame0(first: float, reference: int = 0) -> None:
    if first > FRAME0_TOLERANCE:
        raise InvalidInputError(
            f"frame {reference} of a motion field must be zero (it is the reference), but moves up to {first:.3g} px; "
            f"pass displacements from frame {reference} (subtract frame {reference}, or insert a zero frame there)"
        )


def _check_reference(reference: Any, count: int) -> int:
    if isinstance(reference, bool) or not isinstance(reference, (int, np.integer)):
        raise InvalidInputError(f"reference must be a frame index (an int), got {reference!r}")
    if not 0 <= int(reference) < count:
        raise InvalidInputError(f"reference frame {reference} is out of range for a field of {count} frames (0..{count - 1})")
    return int(reference)


class MotionField(FieldAlgebra, FieldConstructors, FieldFilesAndPictures):
    """Per-frame displacement of every reference pixel: ``float32 (T, 2, H, W)`` pixels, frame 0 zero.

    Args:
        flow: a torch tensor, numpy array or another field, ``(T, 2, H, W)``; copied and
            converted to float32 (the caller's object is never modified or shared). For a
            lazy field use :meth:`from_frames`.
        reference: the index of the reference frame, whose pixels the displacements start
            from; that frame must be zero. Default 0 (frame 0, the usual meaning). Given a
            field, its own reference is kept unless another is named.

    Raises:
        ShapeMismatchError: not ``(T, 2, H, W)`` with T, H, W >= 1.
        NonFiniteError: NaN or infinite values.
        InvalidInputError: frame ``reference`` is not zero (more than 1e-3 px): the field is not
            relative to it. Subtract it (``flow - flow[:1]``) if the first frame is the reference;
            or ``reference`` is not a frame index.

    Example:
        >>> import torch
        >>> f = torch.zeros(4, 2, 32, 48); f[1:, 0] = torch.tensor([2.0, 4.0, 6.0]).view(3, 1, 1)
        >>> MotionField(f)
        MotionField(frames=4, size=(32, 48), max_magnitude=6.00 px)
        >>> MotionField(f - f[3:], reference=3).reference   # the same motion, seen from frame 3
        3
    """

    __slots__ = ("_checks", "_count", "_flow", "_reference", "_size", "_source")

    def __init__(self, flow: torch.Tensor | np.ndarray | MotionField, reference: int | None = None) -> None:
        if reference is None:
            reference = flow.reference if isinstance(flow, MotionField) else 0
        tensor = _as_flow_tensor(flow)
        if tensor.dim() != 4 or tensor.shape[1] != 2 or min(tensor.shape) < 1:
            raise ShapeMismatchError(
                f"a motion field is (T, 2, H, W) pixels (dx, dy), got shape {tuple(tensor.shape)}; "
                "for one frame pair use flow[None] and prepend a zero frame 0"
            )
        if not field_ops.all_finite(tensor):
            raise NonFiniteError("motion field holds NaN or infinite values; clean or mask them before building a MotionField")
        reference = _check_reference(reference, tensor.shape[0])
        _check_frame0(tensor[reference].abs().max().item(), reference)
        tensor[reference] = 0.0
        self._set(tensor, None, tensor.shape[0], (tensor.shape[2], tensor.shape[3]), reference=reference)

    def _set(self, flow: torch.Tensor | None, source: FlowSource | None, count: int, size: tuple[int, int],
             checks: bool = False, reference: int = 0) -> None:
        self._flow, self._source, self._count, self._size = flow, source, int(count), (int(size[0]), int(size[1]))
        self._checks, self._reference = checks, int(reference)

    @classmethod
    def _own(cls, tensor: torch.Tensor, reference: int = 0) -> MotionField:
        """Wrap a float32 ``(T, 2, H, W)`` tensor that this module has just computed from valid
        fields: no copy and no re-validation, so edits of long fields do not hold two copies."""
        field = cls.__new__(cls)
        if tensor.device.type == "cpu" and tensor.dtype == torch.float32 and not tensor.requires_grad:
            # numpy's fill: torch's fills one frame on its intra-op threads (0.5 -> 4.5 ms at 2 threads, 512 px).
            tensor.numpy()[reference] = 0.0
        else:
            tensor[reference] = 0.0
        field._set(tensor, None, tensor.shape[0], (tensor.shape[2], tensor.shape[3]), reference=reference)
        return field

    @classmethod
    def _lazy(cls, source: FlowSource, count: int, size: tuple[int, int], *, checks: bool = False,
              reference: int = 0) -> MotionField:
        """A lazy field over ``source``. Without ``checks`` its frames are trusted, as :meth:`_own`'s
        tensor is: this module computes them from frames a checked field has already yielded,
        so an edit of a lazy field does not validate every frame again at every layer."""
        field = cls.__new__(cls)
        field._set(None, source, count, size, checks, reference)
        return field

    @classmethod
    def from_frames(cls, source: FlowSource, count: int, size: tuple[int, int], *, reference: int = 0) -> MotionField:
        """A lazy field backed by ``source``, a zero-argument callable returning a fresh frame iterator.

        ``source()`` is called once per pass over the frames (:meth:`iter_frames`, rendering,
        :meth:`materialize`), never at construction. Each pass must yield at least ``count``
        frames, frame 0 first, each ``(2, H, W)`` pixels (a float tensor or array) of
        ``size = (H, W)``; they are checked as they are read (see :meth:`iter_frames`).
        Frame ``reference`` (default 0) must be zero.

        Example:
            >>> import torch
            >>> drift = lambda: (torch.full((2, 4, 6), float(t)) for t in range(5))
            >>> field = MotionField.from_frames(drift, count=5, size=(4, 6))
            >>> field.is_lazy, field.frame(3)[0, 0, 0].item()
            (True, 3.0)
        """
        if not callable(source):
            raise InvalidInputError(
                f"source must be a zero-argument callable returning an iterator of (2, H, W) flows, got {type(source).__name__}"
            )
        count = limits.check_frames(count, "count")
        return cls._lazy(source, count, parse_size(size, "motion field"), checks=True, reference=_check_reference(reference, count))

    # --- views -------------------------------------------------------------------------
    @property
    def reference(self) -> int:
        """Index of the reference frame: displacements start from its pixels, and it is zero (usually 0)."""
        return self._reference

    def with_reference(self, reference: int) -> MotionField:
        """The same motion seen from frame ``reference``: ``g_t(q) = f_t(p) - f_r(p)`` at ``q = p + f_r(p)``.

        Each pixel ``q`` of frame ``r`` is traced back to the reference pixel ``p`` it shows (by
        inverting frame ``r``, exact for smooth, fold-free motion) and its displacement to every
        frame becomes relative to ``q``. Whole-field.

        Example:
            >>> pan = MotionField.camera(pan=(6, 0), frames=4, size=(8, 8))
            >>> seen = pan.with_reference(3)
            >>> seen.reference, round(seen.flow[0, 0, 4, 4].item(), 4)   # frame 0 is 6 px to the left of frame 3
            (3, -6.0)
        """
        reference = _check_reference(reference, self._count)
        whole = self._whole("with_reference()")
        if reference == self._reference:
            return self
        seen = field_ops.compose(field_ops.invert(whole[reference : reference + 1]).expand_as(whole).contiguous(), whole)
        return type(self)._own(seen, reference)

    @property
    def is_lazy(self) -> bool:
        """True when frames come from a source on demand rather than from memory."""
        return self._flow is None

    def _whole(self, what: str) -> torch.Tensor:
        """Every frame at once, for an operation that needs them; a lazy field is read in full,
        refused above :data:`~motionkit.limits.MAX_MATERIALIZE_BYTES`."""
        if self._flow is not None:
            return self._flow
        try:
            limits.check_field_bytes(self._count, self._size, limits.MAX_MATERIALIZE_BYTES)
        except TooLargeError as exc:
            raise TooLargeError(
                f"{what} needs the whole lazy field in memory: {exc}. Stream it frame by frame with "
                "field.iter_frames() (the per-frame edits and renderers do), or call field.materialize() "
                "to ask for the memory explicitly"
            ) from None
        return self._read_all()

    def _read_all(self) -> torch.Tensor:
        out = None
        for t, frame in enumerate(self.iter_frames()):
            if out is None:
                out = torch.empty((self._count, 2, *self._size), dtype=torch.float32, device=frame.device)
            out[t] = frame
        return out

    @property
    def flow(self) -> torch.Tensor:
        """The field itself, ``float32 (T, 2, H, W)`` pixels. Shared, not copied: do not modify it in place.

        On a lazy field every access reads the whole field into a new tensor (nothing is
        cached); above :data:`~motionkit.limits.MAX_MATERIALIZE_BYTES` (1 GiB) it refuses with
        :class:`~motionkit.errors.TooLargeError`: stream with :meth:`iter_frames` or call
        :meth:`materialize`.
        """
        return self._whole("field.flow")

    @property
    def frames(self) -> int:
        """Number of frames T (frame 0 included)."""
        return self._count

    @property
    def height(self) -> int:
        """H in pixels."""
        return self._size[0]

    @property
    def width(self) -> int:
        """W in pixels."""
        return self._size[1]

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` in pixels."""
        return self._size

    def __len__(self) -> int:
        return self._count

    def iter_frames(self) -> Iterator[torch.Tensor]:
        """Yield every frame as ``float32 (2, H, W)`` pixels, frame 0 (zero) first; one pass.

        In-memory fields yield views (do not modify them in place). A lazy field's frames are
        checked as they come: shape ``(2, H, W)``, finite values, the reference frame zero
        (within 1e-3 px; it is yielded as exact zeros).

        Raises:
            ShapeMismatchError: a frame of another shape.
            NonFiniteError: a frame holding NaN or infinity.
            InvalidInputError: the reference frame is not zero, or the source ends before ``frames`` frames.

        Example:
            >>> [f.abs().max().item() for f in MotionField.camera(pan=(2, 0), frames=3, size=(4, 4))]
            [0.0, 1.0, 2.0]
        """
        if self._flow is not None:
            yield from self._flow
            return
        produced = 0
        source = self._source()
        try:
            for frame in itertools.islice(source, self._count):
                yield self._checked(frame, produced) if self._checks else frame
                produced += 1
        finally:
            # Release the source (a video decoder, an estimator's state) as soon as the caller stops.
            close = getattr(source, "close", None)
            if close is not None:
                close()
        if produced < self._count:
            raise InvalidInputError(f"the field's frame source yielded {produced} frames but promised {self._count}")

    def _checked(self, frame: Any, index: int) -> torch.Tensor:
        tensor = frame.detach() if isinstance(frame, torch.Tensor) else torch.as_tensor(np.asarray(frame))
        if tensor.is_complex() or tensor.dtype == torch.bool or tuple(tensor.shape) != (2, *self._size):
            raise ShapeMismatchError(
                f"frame {index} of the field's source is {tuple(tensor.shape)} {tensor.dtype}, expected real (2, {self._size[0]}, {self._size[1]}) pixels"
            )
        tensor = tensor.to(torch.float32)
        if not field_ops.all_finite(tensor):
            raise NonFiniteError(f"frame {index} of the field's source holds NaN or infinite values; clean or mask them")
        if index == self._reference:
            _check_frame0(tensor.abs().max().item(), index)
            return torch.zeros_like(tensor)
        return tensor

    def __iter__(self) -> Iterator[torch.Tensor]:
        return self.iter_frames()

    def _index(self, i: Any) -> int:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise InvalidInputError(f"a frame index must be an integer, got {i!r}")
        index = int(i) + self._count if i < 0 else int(i)
        if not 0 <= index < self._count:
            raise IndexError(f"frame {i} is out of range for a field of {self._count} frames")
        return index

    def frame(self, i: int) -> torch.Tensor:
        """Frame ``i`` as ``float32 (2, H, W)`` pixels (negative ``i`` counts from the end).

        A lazy field computes frames 0..i to reach it.

        Example:
            >>> MotionField.camera(pan=(4, 0), frames=3, size=(2, 2)).frame(-1)[0, 0, 0].item()
            4.0
        """
        index = self._index(i)
        if self._flow is not None:
            return self._flow[index]
        with contextlib.closing(self.iter_frames()) as frames:
            return next(itertools.islice(frames, index, None))

    def __getitem__(self, key: int | slice) -> torch.Tensor | MotionField:
        """``field[i]`` is :meth:`frame`; ``field[:n]`` and ``field[::k]`` are fields (lazy when this one is).

        A slice must keep the reference frame (usually: start at frame 0) and step forwards;
        the result's reference is where that frame lands in it.

        Example:
            >>> f = MotionField.camera(pan=(6, 0), frames=7, size=(2, 2))
            >>> f[::3].frames, f[::3].frame(-1)[0, 0, 0].item()
            (3, 6.0)
        """
        if not isinstance(key, slice):
            return self.frame(key)
        indices = range(*key.indices(self._count))
        if indices.step <= 0 or len(indices) == 0 or self._reference not in indices:
            raise InvalidInputError(
                f"slice {key} of a field must keep its reference frame {self._reference} and step forwards, "
                "e.g. field[:n] or field[::k]"
            )
        reference = indices.index(self._reference)
        if self._flow is not None:
            return MotionField._own(self._flow[key].contiguous(), reference)
        return MotionField._lazy(
            lambda: itertools.islice(self.iter_frames(), indices.start, indices.stop, indices.step), len(indices), self._size,
            reference=reference,
        )

    def materialize(self) -> MotionField:
        """This field held in memory (``self`` when it already is), asked for explicitly.

        Reads a lazy field once; refused only above :data:`~motionkit.limits.MAX_FIELD_BYTES`.

        Example:
            >>> MotionField.camera(pan=(1, 0), frames=2, size=(4, 4))[:2].materialize().is_lazy
            False
        """
        if self._flow is not None:
            return self
        limits.check_field_bytes(self._count, self._size, limits.MAX_FIELD_BYTES)
        return MotionField._own(self._read_all(), self._reference)

    def to_tensor(self) -> torch.Tensor:
        """A new ``float32 (T, 2, H, W)`` tensor of the whole field (the caller owns it).

        Example:
            >>> MotionField.zeros(3, (4, 5)).to_tensor().shape
            torch.Size([3, 2, 4, 5])
        """
        return self._flow.clone() if self._flow is not None else self.materialize()._flow

    def numpy(self) -> np.ndarray:
        """A copy as ``numpy float32 (T, 2, H, W)`` (whole-field: a lazy field is read in full)."""
        return self._whole("numpy()").detach().cpu().numpy().copy()

    def magnitude(self) -> torch.Tensor:
        """Length of every vector: ``float32 (T, H, W)`` pixels (whole-field).

        Example:
            >>> MotionField.camera(pan=(3, 4), frames=2, size=(2, 2)).magnitude()[1, 0, 0].item()
            5.0
        """
        return torch.linalg.vector_norm(self._whole("magnitude()"), dim=1)

    def __repr__(self) -> str:
        seen = f", reference={self._reference}" if self._reference else ""
        if self._flow is None:  # computing the peak would run the whole source
            return f"MotionField(frames={self._count}, size={self._size}{seen}, lazy=True)"
        peak = self.magnitude().max().item()
        return f"MotionField(frames={self.frames}, size={self.size}{seen}, max_magnitude={peak:.2f} px)"

    def __eq__(self, other: object) -> bool:
        """Exactly the same numbers and shape (whole-field: lazy fields are read in full)."""
        if not isinstance(other, MotionField):
            return NotImplemented
        if (self._count, self._size, self._reference) != (other._count, other._size, other._reference):
            return False
        mine = self._whole("==")
        return torch.equal(mine, other._whole("==").to(mine.device))

    __hash__ = None  # equal fields must hash equal; tensors do not hash by value

    def allclose(self, other: MotionField, atol: float = 1e-4) -> bool:
        """Same shape and every component within ``atol`` pixels (whole-field).

        Example:
            >>> MotionField.zeros(2, (4, 4)).allclose(MotionField.camera(pan=(1e-6, 0), frames=2, size=(4, 4)))
            True
        """
        if not isinstance(other, MotionField):
            raise InvalidInputError(f"allclose needs another MotionField, got {type(other).__name__}")
        if (self._count, self._size, self._reference) != (other._count, other._size, other._reference):
            return False
        return torch.allclose(self._whole("allclose"), other._whole("allclose"), rtol=0.0, atol=atol)
