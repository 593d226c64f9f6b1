"""The parity command assumes nothing from the shipped tiny config.

A fixture folder in the official layout is written here for other widths per level, layers,
heads, text width, frame counts, batch sizes and latent sizes (the reference outputs come from
motionkit itself, so this checks the command's discovery and plumbing, not the numerics,
which test_parity_official.py checks against the official code).
"""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from motionkit.models.motion_i2v import (
    AnimationUNet3DConditionModel,
    FlowControlNetModel,
    FlowUNet3DConditionModel,
    MotionModule,
)
from motionkit.fidelity import forward

MM_KWARGS = {"num_attention_heads": 4, "num_transformer_block": 1, "attention_block_types": ["Temporal_Self"] * 2,
             "temporal_position_encoding": True, "temporal_position_encoding_max_len": 24,
             "temporal_attention_dim_div": 1}
UNET_KWARGS = dict(
    sample_size=8, block_out_channels=[32, 64, 96], layers_per_block=2, norm_num_groups=16, norm_eps=1e-5,
    cross_attention_dim=20, attention_head_dim=[2, 4, 8], use_inflated_groupnorm=True,
    down_block_types=["CrossAttnDownBlock3D", "CrossAttnDownBlock3D", "DownBlock3D"],
    up_block_types=["UpBlock3D", "CrossAttnUpBlock3D", "CrossAttnUpBlock3D"],
    use_motion_module=True, motion_module_type="Vanilla", motion_module_mid_block=True,
    motion_module_resolutions=[1, 2, 4, 8], motion_module_decoder_only=False, motion_module_kwargs=MM_KWARGS,
    unet_use_cross_frame_attention=False, unet_use_temporal_attention=False)


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One torch thread for every test here (see the root conftest)."""


def _randomize(model: nn.Module) -> nn.Module:
    with torch.no_grad():
        for p in model.parameters():
            if not p.any():
                p.normal_(0, 0.05)
    return model.eval()


def _write(folder, stem, model, config):
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / f"{stem}.safetensors"))
    (folder / f"{stem}_config.json").write_text(json.dumps(config))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("other_config")
    unet = _randomize(FlowUNet3DConditionModel(in_channels=8, out_channels=4, **UNET_KWARGS))
    controlnet = _randomize(FlowControlNetModel.from_unet(unet))
    stage2 = _randomize(AnimationUNet3DConditionModel(in_channels=4, out_channels=4, **UNET_KWARGS))
    module = _randomize(MotionModule(64, **MM_KWARGS, flow_augmented=True))
    _write(out, "stage1_unet", unet, {"init_kwargs": {"in_channels": 8, "out_channels": 4, **UNET_KWARGS}})
    _write(out, "controlnet", controlnet,
           {"resolved_config": {k: v for k, v in controlnet.config.items() if not k.startswith("_")}})
    _write(out, "stage2_unet", stage2, {"init_kwargs": {"in_channels": 4, "out_channels": 4, **UNET_KWARGS}})
    _write(out, "motion_module", module, {"in_channels": 64, "motion_module_kwargs": MM_KWARGS})

    g = torch.Generator().manual_seed(1)
    cases = {"stage1.sample": torch.randn(3, 8, 5, 10, 14, generator=g), "stage1.timestep": torch.tensor(501),
             "stage1.stride": torch.tensor([[4, 8, 12, 16, 20]]),
             "stage1.encoder_hidden_states": torch.randn(3, 6, 20, generator=g),
             "stage1.controlnet_cond": torch.randn(3, 5, 5, 10, 14, generator=g),
             "stage2.sample": torch.randn(2, 4, 5, 10, 14, generator=g), "stage2.timestep": torch.tensor(241),
             "stage2.encoder_hidden_states": torch.randn(2, 6, 20, generator=g),
             "stage2.flow_pre": torch.randn(2, 5, 2, 80, 112, generator=g) * 5,
             "mm.hidden_states": torch.randn(2, 64, 5, 4, 7, generator=g),
             "mm.flow_pre": torch.randn(2, 5, 2, 32, 56, generator=g) * 5,
             "attn.hidden_states": torch.randn(10, 28, 64, generator=g)}
    args = [cases[f"stage1.{n}"] for n in ("sample", "timestep", "stride", "encoder_hidden_states")]
    attention = module.temporal_transformer.transformer_blocks[0].attention_blocks[0]
    with torch.no_grad():
        cases["stage1.out_no_control"] = unet(*args).sample
        down, mid = controlnet(*args, cases["stage1.controlnet_cond"], return_dict=False)
        cases.update({f"stage1.controlnet_down_res.{i}": r for i, r in enumerate(down)})
        cases["stage1.controlnet_mid_res"] = mid
        unet.attach_controlnet(controlnet)
        cases["stage1.out_with_control"] = unet(*args, control=cases["stage1.controlnet_cond"]).sample
        s2 = [cases[f"stage2.{n}"] for n in ("sample", "timestep", "encoder_hidden_states", "flow_pre")]
        cases["stage2.out"] = stage2(*s2).sample
        cases["stage2_b1.out"] = stage2(s2[0][:1], s2[1], s2[2][:1], s2[3][:1]).sample
        cases["mm.out"] = module(cases["mm.hidden_states"], flow_pre=cases["mm.flow_pre"])
        cases["mm_b1.out"] = module(cases["mm.hidden_states"][:1], flow_pre=cases["mm.flow_pre"][:1])
        cases["attn.out"] = attention(cases["attn.hidden_states"], 5, flow_pre=cases["mm.flow_pre"], hw=(4, 7))
        cases["attn_b1.out"] = attention(cases["attn.hidden_states"][:5], 5, flow_pre=cases["mm.flow_pre"][:1],
                                         hw=(4, 7))
    save_file({k: v.contiguous() for k, v in cases.items()}, str(out / "cases.safetensors"))
    return out


def test_every_case_of_another_config_is_found_and_passes(folder):
    records = forward.forward_case_checks(folder)
    assert all(r.ok for r in records), [r.line() for r in records if not r.ok]
    names = {r.name for r in records}
    # 3 levels x 2 layers + 2 downsamplers + conv_in = 9 down residuals.
    assert {f"stage1.controlnet_down_res.{i}" for i in range(9)} <= names
    assert {"stage1.out_with_control", "stage2_b1.out", "mm_b1.out", "attn_b1.out"} <= names


def test_a_wrong_stored_residual_fails(folder, tmp_path):
    from safetensors.torch import load_file

    for path in folder.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    cases = load_file(str(folder / "cases.safetensors"))
    cases["stage1.controlnet_down_res.8"] = cases["stage1.controlnet_down_res.8"] + 1e-2
    save_file(cases, str(tmp_path / "cases.safetensors"))
    failed = [r.name for r in forward.forward_case_checks(tmp_path) if not r.ok]
    assert failed == ["stage1.controlnet_down_res.8"]
