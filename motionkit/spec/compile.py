"""``MotionSpec.compile``: a spec + a picture -> the :class:`~motionkit.MotionField` of the shot at the picture's size.

Layers, in the order they act on a pixel of the reference image:

1. the **object motion**: the predictor densifies the tracks (drags move, pins hold) under
   the region mask, with the spec's objects as the regions they move;
2. the **brushes**: each parametric brush's motion inside its painted region, added to it;
   with ``static_camera`` the object motion is first cut to where the drags move things by
   half a pixel or more, so outside the painted regions and the drags nothing moves at all;
3. the **camera**: the camera path's field (3D moves with parallax from a depth map, then the
   2D moves), composed after the object motion (the scene moves, then the camera films the
   moved scene: ``object.compose(camera)``), so the two never mix.

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
from motionkit.notices import warn_if_leaving, warn_if_still
from motionkit.spec.document import CameraPath
from motionkit.spec.layers import brush_motion, camera_layer, load_depth

if TYPE_CHECKING:
    from motionkit.motion import MotionField
    from motionkit.spec.model import MotionSpec


def camera_motion(path: CameraPath, frames: int, size: tuple[int, int], depth: Any = None,
                  depth_kind: str | None = None) -> MotionField:
    """The field ``(frames, 2, H, W)`` of a camera path on an ``(H, W)`` picture, frame 0 zero (see :func:`~.layers.camera_layer`)."""
    from motionkit.motion import MotionField

    depths = None if depth is None else load_depth(depth, size, depth_kind)
    return MotionField(camera_layer(path, frames, size, depths))


#: Object motion under this many pixels in every frame is not a drag's region (``static_camera``).
STATIC_THRESHOLD = 0.5


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


def compile_spec(spec: MotionSpec, image: Any, predictor: Any, options: Mapping[str, Any], depth: Any = None,
                 depth_kind: str | None = None) -> MotionField:
    """See :meth:`MotionSpec.compile`."""
    from motionkit.motion import MotionField

    image_t = _image(image)
    size = (int(image_t.shape[1]), int(image_t.shape[2]))
    component = _predictor(predictor, options)
    trajectories = spec.trajectories_at(size)
    warn_if_leaving(trajectories, size)
    keywords: dict[str, Any] = {"frames": spec.frames, "size": size}
    if spec.prompt is not None and "prompt" in inspect.signature(component.predict).parameters:
        keywords["prompt"] = spec.prompt  # a hint for the whole pipeline: only predictors that read one get it
    if spec.objects:
        # Object regions reach predictors that take them (the object-aware classical one).
        if "objects" not in inspect.signature(component.predict).parameters:
            raise InvalidInputError(
                f"the spec has {len(spec.objects)} object region(s) but predictor {component!r} takes none; "
                "use the object-aware 'sparse' predictor or drop the spec's objects"
            )
        keywords["objects"] = spec.objects_at(size)
    flow = component.predict(image_t, trajectories, spec.mask_at(size), **keywords).flow.clone()
    if spec.static_camera:
        # The background is still: only what the drags move by half a pixel or more may move.
        moving = flow.norm(dim=1).amax(dim=0) >= STATIC_THRESHOLD
        flow *= moving
    for brush in spec.brushes:
        flow += brush_motion(brush, spec.frames, size, spec.reference_size)
    objects = MotionField(flow)
    motion = objects if spec.camera is None else objects.compose(camera_motion(spec.camera, spec.frames, size, depth, depth_kind))
    warn_if_still(motion)
    return motion
