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


#: The learned options a backend's predictor hands this renderer (what the CLI's --model/--seed/--steps/--prompt set).
SHARED = ("weights", "model", "dtype", "device", "seed", "steps", "guidance", "progress", "prompt")


def register(register: Callable[..., Any]) -> None:
    """Entry point of ``motionkit.plugins``: motionkit calls it with its ``register(kind, name, factory)``.

    Besides the renderer it registers a backend of the same name: the classical densifier
    (``animatediff-sparse``, which passes the learned options on) paired with the renderer, so that ``animate --renderer animatediff-refine --model FOLDER``
    hands the learned options to the renderer.
    """
    register("renderer", RENDERER_NAME, "motionkit_animatediff.renderer:AnimateDiffRefineRenderer")
    register("predictor", "animatediff-sparse", "motionkit_animatediff.renderer:HandOnPredictor")
    register("backend", RENDERER_NAME, {"predictor": "animatediff-sparse", "renderer": RENDERER_NAME, "shared_options": SHARED})
