"""Image-to-video verbs: ``predict_motion`` (stage 1), ``render`` (stage 2) and ``animate`` (both).

Each verb is a few lines over the value objects and the components found by name in
:mod:`motionkit.registry`, so the two halves of image-to-video stay separate and usable on
their own: predict (or build) a :class:`MotionField`, inspect or edit it, then render it.

Example:
    >>> import motionkit as mk
    >>> drag = mk.Trajectory.line((265, 240), (290, 228), frames=16)   # the cat's nose
    >>> motion = mk.predict_motion("cat.png", trajectories=[drag])    # doctest: +SKIP
    >>> motion = motion * 0.5 + mk.MotionField.camera(zoom=1.05, frames=16, size=motion.size)  # doctest: +SKIP
    >>> mk.render("cat.png", motion).write("cat.mp4")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Union

import torch

from motionkit import registry
from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.notices import warn_if_leaving, warn_if_still
from motionkit.limits import check_frames
from motionkit.verbs._parallel_frames import clip_in_flight

if TYPE_CHECKING:
    from motionkit.clip import Clip
    from motionkit.components import MotionPredictor, Renderer
    from motionkit.mask import RegionMask
    from motionkit.motion import MotionField
    from motionkit.spec.model import MotionSpec
    from motionkit.trajectory import Trajectory

#: Anything :func:`motionkit.io.image.load_image` accepts: a path, a uint8/float array, a tensor.
ImageLike = Any
#: A camera move: a ready :class:`MotionField`, or moves in pixels reached at the last frame,
#: ``{"pan": (20, 0), "zoom": 1.1, "rotate": 5}`` (:meth:`MotionField.camera`), with the 3D moves
#: ``orbit``, ``dolly``, ``truck``, ``pedestal`` and keyed, eased moves of
#: :func:`motionkit.spec.camera_moves.camera_from_pixels`.
CameraLike = Union["MotionField", Mapping[str, Any], None]

DEFAULT_FRAMES = 16
DEFAULT_FPS = 8.0
#: The backend ``animate`` uses when none is named (``predictor``/``renderer`` replace its halves).
DEFAULT_BACKEND = "classical"


#: Tensors :func:`_image_tensor` made (or was told are made so), by id: ``(weak reference, version)``.
_converted: dict[int, tuple[weakref.ref, int]] = {}


def _image_tensor(image: ImageLike) -> torch.Tensor:
    """``image`` as a new ``float32 (3, H, W)`` tensor in [0, 1]; one this function made before is passed through.

    ``animate`` converts its image once and hands the tensor to ``predict_motion`` and
    ``render``, which call this again: a tensor made here and not modified since (torch's
    version counter) is not converted (copied, checked) a second and third time. A caller's
    own tensors are always converted.
    """
    from motionkit.clip import Clip
    from motionkit.io.image import image_to_tensor

    if isinstance(image, torch.Tensor):
        entry = _converted.get(id(image))
        if entry is not None and entry[0]() is image and entry[1] == image._version:
            return image
    if isinstance(image, Clip):
        image = image.frame(0)
    return _mark_converted(image_to_tensor(image))


def _mark_converted(tensor: torch.Tensor) -> torch.Tensor:
    """Remember ``tensor`` (``float32 (3, H, W)`` in [0, 1], checked) as converted; returns it."""
    key = id(tensor)
    _converted[key] = (weakref.ref(tensor, lambda _, key=key: _converted.pop(key, None)), tensor._version)
    return tensor


def as_brush_mask(brush: RegionMask | ImageLike | None, size: tuple[int, int]) -> RegionMask | None:
    """A motion-brush mask (a :class:`RegionMask` or a mask image, white = may move) checked against ``size`` (H, W)."""
    from motionkit.mask import RegionMask

    if brush is None:
        return None
    mask = brush if isinstance(brush, RegionMask) else RegionMask.from_image(brush)
    if mask.size != size:
        raise ShapeMismatchError(
            f"brush mask is {mask.size[1]}x{mask.size[0]} but the image is {size[1]}x{size[0]} (W x H); "
            "paint the mask on the image itself or resize it with RegionMask.resize"
        )
    return mask


#: The moves :meth:`MotionField.camera` makes itself; others (3D moves, keys) go through the motion document's camera.
_PLANE_MOVES = frozenset({"pan", "zoom", "rotate", "easing", "center"})


def _camera_field(camera: CameraLike, frames: int, size: tuple[int, int], depth: Any = None) -> MotionField | None:
    from motionkit.motion import MotionField

    if camera is None:
        return None
    if isinstance(camera, MotionField):
        return camera
    if isinstance(camera, Mapping) and (set(camera) - _PLANE_MOVES or depth is not None):
        # orbit, dolly, truck, pedestal, keyed moves: the spec's camera layer (parallax from ``depth``).
        from motionkit.spec.model import MotionSpec

        return MotionSpec.from_pixels(size, frames=frames, camera=camera).camera_at(size, depth)
    if isinstance(camera, Mapping):
        return MotionField.camera(frames=frames, size=size, **camera)
    raise InvalidInputError(
        f"camera must be a MotionField or a mapping like {{'pan': (dx, dy), 'zoom': 1.1}}, got {type(camera).__name__}"
    )


def predict_motion(
    image: ImageLike,
    trajectories: Iterable[Trajectory] = (),
    *,
    brush: RegionMask | ImageLike | None = None,
    camera: CameraLike = None,
    frames: int | None = None,
    predictor: str | MotionPredictor = "sparse",
    prompt: str | None = None,
    depth: Any = None,
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
        prompt: text prompt, for predictors that read one (``motion-i2v``); refused by one that
            does not (the option rule, :func:`motionkit.registry.check_options`).
        depth: the scene's depth map for the camera's 3D moves (as :meth:`MotionSpec.compile`).
        **options: passed to the predictor's constructor (e.g. ``radius=80``, ``weights="..."``).

    Returns:
        ``(T, 2, H, W)`` MotionField in pixels, frame 0 zero.

    Raises:
        UnusedOptionError: ``prompt`` or an option the predictor does not use.
    """
    if frames is not None:
        check_frames(frames)
    registry.check_options({"prompt": prompt}, predictor=predictor)
    image_t = _image_tensor(image)
    size = (int(image_t.shape[1]), int(image_t.shape[2]))
    trajectories = list(trajectories)
    mask = as_brush_mask(brush, size)
    if frames is None:
        frames = trajectories[0].frames if trajectories else DEFAULT_FRAMES
    warn_if_leaving(trajectories, size)
    component = _component("predictor", predictor, options)
    per_call = {"prompt": prompt} if prompt is not None else {}  # only predictors that take it get it
    motion = component.predict(image_t, trajectories, mask, frames=frames, size=size, **per_call)
    cam = _camera_field(camera, motion.frames, size, depth)
    # The object moves first, then the camera films the moved scene.
    return motion if cam is None else motion.compose(cam)


def render(
    image: ImageLike,
    motion: MotionField,
    *,
    brush: RegionMask | ImageLike | None = None,
    renderer: str | Renderer = "warp",
    fps: float = DEFAULT_FPS,
    prompt: str | None = None,
    **options: Any,
) -> Clip:
    """Stage 2 alone: render ``image`` along ``motion`` with a renderer found by name.

    Args:
        image: the reference frame (as in :func:`predict_motion`), the field's size.
        motion: a :class:`MotionField` of that size (for example a saved, edited one).
        brush: mask (a :class:`RegionMask` or a mask image); where it is 0 pixels stay as in ``image``.
        renderer: registered renderer name, or a ready renderer (``options`` must then be empty).
        fps: frame rate of the returned clip.
        prompt: text prompt, for renderers that read one (given to ``render()`` where it takes
            it, else to the constructor); refused by one that does not.
        **options: passed to the renderer's constructor.

    Returns:
        A :class:`Clip` of the field's frames. With the classical ``warp`` renderer and an
        in-memory field the frames render straight away on several threads and the clip
        reads each one as soon as it is done (``clip.is_lazy`` is True, but the frames are
        rendered once; every pass reads them), so ``render(...).write(path)`` encodes while
        the last frames render. A lazy field gives a lazy clip rendered as it is read.

    Raises:
        ShapeMismatchError: the image, the field or the brush differ in size.
        UnusedOptionError: ``prompt`` or an option the renderer does not use.

    Example:
        >>> field = MotionField.camera(pan=(8, 0), frames=4, size=(106, 160))  # doctest: +SKIP
        >>> render("cat.png", field * 0.5, fps=12).write("cat.gif")            # doctest: +SKIP
    """
    image_t = _image_tensor(image)
    size = (int(image_t.shape[1]), int(image_t.shape[2]))
    if tuple(motion.size) != size:
        raise ShapeMismatchError(
            f"the image is {size[1]}x{size[0]} but the motion field is {motion.size[1]}x{motion.size[0]} (W x H); "
            "resize the field with MotionField.resize or render the image it was made for"
        )
    mask = as_brush_mask(brush, size)
    registry.check_options({"prompt": prompt}, renderer=renderer)
    per_call = {}
    if prompt is not None and "prompt" in registry.accepts("renderer", renderer).call:
        per_call["prompt"] = prompt
    elif prompt is not None:
        options = {**options, "prompt": prompt}
    component = _component("renderer", renderer, options)
    clip = None if per_call else clip_in_flight(component, image_t, motion, mask, fps)
    return clip if clip is not None else component.render(image_t, motion, mask, fps=fps, **per_call)


def _component(kind: registry.Kind, name_or_object: Any, options: Mapping[str, Any]) -> Any:
    """A component by registered name built with ``options``, or a ready one passed through."""
    if isinstance(name_or_object, str):
        return registry.create(kind, name_or_object, **options)
    if options:
        raise InvalidInputError(f"options {sorted(options)} are for a {kind.replace('_', ' ')} name; a ready one was given")
    return name_or_object


def animate(
    image: ImageLike,
    trajectories: Iterable[Trajectory] = (),
    *,
    brush: RegionMask | ImageLike | None = None,
    camera: CameraLike = None,
    frames: int | None = None,
    fps: float | None = None,
    predictor: str | None = None,
    renderer: str | None = None,
    backend: str | None = None,
    prompt: str | None = None,
    predictor_options: Mapping[str, Any] | None = None,
    renderer_options: Mapping[str, Any] | None = None,
    motion_edit: Callable[[MotionField], MotionField] | None = None,
    spec: MotionSpec | str | os.PathLike | None = None,
    depth: Any = None,
) -> Clip:
    """Animate one image: predict its motion, then render it into a :class:`Clip`.

    The two halves are :func:`predict_motion` and :func:`render`; call them separately to
    inspect or edit the motion before rendering (or pass ``motion_edit``).

    Two rules hold here and nowhere else:

    - **Shared options.** When the predictor and renderer form a registered backend
      (:func:`motionkit.registry.backend`), the renderer takes over the predictor options that
      backend shares (for ``motion-i2v``: weights, device, dtype, seed, steps, guidance,
      resolution ... and ``prompt``); ``renderer_options`` wins where both set one.
    - **A camera move turns off the render mask.** The camera moves every pixel, so the brush
      no longer marks what stays put; it still limits the object motion. Without one, the
      render mask is the brush swept along the motion (:meth:`RegionMask.swept`): what the
      brush and the content it moves never reach stays bit for bit.

    Args:
        image, trajectories, brush, camera, frames, prompt: as in :func:`predict_motion`.
        fps: frame rate of the returned clip (default 8, or the spec's).
        backend: a registered backend: ``"classical"`` (``sparse`` + ``warp``, no weights; the
            default) or ``"motion-i2v"`` (the learned two-stage model), or a plugin's.
        predictor, renderer: registered component names replacing either half of the backend
            (any renderer works with any predictor).
        predictor_options, renderer_options: keyword arguments of the two components.
        motion_edit: called with the predicted field before rendering; returns the field to
            render (the same one to only look at it, e.g. to save it).
        spec: a :class:`MotionSpec` (or its file): the shot's tracks, objects, brushes, mask,
            camera path, timing, prompt and backend hints, exactly as ``motionkit animate IMAGE
            --spec SPEC`` renders it. The other
            arguments then change it like the command line's flags: ``frames``/``fps``/``prompt``
            override, ``trajectories`` are appended, ``brush`` is united with its mask, ``camera``
            (moves, not a field) becomes its camera path, and ``predictor_options`` /
            ``renderer_options`` go over its hinted ones.
        depth: the scene's depth map for the camera's 3D moves (an ``(H, W)`` array or ``.npy``
            of depths, larger = farther, or an image, white = near); without one, a flat plane.

    Returns:
        A :class:`Clip` of ``frames`` frames at the image's size; frame 0 is the image (with
        the classical backend, rendered on several threads as :func:`render` says).

    Raises:
        InvalidInputError: an unknown backend, bad frames, a drag outside the image.
        UnknownComponentError: an unknown predictor or renderer name.
        UnusedOptionError: ``prompt`` or an option that neither component uses (the option
            rule, :func:`motionkit.registry.check_options`); checked before any work.

    Example:
        >>> clip = animate("cat.png", [Trajectory.line((265, 240), (290, 228))], camera={"zoom": 1.05})  # doctest: +SKIP
        >>> clip = animate("cat.png", spec="cat_spec.json", frames=24)  # doctest: +SKIP
    """
    if spec is not None:
        return _animate_spec(image, spec, trajectories=trajectories, brush=brush, camera=camera, frames=frames, fps=fps,
                            predictor=predictor, renderer=renderer, backend=backend, prompt=prompt,
                            predictor_options=predictor_options, renderer_options=renderer_options, depth=depth,
                            motion_edit=motion_edit)
    pair = registry.backend(backend or DEFAULT_BACKEND)
    predictor, renderer = predictor or pair.predictor, renderer or pair.renderer
    registry.check_options({"prompt": prompt}, predictor=predictor, renderer=renderer)
    predictor_options = dict(predictor_options or {})
    takes = {kind: registry.accepts(kind, name) for kind, name in (("predictor", predictor), ("renderer", renderer))}
    # What the pair shares, as far as the renderer's constructor takes it.
    shared_names = [k for k in registry.shared_options(predictor=predictor, renderer=renderer)
                    if k in takes["renderer"].options or takes["renderer"].any_option]
    shared = {k: v for k, v in predictor_options.items() if k in shared_names}
    # The prompt goes to each component that reads it: the predictor's predict(), the renderer's
    # constructor (shared by the pair, or its own option) or else its render().
    if prompt is not None and ("prompt" in shared_names or "prompt" in takes["renderer"].options):
        shared["prompt"] = prompt
    render_prompt = prompt if "prompt" not in shared and "prompt" in takes["renderer"].call else None
    predict_prompt = prompt if "prompt" in takes["predictor"].call else None
    if prompt is not None and predict_prompt is None and "prompt" in takes["predictor"].options:
        predictor_options.setdefault("prompt", prompt)
    image_t = _image_tensor(image)
    mask = as_brush_mask(brush, (int(image_t.shape[1]), int(image_t.shape[2])))
    # Both components are made before any work, so missing weights fail at once.
    predict_with = registry.create("predictor", predictor, **predictor_options)
    render_with = registry.create("renderer", renderer, **{**shared, **dict(renderer_options or {})})
    motion = predict_motion(image_t, trajectories, brush=mask, camera=camera, frames=frames, predictor=predict_with,
                            prompt=predict_prompt, depth=depth)
    if motion_edit is not None:
        motion = motion_edit(motion)
    warn_if_still(motion)
    # The render keeps still what the brush and the content it moves never reach, so an object
    # dragged past its (loosely painted) brush is not cut off at the brush's edge.
    if camera is not None:
        mask = None
    elif mask is not None and not motion.is_lazy:
        mask = mask.swept(list(motion.iter_frames()))  # in memory: a list, swept on two threads
    return render(image_t, motion, brush=mask, renderer=render_with, fps=DEFAULT_FPS if fps is None else fps,
                  prompt=render_prompt)


def _animate_spec(
    image: Any,
    spec: MotionSpec | str | os.PathLike,
    *,
    trajectories: Iterable[Trajectory] = (),
    brush: Any = None,
    camera: Mapping[str, Any] | None = None,
    frames: int | None = None,
    fps: float | None = None,
    predictor: str | None = None,
    renderer: str | None = None,
    backend: str | None = None,
    prompt: str | None = None,
    predictor_options: Mapping[str, Any] | None = None,
    renderer_options: Mapping[str, Any] | None = None,
    depth: Any = None,
    depth_kind: str | None = None,
    motion_edit: Callable[[MotionField], MotionField] | None = None,
) -> Clip:
    """``animate(image, spec=...)``: what ``motionkit animate IMAGE --spec SPEC.json`` runs.

    1. The backend is ``backend``, else the spec's ``hints.backend``, else ``"classical"``;
       ``predictor`` / ``renderer`` replace its halves.
    2. The options are the spec's hinted ones with the explicit ones over them; what a
       registered pair shares goes from the predictor to the renderer too; every option and
       the prompt are checked by the one option rule before any work.
    3. The prompt (``prompt``, else the spec's) goes to each component that reads one.
    4. The spec is compiled at the image's size (``depth`` for the 3D moves), ``motion_edit``
       may change the field, and it is rendered under the spec's render mask at its frame rate.
    """
    from motionkit.spec.overrides import as_spec, spec_with_overrides

    image_t = _image_tensor(image)
    size = (int(image_t.shape[1]), int(image_t.shape[2]))
    shot = spec_with_overrides(as_spec(spec), size, frames=frames, fps=fps, prompt=prompt, trajectories=trajectories,
                               brush=as_brush_mask(brush, size), camera=camera)
    hints = shot.hints
    pair = registry.backend(backend or hints.backend or DEFAULT_BACKEND)
    predict_with, render_with = predictor or pair.predictor, renderer or pair.renderer
    registry.check_options({"prompt": shot.prompt}, predictor=predict_with, renderer=render_with)
    predictor_kw = {**hints.predictor_options, **dict(predictor_options or {})}
    renderer_kw = {**hints.renderer_options, **dict(renderer_options or {})}
    registry.check_options(predictor_kw, predictor=predict_with)
    registry.check_options(renderer_kw, renderer=render_with)
    takes = registry.accepts("renderer", render_with)
    shared = [k for k in registry.shared_options(predictor=predict_with, renderer=render_with)
              if k in takes.options or takes.any_option]
    renderer_kw = {**{k: v for k, v in predictor_kw.items() if k in shared}, **renderer_kw}
    # The prompt goes to the renderer the way it reads one: its constructor, or render().
    render_prompt = None
    if shot.prompt is not None and "prompt" in takes.options:
        renderer_kw.setdefault("prompt", shot.prompt)
    elif shot.prompt is not None and "prompt" in takes.call:
        render_prompt = shot.prompt
    # Both components are made before any work, so missing weights fail at once.
    predict_component = registry.create("predictor", predict_with, **predictor_kw)
    render_component = registry.create("renderer", render_with, **renderer_kw)
    motion = shot.compile(image_t, predictor=predict_component, depth=depth, depth_kind=depth_kind)
    if motion_edit is not None:
        motion = motion_edit(motion)
    return render(image_t, motion, brush=shot.render_mask(size, motion), renderer=render_component, fps=shot.fps,
                  prompt=render_prompt)
