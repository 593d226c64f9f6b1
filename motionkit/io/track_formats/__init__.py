"""Peers' point-track files, read and written as plain arrays (``io`` knows no motionkit objects).

Each format module documents its layout from the project's own code and offers ``read`` and
``write`` functions over ``tracks float32 (T, N, 2)`` and ``visibility bool (T, N)``; its
``UNITS`` say whether tracks are ``"pixels"`` (x, y) of the video (centres at integers, as
motionkit's), ``"corner-pixels"`` (measured from the picture's top-left corner, so a pixel's
centre is at +0.5) or ``"fraction"``s (u, v) of the picture, and ``DEFAULT_SIZE`` / ``FRAMES``
are the project's own video size and length. A format that holds exactly one frame count
says so in ``FIXED_FRAMES``; ``FPS`` is its video's frame rate where the project fixes one.
"""

from __future__ import annotations

from motionkit.io.track_formats import (
           ati,
           dragnuwa,
           mofa_video,
           motion_i2v,
           sg_i2v,
           tora,
           wan_move,
)

#: Format name -> module with ``read(path)`` and ``write(path, tracks, visibility)`` (and, for
#: formats that carry object boxes, ``read_boxes(path)`` and ``write(..., boxes=)``).
FORMATS = {"wan-move": wan_move, "ati": ati, "tora": tora, "sg-i2v": sg_i2v, "dragnuwa": dragnuwa,
           "mofa-video": mofa_video, "motion-i2v": motion_i2v}

__all__ = ["FORMATS", "ati", "dragnuwa", "mofa_video", "motion_i2v", "sg_i2v", "tora", "wan_move"]
