"""What every Time-to-Move renderer shares: options, loading, the preview, the mask, the fit, the run.

A backbone subclass (``backbones.py``) says how its model is conditioned and stepped; this
base does the rest: warp preview with motionkit's own renderer (``preview``, default
``"warp"``), the motion mask (the brush if given, else where the field moves, dilated, moved
along the field into each frame), the frame/size fit, VAE encoding, dual-clock denoising
(:mod:`.dualclock`), decoding and mapping back to the request.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch

import motionkit as mk
from motionkit.components import in_field_order, reference_first
from motionkit.errors import InvalidInputError, ShapeMismatchError, WeightsNotFoundError
from motionkit.learned import LearnedOptions, option
from motionkit_ttm.dualclock import DualClock, denoise
from motionkit_ttm.fit import Fit, fit_frames, fit_size, latent_mask, moving_region, resize_frames


#: The step count the default start steps are given for (TTM's); other counts scale them.
REFERENCE_STEPS = 50


@dataclass(frozen=True)
class TTMOptions(LearnedOptions):
    """:class:`~motionkit.LearnedOptions` plus what every TTM renderer takes (None: the backbone's default).

    Attributes:
        outside_start: step where denoising starts outside the motion mask (TTM's ``tweak-index``).
        inside_start: step where it starts inside the mask (TTM's ``tstrong-index``), >= ``outside_start``.
        area: working pixel area; the image is scaled to about this many pixels, aspect kept
            (never enlarged: a smaller image runs at its own size, rounded to the multiple).
        resolution: working ``(H, W)`` instead (rounded to the backbone's multiple).
        mask_threshold: px of displacement above which a pixel counts as moving (mask from the motion).
        mask_relative: ... and above this fraction of the field's largest displacement.
        mask_dilation: px the moving region is grown by (mask from the motion, at the input size).
        preview, preview_options: the registered renderer making the warp preview, and its options.
        keep_first_frame: the output's reference frame (frame 0, or k for a field measured from frame k) is the input image exactly.
        composite: where a brush ``mask`` is 0 the output keeps the input's pixels (as ``warp`` does).
    """

    outside_start: int | None = option(None)
    inside_start: int | None = option(None)
    area: int | None = option(None)
    resolution: tuple[int, int] | None = option(None)
    mask_threshold: float = option(0.5)
    mask_relative: float = option(0.1)
    mask_dilation: int = option(3)
    preview: str = option("warp")
    preview_options: dict[str, Any] | None = option(None)
    keep_first_frame: bool = option(False)
    composite: bool = option(False)


@dataclass(frozen=True)
class TextTTMOptions(TTMOptions):
    """:class:`TTMOptions` of a text-conditioned backbone.

    Attributes:
        prompt: text describing the video.
        negative_prompt: text to steer away from (None: the backbone's default).
    """

    prompt: str = option("")
    negative_prompt: str | None = option(None)


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """``torch_dtype`` works on every supported diffusers; newer ones only warn that it was renamed."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch_dtype.*deprecated", category=FutureWarning)
        yield


@dataclass
class Run:
    """What one render did, kept on the renderer as ``last_run`` (for reports and tests).

    Attributes:
        fit: how the request was fitted.
        clock: the two start steps.
        preview_latents: VAE latents of the warp preview (the loop's layout).
        mask: latent-resolution motion mask, broadcastable against ``preview_latents``.
        noise: the one noise draw every noising used.
        timesteps: the schedule's timesteps.
        experts: per step, which network ran (``"transformer"``, ``"transformer_2"``, ``"unet"``).
        latents: the clean latents the run ended with (before decoding).
    """

    fit: Fit
    clock: DualClock
    preview_latents: torch.Tensor
    mask: torch.Tensor
    noise: torch.Tensor
    timesteps: torch.Tensor
    experts: list[str]
    latents: torch.Tensor | None = None


class TTMRenderer(mk.Renderer):
    """Base of the ``ttm-*`` renderers: image + motion (+ mask) -> warp preview -> dual-clock denoising -> Clip.

    Subclasses set the class attributes and implement :meth:`prepare`, :meth:`encode`,
    :meth:`layout_mask`, :meth:`set_timesteps`, :meth:`step` and :meth:`decode`.
    """

    NAME: ClassVar[str]
    OPTIONS: ClassVar[type[TTMOptions]] = TTMOptions
    PIPELINE: ClassVar[str]                 # the diffusers pipeline class
    DEFAULT_MODEL: ClassVar[str]            # hub id used when model= and the variable are not set
    MODEL_ENV: ClassVar[str]
    DEFAULTS: ClassVar[dict[str, Any]]      # steps, guidance, outside_start, inside_start, area
    FRAME_STEP: ClassVar[int] = 1           # frames k * FRAME_STEP + 1
    MAX_FRAMES: ClassVar[int | None] = None

    def __init__(self, model: str | os.PathLike | None = None, *, pipeline: Any = None,
                 options: TTMOptions | None = None, **keywords: Any) -> None:
        if model is not None:
            keywords["model"] = model
        built = self.OPTIONS.build("renderer", options, keywords)
        unset = {k: v for k, v in self.DEFAULTS.items() if getattr(built, k) is None}
        steps = built.steps if built.steps is not None else self.DEFAULTS["steps"]
        for start in ("outside_start", "inside_start"):  # TTM's start steps are given out of 50 steps
            if start in unset and steps != REFERENCE_STEPS:
                unset[start] = int(round(self.DEFAULTS[start] * steps / REFERENCE_STEPS))
        self.options: TTMOptions = dataclasses.replace(built, **unset) if unset else built
        o = self.options
        if o.outside_start is None or o.inside_start is None:
            raise InvalidInputError("give both outside_start and inside_start")
        DualClock(int(o.steps), int(o.outside_start), int(o.inside_start))  # refuse bad start steps now
        if not 0 <= o.mask_dilation == int(o.mask_dilation):
            raise InvalidInputError(f"mask_dilation must be a non-negative integer (px), got {o.mask_dilation!r}")
        self.preview = mk.Renderer.get(o.preview, **dict(o.preview_options or {}))
        self.device = torch.device(o.device)
        self.dtype = o.resolved_dtype()
        self.pipeline = self._place(pipeline if pipeline is not None else self.load(o.model))
        self.pipeline.set_progress_bar_config(disable=not o.progress)
        self.last_run: Run | None = None

    def __repr__(self) -> str:
        o = self.options
        return f"{type(self).__name__}(steps={o.steps}, outside_start={o.outside_start}, inside_start={o.inside_start})"

    # -- weights -------------------------------------------------------------------------------

    @classmethod
    def model_source(cls, model: str | os.PathLike | None) -> str:
        """Where the weights are read: ``model``, else ``$MODEL_ENV``, else :attr:`DEFAULT_MODEL` (a hub id)."""
        return str(model if model is not None else os.environ.get(cls.MODEL_ENV) or cls.DEFAULT_MODEL)

    def load(self, model: str | os.PathLike | None) -> Any:
        """The diffusers pipeline from a local folder or a hub id in the local cache (nothing is downloaded).

        Raises:
            WeightsNotFoundError: one line naming the folder or id and how to get it.
        """
        import diffusers

        source = self.model_source(model)
        folder = Path(source).expanduser()
        how = (f"download it once with `huggingface-cli download {self.DEFAULT_MODEL} --local-dir <folder>` "
               f"and pass model=<folder> (CLI: --model <folder>) or set {self.MODEL_ENV}")
        local = folder.is_dir()
        if local and not (folder / "model_index.json").is_file():
            raise WeightsNotFoundError(f"no {self.NAME} weights in {folder} (expected {folder / 'model_index.json'}); {how}")
        if not local and (not re.fullmatch(r"[\w.-]+/[\w.-]+", source) or source.startswith((".", "~"))):
            raise WeightsNotFoundError(f"no {self.NAME} weights at {source} (no such folder); {how}")
        try:
            with _quiet_loading():
                pipeline = getattr(diffusers, self.PIPELINE).from_pretrained(
                    str(folder) if local else source, torch_dtype=self.dtype, local_files_only=True)
        except (OSError, ValueError, EnvironmentError) as exc:
            where = str(folder) if local else f"hub id {source!r} (not in the local cache)"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WeightsNotFoundError(f"could not load {self.NAME} weights from {where}: {first}; {how}") from None
        return pipeline

    def _place(self, pipeline: Any) -> Any:
        """Networks to ``dtype`` (VAEs stay float32) and to the device, or offloaded; VAE tiling if asked."""
        o = self.options
        for name, module in list(vars(pipeline).items()):
            if isinstance(module, torch.nn.Module):
                module.eval()  # inference: no dropout (a pipeline built by hand starts in training mode)
                wanted = torch.float32 if name == "vae" else self.dtype
                if next(module.parameters(), torch.empty(0, dtype=wanted)).dtype != wanted:
                    module.to(dtype=wanted)
        if o.cpu_offload:
            pipeline.enable_model_cpu_offload(device=self.device)
        else:
            pipeline.to(self.device)
        if o.vae_tiling and hasattr(pipeline.vae, "enable_tiling"):
            pipeline.vae.enable_tiling()
        return pipeline

    # -- what a backbone implements ------------------------------------------------------------

    def fit(self, frames: int, size: tuple[int, int]) -> Fit:
        """How ``frames`` frames at ``size`` are fitted to this backbone (see :mod:`.fit`)."""
        o = self.options
        multiple = self.size_multiple()
        if o.resolution is not None:
            work = fit_size(tuple(o.resolution), None, multiple)
        else:  # about the model's area, never enlarged
            work = fit_size(size, min(int(o.area), size[0] * size[1]) if o.area else None, multiple)
        work_frames = fit_frames(frames, self.FRAME_STEP, max_frames=self.MAX_FRAMES)
        latent = (work_frames - 1) // self.temporal_factor() + 1
        rule = f"frames {self.FRAME_STEP}k+1, sides multiples of {multiple}" if self.FRAME_STEP > 1 else f"sides multiples of {multiple}"
        return Fit(frames, tuple(size), work_frames, work, latent, rule)  # type: ignore[arg-type]

    def size_multiple(self) -> int:
        """Working sides are multiples of this many pixels."""
        raise NotImplementedError

    def temporal_factor(self) -> int:
        """Frames per latent frame after the first."""
        raise NotImplementedError

    def spatial_factor(self) -> int:
        """Pixels per latent cell side."""
        raise NotImplementedError

    def prepare(self, image: torch.Tensor, fit: Fit, generator: torch.Generator) -> dict[str, Any]:
        """Conditioning of one run from ``image (3, h, w)`` in [0, 1] at the working size."""
        raise NotImplementedError

    def encode(self, frames: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """``(T', 3, h, w)`` in [0, 1] -> latents in the loop's layout (float32)."""
        raise NotImplementedError

    def layout_mask(self, mask: torch.Tensor) -> torch.Tensor:
        """``(T_latent, h', w')`` -> broadcastable against the latents."""
        raise NotImplementedError

    def set_timesteps(self, fit: Fit) -> torch.Tensor:
        """Set the scheduler for ``steps`` steps and return its timesteps."""
        self.pipeline.scheduler.set_timesteps(int(self.options.steps), device=self.device)
        return self.pipeline.scheduler.timesteps

    def step(self, state: dict[str, Any], latents: torch.Tensor, index: int, t: torch.Tensor) -> torch.Tensor:
        """One denoising step (prediction with guidance + scheduler update) of the latents."""
        raise NotImplementedError

    def decode(self, latents: torch.Tensor, state: dict[str, Any]) -> torch.Tensor:
        """Latents -> ``(T', 3, h, w)`` float32 in [0, 1] on the CPU."""
        raise NotImplementedError

    # -- the run -------------------------------------------------------------------------------

    def motion_masks(self, motion: mk.MotionField, mask: mk.RegionMask | None) -> torch.Tensor:
        """The TTM mask of every frame, ``(T, H, W)`` in {0, 1}: the brush (else the moving region,
        dilated), carried along the motion into each frame by the preview renderer."""
        o = self.options
        if mask is not None:
            region = torch.as_tensor(mask.values, dtype=torch.float32).cpu()
        else:
            region = moving_region(motion.flow, threshold=float(o.mask_threshold), relative=float(o.mask_relative),
                                   dilate=int(o.mask_dilation))
        moved = self.preview.render(region[None].expand(3, -1, -1).contiguous(), motion).to_tensor()[:, 0]
        return (moved > 0.5).float()

    @torch.no_grad()
    def render(self, image: Any, motion: mk.MotionField, mask: mk.RegionMask | None = None, *, fps: float = 8.0) -> mk.Clip:
        """Render ``image`` (``(3, H, W)`` in [0, 1]) along ``motion`` (``(T, 2, H, W)`` px) -> a ``T``-frame
        :class:`~motionkit.Clip` at ``(H, W)`` and ``fps``. ``mask`` (``(H, W)``, 1 = moves) is the TTM mask;
        without it the mask is where the field moves. ``last_run`` records the fit and schedule.

        ``image`` shows the field's reference frame: a field measured from frame ``k``
        (``motion.reference == k``) is generated with frame ``k`` first, as the model's
        conditioning frame, and the other frames after it in time order; the clip comes back
        in the field's order, so frame ``k`` is ``image`` (exactly with ``keep_first_frame``)."""
        if not isinstance(motion, mk.MotionField):
            raise InvalidInputError(f"motion must be a MotionField, got {type(motion).__name__}")
        if motion.reference != 0:
            first = reference_first(motion.materialize() if motion.is_lazy else motion)
            return in_field_order(self.render(image, first, mask, fps=fps), motion.reference)
        image = self._image(image, motion)
        motion = motion.materialize() if motion.is_lazy else motion
        o = self.options
        fit = self.fit(motion.frames, motion.size)
        preview = self.preview.render(image, motion, mask, fps=fps).to_tensor()
        masks = self.motion_masks(motion, mask)
        if fit.work_frames > fit.frames:  # hold the last frame for the frames the model needs in addition
            extra = fit.work_frames - fit.frames
            preview = torch.cat([preview, preview[-1:].expand(extra, -1, -1, -1)])
            masks = torch.cat([masks, masks[-1:].expand(extra, -1, -1)])
        preview = resize_frames(preview, fit.work_size)
        masks = (resize_frames(masks[:, None], fit.work_size)[:, 0] > 0.25).float()
        generator = o.torch_generator()
        state = self.prepare(resize_frames(image[None], fit.work_size)[0], fit, generator)
        state["generator"] = generator
        clean = self.encode(preview, generator)
        imposed = self.layout_mask(latent_mask(masks, self.temporal_factor(), self.spatial_factor())).to(clean.device)
        timesteps = self.set_timesteps(fit)
        clock = DualClock(int(o.steps), int(o.outside_start), int(o.inside_start))
        noise = torch.randn(clean.shape, generator=generator, dtype=torch.float32).to(clean.device)
        experts: list[str] = []
        state["experts"] = experts
        total = int(o.steps)

        def record(index: int, latents: torch.Tensor) -> None:
            if o.callback is not None and index >= 0:
                o.callback(index, total, latents)

        with self.pipeline.progress_bar(total=total - clock.outside_start) as bar:
            out = denoise(self.pipeline.scheduler, clock, clean, imposed, noise,
                          lambda x, i, t: self.step(state, x, i, t), record=record, progress=lambda _: bar.update())
        self.last_run = Run(fit, clock, clean, imposed, noise, timesteps.detach().cpu(), experts, out)
        frames = resize_frames(self.decode(out, state)[: fit.frames], fit.size)
        if o.composite and mask is not None:
            keep = torch.as_tensor(mask.values, dtype=torch.float32).cpu()
            frames = torch.lerp(image.cpu().expand_as(frames), frames, keep)
        if o.keep_first_frame:
            frames[0] = image.cpu()
        return mk.Clip.from_array(frames, fps=fps)

    @staticmethod
    def _image(image: Any, motion: mk.MotionField) -> torch.Tensor:
        if not (isinstance(image, torch.Tensor) and image.dim() == 3 and image.shape[0] == 3):
            image = mk.Clip.from_image(image).to_tensor()[0] if not isinstance(image, torch.Tensor) else image
        if tuple(image.shape) != (3, *motion.size):
            raise ShapeMismatchError(f"image must be (3, {motion.height}, {motion.width}) to match the motion field, got {tuple(image.shape)}")
        return image.detach().to("cpu", torch.float32).clamp(0.0, 1.0)

    def guidance_on(self) -> bool:
        """Classifier-free guidance runs (``guidance > 1``)."""
        return float(self.options.guidance) > 1.0
