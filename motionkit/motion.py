"""``MotionField``: where every pixel of a reference image is in each frame.

A field is ``float32 (T, 2, H, W)`` in pixels: frame ``t`` holds, for every pixel ``p`` of the
reference image (frame 0), the displacement ``d`` such that the pixel's content is at
``p + d`` in frame ``t`` (channel 0 = dx to the right, channel 1 = dy down, pixel centres at
integers). Frame 0 is zero. This is Motion-I2V's ``f(0 -> t)``.

Fields are immutable values: every edit returns a new field. The numerics live in
:mod:`motionkit.ops.field`, :mod:`motionkit.ops.camera` and :mod:`motionkit.ops.flowviz`.

Example:
    >>> from motionkit import MotionField
    >>> pan = MotionField.camera(pan=(12, 0), frames=8, size=(64, 96))
    >>> zoom = MotionField.camera(zoom=1.2, frames=8, size=(64, 96), easing="ease-in-out")
    >>> both = pan.compose(zoom)            # pan, then zoom where the panned pixels are
    >>> (both * 0.5).magnitude().shape
    torch.Size([8, 64, 96])
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from motionkit.errors import InvalidInputError, NonFiniteError, ShapeMismatchError, TooLargeError
from motionkit.io import motion_files
from motionkit.io.image import image_to_tensor, load_image, parse_size
from motionkit.ops import camera as camera_ops
from motionkit.ops import field as field_ops
from motionkit.ops import flowviz

if TYPE_CHECKING:
    from motionkit.clip import Clip
    from motionkit.io.image import ImageLike
    from motionkit.mask import RegionMask
    from motionkit.trajectory import Trajectory

#: Largest |frame 0| (pixels) accepted as "zero"; anything larger is a wrong reference frame.
FRAME0_TOLERANCE = 1e-3


def _as_flow_tensor(flow: Any) -> torch.Tensor:
    if isinstance(flow, MotionField):
        return flow.flow.clone()
    if isinstance(flow, torch.Tensor):
        tensor = flow.detach()
    else:
        try:
            array = np.asarray(flow)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"a motion field must be a tensor or array (T, 2, H, W), got {type(flow).__name__}") from exc
        if array.dtype.kind not in "biuf":
            raise InvalidInputError(f"a motion field must hold real numbers, got dtype {array.dtype}")
        tensor = torch.from_numpy(np.array(array, dtype=np.float32))
    if tensor.is_complex() or tensor.dtype == torch.bool:
        raise InvalidInputError(f"a motion field must hold real numbers, got {tensor.dtype}")
    return tensor.to(torch.float32).clone().contiguous()


#: Largest field the constructors allocate (float32 values); beyond it a request is a mistake.
MAX_FIELD_BYTES = motion_files.MAX_FIELD_BYTES


def _frames(frames: Any, size: tuple[int, int]) -> int:
    """Validate a frame count for a field of ``size``, refusing absurd allocations up front."""
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 1:
        raise InvalidInputError(f"frames must be a positive integer, got {frames!r}")
    need = int(frames) * 2 * size[0] * size[1] * 4
    if need > MAX_FIELD_BYTES:
        raise TooLargeError(
            f"a field of {frames} frames at {size[0]}x{size[1]} would need {need / 2**30:.0f} GiB "
            f"(at most {MAX_FIELD_BYTES // 2**30} GiB); use fewer frames or a smaller size"
        )
    return int(frames)


class MotionField:
    """Per-frame displacement of every reference pixel: ``float32 (T, 2, H, W)`` pixels, frame 0 zero.

    Args:
        flow: a torch tensor, numpy array or another field, ``(T, 2, H, W)``; copied and
            converted to float32 (the caller's object is never modified or shared).

    Raises:
        ShapeMismatchError: not ``(T, 2, H, W)`` with T, H, W >= 1.
        NonFiniteError: NaN or infinite values.
        InvalidInputError: frame 0 is not zero (more than 1e-3 px): the field is not relative
            to frame 0. Subtract it (``flow - flow[:1]``) if the first frame is the reference.

    Example:
        >>> import torch
        >>> f = torch.zeros(4, 2, 32, 48); f[1:, 0] = torch.tensor([2.0, 4.0, 6.0]).view(3, 1, 1)
        >>> MotionField(f)
        MotionField(frames=4, size=(32, 48), max_magnitude=6.00 px)
    """

    __slots__ = ("_flow",)

    def __init__(self, flow: torch.Tensor | np.ndarray | MotionField) -> None:
        tensor = _as_flow_tensor(flow)
        if tensor.dim() != 4 or tensor.shape[1] != 2 or min(tensor.shape) < 1:
            raise ShapeMismatchError(
                f"a motion field is (T, 2, H, W) pixels (dx, dy), got shape {tuple(tensor.shape)}; "
                "for one frame pair use flow[None] and prepend a zero frame 0"
            )
        if not torch.isfinite(tensor).all():
            raise NonFiniteError("motion field holds NaN or infinite values; clean or mask them before building a MotionField")
        first = tensor[0].abs().max().item()
        if first > FRAME0_TOLERANCE:
            raise InvalidInputError(
                f"frame 0 of a motion field must be zero (it is the reference), but moves up to {first:.3g} px; "
                "pass displacements from frame 0 (subtract frame 0, or prepend a zero frame)"
            )
        tensor[0] = 0.0
        self._flow = tensor

    @classmethod
    def _own(cls, tensor: torch.Tensor) -> MotionField:
        """Wrap a float32 ``(T, 2, H, W)`` tensor that this module has just computed from valid
        fields: no copy and no re-validation, so edits of long fields do not hold two copies."""
        field = cls.__new__(cls)
        tensor[0] = 0.0
        field._flow = tensor
        return field

    # --- views -------------------------------------------------------------------------
    @property
    def flow(self) -> torch.Tensor:
        """The field itself, ``float32 (T, 2, H, W)`` pixels. Shared, not copied: do not modify it in place."""
        return self._flow

    @property
    def frames(self) -> int:
        """Number of frames T (frame 0 included)."""
        return self._flow.shape[0]

    @property
    def height(self) -> int:
        """H in pixels."""
        return self._flow.shape[2]

    @property
    def width(self) -> int:
        """W in pixels."""
        return self._flow.shape[3]

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` in pixels."""
        return (self.height, self.width)

    def __len__(self) -> int:
        return self.frames

    def numpy(self) -> np.ndarray:
        """A copy as ``numpy float32 (T, 2, H, W)``."""
        return self._flow.detach().cpu().numpy().copy()

    def magnitude(self) -> torch.Tensor:
        """Length of every vector: ``float32 (T, H, W)`` pixels.

        Example:
            >>> MotionField.camera(pan=(3, 4), frames=2, size=(2, 2)).magnitude()[1, 0, 0].item()
            5.0
        """
        return torch.linalg.vector_norm(self._flow, dim=1)

    def __repr__(self) -> str:
        peak = self.magnitude().max().item()
        return f"MotionField(frames={self.frames}, size={self.size}, max_magnitude={peak:.2f} px)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MotionField):
            return NotImplemented
        return self._flow.shape == other._flow.shape and torch.equal(self._flow, other._flow.to(self._flow.device))

    __hash__ = None  # equal fields must hash equal; tensors do not hash by value

    def allclose(self, other: MotionField, atol: float = 1e-4) -> bool:
        """Same shape and every component within ``atol`` pixels.

        Example:
            >>> MotionField.zeros(2, (4, 4)).allclose(MotionField.camera(pan=(1e-6, 0), frames=2, size=(4, 4)))
            True
        """
        if not isinstance(other, MotionField):
            raise InvalidInputError(f"allclose needs another MotionField, got {type(other).__name__}")
        return self._flow.shape == other._flow.shape and torch.allclose(self._flow, other._flow, rtol=0.0, atol=atol)

    # --- algebra -------------------------------------------------------------------------
    def _check_same(self, other: MotionField, op: str) -> None:
        if not isinstance(other, MotionField):
            raise InvalidInputError(f"{op} needs another MotionField, got {type(other).__name__}")
        if other._flow.shape != self._flow.shape:
            raise ShapeMismatchError(
                f"cannot {op} fields of shapes {tuple(self._flow.shape)} and {tuple(other._flow.shape)}; "
                "resize one (MotionField.resize) or match the frame counts"
            )

    def __add__(self, other: MotionField) -> MotionField:
        """Superpose two motions: displacements add, pixel by pixel (``(a + b)_t(p) = a_t(p) + b_t(p)``).

        Example:
            >>> a = MotionField.camera(pan=(2, 0), frames=2, size=(4, 4))
            >>> (a + a).flow[1, :, 0, 0].tolist()
            [4.0, 0.0]
        """
        if not isinstance(other, MotionField):
            return NotImplemented
        self._check_same(other, "add")
        return MotionField._own(self._flow + other._flow)

    def __sub__(self, other: MotionField) -> MotionField:
        """Difference of two motions, pixel by pixel: ``(a - b)_t(p) = a_t(p) - b_t(p)``."""
        if not isinstance(other, MotionField):
            return NotImplemented
        self._check_same(other, "subtract")
        return MotionField._own(self._flow - other._flow)

    def __neg__(self) -> MotionField:
        """Every vector reversed: ``(-a)_t(p) = -a_t(p)`` (not the inverse motion; see :meth:`reverse`)."""
        return MotionField._own(-self._flow)

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
        if not torch.isfinite(w).all():
            raise NonFiniteError("weights must be finite numbers")
        if w.dim() == 0:
            return MotionField._own(self._flow * w.item())
        w = w.flatten()
        if w.numel() != self.frames:
            raise ShapeMismatchError(f"per-frame weights must have one value per frame ({self.frames}), got {w.numel()}")
        return MotionField._own(self._flow * w.to(self._flow.device).view(-1, 1, 1, 1))

    __rmul__ = __mul__

    def compose(self, other: MotionField) -> MotionField:
        """Chain ``other`` after this motion, ``other`` being measured where this one ends.

        ``result_t(p) = self_t(p) + other_t(p + self_t(p))``: a reference pixel ``p`` first
        moves by this field to ``q = p + self_t(p)``, then by ``other`` read at ``q``
        (bilinearly; beyond the border the edge vector). E.g. a translation composed with a
        translation adds them; a pan composed with a zoom about the centre zooms the panned
        image about the centre. Unlike ``+``, this is the order-dependent chain.

        Example:
            >>> pan = MotionField.camera(pan=(2, 0), frames=2, size=(9, 9))
            >>> zoom = MotionField.camera(zoom=2.0, frames=2, size=(9, 9))
            >>> pan.compose(zoom).flow[1, :, 4, 4].tolist()   # centre pixel: 2 px right, then doubled
            [4.0, 0.0]
        """
        self._check_same(other, "compose")
        return MotionField._own(field_ops.compose(self._flow, other._flow))

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
        return MotionField._own(self._flow * values.to(self._flow.device))

    def resize(self, size: tuple[int, int]) -> MotionField:
        """Resample to ``size = (H', W')`` and rescale the vectors: dx by W'/W, dy by H'/H.

        Example:
            >>> f = MotionField.camera(pan=(3, 1), frames=2, size=(10, 10)).resize((20, 30))
            >>> f.flow[1, :, 5, 5].tolist()
            [9.0, 2.0]
        """
        return MotionField._own(field_ops.resize(self._flow, parse_size(size, "motion field")))

    def smooth(self, spatial_sigma: float = 0.0, temporal_sigma: float = 0.0) -> MotionField:
        """Gaussian smoothing, ``spatial_sigma`` in pixels and ``temporal_sigma`` in frames; frame 0 stays zero.

        Time is padded by an odd reflection before frame 0 and by repeating the last frame,
        so smoothing in time softens jerks without moving frame 0.

        Example:
            >>> jerky = MotionField.camera(pan=(8, 0), frames=8, size=(16, 16), easing="ease-in")
            >>> jerky.smooth(spatial_sigma=1.0, temporal_sigma=1.5).frames
            8
        """
        return MotionField._own(field_ops.smooth(self._flow, float(spatial_sigma), float(temporal_sigma)))

    def reverse(self) -> MotionField:
        """The motion played backwards from the reference image (T frames).

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
        return MotionField._own(field_ops.reverse(self._flow))

    def loop(self, closed: bool = False) -> MotionField:
        """Ping-pong: frames ``0, 1, ..., T-1, T-2, ..., 1`` (2T - 2 frames), then ``0`` too if ``closed`` (2T - 1).

        The open form plays seamlessly on repeat; the closed form ends at rest.

        Example:
            >>> MotionField.zeros(4, (8, 8)).loop().frames, MotionField.zeros(4, (8, 8)).loop(closed=True).frames
            (6, 7)
        """
        return MotionField._own(field_ops.ping_pong(self._flow, closed=closed))

    # --- constructors --------------------------------------------------------------------
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

        v = _as_flow_tensor(velocity)
        if v.dim() != 3 or v.shape[0] != 2:
            raise ShapeMismatchError(f"velocity must be (2, H, W) pixels per frame, got {tuple(v.shape)}")
        if not torch.isfinite(v).all():
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
            image: optional reference image; its edges guide the densification.
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
        predictor = registry.create("predictor", "sparse", **options)
        return predictor.predict(tensor, list(trajectories), mask, frames=frames, size=size)

    # --- files ---------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, metadata: dict[str, Any] | None = None) -> Path:
        """Write an ``.npz`` (float32 flow, format version, optional JSON ``metadata``), atomically.

        Raises:
            MediaWriteError: the folder is missing or not writable.
            InvalidInputError: ``metadata`` is not JSON-serialisable.

        Example:
            >>> motion.save("wave.npz", metadata={"prompt": "waves"})  # doctest: +SKIP
            >>> MotionField.load("wave.npz") == motion                  # doctest: +SKIP
            True
        """
        return motion_files.save_npz(path, self.numpy(), metadata)

    @classmethod
    def load(cls, path: str | os.PathLike) -> MotionField:
        """Read a field written by :meth:`save`; exactly the saved numbers.

        Raises:
            MotionFileError: missing, not an ``.npz``, without ``flow``, wrong shape, newer version.
        """
        flow, _ = motion_files.load_npz(path)
        return cls(torch.from_numpy(flow))

    @staticmethod
    def load_metadata(path: str | os.PathLike) -> dict[str, Any]:
        """The ``metadata`` dict stored by :meth:`save` (empty if none)."""
        return motion_files.load_npz(path)[1]

    def save_flo(self, folder: str | os.PathLike) -> list[Path]:
        """Write frames 1..T-1 as Middlebury ``folder/frame_0001.flo`` ... (frame 0 is zero, not written).

        ``frame_000t.flo`` holds the flow from frame 0 to frame ``t``. The folder appears whole;
        an existing folder is replaced only if it holds nothing but ``.flo`` files.

        Example:
            >>> motion.save_flo("flows")              # doctest: +SKIP
            [PosixPath('flows/frame_0001.flo'), ...]
        """
        return motion_files.save_flo_frames(folder, self.numpy())

    @classmethod
    def load_flo(cls, source: str | os.PathLike | Sequence[str | os.PathLike]) -> MotionField:
        """Read ``.flo`` frames 1..T-1 (a folder, one file or a list of files); a zero frame 0 is prepended.

        A folder's files are taken in natural name order (``frame_9`` before ``frame_10``).

        Raises:
            MotionFileError: no files, a bad magic number or size, a truncated file, mixed sizes.
        """
        return cls(torch.from_numpy(motion_files.load_flo_frames(source)))

    # --- pictures ------------------------------------------------------------------------
    def visualize(
        self,
        style: Literal["color", "arrows"] = "color",
        image: ImageLike | None = None,
        fps: float = 8.0,
        max_magnitude: float | None = None,
        *,
        step: int | None = None,
    ) -> Clip:
        """A :class:`~motionkit.Clip` that shows the motion.

        ``"color"``: Middlebury colour wheel, hue = direction, saturation = length, one scale
        for all frames (the longest vector of the whole field unless ``max_magnitude``).
        ``"arrows"``: arrows from grid points (every ``step`` pixels) to where they go, drawn
        over ``image`` (default a dark gray canvas). The clip is lazy (drawn frame by frame when
        read or written), so it works for long, large fields.

        Example:
            >>> MotionField.camera(zoom=1.2, frames=4, size=(32, 32)).visualize().to_numpy().shape
            (4, 32, 32, 3)
        """
        from motionkit.clip import Clip

        # The clip is lazy: frames are drawn when read or written, one at a time, so picturing
        # a long high-resolution field costs one frame of memory, not the whole video.
        flow = self._flow.detach().cpu()
        if max_magnitude is not None and not (np.isfinite(max_magnitude) and max_magnitude > 0):
            raise InvalidInputError(f"max_magnitude must be a positive number of pixels, got {max_magnitude!r}")
        if style == "color":
            if max_magnitude is None:
                max_magnitude = max(torch.linalg.vector_norm(f, dim=0).max().item() for f in flow) or 1.0

            def draw(f: torch.Tensor) -> np.ndarray:
                return flowviz.flow_to_color(f.numpy(), max_magnitude)

        elif style == "arrows":
            if image is None:
                base = np.full((*self.size, 3), 48, np.uint8)
            else:
                base = load_image(image)
                if base.shape[:2] != self.size:
                    raise ShapeMismatchError(f"image of size {base.shape[:2]} does not match the field's {self.size}")
            step = step or max(8, min(self.size) // 16)

            def draw(f: torch.Tensor) -> np.ndarray:
                return flowviz.draw_arrows(base, f.numpy(), step=step)

        else:
            raise InvalidInputError(f"style must be 'color' or 'arrows', got {style!r}")
        return Clip.from_frames(lambda: (draw(f) for f in flow), count=self.frames, size=self.size, fps=fps)
