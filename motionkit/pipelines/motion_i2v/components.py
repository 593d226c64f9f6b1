"""The Motion-I2V predictor and renderer behind ``registry`` names ``"motion-i2v"``.

Both classes take their options in the constructor (what ``motionkit.animate(...,
backend="motion-i2v", **options)`` and the CLI pass through; the one list of them is
:class:`~motionkit.pipelines.motion_i2v.options.MotionI2VOptions`), load the converted weights on
first use, run at a working resolution that is a multiple of 64 (by default the image shrunk
to at most 320x512 pixels, the training size) and return results at the image's own size.

Example:
    >>> import motionkit as mk
    >>> predictor = mk.MotionPredictor.get("motion-i2v", weights="weights/motion-i2v", seed=0)  # doctest: +SKIP
    >>> motion = predictor.predict(image, [mk.Trajectory.line((120, 80), (160, 70), frames=16)],
    ...                            prompt="a cat turns its head")                                 # doctest: +SKIP
    >>> clip = mk.Renderer.get("motion-i2v", weights="weights/motion-i2v").render(image, motion)   # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from motionkit.clip import Clip
from motionkit.components import MotionPredictor, WindowRenderer, in_field_order, reference_first
from motionkit.errors import InvalidInputError, NonFiniteError, ShapeMismatchError
from motionkit.limits import check_frames
from motionkit.motion import MotionField
from motionkit.ops.colour import to_uint8
from motionkit.ops.field import all_finite, resize
from motionkit.pipelines.motion_i2v.conditioning import check_image, resize_image, working_size
from motionkit.pipelines.motion_i2v.flowgen import Sampling, tracks_to_points
from motionkit.pipelines.motion_i2v.options import MotionI2VOptions, Role
from motionkit.pipelines.motion_i2v.rasterize import static_from_region
from motionkit.pipelines.motion_i2v.weights import STAGE1_PARTS, STAGE2_PARTS, check_parts, load_animator, load_flow_generator, weights_folder
from motionkit.pipelines.motion_i2v.windows import MODEL_FRAMES

class _Learned:
    """What the predictor and the renderer share: options, the weights check, lazy loading."""

    #: Which component this is, for :class:`MotionI2VOptions`.
    role: ClassVar[Role]
    #: Sub-folders of the converted weights this stage reads, and the function that loads them.
    parts: ClassVar[tuple[str, ...]]
    _load: Callable[[Any, torch.dtype], Any]

    def __init__(self, weights: str | os.PathLike | None = None, *, pipeline: Any = None,
                 options: MotionI2VOptions | None = None, **keywords: Any) -> None:
        if weights is not None:
            keywords["weights"] = weights
        self.options = MotionI2VOptions.build(self.role, options, keywords)
        self._pipeline = pipeline
        self.weights = weights_folder(self.options.weights) if pipeline is None else None
        if self.weights is not None:
            check_parts(self.weights, self.parts)
        self._ready: Any = None

    def __repr__(self) -> str:
        o = self.options
        return f"{type(self).__name__}(weights={str(self.weights)!r}, steps={o.steps}, guidance={o.guidance})"

    @property
    def pipeline(self) -> Any:
        """The stage's networks, loaded from the weights folder and placed on first use."""
        if self._ready is None:
            self._ready = self._place(self._pipeline or self._load(self.weights, self.options.dtype))
        return self._ready

    def _place(self, pipeline: Any) -> Any:
        """Place the networks: all on the device, or all on the CPU for offloading; enable VAE tiling."""
        o = self.options
        home = torch.device("cpu") if o.cpu_offload else o.device
        for name, module in vars(pipeline).items():
            if isinstance(module, torch.nn.Module):
                module.to(home)
                # VAEs stay float32 (the SD VAE overflows in float16); the rest takes the dtype.
                current = next(module.parameters(), torch.empty(0)).dtype
                if "vae" not in name and current != o.dtype:
                    module.to(dtype=o.dtype)
                if o.vae_tiling and hasattr(module, "enable_tiling"):
                    module.enable_tiling()
        return pipeline


class MotionI2VPredictor(_Learned, MotionPredictor):
    """Stage 1 of Motion-I2V: image + drags + motion brush + prompt -> :class:`~motionkit.MotionField`.

    Args:
        weights: converted weights folder (see :mod:`.weights`); ignored when ``pipeline`` is given.
        pipeline: a ready :class:`~motionkit.pipelines.motion_i2v.flowgen.FlowGenerator`
            (e.g. tiny random networks in tests).
        options: a :class:`~motionkit.pipelines.motion_i2v.options.MotionI2VOptions` to start from.
        **keywords: the predictor's options, each documented on ``MotionI2VOptions``
            (``MotionI2VOptions.names("predictor")``): ``steps``, ``guidance``, ``negative_prompt``,
            ``eta``, ``seed``, ``generator``, ``resolution``, ``max_area``, ``window`` (stage 1
            chains longer fields window by window), ``dtype``, ``device``, ``cpu_offload``,
            ``vae_tiling``, ``callback`` (previews: the predicted clean flow latent
            ``(F, 4, H/8, W/8)``), ``progress``, ``strides``, ``stride_step``, ``flow_unit``.

    Raises:
        InvalidInputError: an option the predictor does not take, or a bad value.
        WeightsNotFoundError: a part of the converted folder is missing (named, with the converter command).

    Example:
        >>> predictor = MotionI2VPredictor("weights/motion-i2v", seed=0, dtype="float16")  # doctest: +SKIP
        >>> predictor.predict(image, [drag], frames=16, prompt="a dog runs").flow.shape  # doctest: +SKIP
        torch.Size([16, 2, 320, 512])
    """

    role = "predictor"
    parts = STAGE1_PARTS
    _load = staticmethod(load_flow_generator)

    @MotionI2VOptions.keywords("predictor")
    def __init__(self, weights: str | os.PathLike | None = None, *, pipeline: Any = None,
                 options: MotionI2VOptions | None = None, **keywords: Any) -> None:
        super().__init__(weights, pipeline=pipeline, options=options, **keywords)

    def predict(
        self,
        image: torch.Tensor | None,
        trajectories: Sequence[Any] = (),
        mask: Any = None,
        *,
        frames: int | None = None,
        size: tuple[int, int] | None = None,
        prompt: str | None = None,
    ) -> Any:
        """Predict the motion of every pixel of ``image`` (``(3, H, W)`` in [0, 1]).

        Args:
            image: the reference frame; Motion-I2V needs the pixels (``None`` is refused).
            trajectories: drags in image pixels; each is PCHIP-resampled to ``frames`` points.
            mask: motion brush (:class:`~motionkit.RegionMask` or ``(H, W)`` values), 1 = may move;
                the field is exactly zero where it is 0.5 or less (the official threshold).
            frames: frames of the field, frame 0 included (default: the first drag's length, else 16).
            size: ignored (the image's size is used); accepted for the protocol.
            prompt: text describing the motion.

        Returns:
            ``MotionField (frames, 2, H, W)`` in pixels, frame 0 zero.
        """
        if image is None:
            raise InvalidInputError("the motion-i2v predictor needs the image itself, not only its size")
        image = check_image(torch.as_tensor(image))
        h, w = image.shape[-2:]
        trajectories = list(trajectories)
        if frames is None:
            frames = len(_points(trajectories[0])) if trajectories else MODEL_FRAMES
        if check_frames(frames) < 2:
            raise InvalidInputError(f"frames must be at least 2 (frame 0 and one more), got {frames}")
        values = _mask_values(mask, (h, w))
        wh, ww = working_size((h, w), self.options.resolution, self.options.max_area)
        tracks = tracks_to_points(trajectories, (ww / w, wh / h))
        static = static_from_region(values, (wh, ww))
        with torch.no_grad():
            flow = self.pipeline(
                resize_image(image, (wh, ww)), tracks, static, int(frames), prompt or "", self.options.sampling(),
                strides=self.options.strides, stride_step=self.options.stride_step, flow_unit=self.options.flow_unit,
            )
        flow = resize(flow, (h, w)) if (wh, ww) != (h, w) else flow
        if values is not None:
            flow = flow * (values > 0.5).float()
        return MotionField(flow)


class MotionI2VRenderer(_Learned, WindowRenderer):
    """Stage 2 of Motion-I2V: image + any :class:`~motionkit.MotionField` -> :class:`~motionkit.Clip`.

    The field may come from the predictor, from edits, or from a video (video-to-video). The
    networks see ``window`` frames at a time (frame 0 included), so a longer field is rendered
    in windows that each hold frame 0 and a run of later frames, neighbours sharing ``overlap``
    frames (:func:`~motionkit.components.plan_windows`). How they are joined depends on the field:

    - **in memory**: one denoising run over the whole field, the windows' noise predictions
      blended at every step (MultiDiffusion, :func:`~.windows.windowed_eps`); the best joins,
      but the whole video's latents are held at once.
    - **lazy** (e.g. ``clip.estimate_motion()`` of a long video): :class:`~motionkit.WindowRenderer`'s
      streaming ``render``; each window is rendered on its own by :meth:`render_window` and the
      frames neighbours share are cross-faded. Only a window of the field and of the video is
      in memory, and the returned clip is lazy: reading it (again) renders it (again).

    Randomness: every ``render`` call, and every pass over a lazy result, starts from ``seed``.
    The windows of one streamed pass draw from that one generator in turn, so they get
    different noise (the same noise in each window would repeat the same grain every
    ``window - 1 - overlap`` frames), a pass read twice gives the same frames, and a field that
    fits in one window renders exactly as in memory. :meth:`render_window` on its own starts
    from ``seed`` each call.

    Args:
        weights, pipeline, options: as :class:`MotionI2VPredictor`; ``pipeline`` is a ready
            :class:`~motionkit.pipelines.motion_i2v.animation.Animator`.
        **keywords: the renderer's options, each documented on ``MotionI2VOptions``
            (``MotionI2VOptions.names("renderer")``): ``prompt`` (text describing the video),
            ``window`` and ``overlap`` (frames per temporal window, frame 0 included, and frames
            shared by neighbouring windows), ``callback`` (previews: a rough RGB of the predicted
            clean video ``(T, 3, H/8, W/8)``, or of the window when streaming) and the sampling,
            precision and placement options of the predictor.

    Example:
        >>> renderer = MotionI2VRenderer("weights/motion-i2v", prompt="a dog runs", seed=0)  # doctest: +SKIP
        >>> len(renderer.render(image, motion, fps=8))  # doctest: +SKIP
        16
        >>> long = renderer.render(image, video.estimate_motion())  # doctest: +SKIP
        >>> long.is_lazy  # doctest: +SKIP
        True
    """

    role = "renderer"
    parts = STAGE2_PARTS
    _load = staticmethod(load_animator)

    @MotionI2VOptions.keywords("renderer")
    def __init__(self, weights: str | os.PathLike | None = None, *, pipeline: Any = None,
                 options: MotionI2VOptions | None = None, **keywords: Any) -> None:
        super().__init__(weights, pipeline=pipeline, options=options, **keywords)

    @property
    def window(self) -> int:  # type: ignore[override]
        """Frames per window, frame 0 included (the ``window`` option, 16)."""
        return self.options.window

    @property
    def overlap(self) -> int:  # type: ignore[override]
        """Later frames neighbouring windows share (the ``overlap`` option, 4)."""
        return self.options.overlap

    def render(self, image: torch.Tensor, motion: Any, mask: Any = None, *, fps: float = 8.0, prompt: str | None = None) -> Any:
        """Render ``image`` (``(3, H, W)`` in [0, 1]) along ``motion``; frame 0 is the image (up to the VAE).

        Args:
            image: the reference frame.
            motion: ``MotionField`` (or ``(T, 2, H, W)`` pixels) at the image's size. A lazy
                field is streamed window by window (see the class docstring). A field whose
                :attr:`~motionkit.MotionField.reference` is frame ``k`` is rendered with frame
                ``k`` first and put back in order (:func:`~motionkit.components.reference_first`): frame ``k`` is the image.
            mask: where given, pixels with mask <= 0.5 keep the reference (RePaint in latent space).
            fps: frame rate of the returned clip.
            prompt: overrides the constructor's prompt for this call.

        Returns:
            ``Clip`` of ``T`` frames at the image's size; lazy when ``motion`` is.
        """
        prompt = self.options.prompt if prompt is None else prompt
        if isinstance(motion, MotionField) and motion.reference != 0:
            # Measured from a later frame (a backward carry): that frame first, as the networks expect.
            return in_field_order(self.render(image, reference_first(motion), mask, fps=fps, prompt=prompt), motion.reference)
        if isinstance(motion, MotionField) and motion.is_lazy:
            return self._streamed(image, motion, mask, fps, prompt)
        image = check_image(torch.as_tensor(image))
        flow = getattr(motion, "flow", motion)
        if not isinstance(flow, torch.Tensor) or flow.dim() != 4 or flow.shape[1] != 2:
            raise ShapeMismatchError("motion must be a MotionField or a (T, 2, H, W) tensor in pixels")
        video = self._frames(image, flow, mask, prompt, self.options.sampling())
        return Clip.from_array(to_uint8(video.permute(0, 2, 3, 1)).numpy(), fps=fps)

    def render_window(self, image: torch.Tensor, flows: torch.Tensor, mask: Any = None) -> torch.Tensor:
        """Render one window: ``image (3, H, W)`` along ``flows (W, 2, H, W)`` pixels, ``flows[0]`` frame 0.

        Returns ``(W, 3, H, W)`` float32 in [0, 1]; one denoising run, seeded afresh from ``seed``.
        """
        return self._frames(check_image(torch.as_tensor(image)), flows, mask, self.options.prompt, self.options.sampling())

    def _streamed(self, image: Any, motion: MotionField, mask: Any, fps: float, prompt: str) -> Clip:
        """A lazy clip over the base class's window-by-window stream, one generator per pass."""
        _OnePass(self, prompt).render(image, motion, mask, fps=fps)  # checks the inputs now; renders nothing
        return Clip.from_frames(
            lambda: _OnePass(self, prompt).render(image, motion, mask, fps=fps).iter_frames(), motion.frames, motion.size, fps
        )

    def _frames(self, image: torch.Tensor, flow: torch.Tensor, mask: Any, prompt: str, sampling: Sampling) -> torch.Tensor:
        """Stage 2 on ``image (3, H, W)`` and ``flow (T, 2, H, W)`` pixels -> ``(T, 3, H, W)`` float32 in [0, 1].

        Runs at the working resolution and resizes back; fields longer than ``window`` are
        denoised as windows blended at every step (:func:`~.windows.windowed_eps`).
        """
        h, w = image.shape[-2:]
        if tuple(flow.shape[-2:]) != (h, w):
            raise ShapeMismatchError(
                f"motion is {flow.shape[-1]}x{flow.shape[-2]} but the image is {w}x{h} (W x H); resize the field with .resize((H, W))"
            )
        if not all_finite(flow):
            raise NonFiniteError("motion holds NaN or infinite displacements")
        values = _mask_values(mask, (h, w))
        wh, ww = working_size((h, w), self.options.resolution, self.options.max_area)
        flow = resize(flow.float(), (wh, ww)) if (wh, ww) != (h, w) else flow.float()
        static = static_from_region(values, (wh, ww)) if values is not None else None
        with torch.no_grad():
            video = self.pipeline(resize_image(image, (wh, ww)), flow, static, prompt, sampling)
        return resize_image(video, (h, w)) if (wh, ww) != (h, w) else video


class _OnePass(WindowRenderer):
    """One streamed pass of a :class:`MotionI2VRenderer`: its windows share one prompt and one generator."""

    def __init__(self, renderer: MotionI2VRenderer, prompt: str) -> None:
        self.renderer, self.prompt = renderer, prompt
        self.window, self.overlap = renderer.window, renderer.overlap
        self.sampling = renderer.options.sampling()

    def render_window(self, image: torch.Tensor, flows: torch.Tensor, mask: Any = None) -> torch.Tensor:
        return self.renderer._frames(check_image(image), flows, mask, self.prompt, self.sampling)


def _points(track: Any) -> np.ndarray:
    points = track.as_tensor() if hasattr(track, "as_tensor") else track
    return np.asarray(points.detach().cpu() if isinstance(points, torch.Tensor) else points, dtype=np.float64).reshape(-1, 2)


def _mask_values(mask: Any, size: tuple[int, int]) -> torch.Tensor | None:
    if mask is None:
        return None
    values = getattr(mask, "values", mask)
    values = torch.as_tensor(np.asarray(values) if not isinstance(values, torch.Tensor) else values, dtype=torch.float32)
    if tuple(values.shape) != tuple(size):
        raise ShapeMismatchError(f"mask is {tuple(values.shape)} but the image is {tuple(size)} (H, W); paint it on the image")
    return values
