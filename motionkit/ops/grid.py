"""Pixel-coordinate grids, one function per layout.

Pixel centres sit at integer coordinates (``docs/conventions.md``): the pixel in row ``y``,
column ``x`` has coordinates ``(x, y)``. Two layouts are in use and each has one function:

- :func:`pixel_grid`: torch ``(2, H, W)``, channels first like a motion field (channel 0 = x,
  channel 1 = y), so ``pixel_grid(h, w) + flow`` is where every pixel goes.
- :func:`remap_grid`: numpy ``float32 (H, W, 2)``, channels last, the layout ``cv2.remap``
  takes its maps in (``grid[..., 0]`` = x, ``grid[..., 1]`` = y); cached and read-only,
  because the per-frame numpy paths ask for the same size every frame.

Example:
    >>> pixel_grid(2, 3)[:, 1, 2].tolist()
    [2.0, 1.0]
    >>> remap_grid(2, 3)[1, 2].tolist()
    [2.0, 1.0]
"""

from __future__ import annotations

import functools

import numpy as np
import torch


def pixel_grid(height: int, width: int, *, device=None, dtype=torch.float32) -> torch.Tensor:
    """``(2, H, W)`` pixel coordinates on ``device`` in ``dtype``: channel 0 is x (column), 1 is y (row)."""
    ys, xs = torch.meshgrid(
        torch.arange(height, device=device, dtype=dtype),
        torch.arange(width, device=device, dtype=dtype),
        indexing="ij",
    )
    return torch.stack([xs, ys])


@functools.lru_cache(maxsize=4)
def remap_grid(height: int, width: int) -> np.ndarray:
    """``float32 (H, W, 2)`` pixel coordinates (x, y), read-only and cached (one per frame size)."""
    grid = np.dstack(np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)))
    grid.flags.writeable = False
    return grid
