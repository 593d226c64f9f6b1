"""Parametric camera motion as a dense field: pan, zoom and roll about a centre.

A pixel ``p`` of frame 0 appears in frame ``t`` at

``p_t = c + z_t * R(theta_t) (p - c) + s_t * pan``

with progress ``s_t`` from the easing (0 at frame 0, 1 at the last frame), zoom
``z_t = zoom ** s_t`` (a steady zoom rate, reaching ``zoom`` at the last frame), angle
``theta_t = s_t * rotate`` and ``c`` the centre (default: the image centre
``((W - 1) / 2, (H - 1) / 2)``, pixel centres at integers). Positive ``rotate`` turns the
content counter-clockwise on screen (y points down), as OpenCV's ``getRotationMatrix2D``.
The field is ``p_t - p``.
"""

from __future__ import annotations

import math

import torch

from motionkit.errors import InvalidInputError
from motionkit.ops.easing import progress
from motionkit.ops.field import all_finite
from motionkit.ops.grid import pixel_grid


def camera_field(
    *,
    pan: tuple[float, float] = (0.0, 0.0),
    zoom: float = 1.0,
    rotate: float = 0.0,
    frames: int = 16,
    size: tuple[int, int],
    easing: str = "linear",
    center: tuple[float, float] | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Dense field of a camera pan / zoom / roll.

    Args:
        pan: total content shift ``(dx, dy)`` in pixels at the last frame.
        zoom: magnification at the last frame (> 0; 2 = content twice as large).
        rotate: content rotation at the last frame, degrees, counter-clockwise on screen.
        frames: number of frames T.
        size: ``(H, W)``.
        easing: how progress is spread over time, see :mod:`motionkit.ops.easing`.
        center: ``(x, y)`` fixed point of zoom and rotation in pixels.
        device: where the field is built (default the CPU).

    Returns:
        ``float32 (T, 2, H, W)`` pixels on ``device``; frame 0 zero.

    Example:
        >>> f = camera_field(zoom=2.0, frames=2, size=(5, 5))
        >>> f[1, :, 2, 4].tolist()        # two pixels right of the centre ends four pixels right
        [2.0, 0.0]
    """
    try:
        h, w = (int(v) for v in size)
        pan_x, pan_y = (float(v) for v in pan)
        zoom, rotate = float(zoom), float(rotate)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"camera: size must be (H, W), pan (dx, dy) and zoom/rotate numbers ({exc})") from exc
    if h < 1 or w < 1:
        raise InvalidInputError(f"camera: size must be two positive integers (H, W), got {size!r}")
    if not all(math.isfinite(v) for v in (pan_x, pan_y, zoom, rotate)):
        raise InvalidInputError("camera: pan, zoom and rotate must be finite numbers")
    if zoom <= 0:
        raise InvalidInputError(f"camera: zoom must be > 0 (1 = no zoom), got {zoom}")
    if center is None:
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    else:
        try:
            cx, cy = (float(v) for v in center)
        except (TypeError, ValueError):
            raise InvalidInputError(f"camera: center must be (x, y) pixels, got {center!r}") from None
        if not (math.isfinite(cx) and math.isfinite(cy)):
            raise InvalidInputError(f"camera: center must be finite, got {center!r}")
    s = progress(frames, easing)
    out = torch.empty(len(s), 2, h, w, device=device)
    for t, st in enumerate(s):
        out[t] = similarity_displacement((st * pan_x, st * pan_y), zoom**st, rotate * st, (h, w), (cx, cy), device=device)
    out[0] = 0.0
    return out


def similarity_displacement(
    pan: tuple[float, float],
    zoom: float,
    rotate: float,
    size: tuple[int, int],
    center: tuple[float, float],
    *,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """One frame of a camera move: ``p' = c + zoom R(rotate) (p - c) + pan``, as ``p' - p``.

    Args:
        pan: content shift ``(dx, dy)`` pixels.
        zoom: magnification (> 0).
        rotate: degrees, counter-clockwise on screen.
        size: ``(H, W)``.
        center: ``(x, y)`` fixed point of zoom and roll, pixels.
        device: where the field is built.

    Returns:
        ``float32 (2, H, W)`` displacement in pixels.

    Example:
        >>> similarity_displacement((1.0, 0.0), 1.0, 0.0, (2, 3), (1.0, 0.5))[0].tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    h, w = size
    rel = pixel_grid(h, w, device=device)
    rel[0] -= center[0]
    rel[1] -= center[1]
    theta = math.radians(rotate)
    cos, sin = zoom * math.cos(theta), zoom * math.sin(theta)
    out = torch.empty(2, h, w, device=device)
    # y points down, so (cos, sin; -sin, cos) turns content counter-clockwise on screen.
    # Displacement = (M - I) rel + pan, formed directly so a pure pan is exact in float32.
    out[0] = (cos - 1.0) * rel[0] + sin * rel[1] + pan[0]
    out[1] = -sin * rel[0] + (cos - 1.0) * rel[1] + pan[1]
    return out


def focal_length(width: int, field_of_view: float) -> float:
    """Pinhole focal length in pixels for a horizontal ``field_of_view`` (degrees) over ``width`` pixels."""
    return (width / 2.0) / math.tan(math.radians(field_of_view) / 2.0)


def perspective_displacement(
    depth: torch.Tensor,
    *,
    orbit: float = 0.0,
    dolly: float = 0.0,
    truck: float = 0.0,
    pedestal: float = 0.0,
    focal: float,
    center: tuple[float, float],
) -> torch.Tensor:
    """Where each pixel goes when the camera moves through the scene: parallax from a depth map.

    A pinhole camera (x right, y down, z forward) looks at the point on the optical axis
    through ``center`` at depth 1; ``depth`` gives every pixel's depth in those units (a flat
    plane is all ones). Each pixel is lifted to 3D, the camera moves, and the point is projected
    again. Moves, as fractions of the distance to the look-at point:

    - ``orbit``: degrees the camera circles the look-at point to its right, still aimed at it;
    - ``dolly``: forwards along its view (< 1); ``truck``: to its right; ``pedestal``: up.

    Near content moves more than far content under ``dolly``, ``truck`` and ``pedestal``; under
    ``orbit`` points nearer than the look-at point move against those beyond it, and much more.

    Args:
        depth: ``(H, W)`` positive depths, 1 at the look-at point.
        focal: focal length in pixels (:func:`focal_length`).
        center: ``(x, y)`` principal point in pixels.

    Returns:
        ``float32 (2, H, W)`` displacement in pixels, on ``depth``'s device.

    Example:
        >>> shift = perspective_displacement(torch.ones(3, 5), truck=0.1, focal=10.0, center=(2.0, 1.0))
        >>> [round(v, 4) for v in shift[:, 1, 2].tolist()]     # content slides left by focal * 0.1 / depth
        [-1.0, 0.0]
    """
    if depth.dim() != 2:
        raise InvalidInputError(f"depth must be (H, W), got shape {tuple(depth.shape)}")
    if not all_finite(depth) or (depth <= 0).any():
        raise InvalidInputError("depth must be positive finite numbers (1 = the look-at distance)")
    if not all(math.isfinite(v) for v in (orbit, dolly, truck, pedestal)) or dolly >= 1:
        raise InvalidInputError("camera: orbit, dolly, truck and pedestal must be finite, dolly < 1")
    h, w = depth.shape
    z = depth.to(torch.float64)
    grid = pixel_grid(h, w, device=depth.device, dtype=torch.float64)
    cx, cy = center
    x = (grid[0] - cx) * z / focal
    y = (grid[1] - cy) * z / focal
    theta = math.radians(orbit)
    right = (math.cos(theta), 0.0, math.sin(theta))
    forward = (-math.sin(theta), 0.0, math.cos(theta))
    # The camera's centre: on the orbit around (0, 0, 1), then moved along its own axes.
    cam = [math.sin(theta) + truck * right[0] + dolly * forward[0], -pedestal,
           1.0 - math.cos(theta) + truck * right[2] + dolly * forward[2]]
    px, py, pz = x - cam[0], y - cam[1], z - cam[2]
    xc = right[0] * px + right[2] * pz
    zc = (forward[0] * px + forward[2] * pz).clamp(min=1e-3)   # points behind the camera leave the picture
    out = torch.empty(2, h, w, dtype=torch.float32, device=depth.device)
    out[0] = (focal * xc / zc + cx - grid[0]).float()
    out[1] = (focal * py / zc + cy - grid[1]).float()
    return out
