"""Inline HTML previews of frames (notebooks): a PNG for one frame, a small looping mp4 otherwise."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from motionkit.io.video_writer import VideoWriter


def html_preview(
    frames: Iterable[np.ndarray],
    count: int,
    size: tuple[int, int],
    fps: float,
    *,
    title: str = "",
    max_side: int = 480,
    max_frames: int = 240,
) -> str:
    """An HTML snippet showing frames inline: ``<img>`` (PNG) for one frame, else a looping
    ``<video>`` with a base64 H.264 mp4. Frames are downscaled so the longer side is at most
    ``max_side`` and only the first ``max_frames`` are encoded, so the page stays small.

    Example:
        >>> import numpy as np
        >>> "<video" in html_preview([np.zeros((8, 8, 3), np.uint8)] * 2, 2, (8, 8), 8.0)
        True
    """
    import base64
    import html
    import io

    import cv2

    height, width = size
    scale = min(1.0, max_side / max(height, width))
    # Even sides so that the preview needs no padding for yuv420p.
    out_h, out_w = max(2, int(height * scale) // 2 * 2), max(2, int(width * scale) // 2 * 2)
    shown = min(count, max_frames)

    def small(frame: np.ndarray) -> np.ndarray:
        return frame if (out_h, out_w) == frame.shape[:2] else cv2.resize(frame, (out_w, out_h), interpolation=cv2.INTER_AREA)

    note = html.escape(title) + (f" (preview of the first {shown} frames)" if shown < count else "")
    caption = f'<div style="font-family:monospace;font-size:small">{note}</div>' if note else ""
    if shown == 1:
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(small(next(iter(frames)))).save(buffer, format="PNG")
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        return f'<div><img src="data:image/png;base64,{data}" width="{out_w}" height="{out_h}"/>{caption}</div>'
    with tempfile.TemporaryDirectory(prefix="motionkit-preview-") as folder:
        target = Path(folder) / "preview.mp4"
        with VideoWriter(target, fps=fps, size=(out_h, out_w), quality=6) as writer:
            for frame in itertools.islice(frames, shown):
                writer.write(small(frame))
        data = base64.b64encode(target.read_bytes()).decode("ascii")
    return (
        f'<div><video width="{out_w}" height="{out_h}" autoplay loop muted playsinline controls '
        f'src="data:video/mp4;base64,{data}"></video>{caption}</div>'
    )
