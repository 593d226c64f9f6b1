"""The previews the editor plays: the classical render, the motion's colours, the object regions.

:func:`preview_mp4` is the one place the service makes a preview; it renders with
``spec.compile`` + :func:`motionkit.render` on the image downscaled to ``long_side`` until the
library's own preview verb (with its caches) takes its place.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from motionkit.errors import InvalidInputError
from motionkit.spec import MotionSpec

#: The preview sizes the service accepts (long side, pixels) and the most frames it renders.
LONG_SIDE_RANGE = (32, 1024)
MAX_PREVIEW_FRAMES = 64


@functools.lru_cache(maxsize=16)
def _small(path: str, mtime: float, long_side: int) -> np.ndarray:
    """``uint8 (h, w, 3)``: the image at ``path`` with its long side ``long_side`` pixels (never enlarged)."""
    import cv2

    from motionkit.io.image import load_image

    image = load_image(path)
    height, width = image.shape[:2]
    scale = min(1.0, long_side / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    image.setflags(write=False)
    return image


def small_image(path: Path, long_side: int) -> np.ndarray:
    """The asset image at preview size (cached per file and size)."""
    low, high = LONG_SIDE_RANGE
    if not low <= int(long_side) <= high:
        raise InvalidInputError(f"long_side must be in [{low}, {high}] pixels, got {long_side}")
    return _small(str(path), path.stat().st_mtime, int(long_side)).copy()


def _check_frames(spec: MotionSpec) -> None:
    if spec.frames > MAX_PREVIEW_FRAMES:
        raise InvalidInputError(f"a preview renders at most {MAX_PREVIEW_FRAMES} frames; the spec has {spec.frames}")


def _encode(clip: Any) -> bytes:
    """The mp4 bytes of a :class:`~motionkit.Clip` (written to a temporary file, read back)."""
    with tempfile.TemporaryDirectory(prefix="motionkit-preview-") as folder:
        target = Path(folder) / "preview.mp4"
        clip.write(target)
        return target.read_bytes()


def preview_mp4(path: Path, spec: MotionSpec, long_side: int = 256) -> bytes:
    """An mp4 of ``spec`` rendered on the image at ``path`` with its long side ``long_side`` px.

    Raises:
        InvalidInputError: ``long_side`` out of range, too many frames, or a spec the image
            cannot take (the message of the compiler or renderer).
    """
    from motionkit.verbs.image_to_video import render

    _check_frames(spec)
    image = small_image(path, long_side)
    motion = spec.compile(image)
    clip = render(image, motion, brush=_render_mask(spec, image.shape[:2], motion), fps=spec.fps)
    return _encode(clip)


def _render_mask(spec: MotionSpec, size: tuple[int, int], motion: Any) -> Any:
    """The spec's render mask as ``run_job`` makes it (swept along ``motion`` where the spec can)."""
    import inspect

    if len(inspect.signature(spec.render_mask).parameters) >= 2:
        return spec.render_mask(size, motion)
    return spec.render_mask(size)


def motion_preview_mp4(path: Path, spec: MotionSpec, long_side: int = 256) -> bytes:
    """An mp4 of the spec's motion colour-coded (hue = direction, saturation = length), one scale for all frames."""
    from motionkit.ops.flowviz import flow_to_color

    _check_frames(spec)
    image = small_image(path, long_side)
    flow = spec.compile(image).numpy()
    from motionkit.clip import Clip

    return _encode(Clip.from_array(np.ascontiguousarray(flow_to_color(flow)), fps=spec.fps))


def object_regions(path: Path, spec: MotionSpec, long_side: int = 256) -> list[dict[str, Any]]:
    """The object regions the densifier groups the spec's tracks into, at preview size.

    Returns:
        ``[{"tracks": [...], "region": Region JSON}]``, front first.

    Raises:
        NotImplementedError: the predictor has no ``regions`` method yet.
    """
    from motionkit.registry import create
    from motionkit.spec import Region

    # What object mode finds, also without a brush: the editor shows it, and regions put back
    # into the spec as its objects are what the default (auto) mode then moves.
    predictor = create("predictor", "sparse", mode="object")
    if not hasattr(predictor, "regions"):
        raise NotImplementedError("SparsePredictor.regions (the object regions, interface I1) is not in this motionkit yet")
    from motionkit.io.image import image_to_tensor

    image = small_image(path, long_side)
    size = image.shape[:2]
    found = predictor.regions(image_to_tensor(image), spec.trajectories_at(size), spec.mask_at(size),
                              objects=spec.objects_at(size) or None)
    return [{"tracks": list(region.tracks), "region": Region.from_mask(region.mask).model_dump(mode="json")}
            for region in found]
