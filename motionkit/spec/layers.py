"""The parametric layers of a spec: motion brushes, the depth map, and the camera with parallax.

Each returns a ``float32 (T, 2, H, W)`` tensor in pixels of the picture it is built for; the
brushes' pixel amounts are read in the spec's reference size and scaled to that picture.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import torch

from motionkit.errors import InvalidInputError, MediaReadError
from motionkit.ops.camera import focal_length, perspective_displacement, similarity_displacement
from motionkit.spec import timing
from motionkit.spec.document import Brush, CameraPath, to_pixels
from motionkit.spec.regions import region_mask

#: Noise modes per axis of an ambient brush.
AMBIENT_MODES = 6


def brush_motion(brush: Brush, frames: int, size: tuple[int, int], reference_size: tuple[int, int]) -> torch.Tensor:
    """One brush's motion: ``(T, 2, H, W)`` pixels, zero outside its region (its soft edge fades it).

    Example:
        >>> from motionkit.spec.document import Region
        >>> left = Brush(region=Region(polygons=[[(0, 0), (0.5, 0), (0.5, 1), (0, 1)]]), direction=(1.5, 0))
        >>> f = brush_motion(left, 3, (4, 4), (4, 4))
        >>> f[2, 0, 0].tolist()                      # 2 frames x 1.5 px inside, nothing outside
        [3.0, 3.0, 0.0, 0.0]
    """
    h, w = size
    mask = torch.from_numpy(region_mask(brush.region, size).numpy())
    sx, sy = w / reference_size[1], h / reference_size[0]
    t = torch.arange(frames, dtype=torch.float64)[:, None, None]
    out = torch.zeros(frames, 2, h, w, dtype=torch.float64)
    dx, dy = brush.direction
    out[:, 0] += t * (dx * sx)
    out[:, 1] += t * (dy * sy)
    if brush.proximity:
        ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
        weight = mask.double()
        total = float(weight.sum())
        if total > 0:  # about the region's centre of mass
            cx, cy = float((weight * xs).sum()) / total, float((weight * ys).sum()) / total
            scale = (1.0 + brush.proximity) ** t - 1.0
            out[:, 0] += scale * (xs - cx)
            out[:, 1] += scale * (ys - cy)
    if brush.ambient:
        out += ambient_motion(brush, frames, size, reference_size)
    return (out * mask.double()).float()


def ambient_motion(brush: Brush, frames: int, size: tuple[int, int], reference_size: tuple[int, int]) -> torch.Tensor:
    """Small, smooth, seeded, looping noise motion ``(T, 2, H, W)`` of amplitude ``brush.ambient`` (reference pixels).

    A sum of a few travelling waves per axis, ``sum_k w_k [cos(theta_k(p) + 2 pi n_k t / P) - cos(theta_k(p))]``
    with random directions, wavelengths around ``ambient_scale`` of the short side, phases and
    whole numbers of cycles ``n_k`` per period ``P``: zero at frame 0, periodic in ``P`` (so it
    loops), smooth in space and time, and the same for the same seed at any size (the waves
    are laid out in units of the short side). The weights sum to ``1 / (2 sqrt 2)``, so no
    pixel moves further than the amplitude.
    """
    h, w = size
    rng = np.random.default_rng(brush.seed)
    short, ref_short = min(h, w), min(reference_size)
    amplitude = brush.ambient * short / ref_short
    period = float(brush.period) if brush.period is not None else float(frames)
    ys, xs = np.meshgrid((np.arange(h) + 0.5) / short, (np.arange(w) + 0.5) / short, indexing="ij")
    t = np.arange(frames, dtype=np.float64)
    out = np.zeros((frames, 2, h, w))
    for axis in range(2):
        angles = rng.uniform(0, 2 * math.pi, AMBIENT_MODES)
        lengths = brush.ambient_scale * rng.uniform(0.7, 1.4, AMBIENT_MODES)
        phases = rng.uniform(0, 2 * math.pi, AMBIENT_MODES)
        cycles = rng.integers(1, 3, AMBIENT_MODES)
        weights = rng.uniform(0.5, 1.0, AMBIENT_MODES)
        weights *= 1.0 / (2.0 * math.sqrt(2.0) * weights.sum())
        for k in range(AMBIENT_MODES):
            theta = 2 * math.pi * (math.cos(angles[k]) * xs + math.sin(angles[k]) * ys) / lengths[k] + phases[k]
            shift = 2 * math.pi * cycles[k] * t / period
            out[:, axis] += weights[k] * (np.cos(theta[None] + shift[:, None, None]) - np.cos(theta)[None])
    return torch.from_numpy(out * amplitude)


def load_depth(depth: Any, size: tuple[int, int], kind: Literal["depth", "disparity"] | None = None) -> np.ndarray:
    """A depth map as ``float64 (H, W)`` depths at ``size`` (unnormalised, larger = farther).

    Args:
        depth: an ``(H, W)`` array, a ``.npy`` file, or an image file (gray; RGB is averaged).
        kind: ``"depth"`` (larger = farther) or ``"disparity"`` (larger = nearer, what monocular
            depth networks and their pictures give: white = near). Default: ``"depth"`` for
            arrays and ``.npy`` files, ``"disparity"`` for images.

    Raises:
        MediaReadError: an unreadable file. InvalidInputError: not a 2D map of finite values.
    """
    if isinstance(depth, (str, os.PathLike)):
        path = Path(depth)
        try:
            if path.suffix.lower() == ".npy":
                values = np.load(path, allow_pickle=False)
                kind = kind or "depth"
            else:
                from motionkit.io.image import load_image

                values = load_image(path).astype(np.float64).mean(axis=2) / 255.0
                kind = kind or "disparity"
        except (OSError, ValueError) as exc:
            raise MediaReadError(f"cannot read depth map {path}: {exc}") from None
    else:
        values = np.asarray(depth.detach().cpu() if isinstance(depth, torch.Tensor) else depth)
        kind = kind or "depth"
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or not np.isfinite(values).all():
        raise InvalidInputError(f"a depth map is (H, W) finite values, got shape {values.shape}")
    if kind == "disparity":
        values = 1.0 / (values + 0.05 * max(float(values.max()), 1e-6))
    elif kind != "depth":
        raise InvalidInputError(f"depth kind must be 'depth' or 'disparity', got {kind!r}")
    if (values <= 0).any():
        raise InvalidInputError("depths must be positive (larger = farther); pass kind='disparity' for inverse depth")
    if values.shape != tuple(size):
        values = cv2.resize(values, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    return values


def camera_layer(path: CameraPath, frames: int, size: tuple[int, int], depth: np.ndarray | None = None) -> torch.Tensor:
    """The camera path's motion ``(T, 2, H, W)``: 3D moves with parallax from ``depth``, then the 2D moves of the picture.

    ``depth`` (from :func:`load_depth`) is normalised to 1 at the look-at point (the path's
    centre); without it the scene is a flat plane at that distance.
    """
    h, w = size
    center = ((w - 1) / 2.0, (h - 1) / 2.0) if path.center is None else to_pixels(*path.center, size)
    poses = timing.camera_parameters(path, frames, size)
    relative = None
    if any(p.moves_3d for p in poses):
        cx = int(np.clip(round(center[0]), 0, w - 1))
        cy = int(np.clip(round(center[1]), 0, h - 1))
        relative = torch.ones(h, w, dtype=torch.float64) if depth is None else torch.from_numpy(depth / depth[cy, cx])
    focal = focal_length(w, path.field_of_view)
    out = torch.zeros(frames, 2, h, w)
    for f, pose in enumerate(poses):
        if f == 0 or pose == timing.CameraPose():
            continue
        out[f] = similarity_displacement(pose.pan, pose.zoom, pose.rotate, size, center)
        if pose.moves_3d:
            parallax = perspective_displacement(relative, orbit=pose.orbit, dolly=pose.dolly, truck=pose.truck,
                                                pedestal=pose.pedestal, focal=focal, center=center)
            # The 2D moves act on where the 3D move put the pixel: total = S(p) - p + M d3.
            theta = math.radians(pose.rotate)
            cos, sin = pose.zoom * math.cos(theta), pose.zoom * math.sin(theta)
            out[f, 0] += cos * parallax[0] + sin * parallax[1]
            out[f, 1] += -sin * parallax[0] + cos * parallax[1]
    return out
