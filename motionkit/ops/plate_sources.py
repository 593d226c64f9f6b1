"""Where each unseen pixel of a warped frame reads the background plate (:mod:`motionkit.ops.plate`).

A pixel no input pixel reaches shows the background that was behind what moved, or content
entering across the border; :func:`background_sources` finds, for each, the reference
position the background there comes from, following the background's own motion: the field
with the foreground taken out and continued into its place by push-pull.

Only a band of rows of that motion is ever read (at the unseen pixels, and around their first
step), so with numba its frame-sized steps run on that band alone, into buffers each thread
keeps, and the continuation is averaged down in one compiled pass
(:mod:`motionkit.ops._fill_kernels`); the positions are bit for bit those of the frame-sized
numpy and OpenCV code (:func:`_continued`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import cv2
import numpy as np

from motionkit.ops.inpaint import push_pull_numpy

try:  # the compiled passes; the numpy and OpenCV code below where numba is missing
    from motionkit.ops import _fill_kernels as _kernels
except ImportError:  # pragma: no cover - numba is a dependency; this keeps the numpy path importable
    _kernels = None


def background_sources(
    flow: np.ndarray, unseen: np.ndarray, moving: np.ndarray, *, work_size: int = 256
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where each unseen output pixel's background comes from, in input coordinates.

    ``flow`` is the ``float32 (2, H, W)`` forward field, ``unseen`` the ``bool (H, W)``
    output pixels no input pixel reaches and ``moving`` the ``bool (H, W)`` foreground (see
    :func:`foreground`). The background's own motion ``b`` is the field with the foreground
    taken out and continued into its place (push-pull from the pixels around it): zero for
    a still background, the camera's motion under a pan. An unseen pixel ``q`` shows the
    background point ``p`` with ``p + b(p) = q`` (two fixed-point steps), so a hole behind a
    dragged object reads the plate exactly where it is (no half-pixel blur), and content
    entering across the border reads it beyond the border where the camera move brings it from.

    The continuation is computed at ``work_size`` (long side, pixels) and used only inside
    the foreground; elsewhere ``b`` is the field exactly.

    Returns ``(ys, xs, source_x, source_y)``: the unseen pixels and their background sources.
    """
    # (flat indices and a divmod: the same pixels in the same order as np.nonzero, at a
    # twentieth of its cost; cv2.merge interleaves the two planes ten times faster than a
    # transposed copy, the same values)
    ys, xs = np.divmod(np.flatnonzero(unseen), unseen.shape[1])
    if _kernels is not None and flow.dtype == np.float32 and len(ys):
        return _sources_in_rows(flow, ys, xs, moving, work_size)
    field = cv2.merge([np.ascontiguousarray(flow[0], np.float32), np.ascontiguousarray(flow[1], np.float32)])
    if moving.any():
        continued = _continued(field, moving, work_size)
        if _kernels is not None and continued.dtype == np.float32:
            # the np.where below, in place, in one pass
            _kernels.choose2(np.ascontiguousarray(moving, bool).reshape(-1), continued.reshape(-1), field.reshape(-1), field.reshape(-1))
        else:
            field = np.where(moving[..., None], continued, field)
    qx, qy = xs.astype(np.float32), ys.astype(np.float32)
    px, py = qx - field[ys, xs, 0], qy - field[ys, xs, 1]
    n = len(xs)
    maps = np.zeros((-(-n // 1024) * 1024, 2), np.float32)
    maps[:n, 0], maps[:n, 1] = px, py
    looked = cv2.remap(field, maps[..., 0].reshape(-1, 1024), maps[..., 1].reshape(-1, 1024), cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE).reshape(-1, 2)[:n]
    return ys, xs, qx - looked[:, 0], qy - looked[:, 1]


#: Rows beyond the unseen pixels' own that their band of the background field includes: the
#: reads around a still background's holes fall there, and the band serves them too.
SPARE_ROWS = 4


def _sources_in_rows(flow: np.ndarray, ys: np.ndarray, xs: np.ndarray, moving: np.ndarray, work_size: int) -> tuple:
    """:func:`background_sources` building the background's field only on the rows its reads touch (the same values).

    The field is read at the unseen pixels and bilinearly at their first step; both span a
    band of rows, often a fraction of the frame. The continuation's upsampling, the choice
    between it and the field and the interleaving run on those rows only (a row of
    ``cv2.resize``'s output depends only on its two source rows; ``cv2.remap`` of a band
    whose rows cover every read is the remap of the frame at coordinates shifted by whole rows).
    """
    h = flow.shape[1]
    rows = _background_rows(flow, moving, work_size)
    # ys ascend (flat indices); a few rows to spare, where a still background's reads fall
    first, last = max(int(ys[0]) - SPARE_ROWS, 0), min(int(ys[-1]) + 1 + SPARE_ROWS, h)
    band = rows(first, last)
    qx, qy = xs.astype(np.float32), ys.astype(np.float32)
    px, py = qx - band[ys - first, xs, 0], qy - band[ys - first, xs, 1]
    lowest, highest = float(py.min()), float(py.max())
    if np.isfinite(lowest) and np.isfinite(highest):
        # Rows a read may touch: cv2.remap rounds to 1/32 px, so up to two below the floor.
        top = int(min(max(np.floor(lowest), 0), h - 1))
        bottom = int(min(max(np.floor(highest) + 3, 1), h))
    else:
        top, bottom = 0, h
    if first <= top and bottom <= last:  # the band holds every row read (and the frame's edges where reads clamp)
        top = first
    else:
        band = rows(top, bottom)
    n = len(xs)
    maps = np.zeros((-(-n // 1024) * 1024, 2), np.float32)
    maps[:n, 0], maps[:n, 1] = px, py - np.float32(top)  # exact: whole rows off float32 coordinates
    looked = cv2.remap(band, maps[..., 0].reshape(-1, 1024), maps[..., 1].reshape(-1, 1024), cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE).reshape(-1, 2)[:n]
    return ys, xs, qx - looked[:, 0], qy - looked[:, 1]


def _background_rows(flow: np.ndarray, moving: np.ndarray, work_size: int) -> Callable[[int, int], np.ndarray]:
    """``rows(a, b) -> float32 (b - a, W, 2)``: rows ``a:b`` of :func:`background_sources`'s field (its continuation inside ``moving``)."""
    h, w = moving.shape
    planes = [np.ascontiguousarray(flow[0], np.float32), np.ascontiguousarray(flow[1], np.float32)]
    continued = None
    if moving.any():
        scale = max(h, w) / work_size
        if scale <= 1:
            full = _continued(cv2.merge(planes), moving, work_size)
            continued = lambda a, b: full[a:b]
        else:
            continued = _upsampled(_continued_small(planes, moving, scale), w, h)

    def rows(a: int, b: int) -> np.ndarray:
        field = _scratch("field", b - a, w)
        if continued is None:
            return cv2.merge([planes[0][a:b], planes[1][a:b]], field)
        # the interleaving and the choice in one pass
        _kernels.choose_planes(np.ascontiguousarray(moving[a:b]).reshape(-1), continued(a, b).reshape(-1),
                               planes[0][a:b].reshape(-1), planes[1][a:b].reshape(-1), field.reshape(-1))
        return field

    return rows


def _continued_small(planes: list[np.ndarray], moving: np.ndarray, scale: float) -> np.ndarray:
    """:func:`_continued`'s push-pull at reduced resolution (before its upsampling), from the field's two planes."""
    h, w = moving.shape
    size = (max(1, round(w / scale)), max(1, round(h / scale)))
    if (w, h) == (2 * size[0], 2 * size[1]) and _area_matches():  # one pass, no frame-sized temporaries
        weight, small = np.empty(size[::-1], np.float32), np.empty((size[1], size[0], 2), np.float32)
        _kernels.kept_cells2(planes[0], planes[1], np.ascontiguousarray(moving), weight, small)
        return push_pull_numpy(small, (weight > 0.999).astype(np.float32) * weight)
    weight = cv2.resize((~moving).astype(np.float32), size, interpolation=cv2.INTER_AREA)
    kept = np.empty((h, w, 2), np.float32)
    _kernels.without_planes(planes[0].reshape(-1), planes[1].reshape(-1), np.ascontiguousarray(moving).reshape(-1), kept.reshape(-1))
    coarse = cv2.resize(kept, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], -1)
    small = np.empty(coarse.shape, np.float32)
    _kernels.divide(coarse, weight, np.float32(1e-6), small)
    return push_pull_numpy(small, (weight > 0.999).astype(np.float32) * weight)


_area_check: list[bool] = []


def _area_matches() -> bool:
    """Whether :func:`motionkit.ops._fill_kernels.kept_cells2` gives this OpenCV's area averages (checked once, on a probe).

    OpenCV documents what ``INTER_AREA`` averages, not the order it adds in; a build that adds
    differently keeps the OpenCV path.
    """
    if not _area_check:
        rng = np.random.default_rng(0)
        probe = (rng.standard_normal((2, 12, 40)) * 10.0 ** rng.uniform(-3, 3, (2, 12, 40))).astype(np.float32)
        probe[:, rng.random((12, 40)) < 0.2] = -0.0
        moving = rng.random((12, 40)) < 0.3
        weight, small = np.empty((6, 20), np.float32), np.empty((6, 20, 2), np.float32)
        _kernels.kept_cells2(probe[0], probe[1], moving, weight, small)
        field = cv2.merge([probe[0], probe[1]]) * (~moving).astype(np.float32)[..., None]
        area = cv2.resize(np.ascontiguousarray(field), (20, 6), interpolation=cv2.INTER_AREA)
        share = cv2.resize((~moving).astype(np.float32), (20, 6), interpolation=cv2.INTER_AREA)
        expected = area / np.maximum(share, np.float32(1e-6))[..., None]
        _area_check.append(np.array_equal(share, weight) and np.array_equal(expected.view(np.uint32), small.view(np.uint32)))
    return _area_check[0]


def _upsampled(small: np.ndarray, w: int, h: int) -> Callable[[int, int], np.ndarray]:
    """``rows(a, b)``: rows ``a:b`` of ``cv2.resize(small, (w, h), INTER_LINEAR)``, resizing only the cells they need where that is exact.

    At exactly twice the size an output row ``y`` blends cells ``y // 2 - 1 .. y // 2 + 1``
    with weights that depend only on ``y``'s parity, so a band of cells (with a row to spare
    each side, and the frame's own edges where it reaches them) gives the same rows.
    """
    sh, sw = small.shape[:2]
    if (w, h) != (2 * sw, 2 * sh):
        full = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        return lambda a, b: full[a:b]

    def rows(a: int, b: int) -> np.ndarray:
        first, last = max(a // 2 - 1, 0), min(b // 2 + 2, sh)
        part = cv2.resize(small[first:last], (w, 2 * (last - first)), _scratch("continued", 2 * (last - first), w),
                          interpolation=cv2.INTER_LINEAR)
        return part[a - 2 * first : b - 2 * first]

    return rows


class _Scratch(threading.local):
    """This thread's row buffers of :func:`_background_rows` (read and dropped within one call).

    A frame-sized array freed is often handed back to the system, and the next frame's pays
    a page fault per 4 KiB page again (about 3 us each on a virtual machine: more than the
    arithmetic on those rows); reused buffers fault once.
    """

    field: np.ndarray | None = None
    continued: np.ndarray | None = None


_scratch_rows = _Scratch()


def _scratch(name: str, rows: int, w: int) -> np.ndarray:
    """A contiguous ``float32 (rows, w, 2)`` view of this thread's buffer ``name`` (its content is undefined)."""
    buffer = getattr(_scratch_rows, name)
    if buffer is None or buffer.shape[0] < rows or buffer.shape[1] != w:
        buffer = np.empty((rows, w, 2), np.float32)
        setattr(_scratch_rows, name, buffer)
    return buffer[:rows]


def _continued(field: np.ndarray, moving: np.ndarray, work_size: int) -> np.ndarray:
    """``field (H, W, 2)`` continued into ``moving`` from around it by push-pull, at reduced resolution when large."""
    h, w = moving.shape
    keep = (~moving).astype(np.float32)
    scale = max(h, w) / work_size
    if scale <= 1:
        return push_pull_numpy(field, keep)
    size = (max(1, round(w / scale)), max(1, round(h / scale)))
    weight = cv2.resize(keep, size, interpolation=cv2.INTER_AREA)
    # Average only the kept pixels: premultiplied, then normalised.
    if _kernels is not None and field.dtype == np.float32:  # the same products and quotients, without broadcast temporaries
        kept = np.empty(field.shape, np.float32)
        _kernels.without2(np.ascontiguousarray(field).reshape(-1), np.ascontiguousarray(moving, bool).reshape(-1), kept.reshape(-1))
        coarse = cv2.resize(kept, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], -1)
        small = np.empty(coarse.shape, np.float32)
        _kernels.divide(coarse, weight, np.float32(1e-6), small)
    else:
        small = cv2.resize(field * keep[..., None], size, interpolation=cv2.INTER_AREA) / np.maximum(weight, 1e-6)[..., None]
    filled = push_pull_numpy(small.astype(np.float32), (weight > 0.999).astype(np.float32) * weight)
    return cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
