"""``RegionMask``: the motion brush, a soft ``float32 (H, W)`` mask in [0, 1] (1 = may move).

Masks are immutable values; every edit returns a new mask. Shapes are rasterised by
:mod:`motionkit.ops.raster` with coordinates ``(x, y)`` in pixels, pixel centres at integers.

Example:
    >>> from motionkit import RegionMask
    >>> sky = RegionMask.from_polygon([(0, 0), (99, 0), (99, 30), (0, 40)], size=(80, 100))
    >>> water = RegionMask.from_strokes([(10, 70), (90, 72)], radius=6, size=(80, 100))
    >>> brush = (sky | water).feather(2.0)
    >>> round(brush.area(), 2)
    0.57
"""

from __future__ import annotations

import base64
import os
import zlib
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import cv2
import numpy as np
import pydantic
import torch
import torch.nn.functional as F

from motionkit.errors import InvalidInputError, MotionFileError, ShapeMismatchError
from motionkit.io.image import check_size, parse_size
from motionkit.io.mask_image import load_mask, mask_values
from motionkit.ops import raster
from motionkit.ops._mask_kernels import landings, mark_landings
from motionkit.ops.colour import to_uint8
from motionkit.ops.field import blur2d


class _MaskDocument(pydantic.BaseModel):
    """The JSON form of a mask: its exact float32 values, zlib-compressed, base64-encoded."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    format: Literal["motionkit.mask"] = "motionkit.mask"
    version: Literal[1] = 1
    size: tuple[pydantic.PositiveInt, pydantic.PositiveInt]
    encoding: Literal["zlib-float32-le"] = "zlib-float32-le"
    data: str


def _shapes(points: Any, what: str) -> list[np.ndarray]:
    """One polyline ``[(x, y), ...]`` or a list of them -> list of ``(N, 2)`` arrays."""
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None  # ragged: several polylines of different lengths
    if arr is not None and arr.ndim == 2:
        return [raster.as_points(arr, what)]
    if arr is not None and arr.ndim != 3:
        raise InvalidInputError(f"{what} must be a list of (x, y) pairs or a list of such lists, got shape {arr.shape}")
    shapes = [raster.as_points(p, what) for p in points]
    if not shapes:
        raise InvalidInputError(f"no {what} given")
    return shapes


def _flow_frame(flow: Any, h: int, w: int) -> np.ndarray:
    """One ``(2, H, W)`` frame of displacements as a C-contiguous float32/float64 array (a view where it is one already)."""
    flow = torch.as_tensor(flow).detach().cpu().numpy()
    if flow.shape != (2, h, w):
        raise ShapeMismatchError(f"a flow frame is (2, {h}, {w}) for this mask, got {flow.shape}")
    # Other dtypes widen exactly to float64, the precision the landings are computed in.
    return np.ascontiguousarray(flow, flow.dtype if flow.dtype in (np.float32, np.float64) else np.float64)


class RegionMask:
    """A soft mask ``float32 (H, W)`` in [0, 1]; 1 = this region may move.

    Args:
        values: ``(H, W)`` tensor or array: bool, uint8 (/255), uint16 (/65535) or float in
            [0, 1]. Copied; the caller's object is never modified or shared.

    Raises:
        ShapeMismatchError: not two-dimensional or empty.
        NonFiniteError / InvalidInputError: NaN, or float values outside [0, 1].

    Example:
        >>> import torch
        >>> RegionMask(torch.ones(4, 6)).area()
        1.0
    """

    __slots__ = ("_values",)

    def __init__(self, values: torch.Tensor | np.ndarray | RegionMask) -> None:
        if isinstance(values, RegionMask):
            self._values = values._values.clone()
            return
        if isinstance(values, torch.Tensor):
            values = values.detach().cpu().numpy()
        array = np.asarray(values)
        if array.ndim != 2 or 0 in array.shape:
            raise ShapeMismatchError(f"a mask is (H, W), got shape {array.shape}; use RegionMask.from_image for images")
        self._values = torch.from_numpy(mask_values(array))

    # --- views -------------------------------------------------------------------------
    @property
    def values(self) -> torch.Tensor:
        """``float32 (H, W)`` in [0, 1]. Shared, not copied: do not modify it in place."""
        return self._values

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` in pixels."""
        return tuple(self._values.shape)

    def numpy(self) -> np.ndarray:
        """A copy as ``numpy float32 (H, W)``."""
        return self._values.numpy().copy()

    def area(self) -> float:
        """Fraction of the image that may move: the mean value, in [0, 1]."""
        return float(self._values.double().mean())

    def to_image(self) -> np.ndarray:
        """``uint8 (H, W)``, 255 = may move (rounded half up, as :func:`motionkit.ops.colour.to_uint8`)."""
        return to_uint8(self._values.numpy())

    def __repr__(self) -> str:
        return f"RegionMask(size={self.size}, area={self.area():.3f})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RegionMask):
            return NotImplemented
        return self.size == other.size and torch.equal(self._values, other._values)

    __hash__ = None

    # --- constructors --------------------------------------------------------------------
    @classmethod
    def full(cls, size: tuple[int, int]) -> RegionMask:
        """Everything may move."""
        return cls(torch.ones(parse_size(size, "mask")))

    @classmethod
    def empty(cls, size: tuple[int, int]) -> RegionMask:
        """Nothing may move."""
        return cls(torch.zeros(parse_size(size, "mask")))

    @classmethod
    def from_polygon(cls, points: Sequence, size: tuple[int, int]) -> RegionMask:
        """Filled polygon(s): ``[(x, y), ...]`` or a list of them (union), anti-aliased edges.

        Each pixel holds the fraction of it inside (4 x 4 samples), so the mask's area matches
        the polygon's. Self-intersecting polygons fill by the even-odd rule.

        Example:
            >>> m = RegionMask.from_polygon([(-0.5, -0.5), (9.5, -0.5), (9.5, 4.5), (-0.5, 4.5)], size=(10, 10))
            >>> m.area()                      # the top half, edges on pixel borders
            0.5
        """
        return cls(raster.polygon_coverage(_shapes(points, "polygon points"), parse_size(size, "mask")))

    @classmethod
    def from_strokes(cls, points: Sequence, radius: float, size: tuple[int, int]) -> RegionMask:
        """A round brush of ``radius`` pixels painted along a polyline ``[(x, y), ...]`` or a list of them.

        Every pixel within ``radius`` of a stroke is 1, with a one-pixel anti-aliased rim.

        Example:
            >>> m = RegionMask.from_strokes([(4, 4), (20, 4)], radius=3, size=(10, 30))
            >>> m.values[4, 12].item(), m.values[9, 12].item()
            (1.0, 0.0)
        """
        return cls(raster.stroke_coverage(_shapes(points, "stroke points"), float(radius), parse_size(size, "mask")))

    @classmethod
    def from_image(cls, image: str | os.PathLike | np.ndarray | torch.Tensor | Any, threshold: float | None = None) -> RegionMask:
        """A mask painted as an image: white = may move, black = stays.

        Accepts a file path, a numpy array ``(H, W[, C])``, a tensor ``(C, H, W)`` or
        ``(H, W)``, or a PIL image; gray, gray+alpha, RGB (luminance) and RGBA, 8 or 16 bit
        or float. Alpha multiplies (transparent = not painted). Soft values are kept unless
        ``threshold`` is given, then values ``>= threshold`` become 1 and the rest 0.

        Example:
            >>> import numpy as np
            >>> RegionMask.from_image(np.array([[0, 128, 255]], np.uint8), threshold=0.5).values.tolist()
            [[0.0, 1.0, 1.0]]
        """
        values = load_mask(image)
        if threshold is not None:
            if not 0.0 <= float(threshold) <= 1.0:
                raise InvalidInputError(f"threshold must lie in [0, 1], got {threshold!r}")
            values = (values >= float(threshold)).astype(np.float32)
        return cls(values)

    # --- edits ---------------------------------------------------------------------------
    def feather(self, sigma: float) -> RegionMask:
        """Soften the edges with a Gaussian blur of ``sigma`` pixels (edges replicated).

        Example:
            >>> round(RegionMask.full((8, 8)).feather(2.0).area(), 4)
            1.0
        """
        if not np.isfinite(sigma) or sigma < 0:
            raise InvalidInputError(f"feather sigma must be a finite number of pixels >= 0, got {sigma!r}")
        return RegionMask(blur2d(self._values[None, None], float(sigma))[0, 0].clamp(0.0, 1.0))

    def _morph(self, px: float, op) -> RegionMask:
        if not np.isfinite(px) or px < 0:
            raise InvalidInputError(f"dilate/erode radius must be a finite number of pixels >= 0, got {px!r}")
        r = int(np.ceil(px))
        if r == 0:
            return RegionMask(self)
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        disk = (xx**2 + yy**2 <= px * px + 1e-9).astype(np.uint8)
        return RegionMask(op(self._values.numpy(), disk))

    def dilate(self, px: float) -> RegionMask:
        """Grow the moving region by ``px`` pixels (grayscale dilation with a disk).

        Example:
            >>> dot = RegionMask.from_strokes([(5, 5)], radius=0, size=(11, 11))
            >>> round(dot.dilate(2).area() * 121)    # the 13 pixels within 2 px of the centre
            13
        """
        return self._morph(px, cv2.dilate)

    def erode(self, px: float) -> RegionMask:
        """Shrink the moving region by ``px`` pixels (grayscale erosion with a disk); image borders do not erode.

        Example:
            >>> RegionMask.full((8, 8)).erode(3).area()
            1.0
        """
        return self._morph(px, cv2.erode)

    def swept(self, flows: Iterable[torch.Tensor]) -> RegionMask:
        """This mask together with everywhere its content travels: the mask a renderer must keep open.

        An object moved as a whole leaves the brush it was painted in; a renderer that keeps
        everything outside the brush unchanged would cut it off at the brush's edge. For each
        ``(2, H, W)`` frame of displacements (pixels), the pixels where a pixel inside the mask
        (value > 0) lands are added at 1 (with their neighbours, so a fractional landing is covered).
        An iterator is read one frame at a time (a streamed field stays streamed); the frames of
        a sequence (or a ``(T, 2, H, W)`` tensor) are shared out over the kernel threads.

        Example:
            >>> import torch
            >>> mask = RegionMask.from_polygon([(2, 2), (4, 2), (4, 4), (2, 4)], size=(8, 12))
            >>> flow = torch.zeros(2, 8, 12); flow[0] = 5.0                  # everything 5 px right
            >>> bool(mask.swept([flow]).values[3, 8]), bool(mask.values[3, 8])
            (True, False)
        """
        h, w = self.size
        inside = np.ascontiguousarray(self._values.numpy(), np.float32)
        if isinstance(flows, (Sequence, torch.Tensor, np.ndarray)):
            # In memory: every frame's landings in one compiled pass each, frames shared over the kernel threads.
            reached = landings(inside, [_flow_frame(flow, h, w) for flow in flows])
        else:  # an iterator: one frame at a time, so a streamed field stays streamed
            reached = np.zeros((h, w), np.uint8)
            for flow in flows:
                mark_landings(inside, _flow_frame(flow, h, w), reached)
        reached = cv2.dilate(reached, np.ones((3, 3), np.uint8))  # a fractional landing covers its neighbours
        return RegionMask(np.maximum(self._values.numpy(), reached.astype(np.float32)))

    def resize(self, size: tuple[int, int]) -> RegionMask:
        """Bilinear resampling to ``size = (H', W')`` (antialiased when shrinking).

        Example:
            >>> RegionMask.full((8, 8)).resize((16, 4)).size
            (16, 4)
        """
        h, w = parse_size(size, "mask")
        shrink = h < self.size[0] or w < self.size[1]
        out = F.interpolate(self._values[None, None], size=(h, w), mode="bilinear", align_corners=False, antialias=shrink)
        return RegionMask(out[0, 0].clamp(0.0, 1.0))

    def _check_other(self, other: RegionMask, op: str) -> None:
        if other.size != self.size:
            raise ShapeMismatchError(f"cannot {op} masks of sizes {self.size} and {other.size}; resize one first")

    def __or__(self, other: RegionMask) -> RegionMask:
        """Union: the pixelwise maximum."""
        if not isinstance(other, RegionMask):
            return NotImplemented
        self._check_other(other, "combine (|)")
        return RegionMask(torch.maximum(self._values, other._values))

    def __and__(self, other: RegionMask) -> RegionMask:
        """Intersection: the pixelwise minimum."""
        if not isinstance(other, RegionMask):
            return NotImplemented
        self._check_other(other, "intersect (&)")
        return RegionMask(torch.minimum(self._values, other._values))

    def __invert__(self) -> RegionMask:
        """Complement: ``1 - m``."""
        return RegionMask(1.0 - self._values)

    # --- JSON ----------------------------------------------------------------------------
    def to_json(self) -> str:
        """A JSON document with the size and the exact float32 values (compressed, base64).

        ``{"format": "motionkit.mask", "version": 1, "size": [H, W], "encoding":
        "zlib-float32-le", "data": "..."}``: every value comes back bit for bit.

        Example:
            >>> m = RegionMask.from_strokes([(3, 3), (9, 4)], radius=2, size=(8, 12))
            >>> RegionMask.from_json(m.to_json()) == m
            True
        """
        raw = self._values.numpy().astype("<f4").tobytes()
        data = base64.b64encode(zlib.compress(raw, 6)).decode("ascii")
        return _MaskDocument(size=self.size, data=data).model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> RegionMask:
        """Read :meth:`to_json`'s document back, exactly.

        Raises:
            MotionFileError: not JSON, wrong format or version, bad base64, size mismatch.
        """
        try:
            doc = _MaskDocument.model_validate_json(text)
        except pydantic.ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'document'}: {e['msg']}" for e in exc.errors())
            raise MotionFileError(f"not a motionkit mask document ({problems})") from None
        h, w = doc.size
        try:
            check_size(h, w, "mask")
        except InvalidInputError as exc:
            raise MotionFileError(f"mask document: {exc}") from None
        try:
            # Never inflate more than the declared size needs: a small document cannot
            # expand into gigabytes.
            inflate = zlib.decompressobj()
            raw = inflate.decompress(base64.b64decode(doc.data, validate=True), 4 * h * w + 1)
        except (ValueError, zlib.error) as exc:
            raise MotionFileError(f"mask document's data is not valid base64 zlib ({exc})") from None
        if len(raw) > 4 * h * w or (len(raw) == 4 * h * w and not inflate.eof):
            raise MotionFileError(f"mask document says {h} x {w} but holds more values than that")
        if len(raw) != 4 * h * w:
            raise MotionFileError(f"mask document says {h} x {w} but holds only {len(raw) // 4} values")
        values = np.frombuffer(raw, dtype="<f4").reshape(h, w)
        try:
            return cls(values.astype(np.float32))
        except InvalidInputError as exc:
            raise MotionFileError(f"mask document holds invalid values: {exc}") from None


class ObjectRegion:
    """One object that the object-aware densifier moves as a whole.

    Args:
        mask: where the object is in the reference image (1 = object), at the image's size.
        tracks: indices, into the trajectory list given to the predictor, of the drags and
            pins that move (or hold) this object.

    A list of regions is in depth order, front first: where two moved objects overlap, the
    earlier one is drawn in front.

    Example:
        >>> import torch
        >>> region = ObjectRegion(RegionMask(torch.ones(4, 6)), tracks=[0, 2])
        >>> region
        ObjectRegion(mask=RegionMask(size=(4, 6), area=1.000), tracks=(0, 2))
    """

    __slots__ = ("mask", "tracks")

    def __init__(self, mask: RegionMask | torch.Tensor | np.ndarray, tracks: Sequence[int] = ()) -> None:
        self.mask = mask if isinstance(mask, RegionMask) else RegionMask(mask)
        tracks = tuple(int(t) for t in tracks)
        if any(t < 0 for t in tracks):
            raise InvalidInputError(f"track indices are >= 0, got {list(tracks)}")
        self.tracks = tracks

    def __repr__(self) -> str:
        return f"ObjectRegion(mask={self.mask!r}, tracks={self.tracks})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObjectRegion):
            return NotImplemented
        return self.tracks == other.tracks and self.mask == other.mask

    __hash__ = None
