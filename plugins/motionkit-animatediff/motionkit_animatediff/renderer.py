"""``animatediff-refine``: warp-render, then let AnimateDiff clean the frames up (SDEdit-style).

The classical ``warp`` renderer moves the pixels exactly where the motion field says but
leaves stretched texture and smeared disocclusions. This renderer takes that preview as the
*structure* of the video and re-synthesises its *appearance*: the preview frames are encoded
by the VAE, noised to ``strength`` of the diffusion schedule and denoised by a Stable
Diffusion 1.5 UNet inflated with an AnimateDiff motion adapter (diffusers'
``AnimateDiffVideoToVideoPipeline``). Low ``strength`` keeps the preview's layout and motion,
high ``strength`` lets the model repaint more.

The weights are a user's local diffusers folder; nothing is downloaded.

Example:
    >>> import motionkit as mk
    >>> renderer = mk.Renderer.get("animatediff-refine", model="./animatediff-sd15", prompt="a cat")  # doctest: +SKIP
    >>> clip = renderer.render(image, motion)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

import motionkit as mk
from motionkit.errors import InvalidInputError, ShapeMismatchError, WeightsNotFoundError
from motionkit.learned import LearnedOptions

if TYPE_CHECKING:
    from motionkit import Clip, MotionField, RegionMask

#: The long side ``long_side="auto"`` shrinks larger frames to (what SD-1.5 is trained at).
AUTO_LONG_SIDE = 512
#: Environment variable naming the model folder when ``model=`` is not given.
MODEL_ENV = "MOTIONKIT_ANIMATEDIFF_MODEL"
#: Where the model folder is looked for when neither ``model=`` nor the variable is set.
DEFAULT_MODEL_DIR = Path("~/.cache/motionkit/animatediff-refine")

HOW_TO_MAKE = (
    "make it once on a machine with internet access: "
    "adapter = MotionAdapter.from_pretrained('guoyww/animatediff-motion-adapter-v1-5-2'); "
    "AnimateDiffVideoToVideoPipeline.from_pretrained(<a Stable Diffusion 1.5 model>, motion_adapter=adapter)"
    ".save_pretrained(<folder>)"
)


def model_folder(model: str | os.PathLike | None = None) -> Path:
    """The model folder to load: ``model``, else ``$MOTIONKIT_ANIMATEDIFF_MODEL``, else :data:`DEFAULT_MODEL_DIR`."""
    chosen = model if model is not None else os.environ.get(MODEL_ENV) or DEFAULT_MODEL_DIR
    return Path(chosen).expanduser()


@contextlib.contextmanager
def _quiet_dtype_rename() -> Iterator[None]:
    """``torch_dtype`` works on every supported diffusers; newer ones only warn that it was renamed."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch_dtype.*deprecated", category=FutureWarning)
        yield


def _lists_motion_adapter(index: Path) -> bool:
    """Whether a pipeline's ``model_index.json`` names a motion adapter (a saved AnimateDiff pipeline does)."""
    try:
        entry = json.loads(index.read_text(encoding="utf-8")).get("motion_adapter")
    except (OSError, ValueError, AttributeError) as exc:
        raise WeightsNotFoundError(f"{index} is not a readable diffusers model index ({exc})") from exc
    return isinstance(entry, list) and None not in entry


def load_pipeline(
    model: str | os.PathLike | None = None,
    motion_adapter: str | os.PathLike | None = None,
    *,
    dtype: torch.dtype = torch.float32,
) -> Any:
    """Load an ``AnimateDiffVideoToVideoPipeline`` from local folders only.

    Args:
        model: a diffusers pipeline folder (``model_index.json`` at its top): either a saved
            AnimateDiff pipeline, or a Stable Diffusion 1.5 folder together with ``motion_adapter``.
        motion_adapter: a diffusers ``MotionAdapter`` folder (``config.json`` and weights);
            overrides the one saved in ``model``.
        dtype: weights' dtype (``torch.float16`` halves GPU memory).

    Raises:
        WeightsNotFoundError: a folder or file is missing; the message names it.
    """
    from diffusers import AnimateDiffVideoToVideoPipeline, MotionAdapter

    folder = model_folder(model)
    index = folder / "model_index.json"
    if not index.is_file():
        raise WeightsNotFoundError(
            f"no AnimateDiff model at {folder} (expected {index}); pass model=<folder> or set {MODEL_ENV}; {HOW_TO_MAKE}"
        )
    extra: dict[str, Any] = {}
    if motion_adapter is not None:
        adapter_dir = Path(motion_adapter).expanduser()
        if not (adapter_dir / "config.json").is_file():
            raise WeightsNotFoundError(f"no motion adapter at {adapter_dir} (expected {adapter_dir / 'config.json'} and its weights)")
        try:
            with _quiet_dtype_rename():
                extra["motion_adapter"] = MotionAdapter.from_pretrained(adapter_dir, torch_dtype=dtype, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise WeightsNotFoundError(f"could not load the motion adapter in {adapter_dir}: {exc}") from exc
    elif not _lists_motion_adapter(index):
        raise WeightsNotFoundError(
            f"{folder} has no motion adapter (no 'motion_adapter' in {index}); pass motion_adapter=<folder> "
            "holding a diffusers MotionAdapter, or save a full AnimateDiff pipeline there"
        )
    try:
        with _quiet_dtype_rename():
            return AnimateDiffVideoToVideoPipeline.from_pretrained(folder, torch_dtype=dtype, local_files_only=True, **extra)
    except (OSError, ValueError) as exc:
        raise WeightsNotFoundError(f"could not load the AnimateDiff pipeline in {folder}: {exc}") from exc


def work_size(size: tuple[int, int], long_side: int | None, multiple: int = 8) -> tuple[int, int]:
    """``(H, W)`` scaled so the long side is ``long_side`` (or kept), each rounded to ``multiple`` (>= ``multiple``).

    Example:
        >>> work_size((300, 451), 512)
        (344, 512)
    """
    h, w = size
    scale = 1.0 if long_side is None else long_side / max(h, w)
    return tuple(max(multiple, int(round(side * scale / multiple)) * multiple) for side in (h, w))


def _resize(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames
    return F.interpolate(frames, size=size, mode="bilinear", align_corners=False, antialias=True).clamp_(0.0, 1.0)


class AnimateDiffRefineRenderer(mk.WindowRenderer):
    """Warp-render the motion, then refine the frames with an AnimateDiff video-to-video pass.

    A :class:`~motionkit.WindowRenderer`. An in-memory field is previewed and refined as one
    clip (longer than ``window``: FreeNoise windows inside one diffusers call). A lazy field
    (e.g. a long video's ``estimate_motion()``) is streamed: :meth:`render_window` previews and
    refines ``window`` frames at a time (frame 0 and a run of later frames), neighbouring windows
    share ``overlap`` frames that are cross-faded, and the clip returned is lazy. Every window
    is refined from ``seed``, as a whole clip is.

    Args:
        model: local diffusers folder (see :func:`load_pipeline`); default
            ``$MOTIONKIT_ANIMATEDIFF_MODEL``, else ``~/.cache/motionkit/animatediff-refine``.
        motion_adapter: optional separate ``MotionAdapter`` folder.
        pipeline: a ready ``AnimateDiffVideoToVideoPipeline`` (then ``model`` is not read).
        prompt, negative_prompt: text guidance for the refinement.
        strength: fraction of the diffusion schedule that is re-run, in (0, 1]; 0.3-0.5 keeps
            the preview's layout and motion, higher repaints more.
        steps: denoising steps of the full schedule (about ``steps * strength`` are run).
        guidance_scale: classifier-free guidance (<= 1 turns it off).
        long_side: the frames are refined at this long side in pixels (rounded to multiples
            of 8) and resized back; ``None`` keeps the clip's size; ``"auto"`` (default) shrinks
            frames larger than 512 (SD-1.5 works best there) and keeps smaller ones.
        seed: noise seed; the same seed and inputs give the same frames.
        keep_first_frame: the output's reference frame (frame 0, or ``k`` for a field measured from
            frame ``k``) is the input image exactly (the renderer contract).
        window: frames the motion modules see at once, at least 3 (default 16, what AnimateDiff
            adapters are trained on, or the adapter's length if shorter); longer in-memory clips
            are refined in overlapping FreeNoise windows, lazy fields streamed in windows of this size.
        overlap: later frames neighbouring streamed windows share and cross-fade (default ``window // 4``).
        preview: registered renderer that makes the preview (default ``"warp"``), with ``preview_options``.
        device, dtype: default CUDA/float16 when available, else CPU/float32 (a given
            ``pipeline`` keeps its own dtype unless ``dtype`` is passed).
        progress: show diffusers' progress bar.
        weights: the same as ``model`` (the name the CLI's ``--model`` and motion-i2v use).
        guidance: the same as ``guidance_scale`` (the shared learned option's name).
        options: a :class:`~motionkit.LearnedOptions` (model, device, dtype, steps, seed, guidance,
            progress); keywords given explicitly win.

    Raises:
        WeightsNotFoundError: no model folder (the message names the folder it looked for).

    Example:
        >>> renderer = AnimateDiffRefineRenderer(model="animatediff-sd15", prompt="a cat, photo", strength=0.4)  # doctest: +SKIP
        >>> renderer.render(image, motion).write("cat_refined.mp4")  # doctest: +SKIP
    """

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        *,
        motion_adapter: str | os.PathLike | None = None,
        pipeline: Any = None,
        prompt: str = "",
        negative_prompt: str = "blurry, distorted, low quality",
        strength: float = 0.4,
        steps: int = 25,
        guidance_scale: float = 7.5,
        long_side: int | None | str = "auto",
        seed: int = 0,
        keep_first_frame: bool = True,
        window: int | None = None,
        overlap: int | None = None,
        preview: str = "warp",
        preview_options: dict[str, Any] | None = None,
        device: str | torch.device | None = None,
        dtype: torch.dtype | str | None = None,
        progress: bool = False,
        weights: str | os.PathLike | None = None,
        guidance: float | None = None,
        options: LearnedOptions | None = None,
    ) -> None:
        if options is not None:  # the shared learned options; explicit keywords above keep priority where set
            model = model if model is not None else options.model
            device = device if device is not None else options.device
            dtype = dtype if dtype is not None else options.dtype
            steps = options.steps if options.steps is not None and steps == 25 else steps
            seed = options.seed if options.seed is not None and seed == 0 else seed
            guidance = guidance if guidance is not None else options.guidance
            progress = progress or options.progress
        model = model if model is not None else weights  # the CLI's --model arrives as weights=
        guidance_scale = float(guidance) if guidance is not None else guidance_scale
        if isinstance(dtype, str):
            dtype = LearnedOptions(dtype=dtype, device="cpu").dtype
        if not 0.0 < strength <= 1.0:
            raise InvalidInputError(f"strength must be in (0, 1], got {strength}; 0.3-0.5 keeps the warp preview's layout")
        if int(steps) != steps or steps < 1:
            raise InvalidInputError(f"steps must be a positive integer, got {steps!r}")
        if int(steps * strength) < 1:
            raise InvalidInputError(f"steps * strength must be at least 1 (one denoising step), got {steps} * {strength}")
        if long_side != "auto" and long_side is not None and (not isinstance(long_side, (int, float)) or int(long_side) != long_side or long_side < 8):
            raise InvalidInputError(f"long_side must be an integer >= 8, None or 'auto', got {long_side!r}")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.prompt, self.negative_prompt = prompt, negative_prompt
        self.strength, self.steps, self.guidance_scale = float(strength), int(steps), float(guidance_scale)
        self.long_side, self.seed, self.keep_first_frame = long_side, int(seed), bool(keep_first_frame)
        self.preview = mk.Renderer.get(preview, **dict(preview_options or {}))
        if pipeline is None:
            default = torch.float16 if self.device.type == "cuda" else torch.float32
            pipeline = load_pipeline(model, motion_adapter, dtype=dtype or default)
        # A given pipeline keeps its precision unless dtype says otherwise; .to() works in place.
        if dtype is None:
            pipeline.to(self.device)
        else:
            pipeline.to(self.device, dtype)
        self.pipeline = pipeline
        self.dtype = pipeline.dtype
        self.pipeline.set_progress_bar_config(disable=not progress)
        window = min(16, self.max_frames) if window is None else window
        if int(window) != window or not 3 <= window <= self.max_frames:
            raise InvalidInputError(
                f"window must be an integer in [3, {self.max_frames}] (frame 0 and two more, up to this motion adapter's length), "
                f"got {window!r}"
            )
        self.window = int(window)
        overlap = self.window // 4 if overlap is None else overlap
        if int(overlap) != overlap or not 0 <= overlap < self.window - 1:
            raise InvalidInputError(f"overlap must be an integer in [0, {self.window - 2}] for windows of {self.window} frames, got {overlap!r}")
        self.overlap = int(overlap)

    def __repr__(self) -> str:
        return (
            f"AnimateDiffRefineRenderer(strength={self.strength}, steps={self.steps}, "
            f"long_side={self.long_side}, preview={self.preview!r})"
        )

    @property
    def max_frames(self) -> int:
        """Most frames one motion-module pass sees: the motion adapter's positional-encoding length."""
        return int(getattr(self.pipeline.unet.config, "motion_max_seq_length", 32))

    def refine(self, frames: torch.Tensor) -> torch.Tensor:
        """Refine ``frames`` (``float32 (T, 3, H, W)`` in [0, 1]) and return them at the same size and range.

        Clips longer than ``window`` frames are refined with FreeNoise sliding windows
        (``window`` frames, a quarter-window stride), so any length works.
        """
        if frames.dim() != 4 or frames.shape[1] != 3:
            raise ShapeMismatchError(f"frames must be (T, 3, H, W) in [0, 1], got {tuple(frames.shape)}")
        size = tuple(frames.shape[-2:])
        long_side = self.long_side
        if long_side == "auto":  # SD-1.5's 512, shrinking large frames, never enlarging small ones
            long_side = None if max(size) <= AUTO_LONG_SIDE else AUTO_LONG_SIDE
        height, width = work_size(size, long_side)
        video = _resize(frames, (height, width)).to(self.device, self.dtype)
        generator = torch.Generator(device="cpu").manual_seed(self.seed)
        long_clip = frames.shape[0] > self.window
        if long_clip:
            # FreeNoise: the motion modules see overlapping windows, blended frame by frame.
            self.pipeline.enable_free_noise(context_length=self.window, context_stride=max(1, self.window // 4))
        try:
            result = self.pipeline(
                video=video[None],
                prompt=self.prompt,
                negative_prompt=self.negative_prompt if self.guidance_scale > 1 else None,
                height=height,
                width=width,
                num_inference_steps=self.steps,
                strength=self.strength,
                guidance_scale=self.guidance_scale,
                generator=generator,
                output_type="pt",
            )
        finally:
            if long_clip:
                self.pipeline.disable_free_noise()
        refined = result.frames[0].to("cpu", torch.float32)
        return _resize(refined, size)

    def render(self, image: torch.Tensor, motion: MotionField, mask: RegionMask | None = None, *, fps: float = 8.0) -> Clip:
        """Render ``image`` (``(3, H, W)`` in [0, 1]) along ``motion`` (``(T, 2, H, W)`` px) and refine it.

        Where ``mask`` (``(H, W)`` in [0, 1], 1 = may move) is 0, every frame keeps ``image``'s
        pixels, as with ``warp``. Returns a :class:`~motionkit.Clip` of T frames at ``fps``:
        refined as one clip when ``motion`` is in memory, streamed window by window (a lazy
        clip) when it is lazy.

        ``image`` shows the field's reference frame (:attr:`~motionkit.MotionField.reference`,
        usually 0): a field measured from frame ``k`` is previewed from ``image`` at frame ``k``
        and refined in time order, and with ``keep_first_frame`` frame ``k`` is ``image``
        exactly; streamed, the windows start from frame ``k`` (:class:`~motionkit.WindowRenderer`).
        """
        if motion.is_lazy:
            return super().render(image, motion, mask, fps=fps)
        preview = self.preview.render(image, motion, mask, fps=fps)
        frames = self._finish(image, self.refine(preview.to_tensor()), mask, motion.reference)
        return mk.Clip.from_array(frames, fps=fps)

    def render_window(self, image: torch.Tensor, flows: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Preview ``image (3, H, W)`` along ``flows (W, 2, H, W)`` (``flows[0]`` frame 0) and refine it -> ``(W, 3, H, W)`` in [0, 1]."""
        motion = mk.MotionField(flows)
        brush = None if mask is None else mk.RegionMask(mask)
        preview = self.preview.render(image, motion, brush)
        return self._finish(image, self.refine(preview.to_tensor()), mask)

    def _finish(self, image: torch.Tensor, frames: torch.Tensor, mask: Any, reference: int = 0) -> torch.Tensor:
        """Refined ``frames`` with ``image`` kept where the brush is 0 and, if asked, as frame ``reference``."""
        still = torch.as_tensor(image, dtype=torch.float32).cpu()
        if mask is not None:
            values = mask.values if isinstance(mask, mk.RegionMask) else mask  # a tensor's .values is another thing
            weight = torch.as_tensor(values, dtype=torch.float32).cpu()
            frames = torch.lerp(still.expand_as(frames), frames, weight)
        if self.keep_first_frame:
            frames[reference] = still
        return frames


class HandOnPredictor(mk.MotionPredictor):
    """``animatediff-sparse``: the classical ``sparse`` predictor, taking (and leaving to the renderer) the
    learned options its backend shares, so ``animate --renderer animatediff-refine --model ...`` routes them."""

    def __init__(self, **options: Any) -> None:
        from motionkit_animatediff import SHARED

        self.handed_on = {k: options.pop(k) for k in list(options) if k in SHARED}
        self.sparse = mk.MotionPredictor.get("sparse", **options)

    def predict(self, image, trajectories=(), mask=None, *, frames=None, size=None, prompt=None):
        """As ``sparse``'s :meth:`~motionkit.MotionPredictor.predict`."""
        return self.sparse.predict(image, trajectories, mask, frames=frames, size=size, prompt=prompt)
