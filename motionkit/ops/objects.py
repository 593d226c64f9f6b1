"""Object-aware densification: every drag moves the object under it as a whole.

The field is built in three steps, the first memoised per image and start point:

1. **Objects** (:func:`find_objects`): each drag's object is found by
   :func:`motionkit.ops.segment.object_region` (GrabCut seeded by the brush, or by the
   geodesic distance around the drag's start when there is no brush). With a brush, the drags
   inside one connected part of the brush move one object (the part, refined); without one, a
   drag that starts inside the object of an earlier drag is another handle of it. Pins are
   handles of the object they sit on; regions the caller gives are used as given.
2. **Motion inside each object** (:func:`motionkit.ops.mls.handle_motion`): translation for
   one handle, similarity for two, moving-least-squares rigid for three or more.
3. **Compositing** (:func:`object_field`): objects are laid front to back, each with an alpha
   that is 1 on the object (and ``feather / 2`` px beyond) and falls to 0 over the next
   ``feather`` pixels; a
   pixel's motion is its front-most object's (the background, covered by none, stays still).
   The alphas do not depend on time, so a ``T``-frame field is the handles' ``(T, K, 2)``
   displacements pushed through a few per-object maps.

Example:
    >>> import numpy as np
    >>> region = np.zeros((20, 30), bool); region[5:15, 5:15] = True
    >>> disp = np.array([[[0.0, 0.0], [4.0, 0.0]]])                  # one handle, 2 frames
    >>> field = object_field([(region, (0,))], np.array([[10.0, 10.0]]), disp, (20, 30), feather=2.0)
    >>> float(field[1, 0, 10, 6]), float(field[1, 0, 10, 25])
    (4.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from motionkit.errors import ShapeMismatchError
from motionkit.ops._object_kernels import mls_into_field
from motionkit.ops.memo import MEMO, content_key
from motionkit.ops.mls import handle_motion, plan_targets, rigid_plan
from motionkit.ops.object_outline import falloff_widths
from motionkit.ops.object_search import find_object
from motionkit.ops.segment import object_region

#: One object: its mask ``bool (H, W)`` and the indices of the tracks (drags, pins) that move it.
Object = tuple[np.ndarray, tuple[int, ...]]


#: Gaussian smoothing, in pixels, of the outline the falloff is laid on (removes the mask's staircase).
OUTLINE_SIGMA = 1.5


def default_feather(size: tuple[int, int]) -> float:
    """Default width in pixels of the motion falloff outside an object's outline (~3 px at 512)."""
    return max(2.0, 0.006 * max(size))


def find_objects(
    guide: np.ndarray,
    starts: np.ndarray,
    moving: np.ndarray,
    *,
    contrast_cost: float,
    brush: np.ndarray | None = None,
    given: Sequence[Object] = (),
    image_key: Any = None,
    brush_key: Any = None,
) -> list[Object]:
    """The objects the tracks move, front first: ``given`` ones, then the found ones.

    Args:
        guide: ``float32 (H, W, 3)`` image in [0, 1].
        starts: ``(K, 2)`` track start points (x, y), pixels.
        moving: ``bool (K,)``, False for pins.
        contrast_cost: pixels of geodesic length per unit of RGB difference (the densifier's
            ``edge_weight * radius``); seeds the search without a brush.
        brush: optional ``(H, W)`` motion brush; objects stay inside ``brush > 0`` and a drag
            starting outside it moves nothing.
        given: objects fixed by the caller; the tracks they list are not searched for.
        image_key, brush_key: memo keys of the image and the brush (None: no memo).

    Returns:
        Objects in depth order: ``given`` in their order, then the found ones smallest first
        (an object lying on another is usually the smaller); every unlisted pin that lies on an
        object is added to the front-most such object's tracks.
    """
    h, w = guide.shape[:2]
    if brush is not None and brush.shape != (h, w):
        raise ShapeMismatchError(f"brush must be ({h}, {w}) like the image, got {tuple(brush.shape)}")
    listed = {t for _, tracks in given for t in tracks}
    free = [k for k in range(len(starts)) if k not in listed]
    found: list[tuple[np.ndarray, list[int]]] = []
    cells = np.clip(np.rint(starts), 0, [w - 1, h - 1]).astype(int)
    # Regions are memoised by content: a new tensor of the same photo (each mk.animate call
    # makes one) finds them again.
    image_id = None if image_key is None else content_key(guide, image_key)
    if brush is not None:
        parts, _ = ndimage.label(brush > 0)
        groups: dict[int, list[int]] = {}
        for k in free:
            part = parts[cells[k, 1], cells[k, 0]]
            if moving[k] and part > 0:
                groups.setdefault(int(part), []).append(k)
        for part, tracks in groups.items():
            seeds = tuple(map(tuple, cells[tracks]))
            key = None if image_id is None or brush_key is None else ("brush-region", image_id, content_key(brush, brush_key), part, seeds)
            region = MEMO.get(key)
            if region is None:
                region = object_region(guide, cells[tracks].astype(np.float64), brush=(parts == part).astype(np.float32))
                MEMO.put(key, region)
            found.append((region, list(tracks)))
    else:
        for k in free:
            if not moving[k]:
                continue
            x, y = cells[k]
            home = next((group for group in found if group[0][y, x]), None)
            if home is not None:
                home[1].append(k)
                continue
            key = None if image_id is None else ("region", image_id, float(contrast_cost), (int(x), int(y)))
            region = MEMO.get(key)
            if region is None:
                region = find_object(guide, (float(x), float(y)), contrast_cost=contrast_cost)
                MEMO.put(key, region)
            found.append((region, [k]))
    found.sort(key=lambda group: int(group[0].sum()))
    objects: list[tuple[np.ndarray, list[int]]] = [(mask, list(tracks)) for mask, tracks in given] + found
    for k in free:
        if moving[k]:
            continue
        x, y = cells[k]
        home = next((group for group in objects if group[0][y, x]), None)
        if home is not None:
            home[1].append(k)
    return [(mask, tuple(sorted(tracks))) for mask, tracks in objects]


def object_alpha(mask: np.ndarray, feather: float, widths: np.ndarray | None = None) -> np.ndarray:
    """``float32 (H, W)``: 1 on ``mask`` and ``feather / 2`` px beyond, then falling smoothly to 0 over ``feather`` px.

    The full-motion margin outside the outline takes along the object's fringe (hair, fur) that a
    cut a pixel too tight leaves out, which would otherwise stay behind as specks in the hole.
    The falloff follows a sub-pixel smooth outline, not the mask's pixel staircase: it is laid
    on the mask's signed Euclidean distance smoothed by a Gaussian of :data:`OUTLINE_SIGMA` px,
    whose level lines are smooth curves, so a moved object's edge (and the stretch of the
    background just outside it) has no one-pixel steps.

    ``widths`` (``float32 (H, W)``, from :func:`motionkit.ops.object_outline.falloff_widths`)
    replaces ``feather`` as the width of the fall per pixel: wider where the outline has no
    clear edge in the photo.
    """
    inside = mask.astype(bool)
    if feather <= 0 or inside.all() or not inside.any():
        return inside.astype(np.float32)
    # Distances to the outline (half-way between an inside and an outside pixel), signed.
    outside = cv2.distanceTransform((~inside).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    depth = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    signed = np.where(inside, 0.5 - depth, outside - 0.5).astype(np.float32)
    signed = cv2.GaussianBlur(signed, (0, 0), OUTLINE_SIGMA)
    t = np.clip(1.0 - (signed - 0.5 * feather) / (feather if widths is None else widths), 0.0, 1.0)
    alpha = t * t * (3.0 - 2.0 * t)
    alpha[inside] = 1.0
    return alpha.astype(np.float32)


#: How far (fraction of the short side) the motion of an object cut by the frame fades in from that side.
ANCHOR = 0.25
#: A side of the picture an object covers more than this fraction of cuts it.
CUT_SIDE = 0.02


def frame_anchor(mask: np.ndarray, handles: np.ndarray) -> np.ndarray:
    """``float32 (H, W)`` in [0, 1]: 1, except near the sides of the picture that cut ``mask``.

    An object the frame cuts (a close-up of a cat whose body runs out of the picture) goes on
    beyond it, and what lies there is unknown: moved as a whole, it would open a band along that
    side with nothing to show. Its motion is held at the side instead and fades in (smoothstep)
    over :data:`ANCHOR` of the short side, or 0.8 of the ``handles``' distance to that side when
    they are closer (the drags; a pin does not move anyway), so every drag still moves exactly as
    asked and the part between stretches.
    """
    h, w = mask.shape
    anchor = np.ones((h, w), np.float32)
    sides = (
        (mask[:, 0], np.arange(w, dtype=np.float32)[None, :] + 0.5, handles[:, 0] + 0.5),
        (mask[:, -1], (w - 0.5 - np.arange(w, dtype=np.float32))[None, :], w - 0.5 - handles[:, 0]),
        (mask[0], np.arange(h, dtype=np.float32)[:, None] + 0.5, handles[:, 1] + 0.5),
        (mask[-1], (h - 0.5 - np.arange(h, dtype=np.float32))[:, None], h - 0.5 - handles[:, 1]),
    )
    for edge, distance, reach in sides:
        span = min(ANCHOR * min(h, w), 0.8 * float(reach.min()))
        if edge.mean() <= CUT_SIDE or span < 1.0:
            continue
        t = np.clip(distance / span, 0.0, 1.0)
        anchor = anchor * (t * t * (3.0 - 2.0 * t))
    return anchor


def object_field(
    objects: Sequence[Object],
    starts: np.ndarray,
    displacements: np.ndarray,
    size: tuple[int, int],
    *,
    feather: float,
    brush: np.ndarray | None = None,
    alpha: float = 4.0,
) -> np.ndarray:
    """Dense ``float32 (T, 2, H, W)`` field moving each object by its handles, front first.

    Args:
        objects: ``(mask, tracks)`` pairs in depth order (front first); masks ``bool (H, W)``.
        starts: ``(K, 2)`` track starts (x, y), pixels.
        displacements: ``(K, T, 2)`` track displacements from frame 0 (zeros: a pin).
        size: ``(H, W)``.
        feather: falloff width in pixels outside each outline.
        brush: optional ``(H, W)`` brush; the field is exactly 0 where it is 0.
        alpha: MLS weight exponent for objects with three or more handles (see
            :func:`motionkit.ops.mls.handle_motion`; 4 keeps the parts between handles rigid).

    Returns:
        ``float32 (T, 2, H, W)`` in pixels; zero where no moving object is. The same as
        ``layout_field(object_layout(...), starts, displacements)``, which keeps the first step.
    """
    moving = np.abs(displacements).max(axis=(1, 2)) > 0
    layout = object_layout(objects, starts, moving, size, feather=feather, brush=brush, alpha=alpha)
    return layout_field(layout, starts, displacements)


class Layout:
    """What :func:`object_field` computes before it reads the drags' displacements.

    The objects' alphas, the frame anchors, the brush and the MLS weights depend on the objects,
    the tracks' start points and which tracks move, not on where the drags end: an edit that
    moves only an end re-uses a layout (:class:`~motionkit.classical.densify.SparsePredictor`
    keeps its last one) and pays only :func:`layout_field`'s products.

    Attributes:
        size: ``(H, W)``.
        similar: ``(tracks, origin)`` of each object moved by one or two handles, in depth order.
        maps: ``float32 (3 * len(similar), H * W)``: each such object's weight, times ``x - x0``
            and ``y - y0`` (None without such objects).
        rigid: ``(weight, tracks, box, plan)`` of each object of three or more handles.
    """

    __slots__ = ("maps", "rigid", "similar", "size")

    def __init__(self, size, similar, maps, rigid) -> None:
        self.size, self.similar, self.maps, self.rigid = size, similar, maps, rigid

    @property
    def nbytes(self) -> int:
        total = 0 if self.maps is None else int(self.maps.nbytes)
        return total + sum(int(weight.nbytes) + plan.nbytes for weight, _, _, plan in self.rigid)


def object_layout(
    objects: Sequence[Object],
    starts: np.ndarray,
    moving: np.ndarray,
    size: tuple[int, int],
    *,
    feather: float,
    brush: np.ndarray | None = None,
    alpha: float = 4.0,
    image: np.ndarray | None = None,
    as_given: int = 0,
) -> Layout:
    """The time-independent part of :func:`object_field` (arguments as there; ``moving``: ``bool (K,)``, False for pins).

    With the photo (``image``, ``float32 (H, W, 3)`` in [0, 1]) each object's falloff widens
    where its outline has no clear edge (:func:`motionkit.ops.object_outline.falloff_widths`),
    except the first ``as_given`` objects (regions a user drew or corrected: their outline is
    where they said, wherever it runs).
    """
    h, w = size
    uncovered = np.ones((h, w), np.float32)  # how much of each pixel no object in front has taken
    allowed = None if brush is None else (brush > 0)
    # Objects moved by one or two handles move by a similarity, linear in (1, x, y): their field
    # is a (2T, 3) coefficient block times three weighted maps, one matrix product for all of
    # them (as the elastic blend). MLS objects are computed per pixel inside their bounding box.
    similar, maps, rigid = [], [], []
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for index, (mask, tracks) in enumerate(objects):
        tracks = list(tracks)
        widths = None if image is None or index < as_given else falloff_widths(mask, image, feather)
        alpha_map = object_alpha(mask, feather, widths)
        weight = alpha_map * uncovered
        uncovered *= 1.0 - alpha_map
        if not tracks or not moving[tracks].any():
            continue  # a still object (only pins) still hides what lies behind it
        if allowed is not None:
            weight *= allowed
        moved = [t for t in tracks if moving[t]]  # pins need no motion kept
        weight *= frame_anchor(mask, starts[moved])
        if not weight.any():
            continue
        if _distinct(starts[tracks]) > 2:
            ys, xs = np.nonzero(weight)
            box = (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1)
            rigid.append((weight, tracks, box, _mls_plan(starts[tracks], box, alpha)))
            continue
        origin = starts[tracks[0]]
        similar.append((tracks, origin))
        maps += [weight, weight * (xx - np.float32(origin[0])), weight * (yy - np.float32(origin[1]))]
    stacked = np.stack(maps).reshape(len(maps), h * w) if maps else None
    return Layout((h, w), similar, stacked, rigid)


def layout_field(layout: Layout, starts: np.ndarray, displacements: np.ndarray) -> np.ndarray:
    """``float32 (T, 2, H, W)``: the objects of ``layout`` moved by the tracks' ``(K, T, 2)`` displacements."""
    h, w = layout.size
    frames = displacements.shape[1]
    if layout.similar:
        rows = [_similarity(starts[tracks], displacements[tracks]) for tracks, _ in layout.similar]
        block = np.concatenate(rows, axis=1).astype(np.float32)  # (2T, 3 * objects)
        field = block @ layout.maps
        field = field.reshape(frames, 2, h, w)
    else:
        field = np.zeros((frames, 2, h, w), np.float32)
    for weight, tracks, box, plan in layout.rigid:
        if plan.plan is None:  # handles that merge to fewer than three: numpy's general path
            y0, y1, x0, x1 = box
            field[:, :, y0:y1, x0:x1] += _mls_box(plan, starts[tracks], displacements[tracks], box) * weight[y0:y1, x0:x1]
            continue
        # Compiled: the lattice's motion, then laid onto the field through the alpha in one pass.
        _, my, mx = _lattice(box)
        still = ~np.abs(displacements[tracks]).any(axis=(0, 2))
        q = plan_targets(plan.plan, starts[tracks], displacements[tracks])
        mls_into_field(q, plan.plan, still, (my, mx), weight, box, field)
    return field


#: Spacing in pixels of the lattice the moving-least-squares motion is evaluated on (then
#: interpolated): the deformation is smooth at that scale, and it costs a quarter.
MLS_STEP = 2.0


def _lattice(box: tuple[int, int, int, int]) -> tuple[np.ndarray, int, int]:
    """The ``(N, 2)`` lattice points (x, y) of about :data:`MLS_STEP` px over a pixel box, and its rows and columns."""
    y0, y1, x0, x1 = box
    ny, nx = y1 - y0, x1 - x0
    my, mx = (max(2, int(np.ceil((n - 1) / MLS_STEP)) + 1) if n > 8 else n for n in (ny, nx))
    gy, gx = np.linspace(y0, y1 - 1, my), np.linspace(x0, x1 - 1, mx)
    return np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2), my, mx


def _mls_plan(starts: np.ndarray, box: tuple[int, int, int, int], alpha: float) -> Any:
    """The MLS weights of a box's lattice (:func:`motionkit.ops.mls.rigid_plan`), with the exponent for the fallback."""
    points, _, _ = _lattice(box)
    plan = rigid_plan(starts, points, alpha=alpha)
    return _Plan(plan, alpha, points.nbytes)


class _Plan:
    """A box's MLS weights (None when the handles merge to fewer than three) and the exponent."""

    __slots__ = ("_bytes", "alpha", "plan")

    def __init__(self, plan: Any, alpha: float, extra: int) -> None:
        self.plan, self.alpha, self._bytes = plan, alpha, extra

    @property
    def nbytes(self) -> int:
        return self._bytes + (0 if self.plan is None else self.plan.nbytes)


def _mls_box(plan: _Plan, starts: np.ndarray, displacements: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """``float32 (T, 2, y1 - y0, x1 - x0)`` MLS motion over a pixel box, from a lattice of about :data:`MLS_STEP` px.

    numpy's general path, for an object whose handles merge to fewer than three (``plan.plan``
    is ``None``); the others take the compiled lattice of :func:`layout_field`.
    """
    y0, y1, x0, x1 = box
    frames = displacements.shape[1]
    ny, nx = y1 - y0, x1 - x0
    points, my, mx = _lattice(box)
    moved = handle_motion(starts, displacements, points, alpha=plan.alpha)  # (T, my * mx, 2)
    moved = moved.transpose(0, 2, 1).reshape(1, frames * 2, my, mx)
    if (my, mx) == (ny, nx):
        return moved.reshape(frames, 2, ny, nx)
    # The lattice's corners are the box's corner pixels: align_corners interpolation is exact there.
    up = F.interpolate(torch.from_numpy(np.ascontiguousarray(moved)), size=(ny, nx), mode="bilinear", align_corners=True)
    return up.numpy().reshape(frames, 2, ny, nx)


def _distinct(starts: np.ndarray) -> int:
    """How many distinct handle starts (to 1e-3 px) an object has: over two, it moves by MLS."""
    return len({tuple(np.round(p, 3)) for p in starts})


def _similarity(starts: np.ndarray, displacements: np.ndarray) -> np.ndarray | None:
    """``(2T, 3)`` coefficients of the handles' translation or similarity on ``(1, x - x0, y - y0)``.

    ``(x0, y0)`` is the first handle; rows are ``dx`` then ``dy`` of each frame. None for three
    or more distinct handles (moving least squares; see :func:`motionkit.ops.mls.handle_motion`).
    """
    frames = displacements.shape[1]
    probe = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]) + starts[0]
    if _distinct(starts) > 2:
        return None
    # Affine in (x, y): sample the motion at three points and solve for the coefficients.
    moved = handle_motion(starts, displacements, probe).astype(np.float64)  # (T, 3, 2)
    out = np.empty((frames, 2, 3))
    for c in range(2):
        at0, atx, aty = moved[:, 0, c], moved[:, 1, c], moved[:, 2, c]
        out[:, c] = np.stack([at0, atx - at0, aty - at0], axis=1)
    return out.reshape(2 * frames, 3)
