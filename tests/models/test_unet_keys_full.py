"""At full size, motionkit's networks have the official state_dict: names, order, shapes, dtypes."""

from __future__ import annotations

import json

import pytest
import torch

from motionkit.models.motion_i2v import AnimationUNet3DConditionModel, FlowControlNetModel, FlowUNet3DConditionModel


@pytest.fixture(scope="module")
def official(official_fixtures) -> dict:
    return json.loads((official_fixtures / "keys_full.json").read_text())


@pytest.fixture(scope="module")
def built(official) -> dict:
    with torch.device("meta"):
        stage1 = FlowUNet3DConditionModel(**official["stage1_unet"]["resolved_config"])
        controlnet = FlowControlNetModel(**official["stage1_controlnet"]["resolved_config"])
        stage2 = AnimationUNet3DConditionModel(**official["stage2_unet"]["resolved_config"])
    listing = {"stage1_unet": stage1.state_dict(), "stage1_controlnet": controlnet.state_dict(),
               "stage2_unet": stage2.state_dict()}
    stage1.attach_controlnet(controlnet)
    listing["stage1_unet_with_controlnet_attached"] = stage1.state_dict()
    return listing


@pytest.mark.parametrize("section", ["stage1_unet", "stage1_controlnet", "stage2_unet"])
def test_keys_shapes_and_dtypes_in_official_order(official, built, section):
    expected = [(k["key"], tuple(k["shape"]), k["dtype"]) for k in official[section]["keys"]]
    got = [(k, tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in built[section].items()]
    assert got == expected


def test_attached_controlnet_keys_follow_the_unet(official, built):
    assert list(built["stage1_unet_with_controlnet_attached"]) == official["stage1_unet_with_controlnet_attached"]["key_order"]


def test_stage2_motion_block_keys(official, built):
    expected = [(k["key"], tuple(k["shape"])) for k in official["stage2_motion_block_bin"]["keys"]]
    got = [(k, tuple(v.shape)) for k, v in built["stage2_unet"].items() if "motion_modules" in k]
    assert got == expected
