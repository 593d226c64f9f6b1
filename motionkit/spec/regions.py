"""Regions of a spec on a picture of a given size: polygons rasterised, painted masks resampled."""

from __future__ import annotations

import json

from motionkit.io.image import parse_size
from motionkit.mask import RegionMask
from motionkit.spec.document import Region, to_pixels


def region_mask(region: Region, size: tuple[int, int]) -> RegionMask:
    """``region`` as a :class:`RegionMask` of ``size = (H, W)``.

    Polygons are filled at that size (their ``(u, v)`` vertices placed by pixel centres); a
    painted mask comes back exactly at its own size and resampled bilinearly at any other.

    Example:
        >>> square = Region(polygons=[[(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)]])
        >>> region_mask(square, (8, 8)).area()
        0.25
    """
    size = parse_size(size, "region")
    if region.polygons is not None:
        shapes = [[to_pixels(u, v, size) for u, v in polygon] for polygon in region.polygons]
        return RegionMask.from_polygon(shapes, size)
    doc = {"format": "motionkit.mask", "version": 1, **region.mask.model_dump()}
    mask = RegionMask.from_json(json.dumps(doc))
    return mask if mask.size == size else mask.resize(size)
