"""The networks of a fixture folder: official checkpoints loaded through motionkit's converter.

A fixture folder has the layout of ``shared/fixtures/motion_i2v_official/tiny``: official
checkpoints ``<model>.safetensors`` with ``<model>_config.json`` (``stage1_unet``,
``controlnet``, ``stage2_unet``, ``motion_module``), the forward cases ``cases.safetensors``
and the denoising-loop cases ``pipeline_cases.safetensors``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import load_file

from motionkit.errors import WeightsNotFoundError
from motionkit.models.motion_i2v.config import read_official_config
from motionkit.models.motion_i2v.controlnet import FlowControlNetModel
from motionkit.models.motion_i2v.convert import convert_state_dict
from motionkit.models.motion_i2v.motion_module import MotionModule
from motionkit.models.motion_i2v.unet import AnimationUNet3DConditionModel, FlowUNet3DConditionModel


def load_official(model: torch.nn.Module, path: Path, kind: str) -> torch.nn.Module:
    """Load an official safetensors checkpoint through the converter (strict) and set eval mode.

    Args:
        model: the motionkit model to fill.
        path: the official ``.safetensors`` file.
        kind: the converter's checkpoint kind (:func:`motionkit.models.motion_i2v.convert.convert_state_dict`).

    Raises:
        WeightsNotFoundError: the file is missing.
        CheckpointMismatchError: keys or shapes differ.
    """
    if not path.is_file():
        raise WeightsNotFoundError(f"checkpoint {path} not found; expected an official "
                                   "safetensors file next to its *_config.json")
    state = convert_state_dict(kind, load_file(str(path)), model, what=str(path))
    model.load_state_dict(state, strict=True)
    return model.eval()


def _standalone_motion_module(kwargs: dict) -> MotionModule:
    # The fixtures' standalone module is the stage-2 (flow-augmented) kind.
    return MotionModule(kwargs["in_channels"], **kwargs["motion_module_kwargs"], flow_augmented=True)


# Fixture file stem -> (builder from the official keywords, converter kind).
_BUILDERS: dict[str, tuple[Callable[[dict], torch.nn.Module], str]] = {
    "stage1_unet": (lambda kw: FlowUNet3DConditionModel(**kw), "stage1_unet"),
    "controlnet": (lambda kw: FlowControlNetModel(**kw), "controlnet"),
    "stage2_unet": (lambda kw: AnimationUNet3DConditionModel(**kw), "stage2_unet"),
    "motion_module": (_standalone_motion_module, "motion_modules"),
}


def load_fixture_model(folder: Path, stem: str) -> torch.nn.Module:
    """Build ``stem`` (``stage1_unet``, ``controlnet``, ``stage2_unet``, ``motion_module``) from
    ``folder/<stem>_config.json`` and load ``folder/<stem>.safetensors`` into it."""
    build, kind = _BUILDERS[stem]
    return load_official(build(read_official_config(folder / f"{stem}_config.json")), folder / f"{stem}.safetensors", kind)


def need(folder: Path, name: str) -> Path:
    """``folder/name``, or a :class:`WeightsNotFoundError` describing a fixture folder's layout."""
    path = folder / name
    if not path.is_file():
        raise WeightsNotFoundError(
            f"{path} is missing; a pipeline-case folder holds pipeline_cases.safetensors, cases.safetensors and the tiny "
            "models (stage1_unet, controlnet, stage2_unet .safetensors with their _config.json), as in "
            "shared/fixtures/motion_i2v_official/tiny"
        )
    return path


def load_tiny_models(folder: str | os.PathLike) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The stage-1 UNet (ControlNet attached) and stage-2 UNet of a fixture folder, in eval mode.

    Weights carry the official key names and load strictly into motionkit's networks
    (:func:`load_fixture_model`).

    Example:
        >>> stage1, stage2 = load_tiny_models("shared/fixtures/motion_i2v_official/tiny")  # doctest: +SKIP
    """
    folder = Path(folder)
    for stem in ("stage1_unet", "controlnet", "stage2_unet"):
        need(folder, f"{stem}.safetensors")
        need(folder, f"{stem}_config.json")
    stage1 = load_fixture_model(folder, "stage1_unet")
    scale = float(json.loads((folder / "controlnet_config.json").read_text()).get("control_scale", 1.0))
    stage1.attach_controlnet(load_fixture_model(folder, "controlnet"), scale)
    return stage1.eval(), load_fixture_model(folder, "stage2_unet").eval()
