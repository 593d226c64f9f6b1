"""The background plate: one texture fill, in reference coordinates, that every frame reads.

A forward warp uncovers pixels the reference image does not show: the background behind an
object that moved away, and content entering across the border. Filling each frame's holes
on their own costs a fill per frame and flickers (every frame invents different texture).
Here they are filled once, where they *are*: a plate is the reference image with what moves
removed and synthesised (:func:`motionkit.ops.patch_inpaint.inpaint_patches_numpy`), extended
beyond the image's borders by a margin, and a frame's unseen pixel reads the plate at its
background source position. Pixels the plate has synthesised never change afterwards, so
an uncovered area that stays uncovered looks the same in every frame.

How the plate learns what may be uncovered, with one frame of a (possibly lazy, streamed)
field in memory: nothing is filled until a frame has unseen pixels. Then the moving region
of that frame's field is taken as the foreground (pixels moving clearly more than the least
moving pixel within the motion's reach: an object moves, the background under a camera move
does not stand out), and the foreground plus the margin the frame needs is filled at once.
Later frames only look up, except when one needs more (a drag that grows, a pan that runs
past the margin): then just the new part is synthesised, with everything filled before kept
as it is. A drag or a pan therefore costs one fill, or a few for a pan that accelerates.

The plate is part of the numpy frame path of :mod:`motionkit.ops.forward_warp` (its
``*_numpy`` functions): everything here is numpy, channels last; its per-frame pixel passes
(the tear test, the motion magnitude, the foreground's label means and growth) run as the
compiled kernels of :mod:`motionkit.ops._fill_kernels` where numba is installed,
bit-identical. Where each unseen pixel reads the plate is :mod:`motionkit.ops.plate_sources`.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> image = rng.random((40, 60, 3), dtype=np.float32)
    >>> plate = BackgroundPlate(image)
    >>> values = plate.sample(np.array([-5.0, 10.0]), np.array([20.0, 20.0]))   # one left of the border
    >>> plate.margins[0] >= 5, bool(np.allclose(values[1], image[20, 10]))
    (True, True)
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

import cv2
import numpy as np

try:  # the compiled tear test; the numpy code below where numba is missing
    from motionkit.ops import _fill_kernels as _kernels
except ImportError:  # pragma: no cover - numba is a dependency; this keeps the numpy path importable
    _kernels = None
from motionkit.ops.fill_memo import _fill_memo

#: Smallest margin (pixels) grown at once beyond a border, and the granularity of margins.
MARGIN_STEP = 16
#: Pixels the foreground is grown by before it is removed (its soft, anti-aliased outline, and
#: the rim outside an object's region that tears with it, see :func:`torn`).
FOREGROUND_GROW = 6
#: Pixels beyond its depth that a synthesised region still copies texture from.
SOURCE_REACH = 24
#: Stretch (in any direction) above which a source pixel is torn apart rather than moved (see :func:`torn`).
TEAR = 5.0
#: Pixels (at the field's own resolution) beside a tear whose slow side is torn with it (see :func:`torn`).
TRAIL_REACH = 3
#: A pixel beside a tear is on its slow side when it moves less than this fraction of the way
#: from the least to the most moving pixel within :data:`TRAIL_REACH`.
TRAIL_FRACTION = 0.5
#: A pixel is foreground when it moves this fraction of the frame's largest motion more
#: than the least moving pixel within reach.
FOREGROUND_FRACTION = 0.25
#: A foreground covering more of the picture than this is a camera-like move, not an object:
#: nothing lies behind it to uncover, so only what a frame's reads touch is synthesised. (An
#: object can be half the picture: coffee's cup and saucer are; a pan's estimated field moves
#: 99 % of it.)
WHOLE_PICTURE = 0.9


class BackgroundPlate:
    """The reference image with what moves removed, extended beyond its borders, filled lazily and once.

    Args:
        image: ``float32 (H, W, C)`` reference image (kept by reference: do not modify it).
        patch: patch side of the texture synthesis (pixels, odd).
        seed: seed of the synthesis (a plate is a function of the image, the fields it saw and the seed).
        max_margin: widest margin beyond any border (pixels; default the image's long side);
            reads beyond it repeat the plate's edge.

    Attributes:
        margins: ``[left, top, right, bottom]`` pixels the plate extends beyond the image.
        fills: how many times texture was synthesised (a render typically needs one).
    """

    def __init__(self, image: np.ndarray, *, patch: int = 7, seed: int = 0, max_margin: int | None = None) -> None:
        self.image = image
        self.h, self.w = image.shape[:2]
        self.patch, self.seed = int(patch), int(seed)
        self.max_margin = int(max(self.h, self.w) if max_margin is None else max_margin)
        self.margins = [0, 0, 0, 0]
        self.canvas = np.array(image, np.float32)
        self.filled = np.zeros((self.h, self.w), bool)  # synthesised pixels, in canvas coordinates
        self.fills = 0

    def sample(self, x: np.ndarray, y: np.ndarray, foreground: Callable[[], np.ndarray] | np.ndarray | None = None) -> np.ndarray:
        """The plate, bilinearly, at image coordinates ``(x, y)`` (``(N,)`` pixels; may lie outside the image).

        ``foreground`` (``bool (H, W)`` in reference coordinates, or a callable giving it, asked
        only when needed) marks what moves: those pixels are synthesised before being read.
        Returns ``float32 (N, C)``.
        """
        x = np.asarray(x, np.float32).ravel()
        y = np.asarray(y, np.float32).ravel()
        if x.size == 0:
            return np.zeros((0, self.canvas.shape[2]), np.float32)
        self._cover(x, y, foreground)
        left, top = self.margins[0], self.margins[1]
        n = x.size
        maps = np.zeros((-(-n // 1024) * 1024, 2), np.float32)
        maps[:n, 0], maps[:n, 1] = x + left, y + top
        maps = maps.reshape(-1, 1024, 2)
        values = cv2.remap(self.canvas, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return values.reshape(-1, self.canvas.shape[2])[:n]

    def _cover(self, x: np.ndarray, y: np.ndarray, foreground) -> None:
        """Grow and synthesise what reading ``(x, y)`` needs; pixels synthesised before are kept."""
        beyond = [-x.min(), -y.min(), x.max() - (self.w - 1), y.max() - (self.h - 1)]
        need = [int(np.ceil(b)) + 2 if b > 0 else 0 for b in beyond]  # + the bilinear footprint
        grown = list(self.margins)
        for side in range(4):
            if need[side] > self.margins[side] and self.margins[side] < self.max_margin:
                wanted = max(need[side] + MARGIN_STEP // 2, int(1.5 * self.margins[side]), MARGIN_STEP)
                grown[side] = min(self.max_margin, -(-wanted // MARGIN_STEP) * MARGIN_STEP)
        region = self._grow(grown)
        if foreground is None or (isinstance(foreground, np.ndarray) and not foreground.any()):
            inside = None  # nothing moves: nothing to synthesise inside the image
        else:
            inside = self._inside_unfilled(x, y)
        if inside is not None and inside.any():
            moving = np.asarray(foreground() if callable(foreground) else foreground, bool)
            touched = moving & inside  # (inside holds unfilled pixels only: a later frame stops here)
            if touched.any():
                left, top = self.margins[0], self.margins[1]
                unfilled = moving & ~self.filled[top : top + self.h, left : left + self.w]
                if unfilled.mean() > WHOLE_PICTURE:
                    # Filling behind the whole picture (a pan's estimated field moves everything)
                    # costs a frame-sized fill and its memory; reads touch only its edge.
                    reach = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * SOURCE_REACH + 1,) * 2)
                    unfilled &= cv2.dilate(touched.astype(np.uint8), reach) > 0
                region = np.zeros(self.filled.shape, bool) if region is None else region
                region[top : top + self.h, left : left + self.w] |= unfilled
        if region is not None and region.any():
            self._synthesise(region)

    def _grow(self, margins: list[int]) -> np.ndarray | None:
        """Pad the canvas to ``margins``; returns the (canvas-sized) mask of the new, still empty pixels (``None``: none)."""
        pad = [m - o for m, o in zip(margins, self.margins)]
        if not any(pad):
            return None
        left, top, right, bottom = pad
        self.canvas = np.pad(self.canvas, ((top, bottom), (left, right), (0, 0)))
        self.filled = np.pad(self.filled, ((top, bottom), (left, right)))
        self.margins = margins
        region = np.ones(self.filled.shape, bool)
        region[pad[1] : region.shape[0] - pad[3], pad[0] : region.shape[1] - pad[2]] = False
        return region

    def _inside_unfilled(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``bool (H, W)``: image pixels a bilinear read at ``(x, y)`` touches that are not synthesised yet."""
        touched = np.zeros((self.h, self.w), bool)
        left, top = self.margins[0], self.margins[1]
        if _kernels is not None:  # the same pixels, in one pass over the reads
            _kernels.touched_unfilled(np.ascontiguousarray(x, np.float32), np.ascontiguousarray(y, np.float32),
                                      self.filled, left, top, touched)
            return touched
        x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
        for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
            cx, cy = x0 + dx, y0 + dy
            ok = (cx >= 0) & (cx < self.w) & (cy >= 0) & (cy < self.h)
            touched[cy[ok], cx[ok]] = True
        return touched & ~self.filled[top : top + self.h, left : left + self.w]

    def _synthesise(self, region: np.ndarray) -> None:
        left, top = self.margins[0], self.margins[1]
        source = np.zeros(region.shape, bool)
        source[top : top + self.h, left : left + self.w] = True  # copy texture from the photo itself ...
        source &= ~self.filled & ~region  # ... never from what was synthesised or is removed
        # ... and from near the region: what continues across a border or behind an object is
        # what is beside it (the wood by the edge, not the saucer in the middle of the photo).
        # The reach is measured across what was synthesised before (a margin grown a second
        # time lies beyond the first one), so the photo beside the region is always in reach.
        depth = float(cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, 3).max())
        reach = int(depth + SOURCE_REACH)
        near = cv2.distanceTransform((~(region | self.filled)).astype(np.uint8), cv2.DIST_L2, 3) <= reach
        if (source & near).sum() > 64 * self.patch * self.patch:
            source &= near
        # The fill runs on the box around the region and its sources (its cost is the box's, not the canvas's).
        rows, cols = np.nonzero(region | source)
        pad = self.patch
        box = (slice(max(rows.min() - pad, 0), rows.max() + pad + 1), slice(max(cols.min() - pad, 0), cols.max() + pad + 1))
        self.canvas[box] = _fill_memo.fill(self.canvas[box], region[box], source[box], self.patch, self.seed + self.fills)
        self.filled |= region
        self.fills += 1


def foreground(flow: np.ndarray, *, work_size: int = 256) -> np.ndarray:
    """``bool (H, W)``: reference pixels that move clearly more than the background around them (and their outline).

    ``flow`` is ``float32 (2, H, W)`` pixels. First the outline: pixels moving
    :data:`FOREGROUND_FRACTION` of the largest motion more than the least moving pixel
    within the motion's reach (an object dragged over a still or uniformly panned
    background stands out; a smooth camera move, pan, zoom or rotation, does not). The
    outline of a large object is only a band as wide as its motion, so then the regions
    the band separates are compared: every one that moves that much more than the region
    holding the least moving pixel (the background) is foreground too.
    """
    h, w = flow.shape[1:]
    motion = _magnitude(flow, reuse=True)  # read and dropped here (no view of it is returned)
    largest = float(motion.max())
    if largest <= 0:
        return np.zeros(motion.shape, bool)
    scale = max(h, w) / work_size
    grow = np.ones((2 * FOREGROUND_GROW + 1,) * 2, np.uint8)
    if scale > 1:  # found at reduced resolution; the growth below covers the coarser outline
        sw, sh = max(1, round(w / scale)), max(1, round(h / scale))
        small = cv2.resize(motion, (sw, sh), interpolation=cv2.INTER_AREA)
        found = _moving(small / np.float32(scale), largest / scale).astype(np.uint8)
        if _kernels is not None and (w, h) == (2 * sw, 2 * sh) and FOREGROUND_GROW % 2 == 0:
            # Halved exactly: full pixel i reads cell i // 2, and the cells within FOREGROUND_GROW
            # full pixels of either parity of i are those within half of it, so growing the
            # cells, then doubling them is the same mask for a quarter of the growth's pixels.
            half = np.ones((FOREGROUND_GROW + 1,) * 2, np.uint8)
            moving = np.empty((h, w), bool)
            _kernels.upscale2(cv2.dilate(found, half), moving)
            return moving
        moving = cv2.resize(found, (w, h), interpolation=cv2.INTER_NEAREST) > 0
    else:
        moving = _moving(motion, largest)
    # Grown over the soft outline, whose pixels move part of the way (and carry the object's colours).
    return cv2.dilate(moving.astype(np.uint8), grow) > 0


def _moving(motion: np.ndarray, largest: float) -> np.ndarray:
    """:func:`foreground` before the growth, on a motion magnitude ``(H, W)`` px whose maximum is ``largest``."""
    reach = int(min(2 * np.ceil(largest) + 1, 101))
    least = cv2.erode(motion, np.ones((reach, reach), np.uint8))
    threshold = FOREGROUND_FRACTION * largest
    band = motion - least > threshold
    if not band.any():
        return band
    moving = band
    count, labels = cv2.connectedComponents((~band).astype(np.uint8), connectivity=4)
    if count > 2:
        if _kernels is not None and motion.dtype == np.float32:  # the same sums and picks, in one pass each
            mean = _kernels.label_means(labels.ravel(), motion.ravel(), count)
            background = labels.ravel()[_kernels.least_outside(band.ravel(), motion.ravel())]
            inner = mean > mean[background] + threshold
            inner[0] = False  # label 0 is the band itself
            moving = np.empty(band.shape, bool)
            _kernels.band_or_labels(band.ravel(), labels.ravel(), inner, moving.ravel())
        else:
            mean = np.bincount(labels.ravel(), motion.ravel(), count) / np.maximum(np.bincount(labels.ravel(), minlength=count), 1)
            background = labels.ravel()[int(np.argmin(np.where(band, np.inf, motion)))]
            inner = mean > mean[background] + threshold
            inner[0] = False
            moving = band | inner[labels]
    return moving


def torn(flow: np.ndarray) -> np.ndarray:
    """``bool (H, W)``: source pixels not splatted: those the field tears apart, and the outline's slow side beside them.

    At a moved object's soft outline the motion falls from the drag to zero within a few
    pixels: each outline pixel is spread over the whole path (stretched where the outline
    faces the motion, sheared along its sides), and splatted it would leave speckles and
    streaks of half-moved pixels across the uncovered background. Those pixels are not
    splatted, so their trail is a hole and filled like one. The stretch is the largest
    singular value of ``I + Df``; a zoom or an elastic drag stretches far less.

    The outline's tail goes with them: within :data:`TRAIL_REACH` px of a torn pixel, the
    pixels on the slow side of the tear (moving less than :data:`TRAIL_FRACTION` of the way
    from the least to the most moving pixel around) are the object's rim that its region
    left behind (anti-aliased edge pixels carry the object's colours, and the falloff's first
    pixels move too little to stretch), and splatted they would stay as a thin line where the
    object was. Not splatted, they read the background plate too. Their fast side, the
    object's own edge, moves with it. Where nothing tears (a zoom, a pan, an elastic drag, a
    small drag) nothing is added.
    """
    h, w = flow.shape[1:]
    if _kernels is not None and flow.dtype == np.float32 and h >= 2 and w >= 2:
        tear = np.empty((h, w), bool)  # the same float32 arithmetic as below, in one compiled pass
        if not _kernels.tears(flow, np.float32(TEAR * TEAR), tear) or TRAIL_REACH <= 0:
            return tear
    else:
        d_fx_dy, d_fx_dx = np.gradient(flow[0])
        d_fy_dy, d_fy_dx = np.gradient(flow[1])
        a, b, c, d = 1 + d_fx_dx, d_fx_dy, d_fy_dx, 1 + d_fy_dy
        total = a * a + b * b + c * c + d * d
        det = a * d - b * c
        largest = 0.5 * (total + np.sqrt(np.maximum(total * total - 4 * det * det, 0.0)))
        tear = largest > TEAR * TEAR
    if not tear.any() or TRAIL_REACH <= 0:
        return tear
    motion = _magnitude(flow)
    window = np.ones((2 * TRAIL_REACH + 1,) * 2, np.uint8)
    most, least = cv2.dilate(motion, window), cv2.erode(motion, window)
    near = cv2.dilate(tear.astype(np.uint8), window) > 0
    slow = motion - least < TRAIL_FRACTION * (most - least)
    return tear | (near & slow)


def _magnitude(flow: np.ndarray, reuse: bool = False) -> np.ndarray:
    """``float32 (H, W)``: ``np.hypot(flow[0], flow[1])`` of a ``(2, H, W)`` field (compiled for float32: the same values, 6x faster).

    ``reuse``: into this thread's buffer (a caller that drops the result before its next
    call): a frame-sized array allocated anew often costs more in page faults than the pass.
    """
    if _kernels is not None and flow.dtype == np.float32:
        shape = flow.shape[1:]
        if not reuse:
            out = np.empty(shape, np.float32)
        else:
            out = _buffer.motion
            if out is None or out.shape != shape:
                out = _buffer.motion = np.empty(shape, np.float32)
        _kernels.magnitude(flow, out)
        return out
    return np.hypot(flow[0], flow[1]).astype(np.float32)


class _Buffer(threading.local):
    """This thread's buffer of the motion magnitude :func:`foreground` reads and drops."""

    motion: np.ndarray | None = None


_buffer = _Buffer()


class _LastPlate(threading.local):
    """The plate of the image this thread warped last (a per-frame caller's frames share one plate).

    ``given`` is a weak reference to the array that was passed in, when nothing can change
    it in place (see :func:`_frozen`): the same object again is then the same image without
    a comparison. A new array at a reused address never matches a dead weak reference.
    """

    image: np.ndarray | None = None
    given: weakref.ref | None = None
    plate: BackgroundPlate | None = None


_last_plate = _LastPlate()


def plate_for(image: np.ndarray) -> BackgroundPlate:
    """The thread's plate for ``image`` (``float32 (H, W, C)``): the last one if the image is equal value for value, else a new one.

    The same read-only array that owns its memory (what the renderer's per-frame calls pass,
    see :func:`_frozen`) is recognised by identity; any other array is compared value for value.
    """
    cached = _last_plate.image
    if cached is not None:
        given = _last_plate.given() if _last_plate.given is not None else None
        if (given is image and _frozen(image)) or cached is image or (cached.shape == image.shape and _same(cached, image)):
            return _last_plate.plate
    plate = BackgroundPlate(np.array(image, np.float32))
    _last_plate.image, _last_plate.plate = plate.image, plate
    _last_plate.given = weakref.ref(image) if _frozen(image) else None
    return plate


def _frozen(image: np.ndarray) -> bool:
    """Whether ``image`` cannot change in place: read-only and the owner of its memory (no writable base shares it).

    (Only a caller that deliberately sets ``writeable`` back to True could still change it.)
    """
    return isinstance(image, np.ndarray) and not image.flags.writeable and image.base is None


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    sample = slice(None, None, 4093)
    return np.array_equal(a.ravel()[sample], b.ravel()[sample]) and np.array_equal(a, b)
