"""The object under a drag when no brush says what it is: candidates at a working size, one chosen.

Method:

1. **A fixed working size.** The photo is downscaled (area average) to :data:`WORK_SIZE` px on
   its long side and everything below runs there, so a photo gives the same object at 256 px and
   at 4K, and the search costs the same at every size. The chosen mask is upsampled and its
   outline snapped to the full-resolution image's edges (:func:`motionkit.ops.segment.snap`).
2. **Candidates** (each one GrabCut, Rother et al. 2004, on the working image):

   - *geodesic balls* around the drag's start (the densifier's edge-aware distance, where
     crossing a colour edge is expensive) seed the colour models: probable object within
     ``reach``, sure background beyond three reaches; ``reach`` is a quarter of the short side,
     then 1.6 and 2.6 times that with their inner half as sure object (a part with its own
     colour, such as the cat's nose, then has to share the model with its surroundings);
   - *the frame as background*: a thin band along the image's border (where it is geodesically
     far from the drag) is sure background, everything else probable object, a small geodesic
     ball around the drag sure object. A cup of two colours (white rim, red body) standing on a table is one
     object against the table here, while each ball's colour model splits it.

   Each cut is the connected part holding the drag's start, holes filled.
3. **The choice.** Cuts that flood (:func:`motionkit.ops.segment.flooded`) or are specks are
   dropped. Of the rest, the largest *closed* one (it keeps off the image's border: a whole
   object inside the frame) is the object: the crema grows to the cup and saucer, while the
   astronaut's face keeps to face and hair, because the cuts that take in the body run off the
   frame. A closed cut with a good part of its rim inside the frame candidate is a patch of that
   bigger object (a fold of the suit at her shoulder), which is taken instead. When none is
   closed (an object running off the frame), the cut whose outline lies on the strongest edges
   (:func:`motionkit.ops.segment.outline_contrast`), weighed by the share of the frame it keeps
   off, is taken: a ball that also took the flag's stripes at the side lost to the figure. Parts
   of the chosen cut hung on it by a bridge of a pixel or two (the rim of the helmet the
   astronaut holds in front of her suit) are dropped (:func:`trim_bridges`).

4. **A sharp subject before a blurred background.** A close-up whose subject fills the frame
   (the cat of ``chelsea`` before a defocused room) has no closed outline, and the colour
   models cut it into parts with their own colours: the chosen cut is then the middle of the
   face. When the photo has a blurred background (:func:`_in_focus`: the out-of-focus part
   touching the frame) and the chosen cut lies inside the in-focus subject with its outline
   nowhere near the blur, the cut is a part of the subject, and the subject is the object:
   GrabCut with the blur as sure background and, as sure subject, the sharp textured part (fur,
   whiskers) away from the blur that the drag's surroundings reach, so pale parts of the
   subject (the cat's white muzzle, like the pale room behind) stay with it instead of ending
   the object inside the head. A pale, defocused rim of the subject (the white fur at the
   cat's cheek, the white chest fur at the frame) still has the room's colours, so the cut
   dents in along the colour edge inside the fur: the cut's shallow dents (convex hull defects
   at most :data:`DENT_DEPTH` deep with a mouth of at most :data:`DENT_MOUTH`, looked for
   along deeper bays too) are filled (:func:`fill_dents`), and the outline runs on the rim's
   own weak edge. The astronaut's head keeps its own cut: its outline meets the blurred
   backdrop all along the hair.

Example:
    >>> import numpy as np
    >>> image = np.full((120, 160, 3), 0.8, np.float32); image[40:80, 40:100] = 0.2
    >>> region = find_object(image, (70.0, 60.0), contrast_cost=30.0)
    >>> bool(region[60, 70]), bool(region[10, 140]), int(region.sum())
    (True, False, 2400)
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from motionkit.ops.densify import geodesic_distance
from motionkit.ops.segment import flooded, grabcut, outline_contrast, seeded_component, snap

#: Long side, in pixels, of the image the object is searched on.
WORK_SIZE = 256
#: Geodesic ball radii tried, as multiples of a quarter of the short side, with the part of
#: each (fraction of its radius) that is sure object.
BALLS = ((1.0, 0.0), (1.6, 0.5), (2.6, 0.5))
#: Beyond this many ball radii (geodesic) from the drag is sure background.
FAR = 3.0
#: Width of the image-border band that is sure background in the frame candidate (fraction of the short side).
BAND = 0.02
#: In the frame candidate, pixels within this many quarter-short-sides (geodesic) of the drag are sure object.
FRAME_CORE = 0.3
#: A cut covering less than this fraction of the image is a speck, not an object.
SPECK = 0.005
#: A cut covering at most this fraction of the image's outermost pixel ring is closed.
CLOSED = 0.02
#: Detail energy under this fraction of its median is out of focus.
BLURRED = 0.35
#: A blurred background covers at least this fraction of the picture ...
BLURRED_AREA = 0.1
#: ... and carries at most this fraction of the rest's detail energy.
BLURRED_RATIO = 0.3
#: Sharp pixels farther than this fraction of the short side from the blurred background are
#: sure subject (the cut between subject and blur is looked for within it).
SHARP_MARGIN = 0.04
#: ... where their fine detail (RMS over 1 px) exceeds this fraction of the median detail energy
#: over a 5 x 5 patch at least (texture such as fur or whiskers, not one edge's halo).
TEXTURED = 0.6
#: Dents in the sharp subject's outline (its convex hull's defects) with a mouth at most
#: :data:`DENT_MOUTH` and a depth at most :data:`DENT_DEPTH` (fractions of the short side) are
#: filled: a pale rim of the subject that its colours gave to a pale background.
DENT_MOUTH = 0.4
DENT_DEPTH = 0.1
#: A closed cut with at least this fraction of its outer rim inside the frame candidate (which
#: holds it) is a patch of that bigger object (:func:`_choose`).
PATCH = 0.12
#: ... and across that stretch of its rim the mean colour changes by less than this (RGB, 0-1).
ALIKE = 0.4
#: GrabCut iterations per candidate.
ITERATIONS = 3


def find_object(image: np.ndarray, start: tuple[float, float], *, contrast_cost: float) -> np.ndarray:
    """Boolean ``(H, W)`` mask of the object under ``start``, found without a brush.

    Args:
        image: ``float32 (H, W, 3)`` RGB in [0, 1].
        start: the drag's start (x, y) in pixels.
        contrast_cost: pixels of geodesic length per unit of RGB difference crossed, at the
            image's size (the densifier's ``edge_weight * radius``); 0 ignores edges.

    Returns:
        ``bool (H, W)``, True on the object and always at ``start``.
    """
    h, w = image.shape[:2]
    scale = min(1.0, WORK_SIZE / max(h, w))
    gh, gw = max(2, round(h * scale)), max(2, round(w * scale))
    small = cv2.resize(image, (gw, gh), interpolation=cv2.INTER_AREA) if (gh, gw) != (h, w) else image
    small = np.ascontiguousarray(small, np.float32)
    sx, sy = (start[0] + 0.5) * gw / w - 0.5, (start[1] + 0.5) * gh / h - 0.5
    cell = (int(np.clip(round(sx), 0, gw - 1)), int(np.clip(round(sy), 0, gh - 1)))
    geodesic = geodesic_distance(small, (sx, sy), contrast_cost=contrast_cost * gw / w)
    cuts = _candidates(small, cell, geodesic)
    kept = [c for c in cuts if c.mean() >= SPECK and not flooded(c)]
    if kept:
        frame = cuts[-1] if any(c is cuts[-1] for c in kept) else None
        label = trim_bridges(_choose(small, kept, frame), cell)
        subject = _in_focus(small, cell, geodesic)
        if subject is not None and _inside_subject(label, *subject):
            label = subject[0]
    else:  # every cut flooded or vanished: at most the first ball around the drag
        label = seeded_component(min(cuts, key=lambda c: c.sum()) & (geodesic < BALLS[0][0] * _base(gh, gw)), cell)
    soft = label.astype(np.float32)
    if (gh, gw) != (h, w):
        soft = cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)
    full = (int(np.clip(round(start[0]), 0, w - 1)), int(np.clip(round(start[1]), 0, h - 1)))
    return seeded_component(snap(soft, image), full)


def _base(h: int, w: int) -> float:
    return 0.25 * min(h, w)


def _candidates(image: np.ndarray, cell: tuple[int, int], geodesic: np.ndarray) -> list[np.ndarray]:
    """The candidate cuts (bool, at the working size): the geodesic balls, then the frame as background."""
    h, w = geodesic.shape
    base = _base(h, w)
    image8 = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    disc = max(2, round(0.01 * min(h, w)))
    trimaps = []
    for reach, core in BALLS:
        trimap = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
        trimap[geodesic < reach * base] = cv2.GC_PR_FGD
        trimap[geodesic > FAR * reach * base] = cv2.GC_BGD
        trimap[geodesic < core * reach * base] = cv2.GC_FGD
        trimaps.append(trimap)
    band = max(2, round(BAND * min(h, w)))
    ring = np.ones((h, w), bool)
    ring[band:-band, band:-band] = False
    trimap = np.full((h, w), cv2.GC_PR_FGD, np.uint8)
    trimap[ring & (geodesic > base)] = cv2.GC_BGD
    trimap[(geodesic < FRAME_CORE * base) & ~ring] = cv2.GC_FGD
    trimaps.append(trimap)
    for trimap in trimaps:
        cv2.circle(trimap, cell, disc, int(cv2.GC_FGD), -1)
    return [seeded_component(grabcut(image8, trimap, ITERATIONS), cell) for trimap in trimaps]


def _in_focus(image: np.ndarray, cell: tuple[int, int], geodesic: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The sharp subject in front of a blurred background, and that background; None without one.

    The background is the out-of-focus part touching the frame: fine detail (the grey image
    less its 1 px blur, RMS over 4 px) under :data:`BLURRED` of its median, opened, the parts
    that reach the border. It must cover at least :data:`BLURRED_AREA` of the picture and be
    much smoother than the rest (:data:`BLURRED_RATIO`). GrabCut then cuts the subject with the
    background as sure background and a small ball around the drag as sure object.
    """
    h, w = geodesic.shape
    grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    detail = grey - cv2.GaussianBlur(grey, (0, 0), 1.0)
    energy = np.sqrt(cv2.GaussianBlur(detail * detail, (0, 0), 4.0))
    smooth = cv2.morphologyEx((energy < BLURRED * np.median(energy)).astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    parts, _ = ndimage.label(smooth)
    rim = np.unique(np.concatenate([parts[0], parts[-1], parts[:, 0], parts[:, -1]]))
    blurred = np.isin(parts, rim[rim > 0])
    if blurred.mean() < BLURRED_AREA or blurred.all() or energy[blurred].mean() > BLURRED_RATIO * energy[~blurred].mean():
        return None
    trimap = np.full((h, w), cv2.GC_PR_FGD, np.uint8)
    # The sharp part well away from the blur is the subject for sure: its own colours (the white
    # muzzle of a tabby, like the pale room behind it) must not be given to the background.
    # Sure subject: textured (fine detail over an area, not a single edge's halo) and away from the blur.
    margin = max(2, round(SHARP_MARGIN * min(h, w)))
    fine = np.sqrt(cv2.GaussianBlur(detail * detail, (0, 0), 1.0)) > TEXTURED * np.median(energy)
    fine = cv2.morphologyEx(fine.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)) > 0
    far = fine & (cv2.distanceTransform((~blurred).astype(np.uint8), cv2.DIST_L2, 5) > margin)
    core = geodesic < FRAME_CORE * _base(h, w)  # around the drag: sure subject
    parts, _ = ndimage.label(far)
    touching = np.unique(parts[core])  # the textured parts the drag's surroundings reach
    trimap[np.isin(parts, touching[touching > 0])] = cv2.GC_FGD
    trimap[blurred] = cv2.GC_BGD
    trimap[core] = cv2.GC_FGD
    cv2.circle(trimap, cell, max(2, round(0.01 * min(h, w))), int(cv2.GC_FGD), -1)
    subject = seeded_component(grabcut(np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8), trimap, ITERATIONS), cell)
    # A pale, defocused rim of the subject (the white fur of a cheek) has the colours of a pale
    # room behind, so the colour models give it away and the cut dents into the subject along
    # the colour edge inside it; white chest fur at the frame leaves gaps the same way. Shallow
    # dents of the outline are the subject's.
    subject = seeded_component(fill_dents(subject, DENT_MOUTH * min(h, w), DENT_DEPTH * min(h, w)), cell)
    # The blurred background is kept out by construction, so the subject may fill all the rest
    # (a close-up): only a cut along every side of the picture is a flood.
    return None if flooded(subject, area=1.0) else (subject, blurred)


def fill_dents(region: np.ndarray, mouth: float, depth: float) -> np.ndarray:
    """``region`` (bool ``(H, W)``) with the shallow dents of its outline filled.

    A dent is a defect of the outline's convex hull: the part between the hull's chord and the
    outline. One with a mouth (where the outline leaves the chord) of at most ``mouth`` px and
    a depth of at most ``depth`` px is filled; a deeper or wider one (the bay between a cat's
    ear and its cheek) is not, but the dents along its own outline are looked for the same way
    (the hull of that stretch of outline). Each part's outer outline only; holes stay.

    Example:
        >>> box = np.zeros((40, 60), bool); box[5:35, 5:55] = True; box[5:12, 25:35] = False
        >>> filled = fill_dents(box, 20.0, 10.0)
        >>> bool(filled[8, 30]), bool(fill_dents(box, 5.0, 10.0)[8, 30]), bool(filled[2, 30])
        (True, False, False)
    """
    cells = np.ascontiguousarray(region, np.uint8)
    contours, _ = cv2.findContours(cells, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = cells.copy()
    for contour in contours:
        if len(contour) >= 4:
            _fill_defects(out, contour[:, 0].astype(np.int32), mouth, depth, levels=3)
    return out > 0


def _fill_defects(out: np.ndarray, points: np.ndarray, mouth: float, depth: float, levels: int) -> None:
    """Fill (in ``out``) the shallow hull defects of the closed polyline ``points`` (``(N, 2)`` x, y)."""
    try:
        defects = cv2.convexityDefects(points.reshape(-1, 1, 2), cv2.convexHull(points.reshape(-1, 1, 2), returnPoints=False))
    except cv2.error:  # a self-touching outline: its hull indices are not monotonic
        return
    if defects is None:
        return
    for first, last, _, _ in defects.reshape(-1, 4):
        arc = points[first : last + 1] if last >= first else np.concatenate([points[first:], points[: last + 1]])
        if len(arc) < 3:
            continue
        a, b = arc[0].astype(np.float64), arc[-1].astype(np.float64)
        chord = b - a
        length = max(float(np.hypot(*chord)), 1e-9)
        off = (chord[0] * (arc[:, 1] - a[1]) - chord[1] * (arc[:, 0] - a[0])) / length
        off = off if off[np.abs(off).argmax()] > 0 else -off  # positive into the region
        # The dents: the runs of outline that leave the hull's chord (the chord may run along
        # straight outline, or touch it between two gaps at the frame).
        away = np.concatenate([[False], off > 1.0, [False]])
        edges = np.nonzero(np.diff(away.astype(np.int8)))[0]
        for start, stop in zip(edges[::2], edges[1::2]):
            dent = arc[max(start - 1, 0) : stop + 1]
            sag = off[start:stop]
            if sag.max() <= depth and np.hypot(*(dent[0] - dent[-1]).astype(np.float64)) <= mouth:
                cv2.fillPoly(out, [np.ascontiguousarray(dent, np.int32).reshape(-1, 1, 2)], 1)
            elif levels > 1 and len(dent) >= 8:
                # The dents along a bay's outline: each half of it (split at its deepest
                # point), closed far on the region's side, has its own hull.
                normal = np.array([-chord[1], chord[0]]) / length
                deepest = int(sag.argmax()) + (start - max(start - 1, 0))
                if (dent[deepest] - a) @ normal < 0:
                    normal = -normal
                for half in (dent[: deepest + 1], dent[deepest:]):
                    if len(half) >= 4:
                        span = float(np.hypot(*(half[-1] - half[0]).astype(np.float64)))
                        closure = np.round([half[-1] + 2.0 * span * normal, half[0] + 2.0 * span * normal]).astype(np.int32)
                        _fill_defects(out, np.concatenate([half, closure]).astype(np.int32), mouth, depth, levels - 1)


def trim_bridges(region: np.ndarray, cell: tuple[int, int]) -> np.ndarray:
    """``region`` (bool ``(H, W)``, at the working size) less the parts hung on it by a bridge of 1-2 px.

    Two objects that touch in the photo (the astronaut's suit and the white rim of the helmet
    held in front of it) can share a cut when their colours are alike, joined only where their
    outlines meet. An opening by a 3 x 3 cross breaks such a bridge; the part holding ``cell``
    (with the pixels the opening shaved off it) is kept. A region whose part at ``cell`` the
    opening removes is returned as it is.

    Example:
        >>> a = np.zeros((30, 60), bool); a[5:25, 5:25] = True; a[5:25, 35:55] = True; a[15, 25:35] = True
        >>> t = trim_bridges(a, (10, 10))
        >>> bool(t[10, 10]), bool(t[10, 45]), int(t[:, 30:].sum())
        (True, False, 0)
    """
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    cells = region.astype(np.uint8)
    opened = cv2.morphologyEx(cells, cv2.MORPH_OPEN, cross)
    _, parts = cv2.connectedComponents(opened)
    x, y = cell
    if not opened[y, x]:
        return region
    kept = cv2.dilate((parts == parts[y, x]).astype(np.uint8), cross) & cells
    return seeded_component(kept > 0, cell)


def _inside_subject(choice: np.ndarray, subject: np.ndarray, blurred: np.ndarray) -> bool:
    """Whether ``choice`` is a part of the sharp ``subject``: inside it, its outline nowhere near the blur.

    An object's outline meets its background somewhere; a cut whose outline stays within the
    in-focus subject (the middle of a cat's face) is a part of that subject.
    """
    if (choice & subject).sum() < 0.9 * choice.sum() or subject.sum() <= choice.sum():
        return False
    h, w = choice.shape
    reach = max(3, round(0.03 * min(h, w)))
    near = cv2.dilate(blurred.astype(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)) > 0
    cells = choice.astype(np.uint8)
    outline = (cells - cv2.erode(cells, np.ones((3, 3), np.uint8))) > 0
    return bool(outline.any() and near[outline].mean() < 0.1)


def closed(region: np.ndarray) -> bool:
    """Whether ``region`` keeps off the image's border: it covers at most :data:`CLOSED` of the
    pixel ring just inside the frame candidate's background band (the same ring for every cut, so
    the frame candidate, kept off the band by construction, is not closed for that alone)."""
    return border_share(region) <= CLOSED


def border_share(region: np.ndarray) -> float:
    """The fraction of the pixel ring just inside the frame candidate's background band that ``region`` covers."""
    h, w = region.shape
    m = min(max(2, round(BAND * min(h, w))) + 1, (min(h, w) - 1) // 2)
    ring = np.concatenate([region[m, m : w - m], region[h - 1 - m, m : w - m], region[m : h - m, m], region[m : h - m, w - 1 - m]])
    return float(ring.mean())


def _choose(image: np.ndarray, cuts: list[np.ndarray], frame: np.ndarray | None = None) -> np.ndarray:
    """The object among plausible ``cuts``: the largest closed one, else the one on the strongest
    edges for the share of the frame it keeps off (:func:`border_share`).

    A closed cut that the frame candidate ``frame`` (when plausible) holds, and that has at
    least :data:`PATCH` of its outer rim inside ``frame``, is a patch of a bigger object, not an
    object (a fold of the astronaut's suit at her shoulder, closed off by its shadow and the
    backdrop, with the same orange across the rest of its rim): ``frame`` is taken instead. The
    face keeps its cut: its rim lies on the dark neck and on backdrop, outside the frame
    candidate or (where the frame candidate took in backdrop around the hair) unlike the hair.
    """
    shut = [cut for cut in cuts if closed(cut)]
    if shut:
        best = max(shut, key=lambda cut: int(cut.sum()))
        if frame is not None and best is not frame and _patch_of(image, best, frame):
            return frame
        return best
    # None keeps off the frame (an object running off it): the cut on the strongest edges, for
    # the share of the frame it keeps off. A cut that also runs off where the object does not
    # (a ball into the flag's red stripes at the side, the backdrop at the top) took background.
    return max(cuts, key=lambda cut: outline_contrast(image, cut) * (1.0 - border_share(cut)))


def _patch_of(image: np.ndarray, part: np.ndarray, whole: np.ndarray) -> bool:
    """Whether ``part`` is a piece of ``whole``: it lies in ``whole`` (at least 80 %), at least
    :data:`PATCH` of its outer rim (the 2 px around it, off the image's border) is inside
    ``whole`` too, and across that stretch of rim the colour goes on (mean colours of the rim
    there and of the part just inside it differ by under :data:`ALIKE`): the suit around a fold
    of it, not the pale backdrop that a frame candidate took in around a head of brown hair."""
    if whole.sum() <= part.sum() or (part & whole).sum() < 0.8 * part.sum():
        return False
    cells = part.astype(np.uint8)
    rim = (cv2.dilate(cells, np.ones((5, 5), np.uint8)) > 0) & ~part
    rim[:3], rim[-3:], rim[:, :3], rim[:, -3:] = False, False, False, False
    if not rim.any() or whole[rim].mean() < PATCH:
        return False
    shared = rim & whole
    near = part & (cv2.dilate(shared.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0)
    return bool(near.any() and np.linalg.norm(image[near].mean(0) - image[shared].mean(0)) < ALIKE)
