"""The size limits motionkit checks before it allocates or reads anything, in one place.

A request beyond a limit is a mistake (a typo, a unit mix-up, a hostile file), not a job
to attempt: it is refused at once with a :class:`~motionkit.errors.TooLargeError` that says
what was asked and what is accepted. This module sits on the bottom floor with ``errors``:
``io``, ``ops``, the objects and the backends all import it, and it imports nothing else.

Example:
    >>> check_frames(16)
    16
    >>> check_frames(0)
    Traceback (most recent call last):
    ...
    motionkit.errors.InvalidInputError: frames must be a positive integer, got 0
"""

from __future__ import annotations

import numbers
from typing import Any

from motionkit.errors import InvalidInputError, TooLargeError

#: Most frames of anything motionkit builds or reads: a clip, a field, a trajectory (about
#: three hours at 24 fps). Streaming keeps memory flat, so length alone is not the danger.
MAX_FRAMES = 262_144

#: Largest in-memory motion field (float32 values) a constructor or a file may allocate.
MAX_FIELD_BYTES = 32 * 2**30

#: Largest lazy motion field that ``.flow`` and other whole-field operations materialise
#: implicitly; beyond it the caller streams (``iter_frames``) or asks (``materialize``).
MAX_MATERIALIZE_BYTES = 2**30


def check_frames(frames: Any, what: str = "frames") -> int:
    """``frames`` as an ``int`` in ``[1, MAX_FRAMES]``, or a clear error naming ``what``.

    Raises:
        InvalidInputError: not a positive integer (booleans and floats are refused).
        TooLargeError: more than :data:`MAX_FRAMES`.
    """
    if isinstance(frames, bool) or not isinstance(frames, numbers.Integral) or frames < 1:
        raise InvalidInputError(f"{what} must be a positive integer, got {frames!r}")
    if frames > MAX_FRAMES:
        raise TooLargeError(f"{what}={frames} is too many; at most {MAX_FRAMES} frames are accepted")
    return int(frames)


def check_field_bytes(frames: int, size: tuple[int, int], limit: int = MAX_FIELD_BYTES) -> int:
    """Bytes of a float32 ``(frames, 2, H, W)`` field, refused above ``limit``.

    Raises:
        TooLargeError: the field would need more than ``limit`` bytes.
    """
    need = int(frames) * 2 * int(size[0]) * int(size[1]) * 4
    if need > limit:
        raise TooLargeError(
            f"a field of {frames} frames at {size[0]}x{size[1]} would need {need / 2**30:.1f} GiB "
            f"(at most {limit / 2**30:.0f} GiB); use fewer frames or a smaller size"
        )
    return need
