"""MOFA-Video's drags: the trajectory demo's ``tracking_points``, DragNUWA's list, on MOFA's frame over 25 frames.

Read from the project's own code (github.com/MyNiuuu/MOFA-Video, ``MOFA-Video-Traj/run_gradio.py``).
Where it shares DragNUWA's form (:mod:`motionkit.io.track_formats.dragnuwa`):

- ``tracking_points`` (a gradio ``State``) is a list of drags, each the list of ``(x, y)``
  pixels clicked on the first frame (``evt.index``, pixel indices: centres at integers);
- ``interpolate_trajectory`` spreads every drag over ``model_length`` frames by PCHIP through
  its points at ``np.linspace(0, 1, len(points))``;
- the demo keeps no file: motionkit's ``mofa-video`` file is that list as JSON,
  ``[[[x, y], ...], ...]``, read and written by the ``dragnuwa`` code.

Where it differs:

- **frames**: ``Drag("cuda:0", 512, 512, 25)``, ``model_length = 25`` (SVD-XT), not 14;
- **the frame**: ``preprocess_image`` scales the image's *short* side to ``target_size = 512``
  and centre-crops both sides down to multiples of 64 (so 512 x 512 for a square photo, 768 x
  512 for a 3:2 one), where DragNUWA crops to 576 x 320; the clicks are pixels of that frame;
- **a lone click**: DragNUWA turns it into the drag ``p -> p + (1, 1)``; MOFA-Video's
  ``PchipInterpolator`` needs two points, so a point held still is written as a drag whose
  points are all the same (zero sparse flow at its start: MOFA's pin). :func:`write` writes
  one point per frame, so pins come out that way; :func:`read` takes a lone click as still;
- **the motion brush**: MOFA keeps the flow of drags that start inside its brush to the brush
  (``divide_points_afterinterpolate``); the brush is a mask, not part of the tracks file.
"""

from __future__ import annotations

import os

import numpy as np

from motionkit.io.track_formats import dragnuwa

#: Tracks are pixels of MOFA-Video's first frame.
UNITS = "pixels"
#: (H, W) of the demo's frame for a square photo (short side 512, sides multiples of 64).
DEFAULT_SIZE = (512, 512)
#: Frames MOFA-Video's trajectory demo makes (``model_length = 25``, SVD-XT).
FRAMES = 25


def frame_size(size: tuple[int, int], target: int = 512) -> tuple[int, int]:
    """The ``(H, W)`` MOFA's ``preprocess_image`` makes of an ``(H, W)`` image: short side ``target``, sides cut to multiples of 64.

    Example:
        >>> frame_size((300, 451)), frame_size((1000, 1000))
        ((512, 768), (512, 512))
    """
    h, w = size
    scale = target / min(h, w)
    new_h, new_w = round(h * scale), round(w * scale)
    return new_h - new_h % 64, new_w - new_w % 64


def read(path: str | os.PathLike, frames: int = FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """``(tracks float32 (25, N, 2) (x, y) pixels, visibility (25, N))``: the drags spread as ``interpolate_trajectory`` does."""
    return dragnuwa.read(path, frames)


write = dragnuwa.write
