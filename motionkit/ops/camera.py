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
