"""The spec that ``animate``'s flags describe, alone or added to a ``--spec`` file.

Drags, pins, the brush, the camera move and the prompt become a :class:`~motionkit.MotionSpec`
in the image's pixels; with ``--spec`` they are added to that spec (drags appended after its
tracks, drags before pins), and ``--frames``/``--fps`` override its timing when given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import motionkit as mk
from motionkit.errors import ShapeMismatchError

DEFAULT_FRAMES = 16
DEFAULT_FPS = 8.0


def spec_from_flags(
    image: Path,
    *,
    spec: Optional[Path],
    drags: list[list[tuple[float, float]]],
    pins: list[tuple[float, float]],
    brush: Optional[Path],
    camera: dict[str, Any],
    frames: Optional[int],
    fps: Optional[float],
    prompt: Optional[str],
    options: Optional[dict[str, dict[str, Any]]] = None,
) -> tuple[mk.MotionSpec, tuple[int, int]]:
    """The spec of the flags (added to the ``spec`` file when given) and the image's ``(H, W)``.

    ``options`` (``{"predictor": {...}, "renderer": {...}}``, from ``--predictor-option`` and
    ``--renderer-option``) go into the spec's hints over the hinted ones, so a saved spec and a
    run manifest keep them.
    """
    size = mk.Clip.from_image(image).size
    mask = None
    if brush is not None:
        mask = mk.RegionMask.from_image(brush)
        if mask.size != size:
            raise ShapeMismatchError(
                f"--brush mask is {mask.size[1]}x{mask.size[0]} but the image is {size[1]}x{size[0]} (W x H); "
                "paint the mask on the image itself"
            )
    base = mk.MotionSpec.load(spec) if spec is not None else None
    if base is not None and frames is not None:
        base = base.with_frames(frames)
    count = base.frames if base is not None else (frames or DEFAULT_FRAMES)
    rate = fps if fps is not None else (base.fps if base is not None else DEFAULT_FPS)
    given = mk.MotionSpec.from_pixels(size, frames=count, fps=rate, drags=drags, pins=pins, mask=mask,
                                      camera=camera or None, prompt=prompt)
    shot = given if base is None else base.extended(given).with_changes(fps=rate)
    if options and any(options.values()):
        hints = shot.hints
        shot = shot.with_changes(hints=hints.model_copy(update={
            "predictor_options": {**hints.predictor_options, **options.get("predictor", {})},
            "renderer_options": {**hints.renderer_options, **options.get("renderer", {})},
        }))
    return shot, size
