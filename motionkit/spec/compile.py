"""``MotionSpec.compile``: a spec + a picture -> the :class:`~motionkit.MotionField` of the shot at the picture's size.

Layers, in the order they act on a pixel of the reference image:

1. the **object motion**: the predictor densifies the tracks (drags move, pins hold) under
   the region mask, with the spec's objects as the regions they move;
2. the **camera**: the camera path's field, composed after the object motion (the scene moves,
   then the camera films the moved scene: ``object.compose(camera)``), so the two never mix.

The predictor is found through the registry by name, like every backend.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch

from motionkit import registry
from motionkit.errors import InvalidInputError
from motionkit.io.image import image_to_tensor
from motionkit.ops.camera import similarity_displacement
from motionkit.spec import timing
from motionkit.spec.document import CameraPath, to_pixels

if TYPE_CHECKING:
    from motionkit.motion import MotionField
    from motionkit.spec.model import MotionSpec


def camera_motion(path: CameraPath, frames: int, size: tuple[int, int]) -> MotionField:
    """The field ``(frames, 2, H, W)`` of a camera path on an ``(H, W)`` picture, frame 0 zero."""
    from motionkit.motion import MotionField

    h, w = size
    center = ((w - 1) / 2.0, (h - 1) / 2.0) if path.center is None else to_pixels(*path.center, size)
    out = torch.zeros(frames, 2, h, w)
    for f, (pan, zoom, rotate) in enumerate(timing.camera_parameters(path, frames, size)):
        if f > 0 and (pan != (0.0, 0.0) or zoom != 1.0 or rotate != 0.0):
            out[f] = similarity_displacement(pan, zoom, rotate, size, center)
    return MotionField(out)


def _image(image: Any) -> torch.Tensor:
    if hasattr(image, "frame") and hasattr(image, "fps"):  # a Clip: its frame 0
        image = image.frame(0)
    return image_to_tensor(image)


def _predictor(predictor: Any, options: Mapping[str, Any]) -> Any:
    if isinstance(predictor, str):
        return registry.create("predictor", predictor, **options)
    if options:
        raise InvalidInputError(f"options {sorted(options)} are for a predictor name; a ready predictor was given")
    return predictor


def compile_spec(spec: MotionSpec, image: Any, predictor: Any, options: Mapping[str, Any]) -> MotionField:
    """See :meth:`MotionSpec.compile`."""
    image_t = _image(image)
    size = (int(image_t.shape[1]), int(image_t.shape[2]))
    component = _predictor(predictor, options)
    trajectories = spec.trajectories_at(size)
    keywords: dict[str, Any] = {"frames": spec.frames, "size": size}
    if spec.prompt is not None:
        keywords["prompt"] = spec.prompt
    if spec.objects:
        # Object regions reach predictors that take them (the object-aware classical one).
        if "objects" not in inspect.signature(component.predict).parameters:
            raise InvalidInputError(
                f"the spec has {len(spec.objects)} object region(s) but predictor {component!r} takes none; "
                "use the object-aware 'sparse' predictor or drop the spec's objects"
            )
        keywords["objects"] = spec.objects_at(size)
    motion = component.predict(image_t, trajectories, spec.mask_at(size), **keywords)
    if spec.camera is not None:
        motion = motion.compose(camera_motion(spec.camera, spec.frames, size))
    return motion
