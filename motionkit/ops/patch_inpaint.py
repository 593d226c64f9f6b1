"""Texture-preserving hole filling: multi-scale patch voting over a PatchMatch field.

Smooth fills (push-pull, :func:`cv2.inpaint`) average a hole's surroundings, so a large hole
in wood grain or fur comes out as a flat blur. This module fills it with *copies of the
image's own patches* instead, after Wexler, Shechtman & Irani (2007, "Space-Time Completion
of Video"): every patch that overlaps the hole is matched to its most similar patch of the
known image, and each hole pixel becomes the (similarity-weighted) vote of the matches that
cover it; matching and voting alternate, coarse to fine, so structure is settled at low
resolution and texture copied at full resolution. The nearest-neighbour field is searched
with PatchMatch (Barnes et al. 2009), vectorised over all target patches: candidates from the
neighbours' matches (coherent runs of copied texture grow) and random ones around the current
match, all within a target's reach (its nearest source's distance + :data:`REACH` px).

The work is numpy/OpenCV on the CPU and deterministic for a given ``seed``; the cost is
proportional to the hole's area (a 100 x 100 hole in a 512 x 512 photo: a fraction of a
second), not the image's. :func:`inpaint_patches` takes and returns torch tensors (channels
first, any device); :func:`inpaint_patches_numpy` is its channels-last numpy twin.

Example:
    >>> import torch
    >>> image = torch.rand(3, 48, 48)
    >>> hole = torch.zeros(48, 48, dtype=torch.bool); hole[16:32, 16:32] = True
    >>> out = inpaint_patches(image, hole)
    >>> bool(torch.equal(out[:, ~hole], image[:, ~hole])), bool(out[:, hole].std() > 0.2)
    (True, True)
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops.inpaint import push_pull_numpy

try:  # the compiled candidate test; the numpy gathers where numba is missing
    from motionkit.ops import _patch_kernels as _kernels
except ImportError:  # pragma: no cover
    _kernels = None

#: Decay of a target patch's vote with its depth into the hole (Wexler et al.'s gamma).
GAMMA = 1.3
#: Weight of the texture-energy channels against the colours in the patch distance.
TEXTURE = 4.0
#: Fewest usable source patches a pyramid level needs to be searched (coarser levels are skipped).
MIN_SOURCES = 64
#: Pixels (at full size) beyond its depth into the hole that a target patch may copy from:
#: a hole pixel continues what is near it (the sharp grain beside a hole, not the blurred,
#: lighter wood across the photo that matches a smooth first estimate just as well).
REACH = 48


def inpaint_patches(
    image: torch.Tensor, hole: torch.Tensor, *, source: torch.Tensor | None = None, patch: int = 7, seed: int = 0
) -> torch.Tensor:
    """Fill ``hole`` in ``image`` (``(C, H, W)`` floating point) with texture copied from the rest of it.

    ``hole`` and ``source`` are ``(H, W)`` (bool or 0/1); see :func:`inpaint_patches_numpy`.
    Returns ``(C, H, W)`` on ``image``'s device and in its floating dtype (computed in float32).

    Raises:
        ShapeMismatchError: ``image`` is not ``(C, H, W)`` or the masks are not ``(H, W)``.
    """
    if image.dim() != 3:
        raise ShapeMismatchError(f"image must be (C, H, W), got {tuple(image.shape)}")
    array = np.ascontiguousarray(image.detach().to("cpu", torch.float32).numpy().transpose(1, 2, 0))
    masks = [None if m is None else m.detach().cpu().numpy().astype(bool) for m in (hole, source)]
    out = inpaint_patches_numpy(array, masks[0], source=masks[1], patch=patch, seed=seed)
    dtype = image.dtype if image.is_floating_point() else torch.float32
    return torch.from_numpy(np.ascontiguousarray(out.transpose(2, 0, 1))).to(image.device, dtype)


def inpaint_patches_numpy(
    image: np.ndarray,
    hole: np.ndarray,
    *,
    source: np.ndarray | None = None,
    patch: int = 7,
    seed: int = 0,
) -> np.ndarray:
    """Fill ``hole`` in ``image`` with texture copied from the rest of it (numpy, channels last).

    Args:
        image: ``float32 (H, W, C)`` (any ``C``; values where ``hole`` is set are ignored).
        hole: ``bool (H, W)``: the pixels to synthesise.
        source: ``bool (H, W)``: pixels whose patches may be copied (default: outside the
            hole). A patch is used only when all its pixels are source pixels.
        patch: odd patch side in pixels (3 to 15).
        seed: seed of the random search (the result is a function of the inputs and the seed).

    Returns:
        ``float32 (H, W, C)``: ``image`` outside the hole, bit for bit; synthesised texture
        inside. Without any usable source patch, the hole is filled smoothly (push-pull).

    Raises:
        ShapeMismatchError: ``hole``/``source`` are not ``(H, W)`` like ``image``.
        InvalidInputError: ``patch`` is even or outside 3..15.
    """
    image = np.asarray(image, np.float32)
    squeeze = image.ndim == 2
    if squeeze:
        image = image[..., None]
    h, w = image.shape[:2]
    hole = np.asarray(hole, bool)
    source = ~hole if source is None else np.asarray(source, bool) & ~hole
    if hole.shape != (h, w) or source.shape != (h, w):
        raise ShapeMismatchError(f"hole and source must be ({h}, {w}) like the image, got {hole.shape} and {source.shape}")
    if patch % 2 == 0 or not 3 <= patch <= 15:
        raise InvalidInputError(f"patch must be an odd side between 3 and 15 pixels, got {patch}")
    out = image.copy()
    if hole.any():
        filled = _fill(image, hole, source, patch, np.random.default_rng(seed))
        out[hole] = filled[hole]
    return out[..., 0] if squeeze else out


def _levels(hole: np.ndarray, patch: int) -> int:
    """Halvings until the thickest part of the hole is about a patch wide (and the image still holds patches)."""
    radius = float(cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3).max())
    levels = 0
    side = min(hole.shape)
    while radius > patch / 2 and side / 2 >= 4 * patch:
        radius, side, levels = radius / 2, side / 2, levels + 1
    return levels


def _pyramid(image: np.ndarray, hole: np.ndarray, source: np.ndarray, levels: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(image, hole, source)`` per level, finest first; coarse colours average known pixels only."""
    known = (~hole).astype(np.float32)
    out = [(image * known[..., None], hole, source)]
    weighted, weight, src = image * known[..., None], known, source.astype(np.float32)
    for _ in range(levels):
        size = (max(1, (weighted.shape[1] + 1) // 2), max(1, (weighted.shape[0] + 1) // 2))
        weighted = _resize(weighted, size)
        weight = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
        src = cv2.resize(src, size, interpolation=cv2.INTER_AREA)
        coarse_hole = weight < 0.999  # any unknown fine pixel makes the coarse one unknown
        colours = weighted / np.maximum(weight, 1e-6)[..., None]
        out.append((np.where(coarse_hole[..., None], 0.0, colours).astype(np.float32), coarse_hole, src >= 0.999))
    return out


def _resize(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    parts = [cv2.resize(values[..., i : i + 4], size, interpolation=cv2.INTER_AREA) for i in range(0, values.shape[2], 4)]
    return np.concatenate([p.reshape(size[1], size[0], -1) for p in parts], axis=2)


class _Level:
    """One pyramid level: the target patches (those overlapping the hole) and the usable source centres."""

    def __init__(self, image: np.ndarray, hole: np.ndarray, source: np.ndarray, patch: int, reach: float = np.inf) -> None:
        self.h, self.w = hole.shape
        self.image, self.hole, self.r = image, hole, patch // 2
        kernel = np.ones((patch, patch), np.uint8)
        valid = cv2.erode((source & ~hole).astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
        self.valid = valid
        self.valid_index = np.flatnonzero(valid.ravel())
        targets = cv2.dilate(hole.astype(np.uint8), kernel) > 0
        self.ty, self.tx = np.nonzero(targets)
        self.lookup = np.full((self.h, self.w), -1, np.int32)
        self.lookup[self.ty, self.tx] = np.arange(len(self.ty), dtype=np.int32)
        dy, dx = np.mgrid[-self.r : self.r + 1, -self.r : self.r + 1]
        self.dy, self.dx = dy.ravel(), dx.ravel()
        # Matching compares every other tap (a quarter of them for 7 x 7): the cost is in the
        # gathers, and texture is still told apart; voting uses every tap.
        step = 2 if patch >= 5 else 1
        self.match = np.flatnonzero((self.dy % step == self.r % step) & (self.dx % step == self.r % step))
        self.dy_match, self.dx_match = self.dy[self.match].copy(), self.dx[self.match].copy()
        # Tap coordinates of every target patch; taps outside the image are clamped for matching,
        # dropped for voting. These (N, taps) tables are a fill's largest arrays (a wide border
        # margin has ~10^6 target patches of 49 taps), so they are int32 and built in place.
        py = self.ty.astype(np.int32)[:, None] + self.dy.astype(np.int32)
        px = self.tx.astype(np.int32)[:, None] + self.dx.astype(np.int32)
        self.tap_inside = (py >= 0) & (py < self.h) & (px >= 0) & (px < self.w)
        np.clip(py, 0, self.h - 1, out=py)
        np.clip(px, 0, self.w - 1, out=px)
        py *= np.int32(self.w)
        py += px
        del px
        self.tap_flat = py
        self.match_flat = np.ascontiguousarray(self.tap_flat[:, self.match])
        # Confidence of each target patch: those reaching into known pixels anchor the fill (Wexler's gamma^-d).
        depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)[self.ty, self.tx]
        self.confidence = (GAMMA ** -np.maximum(depth - self.r, 0.0)).astype(np.float32)
        # How far each target may copy from: the distance to its nearest usable source patch plus
        # ``reach`` (squared, pixels), so every target has sources within reach however deep it lies.
        self.reach2 = np.full(len(self.ty), np.inf)
        if len(self.valid_index):
            _, labels = cv2.distanceTransformWithLabels((~valid).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5,
                                                          labelType=cv2.DIST_LABEL_PIXEL)
            order = np.zeros(int(labels.max()) + 1, np.int64)
            vy, vx = np.nonzero(valid)
            order[labels[vy, vx]] = vy * self.w + vx
            self.nearest = order[labels[self.ty, self.tx]]  # the valid source nearest to every target
            ny, nx = self.nearest // self.w, self.nearest % self.w
            self.gap = np.sqrt((ny - self.ty) ** 2 + (nx - self.tx) ** 2)  # to that nearest source
            self.reach2 = np.minimum((self.gap + reach) ** 2, 4.0 * (self.h * self.h + self.w * self.w))

    def random_sources(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        pick = self.valid_index[rng.integers(0, len(self.valid_index), count)]
        return pick // self.w, pick % self.w

    def near_sources(self, rng: np.random.Generator, tries: int = 4) -> tuple[np.ndarray, np.ndarray]:
        """A valid source for every target within its reach: random ones around its nearest valid source, else that one."""
        ny, nx = self.nearest // self.w, self.nearest % self.w
        sy, sx = ny.copy(), nx.copy()
        free = np.ones(len(ny), bool)
        spread = np.sqrt(self.reach2) - self.gap  # reach left beyond the nearest
        for _ in range(tries):
            cy = np.clip(np.rint(ny + rng.uniform(-1, 1, len(ny)) * spread), 0, self.h - 1).astype(np.int64)
            cx = np.clip(np.rint(nx + rng.uniform(-1, 1, len(ny)) * spread), 0, self.w - 1).astype(np.int64)
            ok = free & self.valid[cy, cx] & ((cy - self.ty) ** 2 + (cx - self.tx) ** 2 <= self.reach2)
            sy[ok], sx[ok] = cy[ok], cx[ok]
            free &= ~ok
        return sy, sx

    def targets(self, estimate: np.ndarray) -> np.ndarray:
        """The target patches of ``estimate`` (fixed during a search), as :meth:`distance` reads them.

        ``(N, taps, C)`` gathered in numpy; with the compiled kernels the flat estimate itself
        (``(H W, C)``), whose taps they read in place.
        """
        flat = estimate.reshape(-1, estimate.shape[2])
        if _kernels is not None:
            return np.ascontiguousarray(flat, np.float32)
        return flat[self.match_flat]

    def distance(self, targets: np.ndarray, sy: np.ndarray, sx: np.ndarray, index: np.ndarray | None = None) -> np.ndarray:
        """Sum of squared differences between target patches (all, or those in ``index``) and the source patches at ``(sy, sx)``."""
        flat = self.image.reshape(-1, self.image.shape[2])
        if _kernels is not None and index is None:
            return _kernels.distances(targets, flat, self.match_flat, self.w, self.dy_match, self.dx_match,
                                      sy.astype(np.int64), sx.astype(np.int64))
        if index is not None:
            targets, sy, sx = targets[index], sy[index], sx[index]
        diff = targets - flat[(sy[:, None] + self.dy[self.match]) * self.w + (sx[:, None] + self.dx[self.match])]
        return np.einsum("npc,npc->n", diff, diff)

    def best(self, sy: np.ndarray, sx: np.ndarray, cost: np.ndarray, estimate: np.ndarray) -> np.ndarray:
        """Every hole pixel copies the best-matching patch that covers it (sharp: no averaging)."""
        c = self.image.shape[2]
        flat = self.image.reshape(-1, c)
        score = (cost / np.maximum(self.confidence, 1e-6)).astype(np.float64)
        lowest = np.full(self.h * self.w, np.inf)
        chosen = np.zeros(self.h * self.w, np.int64)
        sy, sx = sy.astype(np.int64), sx.astype(np.int64)
        if _kernels is not None:
            _kernels.best(self.tap_inside, self.tap_flat, self.w, self.dy, self.dx, sy, sx, score, lowest, chosen)
        else:
            # One tap offset at a time: within an offset every target covers a different pixel,
            # so the running minimum needs no sorting and no scatter collisions.
            for k in range(len(self.dy)):
                inside = self.tap_inside[:, k]
                pixels = self.tap_flat[inside, k]
                better = score[inside] < lowest[pixels]
                pixels = pixels[better]
                lowest[pixels] = score[inside][better]
                chosen[pixels] = ((sy[inside] + self.dy[k]) * self.w + (sx[inside] + self.dx[k]))[better]
        out = estimate.copy().reshape(-1, c)
        hole = np.flatnonzero(self.hole.ravel() & np.isfinite(lowest))
        out[hole] = flat[chosen[hole]]
        return out.reshape(estimate.shape)

    def vote(self, sy: np.ndarray, sx: np.ndarray, weight: np.ndarray, estimate: np.ndarray) -> np.ndarray:
        """Every hole pixel becomes the weighted mean of what the matched patches covering it say."""
        c = self.image.shape[2]
        flat = self.image.reshape(-1, c)
        wgt = (weight * self.confidence).astype(np.float32)
        size = self.h * self.w
        total = np.zeros(size, np.float32)
        acc = np.zeros((size, c), np.float32)
        sy, sx = sy.astype(np.int64), sx.astype(np.int64)
        if _kernels is not None:
            _kernels.vote(flat, self.tap_inside, self.tap_flat, self.w, self.dy, self.dx, sy, sx, wgt, total, acc)
        else:
            for k in range(len(self.dy)):  # no collisions within one offset (see best)
                inside = self.tap_inside[:, k]
                pixels = self.tap_flat[inside, k]
                w = wgt[inside]
                total[pixels] += w
                acc[pixels] += w[:, None] * flat[(sy[inside] + self.dy[k]) * self.w + (sx[inside] + self.dx[k])]
        out = estimate.copy().reshape(-1, c)
        hole = self.hole.ravel() & (total > 0)
        out[hole] = acc[hole] / total[hole, None]
        return out.reshape(estimate.shape)


def _search(level: _Level, targets: np.ndarray, sy: np.ndarray, sx: np.ndarray, cost: np.ndarray,
            rng: np.random.Generator, jumps: tuple[int, ...], radii: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One PatchMatch round: propagate the neighbours' matches (at each jump length), then search randomly.

    Propagation runs for all targets at once (Jacobi-style, not in scan order); the jumps of
    a few pixels spread a good match across a coherent run within one round.
    """
    n = len(sy)
    sy, sx, cost = sy.astype(np.int64), sx.astype(np.int64), cost.astype(np.float32)  # copies: updated in place

    def consider(cy: np.ndarray, cx: np.ndarray, sy, sx, cost):
        if _kernels is not None:  # the same test, in place, without the gathers
            _kernels.consider(targets, level.image.reshape(-1, level.image.shape[2]), level.match_flat, level.w, level.h,
                              level.dy_match, level.dx_match, level.valid, cy.astype(np.int64), cx.astype(np.int64),
                              sy, sx, cost, level.ty, level.tx, level.reach2)
            return sy, sx, cost
        cy = np.clip(cy, 0, level.h - 1)
        cx = np.clip(cx, 0, level.w - 1)
        near = (cy - level.ty) ** 2 + (cx - level.tx) ** 2 <= level.reach2
        index = np.flatnonzero(level.valid[cy, cx] & near)
        d = level.distance(targets, cy, cx, index)
        better = index[d < cost[index]]
        sy, sx, cost = sy.copy(), sx.copy(), cost.copy()
        sy[better], sx[better], cost[better] = cy[better], cx[better], d[d < cost[index]]
        return sy, sx, cost

    for jump in jumps:
        for oy, ox in ((0, jump), (0, -jump), (jump, 0), (-jump, 0)):
            ny, nx = level.ty + oy, level.tx + ox
            inside = (ny >= 0) & (ny < level.h) & (nx >= 0) & (nx < level.w)
            j = np.where(inside, level.lookup[np.clip(ny, 0, level.h - 1), np.clip(nx, 0, level.w - 1)], -1)
            has = j >= 0
            # The neighbour at +o copies from s_j; this patch would copy from s_j - o.
            cy = np.where(has, sy[np.maximum(j, 0)] - oy, -1)
            cx = np.where(has, sx[np.maximum(j, 0)] - ox, -1)
            sy, sx, cost = consider(cy, cx, sy, sx, cost)
    for radius in radii:
        cy = np.rint(sy + rng.uniform(-radius, radius, n)).astype(np.int64)
        cx = np.rint(sx + rng.uniform(-radius, radius, n)).astype(np.int64)
        sy, sx, cost = consider(cy, cx, sy, sx, cost)
    return sy, sx, cost


def _weights(cost: np.ndarray) -> np.ndarray:
    """Similarity weights ``exp(-d / 2 sigma^2)`` with sigma^2 from the matches' own spread (Wexler et al.)."""
    finite = np.isfinite(cost)
    if not finite.any():
        return np.zeros_like(cost)
    scale = max(float(np.percentile(cost[finite], 75)), 1e-6)
    return np.where(finite, np.exp(-cost / (2 * scale)), 0.0).astype(np.float32)


def _schedule(depth: int, size: int) -> tuple[int, tuple[int, ...], list[float]]:
    """``(EM iterations, propagation jumps, random-search radii)`` at a level: thorough when coarse, brief at full size."""
    if depth >= 2:
        radii, radius = [], size / 2
        while radius >= 1:
            radii.append(radius)
            radius /= 2
        return 3, (4, 2, 1), radii
    if depth == 1:
        return 2, (2, 1), [8.0, 4.0, 2.0]
    return 1, (1,), [4.0, 2.0]


def _fill(image: np.ndarray, hole: np.ndarray, source: np.ndarray, patch: int, rng: np.random.Generator) -> np.ndarray:
    levels = _levels(hole, patch)
    pyramid = _pyramid(image, hole, source, levels)
    sy = sx = cost = None
    previous: _Level | None = None
    estimate = None
    for depth in range(levels, -1, -1):
        img, hl, src = pyramid[depth]
        level = _Level(_with_texture(img, hl, patch), hl, src, patch, REACH / 2**depth)
        if previous is None and depth > 0 and len(level.valid_index) < MIN_SOURCES:
            # Too coarse to hold whole source patches (a thin source strip beside a border):
            # start at a finer level rather than fall back to a smooth fill.
            levels = depth - 1
            continue
        if len(level.valid_index) == 0:
            return push_pull_numpy(image, (~hole).astype(np.float32))
        iterations, jumps, radii = _schedule(depth if depth < levels else max(depth, 2), max(level.h, level.w))
        if previous is None:
            estimate = np.where(hl[..., None], push_pull_numpy(level.image, (~hl).astype(np.float32)), level.image)
            sy, sx = level.near_sources(rng)
        else:
            sy, sx = _upsample_field(previous, sy, sx, level, rng)
            ok = level.valid[sy, sx]
            ry, rx = level.near_sources(rng)
            sy, sx = np.where(ok, sy, ry), np.where(ok, sx, rx)
            estimate = level.vote(sy, sx, np.ones(len(sy), np.float32), np.where(hl[..., None], 0.0, level.image))
        cost = level.distance(level.targets(estimate), sy, sx)
        for _ in range(iterations):
            sy, sx, cost = _search(level, level.targets(estimate), sy, sx, cost, rng, jumps, radii)
            # At full size, averaging the votes would blur the grain: copy the best patch instead.
            estimate = level.best(sy, sx, cost, estimate) if depth == 0 else level.vote(sy, sx, _weights(cost), estimate)
            cost = level.distance(level.targets(estimate), sy, sx)
        previous = level
    estimate = previous.best(sy, sx, cost, estimate)
    return _blend_boundary(previous, sy, sx, _weights(cost), estimate)[..., : image.shape[2]]


def _blend_boundary(level: _Level, sy: np.ndarray, sx: np.ndarray, weight: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Remove the fill's low-frequency offset from its surroundings (a membrane, as in seamless cloning).

    Around the hole, the matched patches also predict known pixels; where they are off (the
    copied texture is a shade lighter than the wood beside the hole), the difference is
    spread smoothly over the hole and added, so the fill meets its border without a step.
    """
    c = level.image.shape[2]
    flat = level.image.reshape(-1, c)
    on_known = level.tap_inside & ~level.hole.ravel()[level.tap_flat]
    src = ((sy[:, None] + level.dy) * level.w + (sx[:, None] + level.dx))[on_known]
    wgt = np.broadcast_to((weight * level.confidence)[:, None], on_known.shape)[on_known]
    pixels = level.tap_flat[on_known]
    size = level.h * level.w
    total = np.bincount(pixels, wgt, size)
    ring = ~level.hole.ravel() & (total > 1e-6)
    if not ring.any():
        return estimate
    residual = np.zeros((size, c), np.float32)
    for k in range(c):
        predicted = np.bincount(pixels, wgt * flat[src, k], size)
        residual[ring, k] = flat[ring, k] - predicted[ring] / total[ring]
    membrane = push_pull_numpy(residual.reshape(estimate.shape), ring.reshape(level.h, level.w).astype(np.float32))
    membrane = cv2.GaussianBlur(membrane, (0, 0), level.r + 1)
    return np.where(level.hole[..., None], estimate + membrane, estimate).astype(np.float32)


def _with_texture(image: np.ndarray, hole: np.ndarray, patch: int) -> np.ndarray:
    """``image`` with two texture channels: the local mean of ``|d/dx|`` and ``|d/dy|`` of its grey level.

    Newson et al. (2014): with colours alone, a flat patch of the mean colour matches textured
    surroundings better than a slightly misplaced textured one, and the fill drifts to a
    blur. The texture energy is part of the distance (and voted like the colours), so a hole
    in grain is filled with grain. Only known pixels enter the means.
    """
    grey = image.mean(axis=2)
    known = (~hole).astype(np.float32)
    gx = np.abs(np.diff(grey, axis=1, append=grey[:, -1:]))
    gy = np.abs(np.diff(grey, axis=0, append=grey[-1:]))
    both = known * np.roll(known, -1, 1)  # a difference counts only between two known pixels
    both_y = known * np.roll(known, -1, 0)
    size = (patch, patch)
    tx = cv2.boxFilter(gx * both, -1, size) / np.maximum(cv2.boxFilter(both, -1, size), 1e-3)
    ty = cv2.boxFilter(gy * both_y, -1, size) / np.maximum(cv2.boxFilter(both_y, -1, size), 1e-3)
    features = np.dstack([tx, ty]).astype(np.float32) * TEXTURE
    return np.concatenate([image, np.where(hole[..., None], 0.0, features)], axis=2).astype(np.float32)


def _upsample_field(coarse: _Level, sy: np.ndarray, sx: np.ndarray, fine: _Level, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each fine target inherits its coarse parent's match, doubled, with its own offset inside the parent."""
    cy, cx = np.minimum(fine.ty // 2, coarse.h - 1), np.minimum(fine.tx // 2, coarse.w - 1)
    parent = coarse.lookup[cy, cx]
    ry, rx = fine.random_sources(len(fine.ty), rng)
    has = parent >= 0
    p = np.maximum(parent, 0)
    uy = np.clip(sy[p] * 2 + (fine.ty - cy * 2), 0, fine.h - 1)
    ux = np.clip(sx[p] * 2 + (fine.tx - cx * 2), 0, fine.w - 1)
    return np.where(has, uy, ry), np.where(has, ux, rx)
