"""The Motion-I2V predictor and renderer behind ``registry`` names ``"motion-i2v"``.

Both classes take their options in the constructor (what ``motionkit.animate(...,
backend="motion-i2v", **options)`` and the CLI pass through), load the converted weights on
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
from typing import Any

import numpy as np
import torch

from motionkit.components import MotionPredictor, Renderer
from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.pipelines.motion_i2v.conditioning import (
    OFFICIAL_AREA,
    OFFICIAL_NEGATIVE_PROMPT,
    check_image,
    make_generator,
    resize_image,
    working_size,
)
from motionkit.pipelines.motion_i2v.flowgen import OFFICIAL_STRIDE_STEP, Sampling, tracks_to_points
from motionkit.pipelines.motion_i2v.rasterize import static_from_region
from motionkit.pipelines.motion_i2v.weights import (
    STAGE1_PARTS,
    STAGE2_PARTS,
    check_parts,
    load_animator,
    load_flow_generator,
    resolve_device,
    resolve_dtype,
    weights_folder,
)
from motionkit.pipelines.motion_i2v.windows import MODEL_FRAMES

Callback = Callable[[int, int, torch.Tensor], None]


class _Options:
    """What the predictor and the renderer share: sampling, placement, precision, resolution."""

    def __init__(
        self,
        weights: str | os.PathLike | None,
        pipeline: Any,
        *,
        steps: int,
        guidance: float,
        negative_prompt: str | None,
        eta: float,
        seed: int | None,
        generator: torch.Generator | None,
        resolution: tuple[int, int] | None,
        max_area: int,
        window: int,
        overlap: int,
        dtype: str | torch.dtype | None,
        device: str | torch.device | None,
        cpu_offload: bool,
        vae_tiling: bool,
        callback: Callback | None,
        progress: bool,
    ) -> None:
        if int(steps) < 1:
            raise InvalidInputError(f"steps must be a positive integer, got {steps}")
        if not np.isfinite(guidance):
            raise InvalidInputError(f"guidance must be a finite number, got {guidance}")
        self.weights = weights_folder(weights) if pipeline is None else None
        self._pipeline = pipeline
        self.steps, self.guidance, self.eta = int(steps), float(guidance), float(eta)
        self.negative_prompt = negative_prompt
        self.seed, self.generator = seed, generator
        self.resolution, self.max_area = resolution, int(max_area)
        self.window, self.overlap = int(window), int(overlap)
        self.dtype = resolve_dtype(dtype)
        self.device = resolve_device(device)
        self.cpu_offload, self.vae_tiling = bool(cpu_offload), bool(vae_tiling)
        self.callback, self.progress = callback, bool(progress)
        if self.resolution is not None:
            working_size((64, 64), self.resolution)  # validates early

    def _prepare(self, pipeline: Any) -> Any:
        """Place the networks: all on the device, or all on the CPU for offloading; enable VAE tiling."""
        home = torch.device("cpu") if self.cpu_offload else self.device
        for name, module in vars(pipeline).items():
            if isinstance(module, torch.nn.Module):
                module.to(home)
                # VAEs stay float32 (the SD VAE overflows in float16); the rest takes the dtype.
                current = next(module.parameters(), torch.empty(0)).dtype
                if "vae" not in name and current != self.dtype:
                    module.to(dtype=self.dtype)
                if self.vae_tiling and hasattr(module, "enable_tiling"):
                    module.enable_tiling()
        return pipeline

    def sampling(self) -> Sampling:
        """The :class:`Sampling` of one call, with a generator seeded as configured."""
        return Sampling(
            steps=self.steps, guidance=self.guidance, negative_prompt=self.negative_prompt, eta=self.eta,
            generator=make_generator(self.seed, self.generator, self.device), device=self.device,
            cpu_offload=self.cpu_offload, callback=self.callback, progress=self.progress,
            window=self.window, overlap=self.overlap,
        )


class _Learned:
    """What the predictor and the renderer share: options, the weights check, lazy loading."""

    #: Sub-folders of the converted weights this stage reads, and the function that loads them.
    parts: tuple[str, ...]
    _load: Callable[[Any, torch.dtype], Any]

    def _setup(self, weights: str | os.PathLike | None, pipeline: Any, **options: Any) -> None:
        self.options = _Options(weights, pipeline, **options)
        if self.options.weights is not None:
            check_parts(self.options.weights, self.parts)
        self._ready: Any = None

    def __repr__(self) -> str:
        o = self.options
        return f"{type(self).__name__}(weights={str(o.weights)!r}, steps={o.steps}, guidance={o.guidance})"

    @property
    def pipeline(self) -> Any:
        """The stage's networks, loaded from the weights folder and placed on first use."""
        if self._ready is None:
            pipe = self.options._pipeline or self._load(self.options.weights, self.options.dtype)
            self._ready = self.options._prepare(pipe)
        return self._ready


class MotionI2VPredictor(_Learned, MotionPredictor):
    """Stage 1 of Motion-I2V: image + drags + motion brush + prompt -> :class:`~motionkit.MotionField`.

    Args:
        weights: converted weights folder (see :mod:`.weights`); ignored when ``pipeline`` is given.
        pipeline: a ready :class:`~motionkit.pipelines.motion_i2v.flowgen.FlowGenerator`
            (e.g. tiny random networks in tests).
        steps, guidance, negative_prompt, eta: sampling (official: 25, 7.0, the demo's
            negative prompt, 0).
        seed, generator: randomness; a fixed seed reproduces a result.
        strides: frame gaps of frames 1..T-1 (default ``8, 16, ...`` as the official demo).
        stride_step: gap between consecutive frames when ``strides`` is not given.
        flow_unit: half-size in working pixels of the square each drag writes (default: 64 at
            320x512, scaled with the resolution).
        resolution: working (H, W), multiples of 64; default: the image shrunk to at most
            ``max_area`` pixels.
        window: frames per stage-1 run (16); longer fields are chained window by window.
        dtype: network precision, ``"float32"`` (official), ``"float16"`` or ``"bfloat16"``.
        device: default CUDA when available, else CPU.
        cpu_offload: keep networks on the CPU, moving each to ``device`` only while it runs.
        vae_tiling: decode and encode with tiled VAEs (large resolutions).
        callback: ``callback(step, total, preview)`` after every step; ``preview`` is the
            predicted clean flow latent ``(F, 4, H/8, W/8)``.
        progress: show tqdm progress bars.

    Example:
        >>> predictor = MotionI2VPredictor("weights/motion-i2v", seed=0, dtype="float16")  # doctest: +SKIP
        >>> predictor.predict(image, [drag], frames=16, prompt="a dog runs").flow.shape  # doctest: +SKIP
        torch.Size([16, 2, 320, 512])
    """

    parts = STAGE1_PARTS
    _load = staticmethod(load_flow_generator)

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        *,
        pipeline: Any = None,
        steps: int = 25,
        guidance: float = 7.0,
        negative_prompt: str | None = OFFICIAL_NEGATIVE_PROMPT,
        eta: float = 0.0,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        strides: Sequence[int] | None = None,
        stride_step: int = OFFICIAL_STRIDE_STEP,
        flow_unit: int | None = None,
        resolution: tuple[int, int] | None = None,
        max_area: int = OFFICIAL_AREA,
        window: int = MODEL_FRAMES,
        dtype: str | torch.dtype | None = None,
        device: str | torch.device | None = None,
        cpu_offload: bool = False,
        vae_tiling: bool = False,
        callback: Callback | None = None,
        progress: bool = False,
    ) -> None:
        self._setup(
            weights, pipeline, steps=steps, guidance=guidance, negative_prompt=negative_prompt, eta=eta, seed=seed,
            generator=generator, resolution=resolution, max_area=max_area, window=window, overlap=0, dtype=dtype,
            device=device, cpu_offload=cpu_offload, vae_tiling=vae_tiling, callback=callback, progress=progress,
        )
        self.strides = list(strides) if strides is not None else None
        self.stride_step = int(stride_step)
        self.flow_unit = flow_unit

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
        from motionkit.motion import MotionField
        from motionkit.ops.field import resize

        if image is None:
            raise InvalidInputError("the motion-i2v predictor needs the image itself, not only its size")
        image = check_image(torch.as_tensor(image))
        h, w = image.shape[-2:]
        trajectories = list(trajectories)
        if frames is None:
            frames = len(_points(trajectories[0])) if trajectories else MODEL_FRAMES
        if int(frames) < 2:
            raise InvalidInputError(f"frames must be at least 2 (frame 0 and one more), got {frames}")
        values = _mask_values(mask, (h, w))
        wh, ww = working_size((h, w), self.options.resolution, self.options.max_area)
        tracks = tracks_to_points(trajectories, (ww / w, wh / h))
        static = static_from_region(values, (wh, ww))
        with torch.no_grad():
            flow = self.pipeline(
                resize_image(image, (wh, ww)), tracks, static, int(frames), prompt or "", self.options.sampling(),
                strides=self.strides, stride_step=self.stride_step, flow_unit=self.flow_unit,
            )
        flow = resize(flow, (h, w)) if (wh, ww) != (h, w) else flow
        if values is not None:
            flow = flow * (values > 0.5).float()
        return MotionField(flow)


class MotionI2VRenderer(_Learned, Renderer):
    """Stage 2 of Motion-I2V: image + any :class:`~motionkit.MotionField` -> :class:`~motionkit.Clip`.

    The field may come from the predictor, from edits, or from a video (video-to-video).

    Args:
        weights, pipeline: converted weights folder, or a ready
            :class:`~motionkit.pipelines.motion_i2v.animation.Animator`.
        prompt: text describing the video (the renderer protocol has no prompt argument).
        window, overlap: frames per temporal window (16, frame 0 included) and frames shared by
            neighbouring windows; longer fields are rendered in blended windows.
        callback: ``callback(step, total, preview)``; ``preview`` is a rough RGB of the predicted
            clean video ``(T, 3, H/8, W/8)``.
        Other options as :class:`MotionI2VPredictor`.

    Example:
        >>> renderer = MotionI2VRenderer("weights/motion-i2v", prompt="a dog runs", seed=0)  # doctest: +SKIP
        >>> len(renderer.render(image, motion, fps=8))  # doctest: +SKIP
        16
    """

    parts = STAGE2_PARTS
    _load = staticmethod(load_animator)

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        *,
        pipeline: Any = None,
        prompt: str = "",
        steps: int = 25,
        guidance: float = 7.0,
        negative_prompt: str | None = OFFICIAL_NEGATIVE_PROMPT,
        eta: float = 0.0,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        resolution: tuple[int, int] | None = None,
        max_area: int = OFFICIAL_AREA,
        window: int = MODEL_FRAMES,
        overlap: int = 4,
        dtype: str | torch.dtype | None = None,
        device: str | torch.device | None = None,
        cpu_offload: bool = False,
        vae_tiling: bool = False,
        callback: Callback | None = None,
        progress: bool = False,
    ) -> None:
        self._setup(
            weights, pipeline, steps=steps, guidance=guidance, negative_prompt=negative_prompt, eta=eta, seed=seed,
            generator=generator, resolution=resolution, max_area=max_area, window=window, overlap=overlap, dtype=dtype,
            device=device, cpu_offload=cpu_offload, vae_tiling=vae_tiling, callback=callback, progress=progress,
        )
        self.prompt = prompt

    def render(self, image: torch.Tensor, motion: Any, mask: Any = None, *, fps: float = 8.0, prompt: str | None = None) -> Any:
        """Render ``image`` (``(3, H, W)`` in [0, 1]) along ``motion``; frame 0 is the image (up to the VAE).

        Args:
            image: the reference frame.
            motion: ``MotionField`` (or ``(T, 2, H, W)`` pixels) at the image's size.
            mask: where given, pixels with mask <= 0.5 keep the reference (RePaint in latent space).
            fps: frame rate of the returned clip.
            prompt: overrides the constructor's prompt for this call.

        Returns:
            ``Clip`` of ``T`` frames at the image's size.
        """
        from motionkit.clip import Clip
        from motionkit.ops.field import resize

        image = check_image(torch.as_tensor(image))
        h, w = image.shape[-2:]
        flow = getattr(motion, "flow", motion)
        if not isinstance(flow, torch.Tensor) or flow.dim() != 4 or flow.shape[1] != 2:
            raise ShapeMismatchError("motion must be a MotionField or a (T, 2, H, W) tensor in pixels")
        if tuple(flow.shape[-2:]) != (h, w):
            raise ShapeMismatchError(
                f"motion is {flow.shape[-1]}x{flow.shape[-2]} but the image is {w}x{h} (W x H); resize the field with .resize((H, W))"
            )
        if not torch.isfinite(flow).all():
            from motionkit.errors import NonFiniteError

            raise NonFiniteError("motion holds NaN or infinite displacements")
        values = _mask_values(mask, (h, w))
        wh, ww = working_size((h, w), self.options.resolution, self.options.max_area)
        flow = resize(flow.float(), (wh, ww)) if (wh, ww) != (h, w) else flow.float()
        static = static_from_region(values, (wh, ww)) if values is not None else None
        with torch.no_grad():
            video = self.pipeline(resize_image(image, (wh, ww)), flow, static, self.prompt if prompt is None else prompt, self.options.sampling())
        video = resize_image(video, (h, w)) if (wh, ww) != (h, w) else video
        frames = (video.permute(0, 2, 3, 1).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
        return Clip.from_array(frames, fps=fps)


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
