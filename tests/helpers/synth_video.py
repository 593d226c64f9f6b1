"""Synthetic videos with known motion, made from real photos by precise sub-pixel warps.

Each frame is rendered from the photo with ``cv2.warpAffine`` (Lanczos-4 on float32) and then
cropped from the middle, so no frame shows the photo's border and the motion is known
exactly: the ground-truth ``F_0t`` is returned alongside the frames.
"""

from __future__ import annotations

import cv2
import numpy as np


def moving_photo(
    photo: np.ndarray,
    frames: int,
    *,
    velocity: tuple[float, float] = (0.0, 0.0),
    zoom_per_frame: float = 1.0,
    size: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Frames of ``photo`` translating by ``velocity`` px/frame and zooming about the centre.

    Returns:
        ``(video uint8 (T, h, w, 3), flow float32 (T, 2, h, w))``: the frames and, for every
        pixel of frame 0, its displacement to frame t (``F_0t``), in pixels.
    """
    ph, pw = photo.shape[:2]
    h, w = size if size is not None else (ph // 2 * 2 - 64, pw // 2 * 2 - 64)
    top, left = (ph - h) / 2.0, (pw - w) / 2.0
    src = photo.astype(np.float32)
    centre = np.array([pw / 2.0, ph / 2.0])
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    video, flows = [], []
    for t in range(frames):
        scale = zoom_per_frame**t
        shift = np.asarray(velocity) * t
        # Photo point x goes to centre + scale * (x - centre) + shift, then is cropped at (left, top).
        matrix = np.array(
            [[scale, 0.0, (1 - scale) * centre[0] + shift[0] - left], [0.0, scale, (1 - scale) * centre[1] + shift[1] - top]]
        )
        frame = cv2.warpAffine(src, matrix, (w, h), flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REFLECT_101)
        video.append(np.clip(frame + 0.5, 0, 255).astype(np.uint8))
        # Frame-0 pixel p came from photo point p + (left, top) (frame 0 has scale 1, no shift).
        px, py = xs + left, ys + top
        flows.append(
            np.stack([(scale - 1) * (px - centre[0]) + shift[0], (scale - 1) * (py - centre[1]) + shift[1]]).astype(np.float32)
        )
    return np.stack(video), np.stack(flows)


def median_epe(estimated: np.ndarray, truth: np.ndarray, border: int = 16) -> float:
    """Median end-point error (px) of ``(T, 2, H, W)`` fields over frames 1.., ``border`` px in."""
    diff = (estimated - truth)[1:, :, border:-border, border:-border]
    return float(np.median(np.hypot(diff[:, 0], diff[:, 1])))
