"""Peers' point-track files, read and written as plain arrays (``io`` knows no motionkit objects).

Each format module documents its layout from the project's own code and offers ``read`` and
``write`` functions over ``tracks float32 (T, N, 2)`` (x, y) pixels and ``visibility bool (T, N)``.
"""

from __future__ import annotations

from motionkit.io.track_formats import wan_move

#: Format name -> module with ``read(path)`` and ``write(path, tracks, visibility)``.
FORMATS = {"wan-move": wan_move}

__all__ = ["FORMATS", "wan_move"]
