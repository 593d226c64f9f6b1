"""Image-to-video verbs: ``predict_motion`` (stage 1 alone) and ``animate`` (both stages).

Each verb is a few lines over the value objects and the components found by name in
:mod:`motionkit.registry`, so the two halves of image-to-video stay separate and usable on
their own: predict (or build) a :class:`MotionField`, inspect or edit it, then render it.

Example:
    >>> import motionkit as mk
    >>> drag = mk.Trajectory.line((265, 240), (290, 228), frames=16)   # the cat's nose
    >>> motion = mk.predict_motion("cat.png", trajectories=[drag])    # doctest: +SKIP
    >>> motion = motion * 0.5 + mk.MotionField.camera(zoom=1.05, frames=16, size=motion.size)  # doctest: +SKIP
    >>> mk.Renderer.get("warp").render(image, motion).write("cat.mp4")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Union

import torch

from motionkit import registry
from motionkit.errors import InvalidInputError

if TYPE_CHECKING:
    from motionkit.clip import Clip
    from motionkit.components import MotionPredictor
    from motionkit.mask import RegionMask
    from motionkit.motion import MotionField
    from motionkit.trajectory import Trajectory

#: Anything :func:`motionkit.io.image.load_image` accepts: a path, a uint8/float array, a tensor.
ImageLike = Any
#: A camera move: a ready :class:`MotionField`, or keyword arguments of :meth:`MotionField.camera`
#: such as ``{"pan": (20, 0), "zoom": 1.1, "rotate": 5}``.
CameraLike = Union["MotionField", Mapping[str, Any], None]

DEFAULT_FRAMES = 16
DEFAULT_FPS = 8.0
#: Refuse absurd requests before allocating anything (16 frames of 512x512 is the usual size).
MAX_FRAMES = 10_000

BACKENDS = {
    "classical": ("sparse", "warp"),
    "motion-i2v": ("motion-i2v", "motion-i2v"),
}
#: Options of the learned predictor that ``animate`` hands on to the learned renderer.
_SHARED_LEARNED_OPTIONS = ("weights", "device", "dtype", "seed", "steps", "guidance", "negative_prompt", "eta",
                           "cpu_offload", "vae_tiling", "resolution", "max_area", "progress")


def _image_tensor(image: ImageLike) -> torch.Tensor:
    from motionkit.clip import Clip
    from motionkit.io.image import image_to_tensor

    if isinstance(image, Clip):
        image = image.frame(0)
    return image_to_tensor(image)


def as_brush_mask(brush: RegionMask | ImageLike | None, size: tuple[int, int]) -> RegionMask | None:
    """A motion-brush mask (a :class:`RegionMask` or a mask image, white = may move) checked against ``size`` (H, W)."""
    from motionkit.mask import RegionMask

    if brush is None:
        return None
    mask = brush if isinstance(brush, RegionMask) else RegionMask.from_image(brush)
    if mask.size != size:
        from motionkit.errors import ShapeMismatchError

        raise ShapeMismatchError(
            f"brush mask is {mask.size[1]}x{mask.size[0]} but the image is {size[1]}x{size[0]} (W x H); "
            "paint the mask on the image itself or resize it with RegionMask.resize"
        )
    return mask


def _check_frames(frames: int | None) -> None:
    if frames is None:
        return
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise InvalidInputError(f"frames must be a positive integer, got {frames!r}")
    if frames > MAX_FRAMES:
        from motionkit.errors import TooLargeError

        raise TooLargeError(f"frames={frames} is more than motionkit renders at once ({MAX_FRAMES})")


def _camera_field(camera: CameraLike, frames: int, size: tuple[int, int]) -> MotionField | None:
    from motionkit.motion import MotionField

    if camera is None:
        return None
    if isinstance(camera, MotionField):
        return camera
    if isinstance(camera, Mapping):
        return MotionField.camera(frames=frames, size=size, **camera)
    raise InvalidInputError(
        f"camera must be a MotionField or a mapping like {{'pan': (dx, dy), 'zoom': 1.1}}, got {type(camera).__name__}"
    )


def _resolve_backend(backend: str | None, predictor: str, renderer: str) -> tuple[str, str]:
    if backend is None:
        return predictor, renderer
    if backend not in BACKENDS:
        raise InvalidInputError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    return BACKENDS[backend]


def predict_motion(
    image: ImageLike,
    trajectories: Iterable[Trajectory] = (),
    *,
    brush: RegionMask | ImageLike | None = None,
    camera: CameraLike = None,
    frames: int | None = None,
    predictor: str | MotionPredictor = "sparse",
    prompt: str | None = None,
    **options: Any,
) -> MotionField:
    """Stage 1 alone: where every pixel of ``image`` goes, as a :class:`MotionField`.

    Args:
        image: the reference frame (path, ``uint8 (H, W, 3)`` array, ``(3, H, W)`` tensor in [0, 1]).
        trajectories: drags; a trajectory's point at frame t is where its start pixel must be
            in frame t, (x, y) pixels. A one-point trajectory pins its point.
        brush: motion-brush mask (1 = may move); motion is exactly zero outside it.
        camera: a camera move added on top of the object motion (see :data:`CameraLike`);
            it moves every pixel, brush or not.
        frames: frames of the field, frame 0 included (default: the trajectories' length, else 16).
        predictor: registered predictor name (``"sparse"`` classical, ``"motion-i2v"`` learned), or
            a ready predictor object (keeps loaded weights across calls; ``options`` must be empty).
        prompt: text prompt for predictors that read one.
        **options: passed to the predictor's constructor (e.g. ``radius=80``, ``weights="..."``).

    Returns:
        ``(T, 2, H, W)`` MotionField in pixels, frame 0 zero.
    """
    _check_frames(frames)
    image_t = _image_tensor(image)
    size = (int(image_t.shape[1]), int(image_t.shape[2]))
    trajectories = list(trajectories)
    mask = as_brush_mask(brush, size)
    if frames is None:
        frames = trajectories[0].frames if trajectories else DEFAULT_FRAMES
    if isinstance(predictor, str):
        component = registry.create("predictor", predictor, **options)
    elif options:
        raise InvalidInputError(f"options {sorted(options)} are for a predictor name; a ready predictor was given")
    else:
        component = predictor
    motion = component.predict(image_t, trajectories, mask, frames=frames, size=size, prompt=prompt)
    cam = _camera_field(camera, motion.frames, size)
    # The object moves first, then the camera films the moved scene.
    return motion if cam is None else motion.compose(cam)


def animate(
    image: ImageLike,
    trajectories: Iterable[Trajectory] = (),
    *,
    brush: RegionMask | ImageLike | None = None,
    camera: CameraLike = None,
    frames: int | None = None,
    fps: float = DEFAULT_FPS,
    predictor: str = "sparse",
    renderer: str = "warp",
    backend: str | None = None,
    prompt: str | None = None,
    predictor_options: Mapping[str, Any] | None = None,
    renderer_options: Mapping[str, Any] | None = None,
) -> Clip:
    """Animate one image: predict its motion, then render it into a :class:`Clip`.

    The two halves are :func:`predict_motion` and ``Renderer.get(renderer).render``; call them
    separately to inspect or edit the motion before rendering.

    Args:
        image, trajectories, brush, camera, frames, prompt: as in :func:`predict_motion`.
        fps: frame rate of the returned clip.
        predictor, renderer: registered component names.
        backend: shorthand for both: ``"classical"`` (``sparse`` + ``warp``, no weights) or
            ``"motion-i2v"`` (the learned two-stage model).
        predictor_options, renderer_options: keyword arguments of the two components. The
            ``motion-i2v`` renderer takes the predictor's weights, device, dtype, seed, steps,
            guidance, resolution ... and the prompt unless ``renderer_options`` sets them.

    Returns:
        A :class:`Clip` of ``frames`` frames at the image's size; frame 0 is the image.

    Example:
        >>> clip = animate("cat.png", [Trajectory.line((265, 240), (290, 228))], camera={"zoom": 1.05})  # doctest: +SKIP
    """
    predictor, renderer = _resolve_backend(backend, predictor, renderer)
    if renderer == "motion-i2v":
        # The learned renderer reads the same weights folder, devices, precision and sampling
        # settings as the predictor unless renderer_options says otherwise.
        shared = {k: v for k, v in (predictor_options or {}).items() if k in _SHARED_LEARNED_OPTIONS}
        if prompt is not None:
            shared["prompt"] = prompt
        renderer_options = {**shared, **dict(renderer_options or {})}
    image_t = _image_tensor(image)
    motion = predict_motion(
        image_t,
        trajectories,
        brush=brush,
        camera=camera,
        frames=frames,
        predictor=predictor,
        prompt=prompt,
        **dict(predictor_options or {}),
    )
    mask = as_brush_mask(brush, motion.size)
    # A camera move shifts the whole frame, so the brush no longer marks what stays put.
    render_mask = mask if camera is None else None
    component = registry.create("renderer", renderer, **dict(renderer_options or {}))
    return component.render(image_t, motion, render_mask, fps=fps)
