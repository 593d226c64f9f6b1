"""Pictures of motion: the Middlebury colour-wheel coding and arrow overlays.

Colour coding (Baker et al., "A Database and Evaluation Methodology for Optical Flow", 2011):
hue encodes the direction of a vector and saturation its length, white = no motion. Motion to
the right is red, down yellow-orange, left cyan, up blue-violet, following the Middlebury wheel
of 55 hues (red-yellow 15, yellow-green 6, green-cyan 4, cyan-blue 11, blue-magenta 13,
magenta-red 6). Lengths are
divided by one normaliser for a whole field so that frames can be compared; vectors longer
than it are drawn darker.

:func:`draw_legend` adds the wheel itself in a corner, with the scale in pixels, so a reader
can tell direction and magnitude. The functions take torch tensors (any device) or numpy arrays and answer in kind: a tensor
in gives a ``uint8`` tensor on its device, an array an array. The pictures are channels last
``(H, W, 3)``, ready to write or show; the drawing itself runs in numpy/OpenCV.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops.colour import to_uint8

_SEGMENTS = (15, 6, 4, 11, 13, 6)


def color_wheel() -> np.ndarray:
    """The 55 Middlebury wheel colours, ``float64 (55, 3)`` RGB in [0, 255], starting at red."""
    parts = []
    # Each segment ramps one channel up or down while the others stay at 0 or 255.
    plan = ((1, 1), (0, -1), (2, 1), (1, -1), (0, 1), (2, -1))  # (channel, up or down)
    levels = np.array([255.0, 0.0, 0.0])  # start at red
    for n, (channel, direction) in zip(_SEGMENTS, plan):
        seg = np.tile(levels, (n, 1))
        ramp = np.floor(255.0 * np.arange(n) / n)
        seg[:, channel] = ramp if direction > 0 else 255.0 - ramp
        parts.append(seg)
        levels = seg[-1].copy()
        levels[channel] = 255.0 if direction > 0 else 0.0
    return np.concatenate(parts)


def flow_to_color(flow: torch.Tensor | np.ndarray, max_magnitude: float | None = None) -> torch.Tensor | np.ndarray:
    """Colour-code flows: ``(..., 2, H, W)`` pixels -> ``uint8 (..., H, W, 3)`` RGB.

    Args:
        flow: one field ``(2, H, W)`` or a stack ``(T, 2, H, W)``, pixels; a tensor (the
            result is a tensor on its device) or an array.
        max_magnitude: length drawn fully saturated; default the longest vector of the whole
            input (so all frames share one scale). Must be > 0 if given.

    Example:
        >>> f = np.zeros((2, 1, 2), np.float32); f[0, 0, 1] = 3.0
        >>> flow_to_color(f)[0].tolist()      # no motion is white, motion to the right red
        [[255, 255, 255], [255, 0, 0]]
    """
    device = flow.device if isinstance(flow, torch.Tensor) else None
    flow = _numpy(flow, np.float32)
    if flow.ndim < 3 or flow.shape[-3] != 2:
        raise ShapeMismatchError(f"flow must be (2, H, W) or (T, 2, H, W), got {flow.shape}")
    u, v = flow[..., 0, :, :], flow[..., 1, :, :]
    mag = np.hypot(u, v)
    if max_magnitude is None:
        max_magnitude = float(mag.max()) if mag.size else 0.0
    elif not np.isfinite(max_magnitude) or max_magnitude <= 0:
        raise InvalidInputError(f"max_magnitude must be a positive number, got {max_magnitude!r}")
    rad = mag / max_magnitude if max_magnitude > 0 else np.zeros_like(mag)

    wheel = (color_wheel() / 255.0).astype(np.float32)
    n = len(wheel)
    angle = np.arctan2(-v, -u) / np.pi  # in [-1, 1]; right (u > 0) maps to 1
    fk = (angle + 1.0) / 2.0 * (n - 1)
    k0 = np.floor(fk).astype(np.int64)
    k1 = (k0 + 1) % n
    frac = (fk - k0)[..., None]
    col = (1.0 - frac) * wheel[k0] + frac * wheel[k1]
    r = rad[..., None]
    col = np.where(r <= 1.0, 1.0 - r * (1.0 - col), col * 0.75)
    return _in_kind(to_uint8(col), device)


def draw_legend(picture: torch.Tensor | np.ndarray, max_magnitude: float, *, diameter: int | None = None) -> torch.Tensor | np.ndarray:
    """The colour wheel that reads a :func:`flow_to_color` picture, drawn in its bottom-right corner.

    The disc is the coding itself: the pixel at offset ``(dx, dy)`` from its centre has the
    colour of a vector pointing that way, of length ``max_magnitude * r / radius`` (white in
    the middle = no motion, the rim = ``max_magnitude`` px, fully saturated). Beneath it the
    scale is written (``"12 px"``), so a reader can tell direction and magnitude.

    Args:
        picture: ``uint8 (H, W, 3)`` colour coding, tensor or array; not modified.
        max_magnitude: the length (pixels) the picture was coded with, > 0.
        diameter: the disc's size in pixels (default a fifth of the short side, 24 to 96);
            a picture too small to hold it (short side under 48 px) is returned unchanged.

    Returns:
        ``uint8 (H, W, 3)`` in kind (a tensor on ``picture``'s device for a tensor).

    Example:
        >>> coded = flow_to_color(np.ones((2, 120, 160), np.float32))
        >>> legend = draw_legend(coded, 1.4)
        >>> legend.shape, bool((legend != coded).any())
        ((120, 160, 3), True)
    """
    device = picture.device if isinstance(picture, torch.Tensor) else None
    out = np.ascontiguousarray(_numpy(picture, np.uint8)).copy()
    if out.ndim != 3 or out.shape[2] != 3:
        raise InvalidInputError(f"picture must be uint8 (H, W, 3), got {out.shape}")
    if not np.isfinite(max_magnitude) or max_magnitude <= 0:
        raise InvalidInputError(f"max_magnitude must be a positive number of pixels, got {max_magnitude!r}")
    h, w = out.shape[:2]
    if min(h, w) < 48:
        return _in_kind(out, device)
    size = int(diameter) if diameter is not None else int(np.clip(min(h, w) // 5, 24, 96))
    label = f"{max_magnitude:.3g} px"
    font, font_scale = cv2.FONT_HERSHEY_SIMPLEX, max(0.3, size / 110)
    (text_w, text_h), base = cv2.getTextSize(label, font, font_scale, 1)
    margin, pad = 4, 3
    box_w, box_h = max(size, text_w) + 2 * pad, size + text_h + base + 3 * pad
    x0, y0 = w - margin - box_w, h - margin - box_h
    if x0 < 0 or y0 < 0:
        return _in_kind(out, device)
    cv2.rectangle(out, (x0, y0), (x0 + box_w - 1, y0 + box_h - 1), (255, 255, 255), -1)
    cv2.rectangle(out, (x0, y0), (x0 + box_w - 1, y0 + box_h - 1), (96, 96, 96), 1)
    # The disc: each pixel's offset from the centre, as a vector scaled so the rim is max_magnitude.
    radius = size / 2.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5 - radius
    disc = flow_to_color(np.stack([xx, yy]) * (max_magnitude / radius), max_magnitude)
    inside = np.hypot(xx, yy) <= radius
    cx = x0 + (box_w - size) // 2
    region = out[y0 + pad:y0 + pad + size, cx:cx + size]
    region[inside] = disc[inside]
    centre = (cx * 16 + int(radius * 16), (y0 + pad) * 16 + int(radius * 16))
    cv2.circle(out, centre, int(radius * 16), (96, 96, 96), 1, cv2.LINE_AA, 4)
    cv2.putText(out, label, (x0 + (box_w - text_w) // 2, y0 + 2 * pad + size + text_h), font, font_scale, (32, 32, 32), 1, cv2.LINE_AA)
    return _in_kind(out, device)


def draw_arrows(
    image: torch.Tensor | np.ndarray,
    flow: torch.Tensor | np.ndarray,
    *,
    step: int = 16,
    color: tuple[int, int, int] = (255, 64, 64),
    thickness: int = 1,
    min_length: float = 0.5,
) -> torch.Tensor | np.ndarray:
    """Arrows from grid points ``p`` to ``p + flow(p)``, every ``step`` pixels, on a copy of ``image``.

    Args:
        image: ``uint8 (H, W, 3)`` RGB, tensor or array; not modified.
        flow: ``(2, H, W)`` pixels, tensor or array.
        step: grid spacing in pixels (the first arrow sits half a step from the corner).
        color: RGB arrow colour.
        thickness: line width in pixels.
        min_length: shorter vectors get a dot instead of an arrow.

    Returns:
        ``uint8 (H, W, 3)``, a tensor on ``image``'s device when ``image`` is a tensor.

    Example:
        >>> img = np.zeros((32, 32, 3), np.uint8); f = np.zeros((2, 32, 32)); f[0] = 5.0
        >>> bool(draw_arrows(img, f, step=16).max() > 0)
        True
    """
    device = image.device if isinstance(image, torch.Tensor) else None
    image = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InvalidInputError(f"image must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
    flow = _numpy(flow, np.float64)
    if flow.shape != (2, *image.shape[:2]):
        raise ShapeMismatchError(f"flow {flow.shape} does not match image {image.shape}; expected (2, H, W)")
    if int(step) != step or step < 1:
        raise InvalidInputError(f"step must be a positive integer, got {step!r}")
    out = np.ascontiguousarray(image).copy()
    h, w = image.shape[:2]
    shift = 4  # sub-pixel precision of OpenCV's drawing: coordinates in 1/16 pixel
    scale = 1 << shift
    for y in range(step // 2, h, step):
        for x in range(step // 2, w, step):
            dx, dy = flow[0, y, x], flow[1, y, x]
            start = (int(round(x * scale)), int(round(y * scale)))
            if np.hypot(dx, dy) < min_length:
                cv2.circle(out, start, thickness * scale, color, -1, cv2.LINE_AA, shift)
                continue
            end = (int(round((x + dx) * scale)), int(round((y + dy) * scale)))
            cv2.arrowedLine(out, start, end, color, thickness, cv2.LINE_AA, shift, 0.3)
    return _in_kind(out, device)


def _numpy(values: torch.Tensor | np.ndarray, dtype: type) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=dtype)


def _in_kind(picture: np.ndarray, device: torch.device | None) -> torch.Tensor | np.ndarray:
    """``picture`` as a tensor on ``device``, or as it is when the input was an array."""
    return picture if device is None else torch.from_numpy(picture).to(device)
