"""Forward warping by inverting the field, then backward warping (no colour splatting).

The algorithm behind the ``warp`` renderer:

1. **Invert the field by splatting it.** Every source pixel ``p`` lands at ``q = p + f(p)``;
   splatting ``-f(p)`` bilinearly onto those targets gives the inverse flow ``g(q)`` with
   ``q + g(q) = p``. Collisions (occlusions) are resolved by a softmax over a metric, the
   flow magnitude in pixels times ``sharpness``: the pixel that moved more (the dragged
   foreground) wins, so moving objects pass *over* the static background instead of
   smearing with it (``splat="avg"`` averages instead). For images larger than
   ``work_size`` the splat runs on a downscaled field; the inverse is then refined at full
   resolution by Newton steps on ``q + g(q) = p`` wherever it is off by more than
   :data:`ACCURACY` px (exact wherever the field is smooth, stretched or compressed).
2. **Find what no input pixel reaches.** Targets that no source pixel reaches (disocclusions,
   content entering the frame) get an inverse flow by push-pull from their neighbours
   (:mod:`motionkit.ops.inpaint`), the rubber sheet. Source pixels the field tears apart (a
   moved object's soft outline, stretched over its whole path) are not splatted
   (:func:`motionkit.ops.plate.torn`), and refined pixels whose inverse still misses
   (:data:`UNRESOLVED`) count as unseen too, so the place an object left is a clean hole,
   not a trail of speckles.
3. **Backward warp** the image along ``g`` with ``cv2.remap`` and copy the input exactly
   wherever the brush mask is 0. With ``fill="background"`` the unseen pixels then read the
   background plate (:mod:`motionkit.ops.plate`): one texture synthesis per image, in
   reference coordinates, with what moves removed and extended beyond the borders, read at
   each pixel's background position; ``fill="stretch"`` keeps the rubber sheet (read
   mirrored outside the image).

Only a two-channel field is splatted (not the image), with ``numpy.bincount``, at reduced
resolution: this keeps the occlusion handling of :func:`motionkit.ops.splat.splat` at a
fraction of its cost. A frame whose field is all zero is the input, bit for bit.

The public functions take and return torch tensors on the caller's device (the work runs
in numpy/OpenCV on the CPU, converted once per call). Their ``*_numpy`` twins take
channels-last numpy arrays and are what per-frame loops that already hold numpy call, so
no conversion is paid twice.

Example:
    >>> import torch
    >>> image = torch.rand(3, 32, 32)
    >>> flow = torch.zeros(2, 32, 32); flow[0] = 3.0          # three pixels to the right
    >>> out, unseen = warp_frame(image, flow)
    >>> torch.allclose(out[:, :, 3:], image[:, :, :-3], atol=1e-5), bool(unseen[:, :3].all())
    (True, True)
"""

from __future__ import annotations

import threading
import weakref
from typing import Literal

import cv2
import numpy as np
import torch

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops import brush
from motionkit.ops._inverse_bincount import splat_bincount
from motionkit.ops._inverse_refine import (
    ACCURACY,
    HOLE_WEIGHT,
    UNRESOLVED,
    _kernels,
    _refine_inverse,
)
from motionkit.ops._kernel_threads import run_jobs
from motionkit.ops.grid import remap_grid
from motionkit.ops.inpaint import push_pull_numpy
from motionkit.ops.plate import BackgroundPlate, foreground, plate_for, torn
from motionkit.ops.plate_sources import background_sources

Splat = Literal["softmax", "avg"]
Fill = Literal["background", "stretch"]


class _LastMap(threading.local):
    """The most recent inverse map of this thread, with the field and settings it came from.

    Video-to-video moves two images along each field frame (the edit, and the source frame 0
    to check the flow against the video), through two independent callers. Inverting a
    frame is most of a warp's cost, so the second caller reuses the first one's map when its
    field is the same (compared value for value: a cost of one pass over ``2 H W`` floats).
    """

    key: tuple | None = None
    flow: np.ndarray | None = None
    result: tuple[np.ndarray, np.ndarray] | None = None


_last_map = _LastMap()


def splat_inverse(flow: torch.Tensor, metric: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of a forward field by bilinear (optionally softmax-weighted) splatting.

    Args:
        flow: ``(2, H, W)`` forward displacement of every source pixel, in pixels (dx, dy).
        metric: ``(H, W)`` softmax importance (larger wins collisions); ``None`` averages.

    Returns:
        ``(inverse (2, H, W), coverage (H, W))`` in ``flow``'s dtype and on its device: at
        every target pixel ``q`` the displacement back to its source (``q + inverse(q)`` is
        the source position) and the summed bilinear weight of the sources landing there
        (0 in holes; the inverse is 0 there too).

    Example:
        >>> inv, cov = splat_inverse(torch.ones(2, 4, 4))
        >>> inv[:, 2, 2].tolist(), float(cov[0, 0])
        ([-1.0, -1.0], 0.0)
    """
    _check_flow(flow)
    if metric is not None and tuple(metric.shape) != tuple(flow.shape[1:]):
        raise ShapeMismatchError(f"metric must be {tuple(flow.shape[1:])} like the flow's frame, got {tuple(metric.shape)}")
    inverse, coverage = splat_inverse_numpy(_numpy(flow), None if metric is None else _numpy(metric))
    return _tensor(inverse, flow), _tensor(coverage, flow)


def source_map(
    flow: torch.Tensor, *, splat: Splat = "softmax", sharpness: float = 1.0, work_size: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each output pixel reads the input: the backward map of the forward ``flow``.

    Args:
        flow: ``(2, H, W)`` displacement of every input pixel to the output, in pixels.
        splat: ``"softmax"`` (where pixels collide, the one that moved more wins) or ``"avg"``.
        sharpness: softmax metric per pixel of motion; higher makes occlusions harder.
        work_size: long side (pixels) above which the field is inverted at reduced
            resolution and refined at full resolution.

    Returns:
        ``(source (2, H, W), unseen (H, W) bool)`` on ``flow``'s device: the input position
        (channel 0 = x, 1 = y, pixels) each output pixel shows, in ``flow``'s dtype; and the
        output pixels that no input pixel moved to or whose source lies outside the input
        (content the input does not show).

    Example:
        >>> src, unseen = source_map(torch.full((2, 8, 8), 2.0))
        >>> src[:, 4, 4].tolist(), bool(unseen[0, 0]), bool(unseen[4, 4])
        ([2.0, 2.0], True, False)
    """
    _check_flow(flow)
    check_settings(splat, "background", sharpness, work_size)
    src, unseen = source_map_numpy(_numpy(flow), splat=splat, sharpness=sharpness, work_size=work_size)
    return _tensor(src.transpose(2, 0, 1), flow), torch.from_numpy(np.array(unseen)).to(flow.device)


def warp_frame(
    image: torch.Tensor,
    flow: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    splat: Splat = "softmax",
    sharpness: float = 1.0,
    fill: Fill = "background",
    work_size: int = 256,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward-warp one image along ``flow`` (the numeric core of the ``warp`` renderer).

    Args:
        image: ``(C, H, W)`` floating point, values in [0, 1].
        flow: ``(2, H, W)`` displacement from this image to the output, in pixels.
        mask: optional ``(H, W)`` brush in [0, 1]: where it is 0 nothing moves and the output
            is ``image`` exactly (inside, the field is used as given).
        splat, sharpness, work_size: see :func:`source_map`.
        fill: colour of disoccluded holes inside the image: ``"background"`` (from the
            surrounding pixels that moved least) or ``"stretch"`` (the rubber sheet).

    Returns:
        ``(frame (C, H, W), unseen (H, W) bool)`` on ``image``'s device, ``frame`` in
        ``image``'s dtype (computed in float32); ``unseen`` as in :func:`source_map`.

    Raises:
        ShapeMismatchError: the image, flow or mask sizes disagree.
        InvalidInputError: an unknown ``splat``/``fill`` or a bad ``sharpness``/``work_size``.
    """
    _check_flow(flow)
    check_settings(splat, fill, sharpness, work_size)
    h, w = flow.shape[1:]
    if image.dim() != 3 or tuple(image.shape[1:]) != (h, w):
        raise ShapeMismatchError(f"image must be (C, {h}, {w}) to match the flow, got {tuple(image.shape)}")
    if mask is not None and tuple(mask.shape) != (h, w):
        raise ShapeMismatchError(f"mask must be ({h}, {w}) like the image, got {tuple(mask.shape)}")
    out, unseen = warp_frame_numpy(
        _channels_last(image), _numpy(flow), None if mask is None else _numpy(mask),
        splat=splat, sharpness=sharpness, fill=fill, work_size=work_size,
    )
    # A channels-first view of the channels-last result: no copy, and quantising it and
    # permuting back (what a clip stores) is contiguous again.
    frame = torch.from_numpy(out).permute(2, 0, 1)
    dtype = image.dtype if image.is_floating_point() else torch.float32
    return frame.to(image.device, dtype), torch.from_numpy(unseen).to(image.device)


def splat_inverse_numpy(
    flow: np.ndarray, metric: np.ndarray | None = None, *, skip: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`splat_inverse` on numpy: ``float32 (2, H, W)`` (and ``(H, W)``) in, ``float32`` out.

    ``skip`` (``bool (H, W)``) marks source pixels not splatted at all (torn ones, :func:`motionkit.ops.plate.torn`).
    """
    importance = None if metric is None else _softmax_weights(metric)
    if _kernels is not None:  # one compiled pass, the same sums as ops._inverse_bincount's
        return _kernels.splat_inverse(np.ascontiguousarray(flow, np.float32), importance,
                                      None if skip is None or not skip.any() else skip)
    return splat_bincount(flow, importance, skip)


def _softmax_weights(metric: np.ndarray) -> np.ndarray:
    """``float32 (H*W,)``: the splat's softmax weights, ``exp`` of ``metric (H, W)`` relative to its maximum.

    Floored at ``exp(-60)`` so float32 keeps every weight > 0; in place, numpy's exp (numba's
    differs by ulps; numpy's releases the GIL, so it can run beside a kernel).
    """
    importance = metric.ravel() - metric.max()
    return np.exp(np.maximum(importance, -60.0, out=importance), out=importance).astype(np.float32, copy=False)


def source_map_numpy(
    flow: np.ndarray, *, splat: Splat = "softmax", sharpness: float = 1.0, work_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`source_map` on numpy: ``float32 (2, H, W)`` in, ``(source (H, W, 2) float32, unseen (H, W) bool)`` out.

    ``source`` is channels last, the layout ``cv2.remap`` takes. Both arrays are read-only:
    the last map of each thread is kept, and the same field asked for again (video-to-video
    moves two images along each field frame) gets it back without a second inversion.

    Example:
        >>> src, unseen = source_map_numpy(np.full((2, 8, 8), 2.0, np.float32))
        >>> src[4, 4].tolist(), bool(unseen[0, 0]), bool(unseen[4, 4])
        ([2.0, 2.0], True, False)
    """
    key = (splat, float(sharpness), int(work_size), flow.shape)
    if _last_map.key == key and _same_field(_last_map.flow, flow):
        return _last_map.result
    # The kept copy of the field reuses the previous one's memory (it never leaves this module):
    # a fresh 720p array costs its page faults on every frame. The inversion fills it.
    _last_map.key, kept = None, _last_map.flow
    if kept is None or kept.shape != flow.shape:
        kept = np.empty(flow.shape, np.float32)
    src, unseen = _source_map_numpy(flow, splat=splat, sharpness=sharpness, work_size=work_size, keep=kept)
    src.flags.writeable = unseen.flags.writeable = False
    _last_map.key, _last_map.flow, _last_map.result = key, kept, (src, unseen)
    return src, unseen


def _same_field(cached: np.ndarray, flow: np.ndarray) -> bool:
    """Equal value for value; a strided sample first, so a different field costs next to nothing."""
    sample = slice(None, None, 4093)
    return np.array_equal(cached.ravel()[sample], flow.ravel()[sample]) and np.array_equal(cached, flow)


def _source_map_numpy(flow: np.ndarray, *, splat: Splat, sharpness: float, work_size: int,
                      keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    _, h, w = flow.shape
    scale = max(h, w) / work_size
    sw, sh = max(1, round(w / scale)), max(1, round(h / scale))
    if scale > 1 and _kernels is not None and w % sw == 0 and h % sh == 0 and w // sw == h // sh:
        # Compiled: block-mean downscale with its metric in one pass (512 -> 256, 720p -> 256 x 144), copying
        # the field into ``keep`` (the cache's float32 copy, if given) band by band as it reads it
        small, small_metric = _kernels.box_downscale(flow, w // sw, None if splat == "avg" else float(sharpness), copy=keep)
        # The tear test and the softmax weights need only the small field: one hand-over, side by side
        done: dict[str, np.ndarray | None] = {"weights": None}
        run_jobs([lambda: done.update(skip=torn(small))]
                 + ([] if small_metric is None else [lambda: done.update(weights=_softmax_weights(small_metric))]))
        inv, cover = _kernels.splat_inverse(small, done["weights"], done["skip"] if done["skip"].any() else None)
        # push_pull_numpy clips the weight to [0, 1] itself (its compiled first pass): no np.clip copy
        return _refine_fused(flow, push_pull_numpy(inv.transpose(1, 2, 0), cover), cover)
    if keep is not None:
        np.copyto(keep, flow, casting="unsafe")
    metric = None if splat == "avg" else np.hypot(flow[0], flow[1]) * sharpness
    if scale > 1:
        small = cv2.resize(flow.transpose(1, 2, 0), (sw, sh), interpolation=cv2.INTER_AREA)
        small *= np.array([sw / w, sh / h], np.float32)
        small_metric = None if metric is None else cv2.resize(metric, (sw, sh), interpolation=cv2.INTER_AREA)
        small = np.ascontiguousarray(small.transpose(2, 0, 1))
        inv, cover = splat_inverse_numpy(small, small_metric, skip=torn(small))
        # Soft confidence: a target grazed by one stretched source must not become a speckle.
        inv = push_pull_numpy(inv.transpose(1, 2, 0), np.clip(cover, 0.0, 1.0))
        if _kernels is not None:
            return _refine_fused(flow, inv, cover)
        inv = cv2.resize(inv, (w, h), interpolation=cv2.INTER_LINEAR) * np.array([w / sw, h / sh], np.float32)
        cover = cv2.resize(cover, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        inv, cover = splat_inverse_numpy(flow, metric, skip=torn(flow))
        inv = push_pull_numpy(inv.transpose(1, 2, 0), np.clip(cover, 0.0, 1.0))
    if _kernels is not None:
        return _refine_fused(flow, inv, cover)
    grid = remap_grid(h, w)
    refined, unresolved = _refine_inverse(flow, inv, grid)
    src = grid + refined
    outside = (src[..., 0] < -0.5) | (src[..., 0] > w - 0.5) | (src[..., 1] < -0.5) | (src[..., 1] > h - 0.5)
    unseen = (cover <= HOLE_WEIGHT) | outside | unresolved
    # A pixel or two landing alone inside a hole (a stray outline pixel) is a speckle, not content.
    return src, unseen | (cv2.blur(unseen.astype(np.float32), (3, 3)) > 0.6)


def _refine_fused(flow: np.ndarray, inv: np.ndarray, cover: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upsampling, Newton refinement, source map, unseen mask and miss test in one compiled pass, then the speckle rule.

    The kernel ends each pixel's refinement with the residual ``g + f(q + g)`` in hand: a
    pixel missing by more than :data:`UNRESOLVED` px is marked there, instead of by a second
    full-frame ``cv2.remap`` of the field and a norm (a third of the inversion's cost at
    512x512). The masks agree but for pixels whose miss lies within ``cv2.remap``'s 1/32 px
    weight rounding of the threshold (tests/ops/test_forward_fused.py).
    """
    as32 = [np.ascontiguousarray(a, np.float32) for a in (flow, inv, cover)]
    src, unseen = _kernels.refine_inverse(*as32, accuracy=ACCURACY, hole_weight=HOLE_WEIGHT, unresolved=UNRESOLVED)
    # A pixel or two landing alone inside a hole (a stray outline pixel) is a speckle, not content
    # (the blur test of the numpy path above, compiled: the same mask).
    return src, _kernels.despeckle(unseen)


def warp_frame_numpy(
    image: np.ndarray,
    flow: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    splat: Splat = "softmax",
    sharpness: float = 1.0,
    fill: Fill = "background",
    work_size: int = 256,
    plate: BackgroundPlate | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`warp_frame` on numpy: ``float32 (H, W, C)`` image, ``(2, H, W)`` flow, ``(H, W)`` mask.

    Returns ``(frame (H, W, C) float32, unseen (H, W) bool)``. Any ``C`` works: two images
    moved by the same field can be stacked on the channel axis and share one inverse map.
    ``plate`` is the :class:`~motionkit.ops.plate.BackgroundPlate` of ``image`` that
    ``fill="background"`` reads unseen pixels from (default: this thread's plate of the
    last image warped, kept while the same image comes again).
    """
    h, w = image.shape[:2]
    flow, moves = (flow, brush.moves(flow)) if mask is None else brush.inside(flow, mask)
    if not moves:
        return image.copy(), np.zeros((h, w), bool)
    src, unseen = source_map_numpy(flow, splat=splat, sharpness=sharpness, work_size=work_size)
    done: dict[str, tuple] = {}

    def remap() -> None:
        # remap drops a single channel's axis; the reshape puts it back.
        # One two-channel map (the map's own layout: the same interpolation as two separate
        # planes, without OpenCV copying each strided plane first).
        done["out"] = cv2.remap(image, src, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101).reshape(image.shape)

    def sources() -> None:
        # Disocclusions and content entering across the border: the background plate, read
        # at each pixel's background source (the rubber sheet keeps the mirrored read).
        # What moves matters only for holes inside the image; content entering across the
        # border (a pan) comes from where the field itself says.
        # (tested at the unseen pixels only: a few hundred of the frame's pixels, not four full-frame passes)
        at = src.reshape(-1, 2)[np.flatnonzero(unseen)]  # the same rows as src[unseen], without its 2-D mask walk
        inner = (at[:, 0] >= 0) & (at[:, 0] <= w - 1) & (at[:, 1] >= 0) & (at[:, 1] <= h - 1)
        moving = foreground(flow, work_size=work_size) if inner.any() else np.zeros((h, w), bool)
        done["sources"] = (moving, *background_sources(flow, unseen, moving, work_size=work_size))

    if fill == "background" and unseen.any():
        run_jobs([remap, sources])  # two threads where the frame runs alone (sources need no warped image)
        out, (moving, ys, xs, bx, by) = done["out"], done["sources"]
        plate = plate_for(image) if plate is None else plate
        out[ys, xs] = plate.sample(bx, by, moving).reshape(len(ys), -1)
    else:
        remap()
        out = done["out"]
    if mask is not None:  # outside the brush: the image itself, bit for bit (and nothing unseen: a new array)
        return out, brush.outside(image, mask, out, unseen)
    return out, np.array(unseen)  # a writable copy: the map's own array is kept for reuse


def _check_flow(flow: torch.Tensor) -> None:
    if not isinstance(flow, torch.Tensor) or flow.dim() != 3 or flow.shape[0] != 2:
        shape = tuple(flow.shape) if isinstance(flow, torch.Tensor) else type(flow).__name__
        raise ShapeMismatchError(f"flow must be a (2, H, W) tensor in pixels, got {shape}")


def check_settings(splat: str, fill: str, sharpness: float, work_size: int) -> None:
    """Refuse warp settings the functions here cannot use (the renderer checks them once, when built).

    Raises:
        InvalidInputError: ``splat`` not ``softmax``/``avg``, ``fill`` not ``background``/``stretch``,
            ``sharpness <= 0`` or ``work_size < 16``.
    """
    if splat not in ("softmax", "avg"):
        raise InvalidInputError(f"splat must be 'softmax' or 'avg', got {splat!r}")
    if fill not in ("background", "stretch"):
        raise InvalidInputError(f"fill must be 'background' or 'stretch', got {fill!r}")
    if not sharpness > 0 or not work_size >= 16:
        raise InvalidInputError(f"sharpness must be > 0 and work_size >= 16, got {sharpness}, {work_size}")


class _LastImage(threading.local):
    """The channels-last float32 copy of the image this thread warped last.

    A renderer moves one image along every frame of a field; converting it once, not once
    a frame, saves a full-image copy per frame. The entry is the same tensor object (a weak
    reference, so a new tensor at a reused address never matches) not modified in place
    since (torch's version counter).
    """

    image: weakref.ref | None = None
    version: int = -1
    array: np.ndarray | None = None


_last_image = _LastImage()


def _channels_last(image: torch.Tensor) -> np.ndarray:
    """``(C, H, W)`` tensor -> ``float32 (H, W, C)`` contiguous numpy, read-only, reused for the same unchanged tensor."""
    cached = _last_image.image() if _last_image.image is not None else None
    if cached is image and _last_image.version == image._version:
        return _last_image.array
    array = np.ascontiguousarray(_numpy(image).transpose(1, 2, 0))
    array.flags.writeable = False
    _last_image.image, _last_image.version, _last_image.array = weakref.ref(image), image._version, array
    return array


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    """A float32 numpy copy (or view, on the CPU) of any tensor: the one conversion per call."""
    return tensor.detach().to("cpu", torch.float32).numpy()


def _tensor(array: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """``array`` back as a tensor on ``like``'s device, in ``like``'s floating dtype."""
    dtype = like.dtype if like.is_floating_point() else torch.float32
    return torch.from_numpy(np.ascontiguousarray(array)).to(like.device, dtype)
