"""Peers' point-track files, read and written as plain arrays (``io`` knows no motionkit objects).

Each format module documents its layout from the project's own code and offers ``read`` and
``write`` functions over ``tracks float32 (T, N, 2)`` and ``visibility bool (T, N)``; its
``UNITS`` say whether tracks are ``"pixels"`` (x, y) of the video or ``"fraction"``s (u, v) of
the picture, and ``DEFAULT_SIZE`` / ``FRAMES`` are the project's own video size and length.
"""

from __future__ import annotations

from motionkit.io.track_formats import dragnuwa, motion_i2v, sg_i2v, tora, wan_move

#: Format name -> module with ``read(path)`` and ``write(path, tracks, visibility)`` (and, for
#: formats that carry object boxes, ``read_boxes(path)`` and ``write(..., boxes=)``).
FORMATS = {"wan-move": wan_move, "tora": tora, "sg-i2v": sg_i2v, "dragnuwa": dragnuwa, "motion-i2v": motion_i2v}

__all__ = ["FORMATS", "dragnuwa", "motion_i2v", "sg_i2v", "tora", "wan_move"]
