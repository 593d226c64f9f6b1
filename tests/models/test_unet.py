"""Behaviour of the Motion-I2V video UNets built tiny and at random (diffusers test style)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.models.motion_i2v import (
    AnimationUNet3DConditionModel,
    FlowControlNetModel,
    FlowUNet3DConditionModel,
)

TEXT_DIM = 12


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One torch thread for every test here (see the root conftest)."""


def tiny_kwargs(**overrides) -> dict:
    """Two levels of different widths and head counts, every optional part switched on."""
    kwargs = dict(
        block_out_channels=(32, 64), layers_per_block=1, norm_num_groups=8, cross_attention_dim=TEXT_DIM,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"), up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        attention_head_dim=(2, 4), use_inflated_groupnorm=True, use_motion_module=True,
        motion_module_type="Vanilla", motion_module_mid_block=True, motion_module_resolutions=(1, 2, 4, 8),
        motion_module_kwargs={"num_attention_heads": 2, "num_transformer_block": 1,
                              "temporal_position_encoding": True, "temporal_position_encoding_max_len": 32},
    )
    kwargs.update(overrides)
    return kwargs


def randomize(model: nn.Module) -> nn.Module:
    """Redraw the zero-initialised parameters so every path (motion modules too) has an effect."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if not p.any():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.05)
    return model.eval()


def stage1_inputs(batch=2, frames=3, h=8, w=12, dtype=torch.float32):
    g = torch.Generator().manual_seed(2)
    return dict(sample=torch.randn(batch, 8, frames, h, w, generator=g).to(dtype), timestep=961,
                stride=torch.arange(1, frames + 1)[None] * 8,
                encoder_hidden_states=torch.randn(batch, 5, TEXT_DIM, generator=g).to(dtype))


def stage2_inputs(batch=2, frames=4, h=8, w=12, dtype=torch.float32):
    g = torch.Generator().manual_seed(3)
    flow = torch.randn(batch, frames, 2, 8 * h, 8 * w, generator=g) * 6
    flow[:, 0] = 0
    return dict(sample=torch.randn(batch, 4, frames, h, w, generator=g).to(dtype), timestep=481,
                encoder_hidden_states=torch.randn(batch, 5, TEXT_DIM, generator=g).to(dtype),
                flow_pre=flow.to(dtype))


@pytest.fixture(scope="module")
def stage1() -> FlowUNet3DConditionModel:
    torch.manual_seed(0)
    return randomize(FlowUNet3DConditionModel(**tiny_kwargs()))


@pytest.fixture(scope="module")
def stage2() -> AnimationUNet3DConditionModel:
    torch.manual_seed(0)
    return randomize(AnimationUNet3DConditionModel(**tiny_kwargs(in_channels=4)))


def _run(model, inputs, dtype=None):
    if dtype is not None:
        inputs = {k: v.to(dtype) if torch.is_tensor(v) and v.is_floating_point() else v for k, v in inputs.items()}
    with torch.no_grad():
        return model(**inputs).sample


def test_stage1_shape_and_bf16_close_to_fp32(stage1):
    inputs = stage1_inputs()
    ref = _run(stage1, inputs)
    assert ref.shape == (2, 4, 3, 8, 12) and ref.dtype == torch.float32 and ref.isfinite().all()
    low = _run(stage1.to(torch.bfloat16), inputs, torch.bfloat16)
    stage1.to(torch.float32)
    assert low.dtype == torch.bfloat16
    assert (low.float() - ref).abs().max() < 0.05 * ref.abs().max()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float64], ids=["bf16", "fp16", "fp64"])
def test_stage2_runs_in_other_dtypes(stage2, dtype):
    inputs = stage2_inputs()
    ref = _run(stage2, inputs)
    out = _run(stage2.to(dtype), inputs, dtype)
    stage2.to(torch.float32)
    assert out.dtype == dtype
    tol = 1e-5 if dtype == torch.float64 else 0.05 * float(ref.abs().max())
    assert (out.double() - ref.double()).abs().max() < tol


def test_stride_conditions_each_frame(stage1):
    inputs = stage1_inputs()
    base = _run(stage1, inputs)
    # A different stride for the last frame changes that frame's prediction.
    inputs["stride"] = inputs["stride"].clone()
    inputs["stride"][0, -1] = 100
    moved = _run(stage1, inputs)
    assert (moved - base).abs().amax(dim=(0, 1, 3, 4))[-1] > 1e-3
    # A (1, F) stride is shared by the batch: giving it per batch element is the same.
    per_batch = inputs["stride"].repeat(2, 1)
    inputs["stride"] = per_batch
    assert torch.allclose(_run(stage1, inputs), moved, atol=1e-6)


def test_stage2_frame0_embedding_is_t_equal_one(stage2):
    emb = stage2.time_embedding_per_frame(481, batch=2, frames=4)
    at_one = stage2.time_embedding_per_frame(1.0, batch=2, frames=4)
    assert torch.allclose(emb[:, 0], at_one[:, 1], atol=1e-6)
    assert torch.equal(emb[:, 1], emb[:, 3]) and not torch.allclose(emb[:, 0], emb[:, 1])


def test_stage2_reads_the_flow_but_not_frame0s(stage2):
    inputs = stage2_inputs()
    base = _run(stage2, inputs)
    inputs["flow_pre"] = inputs["flow_pre"].clone()
    inputs["flow_pre"][:, 0] = 17.0
    assert torch.allclose(_run(stage2, inputs), base, atol=1e-6)
    inputs["flow_pre"][:, 2] += 9.0
    assert (_run(stage2, inputs) - base).abs().max() > 1e-4


def test_less_common_official_options_build_and_run():
    torch.manual_seed(0)
    unet = randomize(FlowUNet3DConditionModel(**tiny_kwargs(
        use_linear_projection=True, resnet_time_scale_shift="scale_shift", use_inflated_groupnorm=False,
        act_fn="mish", mid_block_scale_factor=2.0, layers_per_block=2, motion_module_decoder_only=True,
        motion_module_resolutions=(4,), attention_head_dim=4)))
    assert isinstance(unet.down_blocks[0].attentions[0].proj_in, nn.Linear)
    assert unet.down_blocks[0].resnets[0].time_emb_proj.out_features == 64
    # decoder_only: no encoder modules; up level i has factor 2**(3 - i) as in the official code,
    # so in this 2-level UNet the last up level counts as factor 4.
    assert all(m is None for block in unet.down_blocks for m in block.motion_modules)
    assert unet.up_blocks[0].motion_modules[0] is None and unet.up_blocks[1].motion_modules[0] is not None
    out = _run(unet, stage1_inputs())
    assert out.shape == (2, 4, 3, 8, 12) and out.isfinite().all()


def test_sizes_not_divisible_by_the_upsampling_factor(stage1):
    inputs = stage1_inputs(batch=1, h=7, w=9)
    assert _run(stage1, inputs).shape == (1, 4, 3, 7, 9)


@pytest.mark.parametrize("cls", [FlowUNet3DConditionModel, AnimationUNet3DConditionModel, FlowControlNetModel])
def test_save_and_load_round_trip_is_exact(cls, tmp_path):
    torch.manual_seed(0)
    kwargs = tiny_kwargs(in_channels=4 if cls is AnimationUNet3DConditionModel else 8)
    if cls is FlowControlNetModel:
        kwargs.pop("up_block_types")
    model = randomize(cls(**kwargs))
    model.save_pretrained(tmp_path)
    assert (tmp_path / "diffusion_pytorch_model.safetensors").is_file()
    assert json.loads((tmp_path / "config.json").read_text())["attention_head_dim"] == [2, 4]
    loaded = cls.from_pretrained(tmp_path).eval()
    original, restored = model.state_dict(), loaded.state_dict()
    assert list(original) == list(restored)
    assert all(torch.equal(original[k], restored[k]) for k in original)


def test_config_is_validated():
    with pytest.raises(InvalidInputError, match="heads"):
        FlowUNet3DConditionModel(**tiny_kwargs(attention_head_dim=(3, 4)))
    with pytest.raises(InvalidInputError, match="class embeddings"):
        FlowUNet3DConditionModel(**tiny_kwargs(num_class_embeds=10))
    with pytest.raises(InvalidInputError, match="block types"):
        FlowUNet3DConditionModel(**tiny_kwargs(down_block_types=("CrossAttnDownBlock2D", "DownBlock3D")))


def test_bad_inputs_say_what_was_expected(stage1, stage2):
    inputs = stage1_inputs()
    with pytest.raises(ShapeMismatchError, match=r"\(B, 8, F, h, w\)"):
        stage1(**{**inputs, "sample": inputs["sample"][:, :4]})
    with pytest.raises(ShapeMismatchError, match="stride"):
        stage1(**{**inputs, "stride": torch.tensor([[8, 16]])})
    with pytest.raises(InvalidInputError, match="attach_controlnet"):
        stage1(**inputs, control=torch.zeros(2, 5, 3, 8, 12))
    inputs2 = stage2_inputs()
    with pytest.raises(ShapeMismatchError, match="flow_pre"):
        stage2(**{**inputs2, "flow_pre": inputs2["flow_pre"][:, :2]})
