"""The motion-augmented motion module reproduces the official Motion-I2V outputs and key names."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from motionkit.models.motion_i2v.motion_module import MotionModule
from motionkit.models.motion_i2v.temporal_attention import resize_flow

ATOL, RTOL = 2e-5, 1e-5


@pytest.fixture(scope="module")
def cases(official_fixtures):
    return load_file(official_fixtures / "tiny" / "cases.safetensors")


@pytest.fixture(scope="module")
def module(official_fixtures) -> MotionModule:
    config = json.loads((official_fixtures / "tiny" / "motion_module_config.json").read_text())
    mm = MotionModule(config["in_channels"], **config["motion_module_kwargs"], flow_augmented=True)
    mm.load_state_dict(load_file(official_fixtures / "tiny" / "motion_module.safetensors"), strict=True)
    return mm.eval()


@pytest.fixture(scope="module")
def attention(module):
    return module.temporal_transformer.transformer_blocks[0].attention_blocks[0]


def _close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    assert actual.shape == expected.shape
    torch.testing.assert_close(actual, expected, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("batch", [2, 1], ids=["mm", "mm_b1"])
def test_module_matches_official(module, cases, batch):
    with torch.no_grad():
        out = module(cases["mm.hidden_states"][:batch], flow_pre=cases["mm.flow_pre"][:batch])
    _close(out, cases["mm.out" if batch == 2 else "mm_b1.out"])


@pytest.mark.parametrize(
    ("rows", "flow_key", "expected_key"),
    [
        (12, "mm.flow_pre", "attn.out"),
        (12, "attn.flow_pre_same_res", "attn.out_same_res"),
        (6, "mm.flow_pre", "attn_b1.out"),
    ],
    ids=["attn", "attn_same_res", "attn_b1"],
)
def test_attention_matches_official(attention, cases, rows, flow_key, expected_key):
    flow = cases[flow_key][: rows // 6]
    with torch.no_grad():
        out = attention(cases["attn.hidden_states"][:rows], video_length=6, flow_pre=flow, hw=(6, 10))
    _close(out, cases[expected_key])


@pytest.mark.parametrize("prefix", ["attn", "attn_b1"])
def test_reference_splat_matches_official(attention, cases, prefix):
    """The resized flow and the warped frame-0 features, including the batch-tiling quirk."""
    batch = 2 if prefix == "attn" else 1
    flow_pre = cases["mm.flow_pre"][:batch]
    flow = resize_flow(flow_pre.flatten(0, 1), (6, 10)).reshape(batch, 6, 2, 6, 10)
    _close(flow[:, 1:].flatten(0, 1), cases[f"{prefix}.splat_flow"])
    warped = attention.warp_reference(cases["attn.hidden_states"][: 6 * batch], flow)
    _close(warped, cases[f"{prefix}.splat_out"])


def _motion_module_groups(section: dict) -> dict[str, dict[str, tuple[int, ...]]]:
    """Official keys containing ``motion_modules`` grouped by module prefix."""
    groups: dict[str, dict[str, tuple[int, ...]]] = {}
    for entry in section["keys"]:
        key = entry["key"]
        if ".motion_modules." not in key:
            continue
        head, _, tail = key.partition(".temporal_transformer.")
        groups.setdefault(head, {})["temporal_transformer." + tail] = tuple(entry["shape"])
    return groups


@pytest.mark.parametrize("section_name", ["stage2_motion_block_bin", "stage1_unet"])
def test_full_size_keys_and_shapes_equal_official(official_fixtures, section_name):
    keys_full = json.loads((official_fixtures / "keys_full.json").read_text())
    section = keys_full[section_name]
    kwargs = keys_full["stage2_unet"]["unet_additional_kwargs"]["motion_module_kwargs"]
    groups = _motion_module_groups(section)
    assert len(groups) == 21  # 4 down blocks x 2 + mid + 4 up blocks x 3
    for prefix, expected in groups.items():
        channels = expected["temporal_transformer.proj_in.weight"][1]
        with torch.device("meta"):
            mm = MotionModule(channels, **kwargs, flow_augmented=section_name.startswith("stage2"))
        ours = {k: tuple(v.shape) for k, v in mm.state_dict().items()}
        assert ours == expected, prefix
