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
CAMERA_FORM = (
    "MOVE=VALUE[@FRAME], MOVE one of pan=DX,DY (px) | zoom=F | rotate=DEG | orbit=DEG | dolly=D | truck=D | pedestal=D "
    "(3D distances: fractions of the distance to the look-at point; parallax from --depth); easing=NAME[@FRAME] "
    "(linear, ease-in, ease-out, ease-in-out); center=X,Y; fov=DEG. A move without @FRAME is reached at the last frame "
    "(e.g. orbit=8@10 orbit=0 easing=ease-in-out)"
)


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


#: Moves ``--camera`` takes: ``pan`` is a point, the others one number each.
CAMERA_MOVES = ("pan", "zoom", "rotate", "orbit", "dolly", "truck", "pedestal")
EASINGS = ("linear", "ease-in", "ease-out", "ease-in-out")


def _number(spec: str, key: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InvalidInputError(f"--camera {spec!r}: {key} must be a number ({CAMERA_FORM})") from None
    if not math.isfinite(number) or (key == "zoom" and number <= 0) or (key == "fov" and not 1 < number < 170):
        extra = {"zoom": " and positive", "fov": " and between 1 and 170 degrees"}.get(key, "")
        raise InvalidInputError(f"--camera {spec!r}: {key} must be finite{extra}")
    if key == "dolly" and number >= 1:
        raise InvalidInputError(f"--camera {spec!r}: dolly must be under 1 (1 would put the camera on the look-at point)")
    return number


def parse_camera(specs: list[str]) -> dict[str, Any]:
    """``["pan=20,0", "zoom=1.1", "orbit=8@10"]`` -> the camera mapping of :meth:`MotionSpec.from_pixels`.

    A move without ``@FRAME`` is reached at the last frame (a top-level key); ``@FRAME`` makes
    a key at that frame (``{"keys": [{"t": 10.0, "orbit": 8.0}]}``), moves at one frame share
    a key, and ``easing=NAME@FRAME`` is how the camera arrives at that key (without ``@``: every
    move's easing). Moves not given at a key are interpolated between the keys that give them.

    Example:
        >>> parse_camera(["pan=20,-5", "zoom=1.1", "rotate=3"])
        {'pan': (20.0, -5.0), 'zoom': 1.1, 'rotate': 3.0}
        >>> parse_camera(["orbit=8@10", "orbit=0", "easing=ease-in-out"])
        {'keys': [{'t': 10.0, 'orbit': 8.0}], 'orbit': 0.0, 'easing': 'ease-in-out'}
    """
    camera: dict[str, Any] = {}
    keys: dict[float, dict[str, Any]] = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        key = key.strip().lower()
        value, at, frame = value.partition("@")
        if not sep or key not in (*CAMERA_MOVES, "easing", "center", "fov"):
            raise InvalidInputError(f"--camera {spec!r}: expected {CAMERA_FORM}")
        target = camera
        if at:
            if key in ("center", "fov"):
                raise InvalidInputError(f"--camera {spec!r}: {key} is the camera's for the whole shot; it takes no @FRAME")
            t = _number(spec, "@FRAME", frame)
            if t <= 0:
                raise InvalidInputError(f"--camera {spec!r}: @FRAME must be after frame 0 (frame 0 is the reference)")
            target = keys.setdefault(t, {"t": t})
        name = "field_of_view" if key == "fov" else key
        if name in target:
            raise InvalidInputError(f"--camera {key} given twice" + (f" at frame {frame}" if at else ""))
        if key in ("pan", "center"):
            target[name] = parse_point(value, f"--camera {key}")
        elif key == "easing":
            if value.strip() not in EASINGS:
                raise InvalidInputError(f"--camera {spec!r}: easing must be one of {', '.join(EASINGS)}")
            target[name] = value.strip()
        else:
            target[name] = _number(spec, key, value)
    if keys:
        camera = {"keys": [keys[t] for t in sorted(keys)], **camera}
    return camera


OPTION_FORM = "KEY=VALUE, VALUE read as JSON (a number, true/false, [a, b], {...}), else as text (e.g. fill=stretch, radius=40)."


def parse_option(text: str, option: str = "--renderer-option") -> tuple[str, Any]:
    """``"KEY=VALUE"`` -> ``(key, value)``, the value read as JSON (a text that is not JSON stays text).

    So ``fill=stretch`` is the string ``"stretch"``, ``radius=40`` the number 40,
    ``resolution=[320,512]`` a list and ``edge_aware=false`` the boolean; ``name="1"`` keeps a
    string that looks like a number.

    Example:
        >>> parse_option("radius=40"), parse_option("fill=stretch"), parse_option("resolution=[320, 512]")
        (('radius', 40), ('fill', 'stretch'), ('resolution', [320, 512]))
    """
    import json

    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise InvalidInputError(f"{option} {text!r}: expected KEY=VALUE, KEY an option's name (e.g. fill=stretch, radius=40)")
    try:
        parsed = json.loads(value)
    except ValueError:
        return key, value
    if isinstance(parsed, float) and not math.isfinite(parsed):
        raise InvalidInputError(f"{option} {text!r}: the value must be finite")
    return key, parsed


def parse_options(texts: list[str], option: str) -> dict[str, Any]:
    """Every ``KEY=VALUE`` of a repeatable option flag as a mapping; a key given twice is an error."""
    options: dict[str, Any] = {}
    for text in texts:
        key, value = parse_option(text, option)
        if key in options:
            raise InvalidInputError(f"{option} {key} given twice")
        options[key] = value
    return options
