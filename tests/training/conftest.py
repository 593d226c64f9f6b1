"""A tiny synthetic captioned-video dataset and tiny networks for the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers.synthetic_videos import square_video
from helpers.tiny_motion_i2v import UNET_KWARGS, tiny_text_encoder, tiny_tokenizer, tiny_vae

from motionkit.clip import Clip


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every training test runs on one torch thread (see the root conftest)."""


@pytest.fixture(scope="session")
def video_folder(tmp_path_factory) -> Path:
    """Three 12-frame 64x64 videos of a square moving right, with captions (one without)."""
    folder = tmp_path_factory.mktemp("videos")
    for i in range(3):
        Clip.from_array(square_video(4 * i), fps=8).write(folder / f"clip{i}.mp4")
        if i < 2:
            (folder / f"clip{i}.txt").write_text(f"a yellow square slides right {i}\n")
    return folder


@pytest.fixture(scope="session")
def text_parts(tmp_path_factory):
    tokenizer = tiny_tokenizer(tmp_path_factory.mktemp("tok"))
    torch.manual_seed(1)
    return tiny_text_encoder(len(tokenizer.get_vocab())), tokenizer


@pytest.fixture
def make_networks(text_parts):
    from motionkit.models.motion_i2v.controlnet import FlowControlNetModel
    from motionkit.models.motion_i2v.unet import AnimationUNet3DConditionModel, FlowUNet3DConditionModel
    from motionkit.training.losses import Networks

    def build(task: str) -> Networks:
        torch.manual_seed(5)
        text_encoder, tokenizer = text_parts
        nets = Networks(text_encoder=text_encoder, tokenizer=tokenizer, image_vae=tiny_vae(3), flow_vae=tiny_vae(2))
        if task in ("stage1", "controlnet"):
            nets.stage1_unet = FlowUNet3DConditionModel(in_channels=8, out_channels=4, **UNET_KWARGS)
            if task == "controlnet":
                nets.stage1_unet.attach_controlnet(FlowControlNetModel.from_unet(nets.stage1_unet, conditioning_hidden_channels=16))
        if task == "stage2":
            nets.stage2_unet = AnimationUNet3DConditionModel(in_channels=4, out_channels=4, **UNET_KWARGS)
        return nets

    return build
