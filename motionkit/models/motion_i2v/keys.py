"""Key maps from the official Motion-I2V checkpoints to motionkit's models, and their checks.

motionkit's UNets, ControlNet and motion modules use the official parameter names, so most
maps are the identity. The differences are:

* ``stage1_combined``: the official app attaches the ControlNet to the stage-1 UNet
  (``unet.controlnet = controlnet``) and loads both checkpoint files into that combined
  module, so ControlNet keys carry the prefix ``controlnet.``. motionkit keeps the two
  networks apart: :func:`split_stage1` separates them and strips the prefix.
* ``flow_vae`` / ``image_vae``: diffusers 0.11.1 named the VAE mid-block attention
  ``query``/``key``/``value``/``proj_attn``; current diffusers uses
  ``to_q``/``to_k``/``to_v``/``to_out.0``. Attention weights stored as 1x1 convolutions
  (``(O, I, 1, 1)``) are flattened to ``(O, I)``.

:func:`check_keys_full` checks every map against the full-size key lists of the release
(``keys_full.json`` in the official fixtures), building motionkit's models on the meta device.

Example:
    >>> motionkit_key("flow_vae", "decoder.mid_block.attentions.0.proj_attn.bias")
    'decoder.mid_block.attentions.0.to_out.0.bias'
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import torch
from torch import nn

from motionkit.errors import CheckpointMismatchError, InvalidInputError, MotionFileError

__all__ = [
    "KIND_NAMES",
    "CONTROLNET_PREFIX",
    "motionkit_key",
    "split_stage1",
    "diff_keys",
    "KeyCheck",
    "check_keys_full",
    "build_meta_model",
    "release_shapes",
    "OFFICIAL_UNET_ADDITIONAL_KWARGS",
    "BLOCKS_3D",
    "SD15_UNET_CONFIG",
    "SD15_VAE_CONFIG",
    "constructor_kwargs",
    "mismatch_message",
    "raise_on_mismatch",
]

KIND_NAMES: tuple[str, ...] = (
    "stage1_unet", "controlnet", "stage1_combined", "stage2_unet", "motion_modules", "flow_vae", "image_vae")

#: ``unet_additional_kwargs`` of ``configs/configs_flowgen/inference/inference.yaml``; the
#: official app uses them for both stages (the animation yaml has the same values).
OFFICIAL_UNET_ADDITIONAL_KWARGS: dict[str, Any] = {
    "use_inflated_groupnorm": True,
    "unet_use_cross_frame_attention": False,
    "unet_use_temporal_attention": False,
    "use_motion_module": True,
    "motion_module_resolutions": [1, 2, 4, 8],
    "motion_module_mid_block": True,
    "motion_module_decoder_only": False,
    "motion_module_type": "Vanilla",
    "motion_module_kwargs": {
        "num_attention_heads": 8,
        "num_transformer_block": 1,
        "attention_block_types": ["Temporal_Self", "Temporal_Self"],
        "temporal_position_encoding": True,
        "temporal_position_encoding_max_len": 32,
        "temporal_attention_dim_div": 1,
    },
}

#: The 3D block types the official ``from_config_2d`` / ``from_pretrained_2d`` force.
BLOCKS_3D: dict[str, list[str]] = {
    "down_block_types": ["CrossAttnDownBlock3D", "CrossAttnDownBlock3D", "CrossAttnDownBlock3D", "DownBlock3D"],
    "up_block_types": ["UpBlock3D", "CrossAttnUpBlock3D", "CrossAttnUpBlock3D", "CrossAttnUpBlock3D"],
}

#: The stock SD-1.5 UNet config both released UNets start from (stage 1: 8 in / 4 out).
SD15_UNET_CONFIG: dict[str, Any] = {
    "sample_size": 64, "in_channels": 4, "out_channels": 4, "center_input_sample": False,
    "flip_sin_to_cos": True, "freq_shift": 0, "block_out_channels": [320, 640, 1280, 1280],
    "layers_per_block": 2, "downsample_padding": 1, "mid_block_scale_factor": 1, "act_fn": "silu",
    "norm_num_groups": 32, "norm_eps": 1e-5, "cross_attention_dim": 768, "attention_head_dim": 8,
}

#: The stock SD-1.5 VAE config (the flow VAE is the same with 2 input and output channels).
SD15_VAE_CONFIG: dict[str, Any] = {
    "in_channels": 3, "out_channels": 3, "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4, "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2, "act_fn": "silu", "latent_channels": 4, "norm_num_groups": 32, "sample_size": 512,
}

#: Prefix of the ControlNet's keys in the official combined stage-1 state dict.
CONTROLNET_PREFIX = "controlnet."

_VAE_ATTENTION = re.compile(r"(\.attentions\.\d+\.)(query|key|value|proj_attn)(\.(?:weight|bias))$")
_VAE_RENAMES = {"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}

Shape = tuple[int, ...]


def motionkit_key(kind: str, key: str) -> str:
    """The motionkit name of official key ``key`` in a checkpoint of ``kind``.

    Kinds: ``stage1_unet``, ``controlnet``, ``stage2_unet``, ``motion_modules`` (identity),
    ``stage1_combined`` (ControlNet keys keep their ``controlnet.`` prefix here; see
    :func:`split_stage1`), ``flow_vae`` and ``image_vae`` (old attention names renamed).

    Example:
        >>> motionkit_key("stage2_unet", "mid_block.motion_modules.0.temporal_transformer.norm.weight")
        'mid_block.motion_modules.0.temporal_transformer.norm.weight'
    """
    if kind not in KIND_NAMES:
        raise InvalidInputError(f"unknown checkpoint kind {kind!r}; expected one of {KIND_NAMES}")
    if kind in ("flow_vae", "image_vae"):
        return _VAE_ATTENTION.sub(lambda m: m.group(1) + _VAE_RENAMES[m.group(2)] + m.group(3), key)
    return key


def split_stage1(state_dict: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split an official combined stage-1 state dict into (UNet, ControlNet) dicts.

    Keys starting with ``controlnet.`` go to the ControlNet without that prefix; all others
    belong to the UNet.

    Example:
        >>> unet, net = split_stage1({"conv_in.weight": 1, "controlnet.conv_in.weight": 2})
        >>> unet, net
        ({'conv_in.weight': 1}, {'conv_in.weight': 2})
    """
    unet: dict[str, Any] = {}
    controlnet: dict[str, Any] = {}
    for key, value in state_dict.items():
        if key.startswith(CONTROLNET_PREFIX):
            controlnet[key[len(CONTROLNET_PREFIX):]] = value
        else:
            unet[key] = value
    return unet, controlnet


def diff_keys(
    got: Mapping[str, Shape], expected: Mapping[str, Shape]
) -> tuple[list[str], list[str], list[tuple[str, Shape, Shape]]]:
    """Compare two ``{key: shape}`` maps: ``(missing, extra, shape_mismatches)``.

    ``missing`` are expected keys absent from ``got``; ``extra`` are keys of ``got`` that are not
    expected; a mismatch is ``(key, got_shape, expected_shape)``.

    Example:
        >>> diff_keys({"a": (1,), "b": (2,)}, {"a": (3,), "c": (1,)})
        (['c'], ['b'], [('a', (1,), (3,))])
    """
    missing = [k for k in expected if k not in got]
    extra = [k for k in got if k not in expected]
    mismatched = [(k, tuple(got[k]), tuple(expected[k])) for k in expected if k in got and tuple(got[k]) != tuple(expected[k])]
    return missing, extra, mismatched


def mismatch_message(what: str, missing: list[str], extra: list[str], mismatched: list[tuple[str, Shape, Shape]]) -> str:
    """One readable message naming every missing key, extra key and shape mismatch."""
    parts = [f"{what} does not match the model:"]
    if missing:
        parts.append(f"  {len(missing)} missing key(s): " + ", ".join(missing))
    if extra:
        parts.append(f"  {len(extra)} unexpected key(s): " + ", ".join(extra))
    if mismatched:
        parts.append(f"  {len(mismatched)} shape mismatch(es): "
                     + ", ".join(f"{k} {list(a)} (expected {list(b)})" for k, a, b in mismatched))
    parts.append("  Check that the file comes from the official release (HuggingFace wangfuyun/Motion-I2V) "
                 "and is complete.")
    return "\n".join(parts)


def raise_on_mismatch(what: str, got: Mapping[str, Shape], expected: Mapping[str, Shape]) -> None:
    """Raise :class:`CheckpointMismatchError` naming every difference, if there is any."""
    missing, extra, mismatched = diff_keys(got, expected)
    if missing or extra or mismatched:
        raise CheckpointMismatchError(mismatch_message(what, missing, extra, mismatched))


def constructor_kwargs(cls: type, config: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of an official config that ``cls``'s constructor takes (others, such as
    ``_class_name`` or options of a newer diffusers, are dropped as ``from_config`` drops them).

    Example:
        >>> constructor_kwargs(torch.nn.Linear, {"in_features": 2, "out_features": 3, "_class_name": "x"})
        {'in_features': 2, 'out_features': 3}
    """
    names = set(inspect.signature(cls.__init__).parameters) - {"self"}
    return {k: v for k, v in config.items() if k in names}


def build_meta_model(section: str, config: Mapping[str, Any]) -> nn.Module:
    """Build motionkit's model for a ``keys_full.json`` section on the meta device (no memory).

    Example:
        >>> build_meta_model("flow_vae", {"in_channels": 2, "out_channels": 2})  # doctest: +SKIP
    """
    from diffusers import AutoencoderKL

    from .controlnet import FlowControlNetModel
    from .unet import AnimationUNet3DConditionModel, FlowUNet3DConditionModel

    classes: dict[str, Callable[..., nn.Module]] = {
        "stage1_unet": FlowUNet3DConditionModel,
        "stage1_controlnet": FlowControlNetModel,
        "stage2_unet": AnimationUNet3DConditionModel,
        "flow_vae": AutoencoderKL,
        "image_vae_sd15": AutoencoderKL,
    }
    cls = classes[section]
    with torch.device("meta"):
        return cls(**constructor_kwargs(cls, config))  # type: ignore[arg-type]


def _shapes(module: nn.Module) -> dict[str, Shape]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


@functools.lru_cache(maxsize=None)
def _release_shapes(kind: str) -> tuple[tuple[str, Shape], ...]:
    stage1 = {**SD15_UNET_CONFIG, "in_channels": 8, **BLOCKS_3D, **OFFICIAL_UNET_ADDITIONAL_KWARGS}
    stage2 = {**SD15_UNET_CONFIG, **BLOCKS_3D, **OFFICIAL_UNET_ADDITIONAL_KWARGS}
    if kind in ("stage1_unet", "controlnet", "stage1_combined"):
        from .controlnet import FlowControlNetModel

        unet = build_meta_model("stage1_unet", stage1)
        with torch.device("meta"):
            controlnet = FlowControlNetModel.from_unet(unet, load_weights_from_unet=False)
        shapes = {"stage1_unet": _shapes(unet), "controlnet": _shapes(controlnet),
                  "stage1_combined": {**_shapes(unet), **{CONTROLNET_PREFIX + k: v for k, v in _shapes(controlnet).items()}}}[kind]
    elif kind in ("stage2_unet", "motion_modules"):
        shapes = _shapes(build_meta_model("stage2_unet", stage2))
        if kind == "motion_modules":
            shapes = {k: v for k, v in shapes.items() if ".motion_modules." in k}
    else:
        channels = 2 if kind == "flow_vae" else 3
        shapes = _shapes(build_meta_model("flow_vae", {**SD15_VAE_CONFIG, "in_channels": channels, "out_channels": channels}))
    return tuple(shapes.items())


def release_shapes(kind: str) -> dict[str, Shape]:
    """``{motionkit key: shape}`` of the full-size released network of ``kind`` (built on meta).

    ``motion_modules`` is the stage-2 UNet's motion-module part (what ``motion_block.bin``
    holds); ``stage1_combined`` the stage-1 UNet plus its ``controlnet.``-prefixed ControlNet.

    Example:
        >>> release_shapes("flow_vae")["encoder.conv_in.weight"]
        (128, 2, 3, 3)
    """
    if kind not in KIND_NAMES:
        raise InvalidInputError(f"unknown checkpoint kind {kind!r}; expected one of {KIND_NAMES}")
    return dict(_release_shapes(kind))


@dataclass
class KeyCheck:
    """The result of checking one official key list against motionkit's model.

    ``ok`` is true when every official key was consumed (mapped to a model key with the same
    shape) and every model key was provided.
    """

    section: str
    kind: str
    official_keys: int
    model_keys: int
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    shape_mismatches: list[tuple[str, Shape, Shape]] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.shape_mismatches)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly record (with ``ok``)."""
        return {**asdict(self), "ok": self.ok}


def _mapped(kind: str, entries: Iterable[Mapping[str, Any]]) -> dict[str, Shape]:
    out: dict[str, Shape] = {}
    for entry in entries:
        key = motionkit_key(kind, entry["key"])
        if key in out:
            raise CheckpointMismatchError(f"two official keys map onto {key!r} ({kind}); the key map is not one-to-one")
        out[key] = tuple(entry["shape"])
    return out


def _record(section: str, kind: str, got: Mapping[str, Shape], expected: Mapping[str, Shape], note: str = "") -> KeyCheck:
    missing, extra, mismatched = diff_keys(got, expected)
    return KeyCheck(section, kind, len(got), len(expected), missing, extra, mismatched, note)


def check_keys_full(path: str | Path) -> list[KeyCheck]:
    """Check every official full-size key list in ``keys_full.json`` against motionkit's models.

    For each section the official keys are mapped (:func:`motionkit_key`) and compared, name by
    name and shape by shape, with the state dict of motionkit's model built from the section's
    config on the meta device. Sections: ``stage1_unet``, ``stage1_controlnet``,
    ``stage1_unet_with_controlnet_attached`` (split into UNet + ControlNet),
    ``stage2_unet``, ``stage2_motion_block_bin`` (must equal the stage-2 model's motion-module
    keys), ``flow_vae`` and ``image_vae_sd15`` (old attention names renamed).

    Args:
        path: ``keys_full.json``.

    Returns:
        One :class:`KeyCheck` per section; all ``ok`` means the conversion consumes every
        official key and fills every model key with the right shape.

    Raises:
        MotionFileError: the file is missing or not the expected JSON.

    Example:
        >>> all(r.ok for r in check_keys_full("fixtures/motion_i2v_official/keys_full.json"))  # doctest: +SKIP
        True
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        stage1, controlnet, stage2 = data["stage1_unet"], data["stage1_controlnet"], data["stage2_unet"]
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        raise MotionFileError(f"cannot read the official key lists from {path}: {exc!r}; expected the fixtures' "
                              "keys_full.json") from None

    records = []
    unet_model = _shapes(build_meta_model("stage1_unet", stage1["resolved_config"]))
    control_model = _shapes(build_meta_model("stage1_controlnet", controlnet["resolved_config"]))
    stage2_model = _shapes(build_meta_model("stage2_unet", stage2["resolved_config"]))
    records.append(_record("stage1_unet", "stage1_unet", _mapped("stage1_unet", stage1["keys"]), unet_model))
    records.append(_record("stage1_controlnet", "controlnet", _mapped("controlnet", controlnet["keys"]), control_model))

    combined = data.get("stage1_unet_with_controlnet_attached", {})
    if combined.get("key_order"):
        # The combined list holds names only; shapes come from the two separate lists.
        shapes = {**{k["key"]: tuple(k["shape"]) for k in stage1["keys"]},
                  **{CONTROLNET_PREFIX + k["key"]: tuple(k["shape"]) for k in controlnet["keys"]}}
        unknown = [k for k in combined["key_order"] if k not in shapes]
        unet_part, control_part = split_stage1({k: shapes.get(k, ()) for k in combined["key_order"]})
        both = _record("stage1_unet_with_controlnet_attached", "stage1_combined",
                       {**unet_part, **{CONTROLNET_PREFIX + k: v for k, v in control_part.items()}},
                       {**unet_model, **{CONTROLNET_PREFIX + k: v for k, v in control_model.items()}},
                       note="split into UNet and ControlNet by the 'controlnet.' prefix")
        both.extra += [k for k in unknown if k not in both.extra]
        records.append(both)

    records.append(_record("stage2_unet", "stage2_unet", _mapped("stage2_unet", stage2["keys"]), stage2_model))
    motion_model = {k: v for k, v in stage2_model.items() if ".motion_modules." in k}
    records.append(_record("stage2_motion_block_bin", "motion_modules",
                           _mapped("motion_modules", data["stage2_motion_block_bin"]["keys"]), motion_model,
                           note="compared with the motion-module keys of the stage-2 model"))
    for section, kind in (("flow_vae", "flow_vae"), ("image_vae_sd15", "image_vae")):
        if section in data:
            config = data[section].get("resolved_config") or data[section]["config"]
            model = _shapes(build_meta_model(section, config))
            records.append(_record(section, kind, _mapped(kind, data[section]["keys"]), model))
    return records
