"""motionkit-animatediff: an AnimateDiff refinement renderer for motionkit.

Installing this package adds the renderer ``"animatediff-refine"`` to motionkit through the
entry-point group ``motionkit.plugins``. Registration names the class as a string, so
diffusers is imported only when the renderer is first created, not by ``motionkit plugins``.

Example:
    >>> import motionkit as mk
    >>> renderer = mk.Renderer.get("animatediff-refine", model="./animatediff-sd15")  # doctest: +SKIP
    >>> renderer.render(image, motion).write("refined.mp4")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__version__ = "0.1.0"

#: The registry name of the renderer this package provides.
RENDERER_NAME = "animatediff-refine"


def register(register: Callable[..., Any]) -> None:
    """Entry point of ``motionkit.plugins``: motionkit calls it with its ``register(kind, name, factory)``."""
    register("renderer", RENDERER_NAME, "motionkit_animatediff.renderer:AnimateDiffRefineRenderer")
