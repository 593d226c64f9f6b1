"""The official Motion-I2V release on disk: where each file is, and reading it safely.

The release is HuggingFace ``wangfuyun/Motion-I2V``, a folder of diffusers-0.11-era pickles.
Pickles are read only with ``torch.load(..., weights_only=True)`` (tensors, no code); a
``.bin`` file may also be given as a ``.safetensors`` twin beside it. The converter
(:mod:`.convert`) builds on these readers.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from motionkit.errors import CheckpointMismatchError, WeightsNotFoundError

__all__ = ["HOW_TO_GET", "check_present", "copy_hf_folder", "existing", "load_official_file", "official_paths",
           "read_config", "same_text_model"]

#: What to do when the release is missing.
HOW_TO_GET = (
    "Download the official release with `git clone https://huggingface.co/wangfuyun/Motion-I2V` "
    "(git-lfs), then run `motionkit convert-official <that folder> <output folder>`."
)
_PICKLE_SUFFIXES = (".bin", ".ckpt", ".pt", ".pth")
_COPY_SUFFIXES = (".json", ".txt", ".model")

def official_paths(src: str | Path) -> dict[str, Path]:
    """Where each file of the official release is expected under ``src``.

    ``src`` is the cloned ``wangfuyun/Motion-I2V`` folder (holding ``models/``) or its
    ``models`` folder itself. Weight files with a ``.bin`` name may also be given as
    ``.safetensors`` beside it.

    Example:
        >>> official_paths("Motion-I2V")["motion_block"].as_posix()
        'Motion-I2V/models/stage2/Motion_Module/motion_block.bin'
    """
    src = Path(src)
    models = src if (src / "stage1").is_dir() and not (src / "models").is_dir() else src / "models"
    flowgen = models / "stage1" / "StableDiffusion-FlowGen"
    sd15 = models / "stage2" / "StableDiffusion"
    dreambooth = models / "stage2" / "DreamBooth_LoRA"
    return {
        "stage1_unet_config": flowgen / "unet" / "config.json",
        "stage1_unet": flowgen / "unet" / "diffusion_pytorch_model.bin",
        "controlnet": flowgen / "controlnet" / "controlnet.bin",
        "flow_vae_config": flowgen / "vae" / "config.json",
        "flow_vae": flowgen / "vae_flow" / "diffusion_pytorch_model.bin",
        "stage1_text_encoder": flowgen / "text_encoder",
        "stage1_tokenizer": flowgen / "tokenizer",
        "sd15_unet_config": sd15 / "unet" / "config.json",
        "sd15_unet": sd15 / "unet" / "diffusion_pytorch_model.bin",
        "sd15_vae_config": sd15 / "vae" / "config.json",
        "sd15_vae": sd15 / "vae" / "diffusion_pytorch_model.bin",
        "stage2_text_encoder": sd15 / "text_encoder",
        "stage2_tokenizer": sd15 / "tokenizer",
        "motion_block": models / "stage2" / "Motion_Module" / "motion_block.bin",
        "realistic_unet": dreambooth / "realistic_unet.ckpt",
        "realistic_checkpoint": dreambooth / "realisticVisionV51_v20Novae.safetensors",
    }


def existing(path: Path) -> Path | None:
    """``path`` or its ``.safetensors`` twin, whichever exists (safetensors preferred)."""
    if path.suffix in _PICKLE_SUFFIXES and path.with_suffix(".safetensors").is_file():
        return path.with_suffix(".safetensors")
    return path if path.exists() else None


def load_official_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Read one official weight file into a ``{key: tensor}`` dict, safely.

    ``.safetensors`` files are read with safetensors; pickles (``.bin``, ``.ckpt``, ...) only
    with ``torch.load(path, map_location="cpu", weights_only=True)``, which refuses code. A
    Lightning-style ``{"state_dict": {...}}`` wrapper is unwrapped.

    Raises:
        WeightsNotFoundError: the file does not exist.
        CheckpointMismatchError: the file is unreadable or holds no tensors.

    Example:
        >>> sd = load_official_file("models/stage2/Motion_Module/motion_block.bin")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"weights file {path} not found. {HOW_TO_GET}")
    try:
        if path.suffix == ".safetensors":
            data: Any = load_file(path)
        else:
            data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure means the same to the user
        raise CheckpointMismatchError(
            f"cannot read {path}: {exc}. Expected a PyTorch state dict (tensors only) or a safetensors "
            "file; re-download it."
        ) from None
    if isinstance(data, Mapping) and isinstance(data.get("state_dict"), Mapping):
        data = data["state_dict"]
    if not isinstance(data, Mapping) or not data or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise CheckpointMismatchError(f"{path} does not hold a state dict of tensors; re-download it")
    return dict(data)


def read_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointMismatchError(f"cannot read config {path}: {exc}; re-download the release") from None
    return {k: v for k, v in data.items() if not k.startswith("_")}


def copy_hf_folder(source: Path, target: Path, what: str) -> None:
    """Copy a transformers folder (config, tokenizer files); pickled weights become safetensors."""
    target.mkdir(parents=True)
    for item in sorted(source.iterdir()):
        if item.suffix in _COPY_SUFFIXES or item.name == "model.safetensors":
            shutil.copy2(item, target / item.name)
    pickles = [p for p in source.iterdir() if p.name == "pytorch_model.bin"]
    if pickles and not (source / "model.safetensors").is_file():
        state = load_official_file(pickles[0])
        # safetensors refuses tensors that share memory; give each its own.
        save_file({k: v.contiguous().clone() for k, v in state.items()}, target / "model.safetensors",
                  metadata={"format": "pt"})
    if not any(target.iterdir()):
        raise WeightsNotFoundError(f"{what} folder {source} holds no config, tokenizer or weight files. {HOW_TO_GET}")


def _text_weights(folder: Path) -> dict[str, torch.Tensor]:
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return load_official_file(folder / name)
    return {}


def same_text_model(paths: Mapping[str, Path]) -> bool:
    """Whether stage 1 and stage 2 ship the same CLIP text model and tokenizer files."""
    tokenizers = [paths[f"{stage}_tokenizer"] for stage in ("stage1", "stage2")]
    files = [{p.name: p.read_bytes() for p in sorted(t.iterdir()) if p.suffix in _COPY_SUFFIXES} for t in tokenizers]
    if files[0] != files[1]:
        return False
    encoders = [paths[f"{stage}_text_encoder"] for stage in ("stage1", "stage2")]
    configs = [{k: v for k, v in read_config(e / "config.json").items() if k != "transformers_version"} for e in encoders]
    if configs[0] != configs[1]:
        return False
    first, second = (_text_weights(e) for e in encoders)
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


def check_present(paths: Mapping[str, Path]) -> None:
    missing = [str(p) for p in paths.values() if existing(p) is None]
    if missing:
        raise WeightsNotFoundError(
            "the official Motion-I2V release is incomplete; not found:\n  " + "\n  ".join(missing) + f"\n{HOW_TO_GET}"
        )
