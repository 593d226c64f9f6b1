"""Convert the official Motion-I2V release into motionkit's safetensors layout.

The release (HuggingFace ``wangfuyun/Motion-I2V``) is a folder of diffusers-0.11-era pickles
that the official app loads with ``strict=False`` into models it assembles at start-up.
:func:`convert_official` repeats that assembly file by file, but strictly: every key of every
file must land on a parameter of the same shape, and every parameter must be filled; any
leftover or gap raises :class:`~motionkit.errors.CheckpointMismatchError` naming it. The one
tolerated gap is a missing ``pos_encoder.pe`` table, which is a fixed function of its shape
and is filled exactly as the official constructor fills it. ``realistic_unet.ckpt`` is
expected with diffusers UNet names (the official app loads it straight into the UNet); if it
is an LDM-format checkpoint instead (``model.diffusion_model.*``), which the official
``strict=False`` load would silently skip, its UNet is converted with diffusers'
single-file converter and applied.

Pickles are read only with ``torch.load(..., weights_only=True)`` (tensors, no code; the
readers are in :mod:`.release`); everything is written as safetensors plus ``config.json`` per component, in the flat layout
that :mod:`motionkit.pipelines.motion_i2v.weights` loads:

======================  ============================================================
``stage1_unet/``        :class:`~.unet.FlowUNet3DConditionModel` (flow generation)
``controlnet/``         :class:`~.controlnet.FlowControlNetModel` (trajectories + brush)
``flow_vae/``           2-channel ``AutoencoderKL`` (current diffusers names)
``image_vae/``          SD-1.5 ``AutoencoderKL`` that encodes the reference image (stage 1)
``stage2_unet/``        :class:`~.unet.AnimationUNet3DConditionModel` (SD-1.5 + motion
                        modules + RealisticVision UNet, applied in the official order)
``stage2_vae/``         the RealisticVision VAE (converted from its LDM checkpoint)
``text_encoder/``       CLIP text encoder and ``tokenizer/`` (stage 1's; stage 2's is
                        written to ``stage2_text_encoder/`` / ``stage2_tokenizer/`` only
                        if it differs)
``motion_i2v.json``     manifest: format, version, the parts written
======================  ============================================================

Example:
    >>> convert_official("Motion-I2V", "motion-i2v-converted")   # doctest: +SKIP
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping

import torch
from torch import nn

from motionkit.errors import CheckpointMismatchError, InvalidInputError
from motionkit.io.atomic import atomic_dir

from .keys import (
    BLOCKS_3D,
    KIND_NAMES,
    OFFICIAL_UNET_ADDITIONAL_KWARGS,
    constructor_kwargs,
    mismatch_message,
    motionkit_key,
    raise_on_mismatch,
    release_shapes,
    split_stage1,
)
from .release import (
    check_present,
    copy_hf_folder,
    existing,
    load_official_file,
    official_paths,
    read_config,
    same_text_model,
)
from .temporal_attention import SinusoidalPositionalEncoding

__all__ = [
    "CONVERTED_LAYOUT",
    "STAGE2_TEXT_LAYOUT",
    "OFFICIAL_UNET_ADDITIONAL_KWARGS",
    "convert_official",
    "convert_state_dict",
    "load_official_file",
    "official_paths",
]

#: Sub-folders of a converted folder, by component.
CONVERTED_LAYOUT: dict[str, str] = {
    "stage1_unet": "stage1_unet",
    "controlnet": "controlnet",
    "flow_vae": "flow_vae",
    "image_vae": "image_vae",
    "stage2_unet": "stage2_unet",
    "stage2_vae": "stage2_vae",
    "text_encoder": "text_encoder",
    "tokenizer": "tokenizer",
}
#: Written only when stage 2's text model differs from stage 1's.
STAGE2_TEXT_LAYOUT: dict[str, str] = {"stage2_text_encoder": "stage2_text_encoder", "stage2_tokenizer": "stage2_tokenizer"}

_MANIFEST = "motion_i2v.json"
Progress = Callable[[str], None]


def _as_shapes(expected: nn.Module | Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    items = expected.state_dict().items() if isinstance(expected, nn.Module) else expected.items()
    return {k: tuple(getattr(v, "shape", v)) for k, v in items}


def _fit_attention_conv(value: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    # Some VAE checkpoints store the mid-block attention projections as 1x1 convolutions.
    if value.dim() == 4 and len(shape) == 2 and tuple(value.shape[2:]) == (1, 1) and tuple(value.shape[:2]) == shape:
        return value[:, :, 0, 0]
    return value


def convert_state_dict(
    kind: str,
    official: Mapping[str, torch.Tensor],
    expected: nn.Module | Mapping[str, Any] | Literal["release"] | None = "release",
    *,
    what: str | None = None,
) -> dict[str, torch.Tensor]:
    """Rename an official state dict to motionkit's names and check it against a model.

    Args:
        kind: one of ``stage1_unet``, ``controlnet``, ``stage1_combined``, ``stage2_unet``,
            ``motion_modules``, ``flow_vae``, ``image_vae`` (see :mod:`.keys`).
        official: the official ``{key: tensor}``.
        expected: the target model or ``{key: shape}``; ``"release"`` (default) means the
            full-size released architecture of ``kind`` (:func:`.keys.release_shapes`);
            ``None`` only renames. The result must hold exactly the expected keys and shapes.
        what: how to name the checkpoint in error messages.

    Returns:
        ``{motionkit_key: tensor}`` (tensors are not copied).

    Raises:
        CheckpointMismatchError: naming every missing key, unexpected key and shape mismatch.

    Example:
        >>> sd = convert_state_dict("flow_vae", torch.load("vae_flow.bin", weights_only=True), vae)  # doctest: +SKIP
    """
    if kind not in KIND_NAMES:
        raise InvalidInputError(f"unknown checkpoint kind {kind!r}; expected one of {KIND_NAMES}")
    if isinstance(expected, str):
        if expected != "release":
            raise InvalidInputError(f"expected must be a model, a {{key: shape}} map, 'release' or None, got {expected!r}")
        expected = release_shapes(kind)
    shapes = _as_shapes(expected) if expected is not None else None
    out: dict[str, torch.Tensor] = {}
    for key, value in official.items():
        new = motionkit_key(kind, key)
        if new in out:
            raise CheckpointMismatchError(f"{what or kind}: two keys map onto {new!r}")
        out[new] = _fit_attention_conv(value, shapes[new]) if shapes and new in shapes else value
    if shapes is not None:
        raise_on_mismatch(what or f"the {kind} checkpoint", {k: tuple(v.shape) for k, v in out.items()}, shapes)
    return out


def _read_in_turn(*sources: Path | tuple[Path, Callable[[Path], dict[str, torch.Tensor]]]) -> Iterator[tuple[str, dict]]:
    """Yield ``(path, state dict)`` one file at a time, so only one file is in memory at once."""
    for source in sources:
        path, read = source if isinstance(source, tuple) else (source, load_official_file)
        yield str(path), read(path)


def _overlay(
    what: str, files: Iterable[tuple[str, Mapping[str, torch.Tensor]]], shapes: Mapping[str, tuple[int, ...]],
    kind: str, say: Progress,
) -> dict[str, torch.Tensor]:
    """Apply checkpoints in order like successive ``load_state_dict(strict=False)``, but strictly.

    Every key of every file must be a model key of the right shape; after the last file every
    model key must be set, except ``pos_encoder.pe`` tables, which are recomputed.
    """
    merged: dict[str, torch.Tensor] = {}
    for name, state in files:
        converted = convert_state_dict(kind, state, None)
        extra = [k for k in converted if k not in shapes]
        wrong = [(k, tuple(v.shape), shapes[k]) for k, v in converted.items()
                 if k in shapes and tuple(v.shape) != shapes[k]]
        if extra or wrong:
            raise CheckpointMismatchError(mismatch_message(f"{what}: {name}", [], extra, wrong))
        merged.update(converted)
    missing_pe = [k for k in shapes if k not in merged and k.endswith("pos_encoder.pe")]
    for key in missing_pe:
        _, max_len, channels = shapes[key]
        merged[key] = SinusoidalPositionalEncoding(channels, max_len).pe
    if missing_pe:
        say(f"  {what}: {len(missing_pe)} positional-encoding tables were not stored; filled with their fixed values")
    raise_on_mismatch(what, {k: tuple(v.shape) for k, v in merged.items()}, shapes)
    return merged


def _on_meta(build: Callable[[], nn.Module]) -> nn.Module:
    with torch.device("meta"):
        return build()


def _fill_and_save(model: nn.Module, state: Mapping[str, torch.Tensor], folder: Path) -> None:
    """Load ``state`` into a meta-device ``model`` (float32, like the official models) and save it."""
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()},
                          strict=True, assign=True)
    model.save_pretrained(folder, safe_serialization=True)


def _stdout_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


Weights = Mapping[str, Path]


def _convert_stage1(paths: Weights, weights: Weights, additional: Mapping[str, Any], out: Path, say: Progress) -> None:
    """The UNet file, then controlnet.bin, into the combined namespace; split and save both."""
    from .controlnet import FlowControlNetModel
    from .unet import FlowUNet3DConditionModel

    config = {**read_config(paths["stage1_unet_config"]), **BLOCKS_3D, **additional}
    unet = _on_meta(lambda: FlowUNet3DConditionModel(**constructor_kwargs(FlowUNet3DConditionModel, config)))
    controlnet = _on_meta(lambda: FlowControlNetModel.from_unet(unet, load_weights_from_unet=False))
    shapes = {**_as_shapes(unet), **{"controlnet." + k: v for k, v in _as_shapes(controlnet).items()}}
    combined = _overlay("stage-1 UNet + ControlNet", _read_in_turn(weights["stage1_unet"], weights["controlnet"]),
                        shapes, "stage1_combined", say)
    unet_state, control_state = split_stage1(combined)
    del combined
    _fill_and_save(unet, unet_state, out / CONVERTED_LAYOUT["stage1_unet"])
    _fill_and_save(controlnet, control_state, out / CONVERTED_LAYOUT["controlnet"])


def _convert_vaes(paths: Weights, weights: Weights, out: Path, say: Progress) -> None:
    """Flow VAE and SD-1.5 image VAE (old attention names), RealisticVision VAE (LDM layout)."""
    from diffusers import AutoencoderKL
    from diffusers.loaders.single_file_utils import convert_ldm_vae_checkpoint

    say("[2/7] flow VAE")
    flow_vae = _on_meta(lambda: AutoencoderKL(**constructor_kwargs(AutoencoderKL, read_config(paths["flow_vae_config"]))))
    state = convert_state_dict("flow_vae", load_official_file(weights["flow_vae"]), flow_vae, what=str(weights["flow_vae"]))
    _fill_and_save(flow_vae, state, out / CONVERTED_LAYOUT["flow_vae"])

    say("[3/7] image VAE (SD 1.5)")
    vae_config = constructor_kwargs(AutoencoderKL, read_config(paths["sd15_vae_config"]))
    image_vae = _on_meta(lambda: AutoencoderKL(**vae_config))
    state = convert_state_dict("image_vae", load_official_file(weights["sd15_vae"]), image_vae, what=str(weights["sd15_vae"]))
    _fill_and_save(image_vae, state, out / CONVERTED_LAYOUT["image_vae"])

    say("[4/7] stage-2 VAE (RealisticVision)")
    stage2_vae = _on_meta(lambda: AutoencoderKL(**vae_config))
    state = convert_ldm_vae_checkpoint(load_official_file(weights["realistic_checkpoint"]), dict(stage2_vae.config))
    state = convert_state_dict("image_vae", state, stage2_vae, what=f"the VAE of {weights['realistic_checkpoint']}")
    _fill_and_save(stage2_vae, state, out / CONVERTED_LAYOUT["stage2_vae"])


def _convert_stage2(paths: Weights, weights: Weights, additional: Mapping[str, Any], out: Path, say: Progress) -> None:
    """SD-1.5 UNet, then motion_block.bin, then realistic_unet.ckpt, like the official app."""
    from diffusers.loaders.single_file_utils import convert_ldm_unet_checkpoint

    from .unet import AnimationUNet3DConditionModel

    base_config = read_config(paths["sd15_unet_config"])
    config = {**base_config, **BLOCKS_3D, **additional}
    unet = _on_meta(lambda: AnimationUNet3DConditionModel(**constructor_kwargs(AnimationUNet3DConditionModel, config)))

    def realistic_unet(path: Path) -> dict[str, torch.Tensor]:
        state = load_official_file(path)
        if any(k.startswith("model.diffusion_model.") for k in state):
            # An LDM-format checkpoint (the official strict=False load would silently skip it):
            # convert its UNet part to diffusers names so that it is really applied.
            say(f"  {path.name} is in LDM format; converting its UNet with diffusers")
            state = convert_ldm_unet_checkpoint(state, base_config)
        return state

    files = _read_in_turn(weights["sd15_unet"], weights["motion_block"], (weights["realistic_unet"], realistic_unet))
    state = _overlay("stage-2 UNet", files, _as_shapes(unet), "stage2_unet", say)
    _fill_and_save(unet, state, out / CONVERTED_LAYOUT["stage2_unet"])


def _convert_text(paths: Weights, out: Path, say: Progress) -> dict[str, str]:
    """Stage 1's text model; stage 2's too if it differs. Returns the parts written."""
    copy_hf_folder(paths["stage1_text_encoder"], out / CONVERTED_LAYOUT["text_encoder"], "text_encoder")
    copy_hf_folder(paths["stage1_tokenizer"], out / CONVERTED_LAYOUT["tokenizer"], "tokenizer")
    parts = dict(CONVERTED_LAYOUT)
    if not same_text_model(paths):
        say("  stage 2's text encoder or tokenizer differs from stage 1's; writing it separately")
        copy_hf_folder(paths["stage2_text_encoder"], out / STAGE2_TEXT_LAYOUT["stage2_text_encoder"], "text_encoder")
        copy_hf_folder(paths["stage2_tokenizer"], out / STAGE2_TEXT_LAYOUT["stage2_tokenizer"], "tokenizer")
        parts.update(STAGE2_TEXT_LAYOUT)
    return parts


def convert_official(
    src: str | Path,
    dst: str | Path,
    *,
    progress: bool | Progress = True,
    unet_additional_kwargs: Mapping[str, Any] | None = None,
) -> Path:
    """Convert the official release folder ``src`` into motionkit's layout at ``dst``.

    The stage-1 UNet and ControlNet are assembled as ``scripts/app.py`` does (the UNet file,
    then ``controlnet/controlnet.bin``, into the UNet-with-attached-ControlNet namespace) and
    split; the stage-2 UNet is SD-1.5 ``unet`` + ``Motion_Module/motion_block.bin`` +
    ``DreamBooth_LoRA/realistic_unet.ckpt`` in that order; the stage-2 VAE is converted from
    the RealisticVision LDM checkpoint with diffusers' single-file converter. Each component is
    checked strictly (see the module doc). ``dst`` appears only when everything succeeded.

    Args:
        src: the cloned ``wangfuyun/Motion-I2V`` folder (or its ``models`` folder).
        dst: output folder (replaced atomically if it exists).
        progress: print one line per step to stderr, or a callable taking each line.
        unet_additional_kwargs: the motion-module settings added to both UNet configs (default
            :data:`OFFICIAL_UNET_ADDITIONAL_KWARGS`, the values of the official inference yaml).

    Returns:
        ``dst`` as a ``Path``.

    Raises:
        WeightsNotFoundError: a file of the release is missing (all are named).
        CheckpointMismatchError: a file's keys or shapes do not fit.

    Example:
        >>> convert_official("Motion-I2V", "motion-i2v")   # doctest: +SKIP
        PosixPath('motion-i2v')
    """
    say: Progress = progress if callable(progress) else (_stdout_progress if progress else (lambda _m: None))
    paths = official_paths(src)
    check_present(paths)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    weights = {name: existing(path) for name, path in paths.items()}
    additional = dict(OFFICIAL_UNET_ADDITIONAL_KWARGS if unet_additional_kwargs is None else unet_additional_kwargs)

    with atomic_dir(dst) as out:
        say("[1/7] stage-1 UNet and ControlNet")
        _convert_stage1(paths, weights, additional, out, say)
        _convert_vaes(paths, weights, out, say)  # steps 2 to 4
        say("[5/7] stage-2 UNet: SD 1.5 + motion modules + RealisticVision")
        _convert_stage2(paths, weights, additional, out, say)
        say("[6/7] text encoder and tokenizer")
        parts = _convert_text(paths, out, say)
        say("[7/7] manifest")
        manifest = {
            "format": "motionkit-motion-i2v",
            "version": 1,
            "source": "wangfuyun/Motion-I2V (official release)",
            "components": parts,
        }
        (out / _MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    say(f"done: {dst}")
    return dst
