"""The object inside a motion brush (GrabCut seeded by the brush), and the helpers both searches share.

Method (the brush's rim decides, its core is the object; edges snapped at full resolution):

1. **A trimap from the brush.** The drag's start (and any other drag grouped with it) is sure
   foreground; everything outside the brush is sure background, its rim (the outer 30 % of its
   depth) probable foreground and its core sure foreground: a loosely painted brush holds the
   object *and* a margin of background, and the colour model below tells them apart in the rim
   (a tight brush is kept as painted, less what is clearly background).
2. **GrabCut** (Rother, Kolmogorov and Blake 2004, OpenCV's ``cv2.grabCut``): Gaussian mixture
   colour models of object and background plus a contrast-sensitive graph cut, iterated, on a
   crop around the trimap's uncertain part downscaled to :data:`WORK_SIZE` px. The region is
   the connected part holding the seeds, holes filled (an object dragged as a whole has none).
3. **Edges at full resolution** (:func:`snap`): the low-resolution label is upsampled and
   passed through a guided filter (He, Sun and Tang 2010) with the full-resolution grey image
   as guide, then thresholded: the outline snaps to the image's own edges to about a pixel.

Without a brush the object is searched for by :func:`motionkit.ops.object_search.find_object`,
which uses :func:`flooded`, :func:`outline_contrast`, :func:`snap` and :func:`seeded_component`
from here. Why GrabCut and not the alternatives (measured on a cup cut out of ``coffee`` and
pasted on ``grass``, see ``tests/classical/test_objects.py``): region growing on the geodesic
distance alone stops at the first strong edge *inside* the object (the crema's rim); SLIC
superpixels merged by colour need a merge threshold that depends on the photo. GrabCut's colour
models carry a multi-coloured object past its inner edges.

Example:
    >>> import numpy as np
    >>> image = np.full((120, 160, 3), 0.8, np.float32); image[40:80, 40:100] = 0.2
    >>> brush = np.zeros((120, 160), np.float32); brush[34:86, 34:106] = 1.0   # painted loosely
    >>> region = object_region(image, np.array([[70.0, 60.0]]), brush=brush)
    >>> bool(region[60, 70]), bool(region[36, 36]), int(region.sum())
    (True, False, 2400)
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from motionkit.errors import InvalidInputError, ShapeMismatchError

#: Long side, in pixels, of the crop GrabCut runs on.
WORK_SIZE = 192
#: GrabCut iterations (each re-fits the colour models and re-cuts).
ITERATIONS = 3
#: The outer part of a brush's depth (distance to its edge, as a fraction of the deepest) in
#: which the object's outline is looked for; deeper is the object for sure.
LOOSE = 0.3
#: A cut inside a brush smaller than this fraction of the brush is a failed refinement.
SPECK = 0.02
#: A cut without a brush larger than this fraction of the image is likely the background too.
FLOOD = 0.75
#: A cut without a brush that covers more than this fraction of every side of the image is a flood.
BORDER = 0.1


def object_region(image: np.ndarray, seeds: np.ndarray, *, brush: np.ndarray | None = None) -> np.ndarray:
    """Boolean ``(H, W)`` mask of the object under ``seeds`` inside a motion brush.

    Args:
        image: ``float32 (H, W, 3)`` RGB in [0, 1].
        seeds: ``(S, 2)`` points (x, y) in pixels that lie on the object (drag starts).
        brush: ``(H, W)`` motion brush in [0, 1]; the region stays inside ``brush > 0``.

    Returns:
        ``bool (H, W)``, True on the object; always True at the seeds.

    Raises:
        ShapeMismatchError: the brush is not the image's size.
        InvalidInputError: no seeds, or no brush (without one, see
            :func:`motionkit.ops.object_search.find_object`).
    """
    h, w = image.shape[:2]
    seeds = np.asarray(seeds, np.float64).reshape(-1, 2)
    if len(seeds) == 0:
        raise InvalidInputError("object_region needs at least one seed point (x, y)")
    if brush is None:
        raise InvalidInputError("object_region needs a brush; without one use motionkit.ops.object_search.find_object")
    if brush.shape != (h, w):
        raise ShapeMismatchError(f"brush must be ({h}, {w}) like the image, got {tuple(brush.shape)}")
    inside = brush > 0
    region = _region(image, seeds, inside)
    # A brush that cuts through an object (or is the object) leaves GrabCut no colour to tell
    # the two apart and it keeps a speck: then the object is the brush as painted.
    return region if region.sum() >= SPECK * inside.sum() else _seeded_component(inside, *_cells(seeds, h, w))


def flooded(region: np.ndarray, area: float = FLOOD) -> bool:
    """Whether a cut found without a brush has taken in the background: too large, or on all four borders.

    A cut over ``area`` (default :data:`FLOOD`) of the image is the background as much as the
    object; so is one that runs along every side of the picture (more than :data:`BORDER` of
    each side's length): an object in a photo is framed by background somewhere, the
    background reaches every side. (A cut kept off a background already known, such as a
    blurred one, may pass a larger ``area``.)
    """
    sides = (region[0], region[-1], region[:, 0], region[:, -1])
    return bool(region.mean() > area or min(float(side.mean()) for side in sides) > BORDER)


def outline_contrast(image: np.ndarray, region: np.ndarray) -> float:
    """Mean image gradient on ``region``'s outline over the image's mean gradient (about 1 for a random cut).

    An object's outline lies on strong edges; a cut that leaked into the background or stopped
    inside the object runs through texture. Outline pixels on the image border do not count.
    """
    grey = cv2.GaussianBlur(cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY), (0, 0), 1.0)
    magnitude = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    cells = region.astype(np.uint8)
    ring = (cv2.dilate(cells, np.ones((3, 3), np.uint8)) - cv2.erode(cells, np.ones((3, 3), np.uint8))) > 0
    ring[:2], ring[-2:], ring[:, :2], ring[:, -2:] = False, False, False, False
    if not ring.any():
        return 0.0
    return float(magnitude[ring].mean() / (magnitude.mean() + 1e-6))


def _region(image: np.ndarray, seeds: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """One GrabCut inside a brush (``inside``): its rim is where the object may end, its core is the object."""
    h, w = image.shape[:2]
    sx, sy = _cells(seeds, h, w)
    # A loose brush overshoots the object by a margin: its rim (the outer LOOSE part of its
    # depth) is where the object may end; deeper inside, the brush is the object.
    depth = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 5)  # the image border is no brush edge
    trimap = np.full((h, w), cv2.GC_BGD, np.uint8)
    trimap[inside] = cv2.GC_PR_FGD
    trimap[depth > max(8.0, LOOSE * float(depth.max()))] = cv2.GC_FGD
    core = max(1.5, 0.01 * min(h, w))
    for x, y in zip(sx, sy):
        cv2.circle(trimap, (int(x), int(y)), round(core), int(cv2.GC_FGD), -1)
    trimap[~inside] = cv2.GC_BGD  # the seed disc never leaves the brush
    label = snap(_grabcut_crop(image, trimap), image) & inside
    return _seeded_component(label, sx, sy)


def _cells(seeds: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer pixel columns and rows of ``(S, 2)`` points (x, y), clipped to the image."""
    return np.clip(np.rint(seeds[:, 0]), 0, w - 1).astype(int), np.clip(np.rint(seeds[:, 1]), 0, h - 1).astype(int)


def grabcut(image8: np.ndarray, trimap: np.ndarray, iterations: int = ITERATIONS) -> np.ndarray:
    """GrabCut's object label, ``bool (H, W)``, for a ``uint8 (H, W, 3)`` image and a trimap of ``cv2.GC_*`` labels.

    The trimap is not modified. One without background or without object is its own answer
    (GrabCut needs both to fit its colour models). OpenCV's RNG is seeded first: GrabCut's
    k-means starts from it, and the same input must give the same cut.
    """
    labels = trimap.copy()
    if ((labels == cv2.GC_BGD) | (labels == cv2.GC_PR_BGD)).any() and ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).any():
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.setRNGSeed(0)
        cv2.grabCut(image8, labels, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    return (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)


def _grabcut_crop(image: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """``float32 (H, W)`` foreground label (0/1, soft at a downscaled cut's edges) from GrabCut on a crop."""
    h, w = trimap.shape
    unsure = (trimap == cv2.GC_PR_FGD) | (trimap == cv2.GC_PR_BGD) | (trimap == cv2.GC_FGD)
    ys, xs = np.nonzero(unsure)
    span = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
    pad = max(8, int(0.15 * span))  # some sure background around the crop feeds its colour model
    y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + pad + 1)
    crop_img, crop_map = image[y0:y1, x0:x1], trimap[y0:y1, x0:x1]
    ch, cw = crop_map.shape
    scale = min(1.0, WORK_SIZE / max(ch, cw))
    gh, gw = max(2, round(ch * scale)), max(2, round(cw * scale))
    small = cv2.resize(crop_img, (gw, gh), interpolation=cv2.INTER_AREA)
    small_map = cv2.resize(crop_map, (gw, gh), interpolation=cv2.INTER_NEAREST)
    # Keep every sure-foreground seed after the nearest-neighbour downscale.
    fy, fx = np.nonzero(crop_map == cv2.GC_FGD)
    small_map[np.minimum((fy * scale).astype(int), gh - 1), np.minimum((fx * scale).astype(int), gw - 1)] = cv2.GC_FGD
    img8 = np.clip(small * 255.0 + 0.5, 0, 255).astype(np.uint8)
    label = np.zeros((h, w), np.float32)
    fg = grabcut(img8, small_map).astype(np.float32)
    label[y0:y1, x0:x1] = cv2.resize(fg, (cw, ch), interpolation=cv2.INTER_LINEAR) if (gh, gw) != (ch, cw) else fg
    return label


def snap(label: np.ndarray, image: np.ndarray) -> np.ndarray:
    """A soft ``float32 (H, W)`` label's outline moved onto ``image``'s edges (guided filter), as ``bool (H, W)``."""
    ys, xs = np.nonzero((label > 0.02) & (label < 0.98))
    if len(ys) == 0:
        return label > 0.5
    h, w = label.shape
    pad = 8
    y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + pad + 1)
    grey = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    radius = max(2, round(0.006 * max(h, w)))
    snapped = label > 0.5
    snapped[y0:y1, x0:x1] = guided_filter(grey, label[y0:y1, x0:x1], radius, 1e-3) > 0.5
    return snapped


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Grey-guide guided filter (He, Sun and Tang 2010): ``src`` smoothed but keeping ``guide``'s edges.

    Args:
        guide: ``float32 (H, W)`` grey image in [0, 1].
        src: ``float32 (H, W)`` values to filter.
        radius: box radius in pixels.
        eps: regulariser (about the squared contrast below which edges are smoothed away).

    Returns:
        ``float32 (H, W)``.

    Example:
        >>> g = np.zeros((8, 8), np.float32); g[:, 4:] = 1.0
        >>> out = guided_filter(g, g.copy(), 2, 1e-4)
        >>> bool(np.abs(out - g).max() < 0.01)
        True
    """
    size = (2 * radius + 1, 2 * radius + 1)

    def box(a: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(a, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT)

    guide = guide.astype(np.float32)
    src = src.astype(np.float32)
    mean_i, mean_p = box(guide), box(src)
    var_i = box(guide * guide) - mean_i * mean_i
    cov_ip = box(guide * src) - mean_i * mean_p
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a) * guide + box(b)


def seeded_component(label: np.ndarray, cell: tuple[int, int]) -> np.ndarray:
    """The connected part of ``label`` holding pixel ``cell`` (x, y), holes filled; the cell always included."""
    return _seeded_component(label, np.array([cell[0]]), np.array([cell[1]]))


def _seeded_component(label: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """The connected parts of ``label`` that hold a seed, holes filled; the seeds always included."""
    label = label.copy()
    label[sy, sx] = True
    parts, _ = ndimage.label(label)
    keep = np.unique(parts[sy, sx])
    region = np.isin(parts, keep[keep > 0])
    return ndimage.binary_fill_holes(region)
