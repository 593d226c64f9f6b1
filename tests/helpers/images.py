"""Image conversions the tests share."""

from __future__ import annotations

import numpy as np
import torch


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """``uint8 (H, W, 3)`` -> ``float32 (3, H, W)`` in [0, 1], or ``(T, H, W, 3)`` -> ``(T, 3, H, W)``."""
    tensor = torch.from_numpy(np.asarray(image))
    return tensor.movedim(-1, -3).float() / 255.0


def write_photo(path, photo: np.ndarray, size: tuple[int, int], interpolation: int | None = None):
    """Write ``photo`` (``uint8 (H, W, 3)`` RGB) resized to ``size = (W, H)`` as an image file at ``path``; returns ``path``.

    ``interpolation`` is OpenCV's (default ``INTER_AREA``, the right one for shrinking).
    """
    import cv2

    small = cv2.resize(photo, tuple(size), interpolation=cv2.INTER_AREA if interpolation is None else interpolation)
    cv2.imwrite(str(path), cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
    return path


def decode_mp4(data: bytes, tmp_path) -> tuple[dict, list[np.ndarray]]:
    """``(meta, frames)`` of mp4 ``data``: imageio-ffmpeg's metadata and ``uint8 (H, W, 3)`` RGB frames."""
    import imageio_ffmpeg

    path = tmp_path / "decoded.mp4"
    path.write_bytes(data)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    return meta, [np.frombuffer(b, np.uint8).reshape(h, w, 3).copy() for b in reader]
