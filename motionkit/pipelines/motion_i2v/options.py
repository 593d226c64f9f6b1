"""The options of the learned Motion-I2V components, declared once.

Built on the shared table machinery of :mod:`motionkit.learned` (:func:`~motionkit.learned.option`,
:class:`~motionkit.learned.OptionTable`), the same that :class:`~motionkit.learned.LearnedOptions`,
the options every learned renderer shares, uses; :meth:`MotionI2VOptions.learned` gives that common
view (``weights`` is its ``model``), and ``model=`` is accepted here as another name for ``weights``.

:class:`MotionI2VOptions` is the one list of what :class:`~.components.MotionI2VPredictor`
(stage 1) and :class:`~.components.MotionI2VRenderer` (stage 2) can be told: sampling,
randomness, resolution, windows, precision, placement, progress. Each field says which of the
two components takes it and whether the predictor hands it on to the renderer when both run
as one backend (:data:`MotionI2VOptions.SHARED`, what ``animate`` and the registry's backend
pair use). The components' constructor keywords are generated from these fields
(:meth:`MotionI2VOptions.keywords`), so a new option is added here and nowhere else.

Example:
    >>> options = MotionI2VOptions(steps=10, dtype="float16", device="cpu")
    >>> options.steps, options.dtype
    (10, torch.float16)
    >>> "steps" in MotionI2VOptions.SHARED and "prompt" in MotionI2VOptions.names("renderer")
    True
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import torch

from motionkit.errors import InvalidInputError
from motionkit.learned import LearnedOptions, OptionTable, option
from motionkit.pipelines.motion_i2v.conditioning import OFFICIAL_AREA, OFFICIAL_NEGATIVE_PROMPT, make_generator, working_size
from motionkit.pipelines.motion_i2v.flowgen import OFFICIAL_STRIDE_STEP, Sampling
from motionkit.pipelines.motion_i2v.weights import resolve_device, resolve_dtype
from motionkit.pipelines.motion_i2v.windows import MODEL_FRAMES

Callback = Callable[[int, int, torch.Tensor], None]
Role = Literal["predictor", "renderer"]
_BOTH: tuple[Role, ...] = ("predictor", "renderer")


def _option(default: Any, *, used_by: tuple[Role, ...] = _BOTH, shared: bool = False) -> Any:
    """A field: ``used_by`` names the components that take it; ``shared`` ones pass predictor -> renderer."""
    return option(default, used_by=used_by, shared=shared)


@dataclass(frozen=True)
class MotionI2VOptions(OptionTable):
    """Every option of the Motion-I2V predictor and renderer (official defaults).

    Values are checked and normalised on construction: ``dtype`` becomes a ``torch.dtype``,
    ``device`` a ``torch.device`` (default CUDA when available, else the CPU), ``strides`` a
    tuple. The object is immutable; ``dataclasses.replace(options, steps=50)`` gives a changed
    copy.

    Attributes:
        weights: converted weights folder (see :mod:`.weights`; default ``$MOTIONKIT_MOTION_I2V_WEIGHTS``,
            else ``~/.cache/motionkit/motion-i2v``). Shared.
        steps, guidance, negative_prompt, eta: sampling (official: 25 DDIM steps, CFG 7.0, the
            demo's negative prompt, eta 0). Shared.
        seed: a fixed seed reproduces a result (each call starts from it). Shared.
        generator: draw from this generator instead (its state advances across calls).
        resolution: working ``(H, W)``, multiples of 64; default: the image shrunk to at most
            ``max_area`` pixels (320 x 512, the training size). Both shared.
        window: frames per temporal window (16, frame 0 included); stage 1 chains longer fields
            window by window, stage 2 renders them in blended windows.
        overlap: renderer only: later frames shared by neighbouring stage-2 windows (4).
        dtype: network precision, ``"float32"`` (official), ``"float16"`` or ``"bfloat16"``;
            VAEs stay float32. Shared.
        device: where the networks run. Shared.
        cpu_offload: keep networks on the CPU, moving each to ``device`` only while it runs. Shared.
        vae_tiling: encode and decode with tiled VAEs (large resolutions). Shared.
        callback: ``callback(step, total, preview)`` after every denoising step; the predictor's
            preview is the predicted clean flow latent ``(F, 4, H/8, W/8)``, the renderer's a
            rough RGB of the predicted clean video ``(T, 3, H/8, W/8)``.
        progress: show tqdm progress bars. Shared.
        strides: predictor only: frame gaps of frames 1..T-1 (default ``stride_step, 2 * stride_step, ...``).
        stride_step: predictor only: gap between consecutive frames when ``strides`` is not given (8).
        flow_unit: predictor only: half-size in working pixels of the square each drag writes
            (default 64 at 320 x 512, scaled with the resolution).
        prompt: renderer only: text describing the video (the renderer protocol has no prompt
            argument; ``render(..., prompt=...)`` overrides it per call).
    """

    weights: str | os.PathLike | None = _option(None, shared=True)
    steps: int = _option(25, shared=True)
    guidance: float = _option(7.0, shared=True)
    negative_prompt: str | None = _option(OFFICIAL_NEGATIVE_PROMPT, shared=True)
    eta: float = _option(0.0, shared=True)
    seed: int | None = _option(None, shared=True)
    generator: torch.Generator | None = _option(None)
    resolution: tuple[int, int] | None = _option(None, shared=True)
    max_area: int = _option(OFFICIAL_AREA, shared=True)
    window: int = _option(MODEL_FRAMES)
    overlap: int = _option(4, used_by=("renderer",))
    dtype: str | torch.dtype | None = _option(None, shared=True)
    device: str | torch.device | None = _option(None, shared=True)
    cpu_offload: bool = _option(False, shared=True)
    vae_tiling: bool = _option(False, shared=True)
    callback: Callback | None = _option(None)
    progress: bool = _option(False, shared=True)
    strides: Sequence[int] | None = _option(None, used_by=("predictor",))
    stride_step: int = _option(OFFICIAL_STRIDE_STEP, used_by=("predictor",))
    flow_unit: int | None = _option(None, used_by=("predictor",))
    prompt: str = _option("", used_by=("renderer",))

    #: Options the predictor hands on to the renderer when both run as one backend.
    SHARED: ClassVar[tuple[str, ...]]
    ROLES: ClassVar[tuple[str, ...]] = _BOTH
    OWNER: ClassVar[str] = "motion-i2v"
    ALIASES: ClassVar[Mapping[str, str]] = {"model": "weights"}

    def __post_init__(self) -> None:
        if int(self.steps) < 1:
            raise InvalidInputError(f"steps must be a positive integer, got {self.steps}")
        if not np.isfinite(self.guidance):
            raise InvalidInputError(f"guidance must be a finite number, got {self.guidance}")
        if self.resolution is not None:
            working_size((64, 64), self.resolution)  # refuses a resolution that is not a multiple of 64
        normalised = {
            "steps": int(self.steps), "guidance": float(self.guidance), "eta": float(self.eta),
            "max_area": int(self.max_area), "window": int(self.window), "overlap": int(self.overlap),
            "dtype": resolve_dtype(self.dtype), "device": resolve_device(self.device),
            "cpu_offload": bool(self.cpu_offload), "vae_tiling": bool(self.vae_tiling), "progress": bool(self.progress),
            "strides": tuple(int(s) for s in self.strides) if self.strides is not None else None,
            "stride_step": int(self.stride_step),
        }
        for name, value in normalised.items():
            object.__setattr__(self, name, value)  # frozen: normalise once, here

    @classmethod
    def keywords(cls, role: str, *, skip: tuple[str, ...] = ("weights",)) -> Callable[[Callable[..., None]], Callable[..., None]]:
        """Decorate a component's ``__init__(self, weights=None, *, pipeline=None, options=None, **keywords)``
        so that its signature (``help()``, ``inspect.signature``, IDEs) lists ``role``'s options."""
        return super().keywords(role, skip=skip)

    def learned(self) -> LearnedOptions:
        """These options as the :class:`~motionkit.learned.LearnedOptions` every learned renderer shares."""
        common = {name: getattr(self, name) for name in LearnedOptions.names() if name != "model" and hasattr(self, name)}
        return LearnedOptions(model=self.weights, **common)

    def sampling(self) -> Sampling:
        """The :class:`~.flowgen.Sampling` of one call, with a generator seeded as configured."""
        return Sampling(
            steps=self.steps, guidance=self.guidance, negative_prompt=self.negative_prompt, eta=self.eta,
            generator=make_generator(self.seed, self.generator, self.device), device=self.device,
            cpu_offload=self.cpu_offload, callback=self.callback, progress=self.progress,
            window=self.window, overlap=self.overlap,
        )


MotionI2VOptions.SHARED = MotionI2VOptions.shared()
