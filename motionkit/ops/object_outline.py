"""How wide an object's motion falloff is along its outline: narrow on a clear edge, wide where there is none.

A found object's outline usually lies on an edge of the photo (the cup's rim against the
table): there the motion stops within a few pixels (:func:`motionkit.ops.objects.object_alpha`'s
``feather``), so the object moves cleanly off what lies behind it. Where the subject goes on
without a clear edge (pale fur running into a pale, blurred room; a cut the search had to make
through texture), a few-pixel step would draw a hard cut line across the picture. There the
motion falls off gradually over :data:`WIDE` of the short side instead, so the part beyond
stretches a little with the object rather than being torn from it.

Method: the mean colour of a band just inside the outline and of one just outside (Gaussian
normalised convolution, bands of :data:`BAND` of the long side) are compared at every outline
pixel; a difference under :data:`CLEAR` (RGB, 0-1) is an unclear edge. The width follows the
outline smoothly (normalised convolution over half the wide width) and is carried outwards.

Example:
    >>> import numpy as np
    >>> image = np.full((60, 80, 3), 0.8, np.float32); image[:, :40] = 0.2   # a clear edge at x = 40
    >>> mask = np.zeros((60, 80), bool); mask[10:50, 10:40] = True            # ends on it on the right
    >>> widths = falloff_widths(mask, image, 2.0)
    >>> float(widths[30, 41]) < 3.0, float(widths[5, 25]) > 3.0               # the top edge is unclear
    (True, True)
"""

from __future__ import annotations

import cv2
import numpy as np

#: Width of the falloff where the outline has no clear edge, as a fraction of the short side.
WIDE = 0.06
#: Colour difference (RGB, 0-1) across the outline at and above which its edge is clear.
CLEAR = 0.15
#: Depth of the bands compared across the outline, as a fraction of the long side.
BAND = 0.012


def falloff_widths(mask: np.ndarray, image: np.ndarray, feather: float) -> np.ndarray:
    """``float32 (H, W)``: the falloff width (pixels) to use at each pixel near ``mask``'s outline.

    Args:
        mask: ``bool (H, W)`` object.
        image: ``float32 (H, W, 3)`` RGB in [0, 1].
        feather: the width on a clear edge (pixels).

    Returns:
        Between ``feather`` and ``max(feather, WIDE * min(H, W))``; ``feather`` everywhere when
        the outline is clear all round (or the mask is empty or full).
    """
    h, w = mask.shape
    inside = mask.astype(bool)
    wide = max(float(feather), WIDE * min(h, w))
    flat = np.full((h, w), float(feather), np.float32)
    if wide <= feather or inside.all() or not inside.any():
        return flat
    cells = inside.astype(np.uint8)
    outline = (cells - cv2.erode(cells, np.ones((3, 3), np.uint8))) > 0
    outline[:2], outline[-2:], outline[:, :2], outline[:, -2:] = False, False, False, False  # the frame is no edge
    if not outline.any():
        return flat
    sigma = max(1.5, BAND * max(h, w))
    depth = cv2.distanceTransform(cells, cv2.DIST_L2, 5)
    beyond = cv2.distanceTransform(1 - cells, cv2.DIST_L2, 5)
    means = []
    for band in ((depth > 1) & (depth < 3 * sigma), (beyond > 1) & (beyond < 3 * sigma)):
        weight = band.astype(np.float32)
        total = cv2.GaussianBlur(weight, (0, 0), sigma) + 1e-6
        means.append(cv2.GaussianBlur(image * weight[..., None], (0, 0), sigma) / total[..., None])
    contrast = np.linalg.norm(means[0] - means[1], axis=-1)
    unclear = np.clip(1.0 - contrast / CLEAR, 0.0, 1.0)
    target = np.where(outline, feather + unclear * (wide - feather), 0.0).astype(np.float32)
    spread = max(1.0, 0.5 * wide)
    numerator = cv2.GaussianBlur(target, (0, 0), spread)
    denominator = cv2.GaussianBlur(outline.astype(np.float32), (0, 0), spread)
    widths = np.where(denominator > 1e-4, numerator / np.maximum(denominator, 1e-4), feather)
    return np.clip(widths, feather, wide).astype(np.float32)
