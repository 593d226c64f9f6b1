"""Validated architecture settings of the Motion-I2V 3D UNets and ControlNet.

The official classes take ~30 keyword arguments (the SD-1.5 ``config.json`` plus the
AnimateDiff ``unet_additional_kwargs``); the tiny fixtures store them as ``init_kwargs``.
:class:`UNet3DSpec` reads exactly those names, normalises the "int or per-level list" fields,
and refuses the options the official code itself does not implement, so a model is only ever
built from a setting whose behaviour is known.

Example:
    >>> spec = UNet3DSpec.from_kwargs({"block_out_channels": [32, 64], "layers_per_block": 1,
    ...     "down_block_types": ["CrossAttnDownBlock3D", "DownBlock3D"],
    ...     "up_block_types": ["UpBlock3D", "CrossAttnUpBlock3D"], "attention_head_dim": 2})
    >>> spec.heads_per_level
    [2, 2]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, Mapping

import pydantic
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from motionkit.errors import InvalidInputError, MotionFileError

DOWN_BLOCK_TYPES = ("CrossAttnDownBlock3D", "DownBlock3D")
UP_BLOCK_TYPES = ("CrossAttnUpBlock3D", "UpBlock3D")


def _strip_res_prefix(name: str) -> str:
    # diffusers accepts "UNetResDownBlock3D" as a spelling of "DownBlock3D"; so does the official code.
    return name[7:] if name.startswith("UNetRes") else name


class UNet3DSpec(BaseModel):
    """The architecture of one Motion-I2V UNet (stage 1, stage 2) or its ControlNet.

    Field names and meanings are those of the official constructors. Two of them keep their
    old-diffusers meaning: ``attention_head_dim`` is the number of heads per level (head width
    = channels / heads), and ``motion_module_resolutions`` lists the down-sampling factors
    (1, 2, 4, 8) whose levels get temporal modules. Up level ``i`` has factor ``2**(3-i)``, as
    in the official code.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    in_channels: int = 4
    out_channels: int = 4
    center_input_sample: bool = False
    flip_sin_to_cos: bool = True
    freq_shift: int = 0
    down_block_types: tuple[str, ...] = (
        "CrossAttnDownBlock3D", "CrossAttnDownBlock3D", "CrossAttnDownBlock3D", "DownBlock3D")
    mid_block_type: Literal["UNetMidBlock3DCrossAttn"] = "UNetMidBlock3DCrossAttn"
    up_block_types: tuple[str, ...] = (
        "UpBlock3D", "CrossAttnUpBlock3D", "CrossAttnUpBlock3D", "CrossAttnUpBlock3D")
    block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280)
    layers_per_block: int = 2
    downsample_padding: int = 1
    mid_block_scale_factor: float = 1.0
    act_fn: Literal["silu", "swish", "mish"] = "silu"
    norm_num_groups: int = 32
    norm_eps: float = 1e-5
    cross_attention_dim: int = 1280
    attention_head_dim: int | tuple[int, ...] = 8
    use_linear_projection: bool = False
    upcast_attention: bool = False
    resnet_time_scale_shift: Literal["default", "scale_shift"] = "default"
    use_inflated_groupnorm: bool = False
    use_motion_module: bool = False
    motion_module_resolutions: tuple[int, ...] = (1, 2, 4, 8)
    motion_module_mid_block: bool = False
    motion_module_decoder_only: bool = False
    motion_module_type: str | None = None
    motion_module_kwargs: dict[str, Any] = {}
    # Accepted for compatibility; the official spatial block ignores it when cross-frame
    # attention is off (the only setting implemented), so it changes nothing.
    only_cross_attention: bool | tuple[bool, ...] = False
    # Options the official code carries but never implements or uses; refused unless off.
    dual_cross_attention: bool = False
    class_embed_type: str | None = None
    num_class_embeds: int | None = None
    unet_use_cross_frame_attention: bool | None = None
    unet_use_temporal_attention: bool | None = None

    @field_validator("down_block_types", "up_block_types", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return tuple(_strip_res_prefix(v) for v in value) if isinstance(value, (list, tuple)) else value

    @model_validator(mode="after")
    def _check(self) -> "UNet3DSpec":
        levels = len(self.block_out_channels)
        problems = []
        if len(self.down_block_types) != levels:
            problems.append(f"{len(self.down_block_types)} down_block_types for {levels} block_out_channels")
        if self.up_block_types and len(self.up_block_types) != levels:
            problems.append(f"{len(self.up_block_types)} up_block_types for {levels} block_out_channels")
        bad = [t for t in self.down_block_types if t not in DOWN_BLOCK_TYPES]
        bad += [t for t in self.up_block_types if t not in UP_BLOCK_TYPES]
        if bad:
            problems.append(f"unknown block types {bad} (known: {DOWN_BLOCK_TYPES + UP_BLOCK_TYPES})")
        if not isinstance(self.attention_head_dim, int) and len(self.attention_head_dim) != levels:
            problems.append(f"{len(self.attention_head_dim)} attention_head_dim entries for {levels} levels")
        for channels, heads in zip(self.block_out_channels, self.heads_per_level):
            if heads <= 0 or channels % heads:
                problems.append(f"{channels} channels cannot be split into {heads} heads")
            if channels % self.norm_num_groups:
                problems.append(f"{channels} channels are not divisible by norm_num_groups={self.norm_num_groups}")
        if self.use_motion_module and self.motion_module_type != "Vanilla":
            problems.append(f"motion_module_type {self.motion_module_type!r} (only 'Vanilla' exists)")
        if self.downsample_padding < 1:
            problems.append("downsample_padding=0 (the official downsampler implements only padding >= 1)")
        if self.dual_cross_attention:
            problems.append("dual_cross_attention=True (not implemented by the official code either)")
        if self.class_embed_type is not None or self.num_class_embeds is not None:
            problems.append("class embeddings (Motion-I2V has none; set class_embed_type and num_class_embeds to null)")
        if self.unet_use_cross_frame_attention or self.unet_use_temporal_attention:
            problems.append("unet_use_cross_frame_attention / unet_use_temporal_attention=True "
                            "(Motion-I2V uses motion modules instead; set them to false)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def heads_per_level(self) -> list[int]:
        """Attention heads of the spatial transformers at each down level (up levels reverse it)."""
        if isinstance(self.attention_head_dim, int):
            return [self.attention_head_dim] * len(self.block_out_channels)
        return list(self.attention_head_dim)

    @property
    def time_embed_dim(self) -> int:
        """Width of the time (and stride) embedding: 4 x the first level's channels."""
        return 4 * self.block_out_channels[0]

    def down_has_motion(self, level: int) -> bool:
        """Whether down level ``level`` carries temporal modules."""
        return (self.use_motion_module and 2**level in self.motion_module_resolutions
                and not self.motion_module_decoder_only)

    def up_has_motion(self, level: int) -> bool:
        """Whether up level ``level`` (0 = deepest) carries temporal modules."""
        return self.use_motion_module and 2 ** (3 - level) in self.motion_module_resolutions

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> "UNet3DSpec":
        """Validate official constructor keywords; unknown keys (e.g. ``sample_size``) are ignored.

        Raises:
            InvalidInputError: a value is out of range or an option is not implemented.
        """
        try:
            return cls.model_validate(dict(kwargs))
        except pydantic.ValidationError as exc:
            raise InvalidInputError(
                f"Unsupported Motion-I2V UNet configuration: {exc}. Expected the keyword arguments of "
                "the official UNet3DConditionModel (see tiny/stage1_unet_config.json); fix the "
                "listed fields.") from None


def read_official_config(path: str | Path) -> dict[str, Any]:
    """Read the constructor keywords from an official-style config JSON.

    Accepts the fixture layout (``{"init_kwargs": ...}`` or ``{"resolved_config": ...}``) and a
    plain diffusers ``config.json`` (keys starting with ``_`` are dropped).

    Args:
        path: the JSON file.

    Returns:
        dict of constructor keyword arguments.

    Raises:
        MotionFileError: the file is missing or not a JSON object.

    Example:
        >>> kw = read_official_config("tiny/stage1_unet_config.json")  # doctest: +SKIP
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise MotionFileError(f"Cannot read model config {path}: {exc}. Expected a JSON file "
                              "with 'init_kwargs' or diffusers config fields.") from None
    if not isinstance(data, dict):
        raise MotionFileError(f"Model config {path} holds {type(data).__name__}, expected a JSON object.")
    for section in ("init_kwargs", "resolved_config"):
        if isinstance(data.get(section), dict):
            return dict(data[section])
    return {k: v for k, v in data.items() if not k.startswith("_")}
