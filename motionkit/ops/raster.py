"""Rasterising shapes into soft coverage masks: filled polygons and round-brush strokes.

Coordinates are ``(x, y)`` pixels with pixel centres at integers, so pixel ``(row i, col j)``
covers the square ``[j - 0.5, j + 0.5] x [i - 0.5, i + 0.5]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from motionkit.errors import InvalidInputError, NonFiniteError


def as_points(points: Sequence[Sequence[float]] | np.ndarray, what: str = "points") -> np.ndarray:
    """Validate a polyline ``[(x, y), ...]`` -> ``float64 (N, 2)``, N >= 1."""
    if hasattr(points, "detach"):  # a torch tensor, possibly on a GPU
        points = points.detach().cpu().numpy()
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{what} must be a sequence of (x, y) pairs ({exc})") from exc
    if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) == 0:
        raise InvalidInputError(f"{what} must be a non-empty sequence of (x, y) pairs, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise NonFiniteError(f"{what} contain NaN or infinite coordinates")
    return arr


def _fill_even_odd(poly: np.ndarray, height: int, width: int) -> np.ndarray:
    """Which integer lattice points ``(x, y)`` lie inside ``poly`` (even-odd rule): ``bool (H, W)``.

    A scanline at row ``y`` crosses edge ``a -> b`` when ``y`` lies in the half-open span of the
    edge's ends, so shared vertices count once; a point is inside when an odd number of
    crossings lie at or left of it. Work grows with the number of crossings, not with
    rows x edges, so polygons with thousands of vertices stay cheap.
    """
    toggles = np.zeros((height, width + 1), np.int32)
    rows, cols = [], []
    for (ax, ay), (bx, by) in zip(poly, np.roll(poly, -1, axis=0)):
        if ay == by:
            continue  # horizontal edges are never crossed by a scanline
        first, last = max(int(np.ceil(min(ay, by))), 0), min(int(np.ceil(max(ay, by))), height)
        if first >= last:
            continue
        ys = np.arange(first, last)
        xs = ax + (ys - ay) * (bx - ax) / (by - ay)
        rows.append(ys)
        cols.append(np.clip(np.ceil(xs), 0, width).astype(np.int64))  # first lattice column right of it
    if rows:
        np.add.at(toggles, (np.concatenate(rows), np.concatenate(cols)), 1)
    return (np.cumsum(toggles[:, :width], axis=1) % 2).astype(bool)


def polygon_coverage(polygons: Sequence[np.ndarray], size: tuple[int, int], *, supersample: int = 4) -> np.ndarray:
    """Fraction of each pixel inside the union of ``polygons``: ``float32 (H, W)`` in [0, 1].

    Each polygon is an ``(N, 2)`` array of vertices (N >= 3, closed implicitly; a
    self-intersecting one is filled by the even-odd rule). Coverage is counted on a
    ``supersample x supersample`` sub-grid of sample points per pixel, so a mask's total area
    matches the polygon's area to a small fraction of a pixel per unit of perimeter.

    Example:
        >>> square = np.array([[1.5, 1.5], [3.5, 1.5], [3.5, 3.5], [1.5, 3.5]])
        >>> float(polygon_coverage([square], (6, 6)).sum())
        4.0
    """
    h, w = size
    s = int(supersample)
    inside = np.zeros((h * s, w * s), bool)
    for poly in polygons:
        if len(poly) < 3:
            raise InvalidInputError(f"a polygon needs at least 3 vertices, got {len(poly)}")
        # Sub-pixel k's centre sits at (k + 0.5) / s - 0.5 in image pixels.
        inside |= _fill_even_odd((poly + 0.5) * s - 0.5, h * s, w * s)
    return inside.reshape(h, s, w, s).mean(axis=(1, 3), dtype=np.float64).astype(np.float32)


def segment_distance(xs: np.ndarray, ys: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from points ``(xs, ys)`` (broadcastable arrays) to the segment ``a``-``b``."""
    d = b - a
    length2 = float(d @ d)
    if length2 == 0.0:
        return np.hypot(xs - a[0], ys - a[1])
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / length2, 0.0, 1.0)
    return np.hypot(xs - (a[0] + t * d[0]), ys - (a[1] + t * d[1]))


def stroke_coverage(polylines: Sequence[np.ndarray], radius: float, size: tuple[int, int]) -> np.ndarray:
    """A round brush of ``radius`` pixels painted along each polyline: ``float32 (H, W)`` in [0, 1].

    Every pixel whose centre lies within ``radius`` of a stroke is 1; beyond that coverage
    falls linearly to 0 over one pixel (an anti-aliased rim). A one-point polyline is a dot.

    Example:
        >>> m = stroke_coverage([np.array([[2.0, 2.0], [6.0, 2.0]])], 1.0, (5, 9))
        >>> m[2, 1:8].tolist(), m[0, 4].item()
        ([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 0.0)
    """
    h, w = size
    if not np.isfinite(radius) or radius < 0:
        raise InvalidInputError(f"brush radius must be a finite number of pixels >= 0, got {radius!r}")
    out = np.zeros((h, w), np.float64)
    reach = radius + 1.0
    for line in polylines:
        segments = zip(line, line[1:]) if len(line) > 1 else [(line[0], line[0])]
        for a, b in segments:
            # Only the bounding box of the segment (plus the brush) can be touched.
            x0 = max(int(np.floor(min(a[0], b[0]) - reach)), 0)
            x1 = min(int(np.ceil(max(a[0], b[0]) + reach)) + 1, w)
            y0 = max(int(np.floor(min(a[1], b[1]) - reach)), 0)
            y1 = min(int(np.ceil(max(a[1], b[1]) + reach)) + 1, h)
            if x0 >= x1 or y0 >= y1:
                continue
            ys, xs = np.mgrid[y0:y1, x0:x1]
            cover = np.clip(reach - segment_distance(xs, ys, a, b), 0.0, 1.0)
            np.maximum(out[y0:y1, x0:x1], cover, out=out[y0:y1, x0:x1])
    return out.astype(np.float32)
