"""The networks a training task needs, loaded from a converted folder.

The folder has the layout of :mod:`motionkit.pipelines.motion_i2v.weights`. Only the parts a
task uses must exist; the ControlNet task creates the ControlNet from the stage-1 UNet
(``FlowControlNetModel.from_unet``, as the official script does) when the folder has none.
"""

from __future__ import annotations

from pathlib import Path

from motionkit.errors import InvalidInputError
from motionkit.training.losses import Networks

#: Parts of the converted folder each task reads (``controlnet`` is optional for its task).
TASK_PARTS = {
    "flow-vae": ("flow_vae",),
    "stage1": ("stage1_unet", "flow_vae", "image_vae", "text_encoder", "tokenizer"),
    "controlnet": ("stage1_unet", "flow_vae", "image_vae", "text_encoder", "tokenizer"),
    "stage2": ("stage2_unet", "stage2_vae", "text_encoder", "tokenizer"),
}


def load_networks(task: str, folder: Path | None) -> Networks:
    """Load what ``task`` needs from the converted ``folder`` (raises WeightsNotFoundError naming a missing file).

    Example:
        >>> nets = load_networks("controlnet", Path("weights/motion-i2v"))  # doctest: +SKIP
    """
    from diffusers import AutoencoderKL

    from motionkit.pipelines.motion_i2v.weights import check_parts, load_text, weights_folder

    if task not in TASK_PARTS:
        raise InvalidInputError(f"unknown training task {task!r}; expected one of {', '.join(TASK_PARTS)}")
    folder = weights_folder(folder)
    check_parts(folder, TASK_PARTS[task])
    import torch

    nets = Networks()
    if task == "flow-vae":
        nets.flow_vae = AutoencoderKL.from_pretrained(str(folder / "flow_vae"))
        return nets
    nets.text_encoder, nets.tokenizer = load_text(folder, torch.float32)
    if task == "stage2":
        from motionkit.models.motion_i2v.unet import AnimationUNet3DConditionModel

        nets.stage2_unet = AnimationUNet3DConditionModel.from_pretrained(str(folder / "stage2_unet"))
        nets.image_vae = AutoencoderKL.from_pretrained(str(folder / "stage2_vae"))
        return nets
    from motionkit.models.motion_i2v.controlnet import FlowControlNetModel
    from motionkit.models.motion_i2v.unet import FlowUNet3DConditionModel

    nets.stage1_unet = FlowUNet3DConditionModel.from_pretrained(str(folder / "stage1_unet"))
    nets.flow_vae = AutoencoderKL.from_pretrained(str(folder / "flow_vae"))
    nets.image_vae = AutoencoderKL.from_pretrained(str(folder / "image_vae"))
    if task == "controlnet":
        path = folder / "controlnet"
        controlnet = (FlowControlNetModel.from_pretrained(str(path)) if (path / "config.json").is_file()
                      else FlowControlNetModel.from_unet(nets.stage1_unet))
        nets.stage1_unet.attach_controlnet(controlnet)
    return nets


def trained_module(task: str, nets: Networks):
    """The module whose parameters a task optimises (the ControlNet is inside the stage-1 UNet).

    Example:
        >>> trained_module("controlnet", nets) is nets.stage1_unet  # doctest: +SKIP
        True
    """
    if task == "flow-vae" and nets.flow_vae is not None:
        from motionkit.training.losses import FlowVAEObjective

        if nets.flow_vae_objective is None:
            nets.flow_vae_objective = FlowVAEObjective(nets.flow_vae)
        return nets.flow_vae_objective
    return {"flow-vae": None, "stage1": nets.stage1_unet, "controlnet": nets.stage1_unet,
            "stage2": nets.stage2_unet}[task]
