"""Parsers for the CLI's compact option strings (``--drag``, ``--pin``, ``--camera``).

Pure functions from text to plain values, so the Python API and fuzzers can use them too.
Every malformed string raises :class:`~motionkit.errors.InvalidInputError` naming the
option, the text and the expected form.
"""

from __future__ import annotations

import math
from typing import Any

from motionkit.errors import InvalidInputError

DRAG_FORM = "X1,Y1:X2,Y2[:X3,Y3 ...] (pixels; e.g. 120,80:160,70)"
CAMERA_FORM = "pan=DX,DY | zoom=F | rotate=DEG (e.g. pan=20,0)"


def parse_point(text: str, option: str = "--pin") -> tuple[float, float]:
    """``"X,Y"`` -> ``(x, y)`` in pixels.

    Example:
        >>> parse_point("12.5, 40")
        (12.5, 40.0)
    """
    parts = text.split(",")
    if len(parts) != 2:
        raise InvalidInputError(f"{option} {text!r}: expected a point X,Y (two numbers separated by a comma)")
    try:
        x, y = (float(p) for p in parts)
    except ValueError:
        raise InvalidInputError(f"{option} {text!r}: X and Y must be numbers, as in 120,80") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InvalidInputError(f"{option} {text!r}: coordinates must be finite numbers")
    return x, y


def parse_drag(text: str) -> list[tuple[float, float]]:
    """``"X1,Y1:X2,Y2[:...]"`` -> the list of points of one drag (at least two).

    Example:
        >>> parse_drag("120,80:140,75:160,70")
        [(120.0, 80.0), (140.0, 75.0), (160.0, 70.0)]
    """
    points = [parse_point(part, "--drag") for part in text.split(":")]
    if len(points) < 2:
        raise InvalidInputError(f"--drag {text!r}: a drag needs a start and an end point: {DRAG_FORM}")
    return points


def parse_camera(specs: list[str]) -> dict[str, Any]:
    """``["pan=20,0", "zoom=1.1"]`` -> keyword arguments of ``MotionField.camera``.

    Example:
        >>> parse_camera(["pan=20,-5", "zoom=1.1", "rotate=3"])
        {'pan': (20.0, -5.0), 'zoom': 1.1, 'rotate': 3.0}
    """
    camera: dict[str, Any] = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        key = key.strip().lower()
        if not sep or key not in ("pan", "zoom", "rotate"):
            raise InvalidInputError(f"--camera {spec!r}: expected {CAMERA_FORM}")
        if key in camera:
            raise InvalidInputError(f"--camera {key} given twice")
        if key == "pan":
            camera["pan"] = parse_point(value, "--camera pan")
            continue
        try:
            number = float(value)
        except ValueError:
            raise InvalidInputError(f"--camera {spec!r}: {key} must be a number ({CAMERA_FORM})") from None
        if not math.isfinite(number) or (key == "zoom" and number <= 0):
            raise InvalidInputError(f"--camera {spec!r}: {key} must be finite{' and positive' if key == 'zoom' else ''}")
        camera[key] = number
    return camera
