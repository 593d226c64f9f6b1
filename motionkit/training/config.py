"""Training settings as pydantic models, loadable from YAML.

One :class:`TrainConfig` describes a run of one of the four Motion-I2V training tasks:

- ``flow-vae``: the 2-channel flow autoencoder (reconstruction + KL);
- ``stage1``: the flow UNet's temporal modules (epsilon prediction on flow latents);
- ``controlnet``: the stage-1 ControlNet, conditioned on random sparse blocks of the flow;
- ``stage2``: the stage-2 UNet's flow-augmented temporal modules (video latents).

The defaults follow the official configs (``configs/*/training/*.yaml`` of G-U-N/Motion-I2V):
learning rate 3e-5, gradient clipping 5, the linear DDIM noise schedule, frame stride 8,
16 frames; sizes are smaller than the official 320x512 only where a test says so.

Example:
    >>> cfg = TrainConfig(task="controlnet", output_dir="runs/ctrl", data={"folder": "videos"})
    >>> cfg.trainable_modules
    ['controlnet.']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from motionkit.errors import InvalidInputError, MotionFileError

Task = Literal["flow-vae", "stage1", "controlnet", "stage2"]
TASKS: tuple[str, ...] = ("flow-vae", "stage1", "controlnet", "stage2")

#: What each task trains unless ``trainable_modules`` says otherwise (substrings of parameter names).
DEFAULT_TRAINABLE = {
    "flow-vae": [""],
    "stage1": ["motion_modules."],
    "controlnet": ["controlnet."],
    "stage2": ["motion_modules."],
}


class DataConfig(BaseModel):
    """Where the videos are and how clips are sampled from them.

    Attributes:
        folder: a folder of videos, each with a caption file of the same stem (``clip.mp4`` +
            ``clip.txt``; a missing caption means the empty prompt).
        size: (H, W) the frames are resized to (multiples of 64 for the UNets).
        frames: frames per sample, frame 0 included.
        stride: frame gap between sampled frames; an int, or ``[min, max]`` for a random gap
            per sample (the stride embedding learns the gap, as in the paper).
        flow_estimator: registry name of the FlowEstimator that labels the flow from frame 0 to
            every sampled frame (``"dis"``, OpenCV DIS, by default; the paper used DOT).
        flow_cache: folder for the cached flow labels (default ``<folder>/.flow_cache``).

    Example:
        >>> DataConfig(folder="videos", stride=[2, 6]).stride_range
        (2, 6)
    """

    model_config = ConfigDict(extra="forbid")

    folder: Path
    size: tuple[int, int] = (320, 512)
    frames: int = Field(16, ge=2)
    stride: int | tuple[int, int] = 8
    flow_estimator: str = "dis"
    flow_cache: Path | None = None

    @field_validator("stride")
    @classmethod
    def _stride(cls, value):
        low, high = (value, value) if isinstance(value, int) else value
        if low < 1 or high < low:
            raise ValueError(f"stride must be >= 1 (or [min, max] with 1 <= min <= max), got {value}")
        return value

    @property
    def stride_range(self) -> tuple[int, int]:
        """``(min, max)`` frame gap."""
        return (self.stride, self.stride) if isinstance(self.stride, int) else tuple(self.stride)  # type: ignore[return-value]


class TrainConfig(BaseModel):
    """One training run. See the module docs for the tasks.

    Attributes:
        task: which network is trained.
        output_dir: checkpoints (``checkpoints/step-N``) and ``loss.jsonl`` go here.
        pretrained: converted Motion-I2V (or SD-1.5-layout) folder to start from; None builds
            fresh networks from ``model`` (tests).
        steps: total optimisation steps (a resumed run continues up to this number).
        batch_size: clips per step on each device.
        gradient_accumulation_steps: steps whose gradients add up before one optimiser update.
        learning_rate: AdamW learning rate.
        adam_weight_decay: AdamW weight decay.
        max_grad_norm: gradients are clipped to this global norm.
        mixed_precision: ``"no"``, ``"fp16"`` or ``"bf16"`` (HuggingFace accelerate).
        checkpointing_steps: save a resumable checkpoint every that many steps (and at the end).
        resume: continue from the latest checkpoint in ``output_dir`` if there is one.
        trainable_modules: substrings of the parameter names to train (task default if None).
        null_text_ratio: probability of an empty caption (classifier-free guidance training).
        sparse_ratio_max: the ControlNet's block mask keeps ``U(0, max)`` of the 8x8 blocks.
        kl_weight: weight of the flow VAE's KL term.
        seed: seeds the networks' initialisation, the data order and the noise.
        log_every: write a ``loss.jsonl`` line every that many steps.
        num_workers: data-loader worker processes (0 reads in the training process).
        log_samples: every process appends ``{"step", "process", "videos"}`` to
            ``samples-<process>.jsonl`` in ``output_dir``: the clips (file names) of its data
            shard it trained on at each step (``accelerate launch`` runs shard the data).

    Example:
        >>> TrainConfig(task="stage2", output_dir="out", data={"folder": "videos"}).steps
        1000
    """

    model_config = ConfigDict(extra="forbid")

    task: Task
    output_dir: Path
    data: DataConfig
    pretrained: Path | None = None
    steps: int = Field(1000, ge=1)
    batch_size: int = Field(1, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    learning_rate: float = Field(3e-5, gt=0)
    adam_weight_decay: float = 1e-2
    max_grad_norm: float = 5.0
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    checkpointing_steps: int = Field(2000, ge=1)
    resume: bool = True
    trainable_modules: list[str] | None = None
    null_text_ratio: float = Field(0.1, ge=0, le=1)
    sparse_ratio_max: float = Field(0.5, gt=0, le=1)
    kl_weight: float = 1e-6
    seed: int = 42
    log_every: int = Field(1, ge=1)
    num_workers: int = 0
    log_samples: bool = False

    @model_validator(mode="after")
    def _defaults(self) -> "TrainConfig":
        if self.trainable_modules is None:
            self.trainable_modules = list(DEFAULT_TRAINABLE[self.task])
        return self

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, **overrides) -> "TrainConfig":
        """Read a YAML file (keys as the attributes; ``overrides`` win, e.g. ``task=``)."""
        import yaml

        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise MotionFileError(f"cannot read training config {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise MotionFileError(f"training config {path} must be a mapping of settings, got {type(data).__name__}")
        try:
            return cls(**{**data, **overrides})
        except ValueError as exc:
            raise InvalidInputError(f"training config {path} is invalid: {exc}") from exc
