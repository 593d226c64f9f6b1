"""Drags and the motion brush -> the sparse flow condition of the stage-1 ControlNet.

This follows the official demo (``scripts/app.py`` of G-U-N/Motion-I2V) step by step:

1. every drag is PCHIP-interpolated to the model's frame count (a single click ``p`` becomes
   the drag ``p -> p + (1, 1)``);
2. for each later frame k the displacement ``p_k - p_0`` (pixels) is written into the square
   ``[y0 - u, y0 + u) x [x0 - u, x0 + u)`` around the start (clipped at 0), ``u`` being the
   *flow unit* (64 px at 320x512), and a known-flow mask is set to 1 there; later drags
   overwrite earlier ones where squares overlap;
3. the *static* brush (official convention: 1 where the user did NOT paint) zeroes the
   flow and marks it as known (zero motion is a constraint too);
4. flows are normalised (dx / W, dy / H), mapped to [0, 1] with ``(f + 1) / 2`` and every
   unknown pixel is set to 0.5 (zero flow).

motionkit's :class:`~motionkit.RegionMask` says the opposite (1 = may move), so
:func:`static_from_region` converts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from scipy.interpolate import PchipInterpolator

from motionkit.errors import InvalidInputError, NonFiniteError, OutOfBoundsError, ShapeMismatchError

#: Half-size of the square a drag writes at the official 320x512 resolution (``flow_unit_id``).
OFFICIAL_FLOW_UNIT = 64
OFFICIAL_SIZE = (320, 512)


def default_flow_unit(size: tuple[int, int]) -> int:
    """The drag square's half-size for ``size`` = (H, W): 64 px at 320x512, scaled with the image.

    Scales with the square root of the area ratio, so the square covers the same share of
    the picture at any resolution.

    Example:
        >>> default_flow_unit((320, 512)), default_flow_unit((640, 1024))
        (64, 128)
    """
    ratio = math.sqrt(size[0] * size[1] / (OFFICIAL_SIZE[0] * OFFICIAL_SIZE[1]))
    return max(1, int(round(OFFICIAL_FLOW_UNIT * ratio)))


def _points(track: Any) -> np.ndarray:
    if hasattr(track, "as_tensor"):
        track = track.as_tensor()
    if isinstance(track, torch.Tensor):
        track = track.detach().cpu().numpy()
    points = np.asarray(track, dtype=np.float64)
    if points.ndim == 1 and points.shape == (2,):
        points = points[None]
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ShapeMismatchError(f"a drag must be (T, 2) points (x, y), got shape {points.shape}")
    if not np.isfinite(points).all():
        raise NonFiniteError("a drag holds NaN or infinite coordinates; give finite pixel positions")
    return points


def resample_track(track: Any, frames: int) -> np.ndarray:
    """A drag's points resampled to ``frames`` points with PCHIP, as the official demo does.

    Args:
        track: a :class:`~motionkit.Trajectory`, or ``(T, 2)`` points (x, y) in pixels.
        frames: number of output points (the model's frame count, frame 0 included).

    Returns:
        ``(frames, 2)`` float64 points; a single point ``p`` is first turned into ``p -> p + (1, 1)``.

    Example:
        >>> resample_track([[0, 0], [4, 2]], 3).tolist()
        [[0.0, 0.0], [2.0, 1.0], [4.0, 2.0]]
    """
    points = _points(track)
    if len(points) == 1:
        points = np.concatenate([points, points + 1.0])
    t = np.linspace(0.0, 1.0, len(points))
    new_t = np.linspace(0.0, 1.0, frames)
    return np.stack([PchipInterpolator(t, points[:, 0])(new_t), PchipInterpolator(t, points[:, 1])(new_t)], axis=1)


def rasterize_drags(
    tracks: Sequence[Any], frames: int, size: tuple[int, int], flow_unit: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Write drags as sparse displacement squares, exactly as the official demo.

    Args:
        tracks: drags in pixel coordinates of an image of ``size``.
        frames: model frame count, frame 0 included; the output covers frames 1..frames-1.
        size: ``(H, W)``.
        flow_unit: half-size of each drag's square in pixels (default :func:`default_flow_unit`).

    Returns:
        ``drag (frames-1, 2, H, W)`` displacement from frame 0 in pixels (dx, dy) and
        ``known (frames-1, 1, H, W)`` with 1 where a drag wrote flow.

    Example:
        >>> drag, known = rasterize_drags([[[3, 2], [5, 2]]], frames=3, size=(8, 10), flow_unit=1)
        >>> drag[1, 0, 1:3, 2:4].tolist(), int(known.sum())
        ([[2.0, 2.0], [2.0, 2.0]], 8)
    """
    if frames < 2:
        raise InvalidInputError(f"the flow model needs at least 2 frames (frame 0 and one more), got {frames}")
    h, w = size
    unit = default_flow_unit(size) if flow_unit is None else int(flow_unit)
    if unit < 1:
        raise InvalidInputError(f"flow_unit must be a positive number of pixels, got {flow_unit}")
    drag = torch.zeros(frames - 1, 2, h, w)
    known = torch.zeros(frames - 1, 1, h, w)
    for track in tracks:
        points = resample_track(track, frames)
        x0, y0 = points[0]
        if not (0 <= x0 < w and 0 <= y0 < h):
            raise OutOfBoundsError(
                f"a drag starts at ({x0:.1f}, {y0:.1f}), outside the {w}x{h} image; start drags on the image"
            )
        rows = slice(max(int(y0) - unit, 0), int(y0) + unit)
        cols = slice(max(int(x0) - unit, 0), int(x0) + unit)
        for k in range(1, frames):
            drag[k - 1, 0, rows, cols] = float(points[k, 0] - x0)
            drag[k - 1, 1, rows, cols] = float(points[k, 1] - y0)
            known[k - 1, :, rows, cols] = 1.0
    return drag, known


def static_from_region(values: torch.Tensor | None, size: tuple[int, int]) -> torch.Tensor:
    """motionkit brush (1 = may move) -> the official *static* brush (1 = must not move), ``(H, W)``.

    The official demo counts a pixel as painted (movable) where the mask is above 0.5 and
    treats "nothing painted" as "everything may move"; ``None`` gives that (all zeros). Soft
    masks are thresholded the same way, so values <= 0.5 are static.

    Example:
        >>> static_from_region(torch.tensor([[1.0, 0.2]]), (1, 2)).tolist()
        [[0.0, 1.0]]
    """
    if values is None:
        return torch.zeros(size)
    values = torch.as_tensor(values, dtype=torch.float32)
    if values.shape != size:
        values = torch.nn.functional.interpolate(values[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
    return (values <= 0.5).float()


def sparse_condition(
    drag: torch.Tensor, known: torch.Tensor, static: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Combine drags and static brush into the ControlNet inputs at pixel resolution.

    Args:
        drag: ``(F, 2, H, W)`` pixel displacements from :func:`rasterize_drags`.
        known: ``(F, 1, H, W)`` known-flow mask.
        static: ``(H, W)`` official brush, 1 where nothing may move.

    Returns:
        ``sparse (F, 2, H, W)`` normalised flow in [0, 1] (0.5 = no motion) ready for the flow
        VAE, and ``mask (F, 1, H, W)`` (1 = flow known).

    Example:
        >>> sparse, mask = sparse_condition(torch.zeros(1, 2, 2, 2), torch.zeros(1, 1, 2, 2), torch.zeros(2, 2))
        >>> float(sparse.mean()), float(mask.sum())
        (0.5, 0.0)
    """
    _, _, h, w = drag.shape
    scale = drag.new_tensor([w, h]).view(1, 2, 1, 1)
    normalised = drag / scale * (1.0 - static)
    mask = torch.where(static.expand_as(known) > 0, torch.ones_like(known), known)
    sparse = ((normalised + 1.0) / 2.0 - 0.5) * mask + 0.5
    return sparse, mask
