"""Finding and loading converted Motion-I2V weights.

``motionkit convert-official`` turns the released checkpoints into one folder of
diffusers-style sub-folders (``config.json`` + ``diffusion_pytorch_model.safetensors``, or
the transformers files for the text model), which this module loads:

=================  =============================================================
``stage1_unet/``   stage-1 flow UNet (:class:`~motionkit.models.motion_i2v.unet.FlowUNet3DConditionModel`)
``controlnet/``    stage-1 ControlNet (:class:`~motionkit.models.motion_i2v.controlnet.FlowControlNetModel`)
``flow_vae/``      2-channel flow ``AutoencoderKL``
``image_vae/``     SD-1.5 ``AutoencoderKL`` that encodes the reference image for stage 1
``stage2_unet/``   stage-2 video UNet (:class:`~motionkit.models.motion_i2v.unet.AnimationUNet3DConditionModel`)
``stage2_vae/``    stage-2 image ``AutoencoderKL`` (RealisticVision's)
``text_encoder/``  SD-1.5 CLIP text model; ``tokenizer/`` its tokenizer (``stage2_text_encoder/``
                   and ``stage2_tokenizer/`` when stage 2's differ)
=================  =============================================================

The folder is ``weights=`` when given, else ``$MOTIONKIT_MOTION_I2V_WEIGHTS``, else
``~/.cache/motionkit/motion-i2v``. A missing part raises
:class:`~motionkit.errors.WeightsNotFoundError` naming the file it looked for.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

# One reading of precisions and devices for every learned component, re-exported here.
from motionkit.learned import DTYPES, resolve_device, resolve_dtype  # noqa: F401
from motionkit.errors import PluginLoadError, WeightsNotFoundError

ENV_VAR = "MOTIONKIT_MOTION_I2V_WEIGHTS"
DEFAULT_FOLDER = Path("~/.cache/motionkit/motion-i2v")

#: Sub-folders each stage needs.
STAGE1_PARTS = ("stage1_unet", "controlnet", "flow_vae", "image_vae", "text_encoder", "tokenizer")
STAGE2_PARTS = ("stage2_unet", "stage2_vae", "text_encoder", "tokenizer")
#: The file whose presence marks a part as converted.
_MARKER = {"tokenizer": "tokenizer_config.json", "text_encoder": "config.json"}


def weights_folder(weights: str | os.PathLike | None = None) -> Path:
    """Where converted weights are looked for (see the module docs for the order).

    Example:
        >>> weights_folder("weights/motion-i2v").name
        'motion-i2v'
    """
    if weights is not None:
        return Path(weights).expanduser()
    return Path(os.environ.get(ENV_VAR, DEFAULT_FOLDER)).expanduser()


def check_parts(folder: Path, parts: tuple[str, ...]) -> None:
    """Raise :class:`WeightsNotFoundError` naming the first missing file of ``parts`` under ``folder``.

    Example:
        >>> check_parts(Path("weights/motion-i2v"), STAGE2_PARTS)  # doctest: +SKIP
    """
    for part in parts:
        marker = folder / part / _MARKER.get(part, "config.json")
        if not marker.is_file():
            raise WeightsNotFoundError(
                f"Motion-I2V weights not found: expected {marker} (part {part!r} of the converted folder {folder}). "
                f"Convert the official checkpoints with `motionkit convert-official <official release folder> {folder}`, "
                f"or pass weights=<folder> / set ${ENV_VAR}."
            )


def _load_diffusers(cls: Any, path: Path, dtype: torch.dtype) -> Any:
    return cls.from_pretrained(str(path), torch_dtype=dtype).eval()


def load_text(folder: Path, dtype: torch.dtype, prefix: str = "") -> tuple[Any, Any]:
    """The CLIP text model and tokenizer of a converted folder.

    ``prefix="stage2_"`` reads ``stage2_text_encoder/`` and ``stage2_tokenizer/`` when the
    converter wrote them (stage 2's text model differs from stage 1's), else the shared ones.

    Example:
        >>> text_encoder, tokenizer = load_text(Path("weights/motion-i2v"), torch.float16)  # doctest: +SKIP
    """
    try:
        from transformers import CLIPTextModel, CLIPTokenizer
    except ImportError as exc:
        raise PluginLoadError(
            "the Motion-I2V backend reads its CLIP text encoder with transformers, which is not installed; "
            "pip install 'motionkit[motion-i2v]'"
        ) from exc

    if prefix and not (folder / f"{prefix}text_encoder" / "config.json").is_file():
        prefix = ""
    tokenizer = CLIPTokenizer.from_pretrained(str(folder / f"{prefix}tokenizer"))
    text_encoder = CLIPTextModel.from_pretrained(str(folder / f"{prefix}text_encoder"), torch_dtype=dtype).eval()
    return text_encoder, tokenizer


def load_flow_generator(weights: str | os.PathLike | None = None, dtype: str | torch.dtype | None = None):
    """Build a :class:`~motionkit.pipelines.motion_i2v.flowgen.FlowGenerator` from a converted folder.

    The UNet, ControlNet and text model take ``dtype``; both VAEs stay float32 (the SD VAE
    overflows in float16).

    Example:
        >>> stage1 = load_flow_generator("weights/motion-i2v", dtype="float16")  # doctest: +SKIP
    """
    from diffusers import AutoencoderKL

    from motionkit.models.motion_i2v.controlnet import FlowControlNetModel
    from motionkit.models.motion_i2v.unet import FlowUNet3DConditionModel
    from motionkit.pipelines.motion_i2v.flowgen import FlowGenerator

    folder = weights_folder(weights)
    check_parts(folder, STAGE1_PARTS)
    dtype = resolve_dtype(dtype)
    unet = _load_diffusers(FlowUNet3DConditionModel, folder / "stage1_unet", dtype)
    unet.attach_controlnet(_load_diffusers(FlowControlNetModel, folder / "controlnet", dtype))
    text_encoder, tokenizer = load_text(folder, dtype)
    return FlowGenerator(
        unet=unet,
        flow_vae=_load_diffusers(AutoencoderKL, folder / "flow_vae", torch.float32),
        image_vae=_load_diffusers(AutoencoderKL, folder / "image_vae", torch.float32),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
    )


def load_animator(weights: str | os.PathLike | None = None, dtype: str | torch.dtype | None = None):
    """Build a :class:`~motionkit.pipelines.motion_i2v.animation.Animator` from a converted folder.

    Example:
        >>> stage2 = load_animator("weights/motion-i2v", dtype="float16")  # doctest: +SKIP
    """
    from diffusers import AutoencoderKL

    from motionkit.models.motion_i2v.unet import AnimationUNet3DConditionModel
    from motionkit.pipelines.motion_i2v.animation import Animator

    folder = weights_folder(weights)
    check_parts(folder, STAGE2_PARTS)
    dtype = resolve_dtype(dtype)
    text_encoder, tokenizer = load_text(folder, dtype, prefix="stage2_")
    return Animator(
        unet=_load_diffusers(AnimationUNet3DConditionModel, folder / "stage2_unet", dtype),
        vae=_load_diffusers(AutoencoderKL, folder / "stage2_vae", torch.float32),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
    )
