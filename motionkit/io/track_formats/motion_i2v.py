"""Motion-I2V's drags: the official demo's ``tracking_points`` as JSON, like DragNUWA's, on a 512 x 320 frame.

Read from the project's own code (github.com/G-U-N/Motion-I2V, ``scripts/app.py``, "adapted
from the gradio demo of DragNUWA"): ``tracking_points`` (a gradio ``State``) holds drags of
clicked ``(x, y)`` points on the first frame, cropped and resized to 512 x 320
(``preprocess_image``); ``Drag.run`` (``original_width, original_height = 512, 320``) turns a
lone click into ``p -> p + (1, 1)`` and ``interpolate_trajectory`` spreads each drag over
``model_length = 16`` frames by PCHIP at evenly spaced times. The demo keeps no file;
motionkit's ``motion-i2v`` file is that list as JSON, ``[[[x, y], ...], ...]``.
"""

from __future__ import annotations

import os

import numpy as np

from motionkit.io.track_formats import dragnuwa

#: Tracks are pixels of the demo's 512 x 320 first frame.
UNITS = "pixels"
#: (H, W) of the frame the clicks are on.
DEFAULT_SIZE = (320, 512)
#: Frames the demo makes (``model_length = 16``).
FRAMES = 16


def read(path: str | os.PathLike, frames: int = FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """``(tracks float32 (T, N, 2) (x, y) pixels, visibility (T, N))``, as :func:`motionkit.io.track_formats.dragnuwa.read` over 16 frames."""
    return dragnuwa.read(path, frames)


write = dragnuwa.write
