"""The learned Motion-I2V backend: the official two-stage denoising loops on motionkit's networks.

- :class:`MotionI2VPredictor` (registry ``predictor "motion-i2v"``): stage 1, image + drags +
  motion brush + prompt -> :class:`~motionkit.MotionField`.
- :class:`MotionI2VRenderer` (registry ``renderer "motion-i2v"``): stage 2, image + any
  MotionField -> :class:`~motionkit.Clip`.

The loops themselves live in :mod:`.loops` (tensors in, tensors out), the drag rasterisation
in :mod:`.rasterize` and long videos in :mod:`.windows`; the replay of the official loops
is in :mod:`motionkit.fidelity.replay`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__all__ = ["MotionI2VPredictor", "MotionI2VRenderer"]

if TYPE_CHECKING:
    from motionkit.pipelines.motion_i2v.components import MotionI2VPredictor, MotionI2VRenderer


def __getattr__(name: str):
    # The classes pull in diffusers and transformers; import them only when asked for.
    if name in __all__:
        value = getattr(import_module("motionkit.pipelines.motion_i2v.components"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
