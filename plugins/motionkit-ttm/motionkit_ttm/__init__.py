"""motionkit-ttm: Time-to-Move renderers for motionkit (training-free motion control of diffusers' I2V models).

Installing this package adds, through the entry-point group ``motionkit.plugins``:

- renderers ``ttm-wan``, ``ttm-cogvideox``, ``ttm-ltx`` and ``ttm-svd``: image + motion field
  (+ mask) -> motionkit's warp preview -> the model's VAE -> dual-clock denoising (Singer et al.,
  "Time-to-Move", arXiv 2511.08633) -> a :class:`~motionkit.Clip`;
- backends of the same names (the classical densifier + that renderer), so that
  ``animate(..., backend="ttm-wan", predictor_options={"model": ...})`` and the CLI's
  ``--renderer ttm-wan --model PATH`` hand the learned options to the renderer.

Registration names classes as strings: diffusers is imported only when a renderer is created.

Example:
    >>> import motionkit as mk
    >>> wan = mk.Renderer.get("ttm-wan", model="./Wan2.2-I2V-A14B-Diffusers", prompt="a cat")  # doctest: +SKIP
    >>> wan.render(image, motion).write("cat.mp4")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__version__ = "0.1.0"

#: Registry name -> the renderer class, ``"module:attribute"``.
RENDERERS = {
    "ttm-wan": "motionkit_ttm.wan:WanTTMRenderer",
    "ttm-cogvideox": "motionkit_ttm.cogvideox:CogVideoXTTMRenderer",
    "ttm-ltx": "motionkit_ttm.ltx:LTXTTMRenderer",
    "ttm-svd": "motionkit_ttm.svd:SVDTTMRenderer",
}
#: The learned options a backend's predictor hands its TTM renderer (and the CLI routes to it).
SHARED = ("weights", "model", "dtype", "device", "seed", "steps", "guidance", "cpu_offload", "vae_tiling", "progress")
#: The predictor of the TTM backends: the classical densifier, passing the learned options on.
PREDICTOR = "ttm-sparse"


def register(register: Callable[..., Any]) -> None:
    """Entry point of ``motionkit.plugins``: motionkit calls it with its ``register(kind, name, factory)``."""
    register("predictor", PREDICTOR, "motionkit_ttm.predictor:HandOnPredictor")
    for name, factory in RENDERERS.items():
        register("renderer", name, factory)
        text = () if name == "ttm-svd" else ("prompt",)  # SVD reads no text: a prompt is not handed to it
        register("backend", name, {"predictor": PREDICTOR, "renderer": name, "shared_options": (*SHARED, *text)})
