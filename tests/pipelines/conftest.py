"""Fixtures of the Motion-I2V pipeline tests: tiny random stage-1 and stage-2 pipelines."""

from __future__ import annotations

import pytest
import torch
from helpers.tiny_motion_i2v import UNET_KWARGS, _wake, tiny_text_encoder, tiny_tokenizer, tiny_vae

from motionkit.models.motion_i2v.controlnet import FlowControlNetModel
from motionkit.models.motion_i2v.unet import AnimationUNet3DConditionModel, FlowUNet3DConditionModel
from motionkit.pipelines.motion_i2v.animation import Animator
from motionkit.pipelines.motion_i2v.flowgen import FlowGenerator


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every pipeline test runs on one torch thread (see the root conftest)."""


@pytest.fixture(scope="session")
def text_parts(tmp_path_factory):
    tokenizer = tiny_tokenizer(tmp_path_factory.mktemp("tokenizer"))
    torch.manual_seed(1)
    return tiny_text_encoder(len(tokenizer.get_vocab())), tokenizer


@pytest.fixture(scope="session")
def flow_generator(text_parts) -> FlowGenerator:
    torch.manual_seed(2)
    unet = FlowUNet3DConditionModel(in_channels=8, out_channels=4, **UNET_KWARGS).eval()
    controlnet = FlowControlNetModel.from_unet(unet, conditioning_hidden_channels=16).eval()
    _wake(unet)
    _wake(controlnet)
    unet.attach_controlnet(controlnet)
    text_encoder, tokenizer = text_parts
    return FlowGenerator(unet=unet, flow_vae=tiny_vae(2), image_vae=tiny_vae(3), text_encoder=text_encoder, tokenizer=tokenizer)


@pytest.fixture(scope="session")
def animator(text_parts) -> Animator:
    torch.manual_seed(3)
    unet = AnimationUNet3DConditionModel(in_channels=4, out_channels=4, **UNET_KWARGS).eval()
    _wake(unet)
    text_encoder, tokenizer = text_parts
    return Animator(unet=unet, vae=tiny_vae(3), text_encoder=text_encoder, tokenizer=tokenizer)
