"""The motion document: :class:`MotionSpec` and its parts (tracks, regions, objects, the camera path).

It sits between the verbs and the backends: it compiles to a :class:`~motionkit.MotionField`
through the registry's predictors and never imports a backend itself. ``motionkit.MotionSpec``
is the front door's name for it.
"""

from __future__ import annotations

from motionkit.spec.document import (
    BackendHints, Brush, CameraKey, CameraPath, EncodedMask, Keyframe, ObjectSpec, Region, Track, to_pixels, to_uv,
)
from motionkit.spec.model import SPEC_VERSION, MotionSpec

__all__ = [
    "MotionSpec", "SPEC_VERSION", "Keyframe", "Track", "Region", "Brush", "EncodedMask", "ObjectSpec", "CameraKey",
    "CameraPath", "BackendHints", "to_uv", "to_pixels",
]
