"""The stage-1 ControlNet: zero start, residual layout, scaling and wiring into the UNet."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from motionkit.errors import ShapeMismatchError
from motionkit.models.motion_i2v import FlowControlNetModel, FlowUNet3DConditionModel

TEXT_DIM = 12


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One torch thread for every test here (see the root conftest)."""


def _unet(layers: int = 2) -> FlowUNet3DConditionModel:
    torch.manual_seed(0)
    return FlowUNet3DConditionModel(
        block_out_channels=(32, 64, 64), layers_per_block=layers, norm_num_groups=8, cross_attention_dim=TEXT_DIM,
        down_block_types=("CrossAttnDownBlock3D", "CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D", "CrossAttnUpBlock3D"), attention_head_dim=(2, 2, 4),
        use_inflated_groupnorm=True, use_motion_module=True, motion_module_type="Vanilla",
        motion_module_mid_block=True, motion_module_kwargs={
            "num_attention_heads": 2, "num_transformer_block": 1, "temporal_position_encoding": True,
            "temporal_position_encoding_max_len": 32}).eval()


def _inputs(batch=2, frames=3, h=8, w=8):
    g = torch.Generator().manual_seed(4)
    return (torch.randn(batch, 8, frames, h, w, generator=g), 501, torch.tensor([[8, 16, 24]]),
            torch.randn(batch, 4, TEXT_DIM, generator=g)), torch.rand(batch, 5, frames, h, w, generator=g)


def _wake(model: nn.Module) -> nn.Module:
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in model.parameters():
            if not p.any():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.05)
    return model.eval()


@pytest.fixture(scope="module")
def unet() -> FlowUNet3DConditionModel:
    return _unet()


def test_fresh_controlnet_is_zero_and_leaves_the_unet_unchanged(unet):
    controlnet = FlowControlNetModel.from_unet(unet).eval()
    args, cond = _inputs()
    with torch.no_grad():
        down, mid = controlnet(*args, cond, return_dict=False)
        plain = unet(*args).sample
        unet.attach_controlnet(controlnet)
        controlled = unet(*args, control=cond).sample
        unet.attach_controlnet(None)
    assert all(not r.any() for r in down) and not mid.any()
    assert torch.equal(plain, controlled)


def test_residuals_follow_the_unet_skips(unet):
    controlnet = FlowControlNetModel.from_unet(unet).eval()
    args, cond = _inputs()
    with torch.no_grad():
        out = controlnet(*args, cond)
    # conv_in, then 2 layers + downsampler for the first two levels, 2 layers for the last.
    widths = [32, 32, 32, 32, 64, 64, 64, 64, 64]
    sizes = [8, 8, 8, 4, 4, 4, 2, 2, 2]
    assert [r.shape[1] for r in out.down_block_res_samples] == widths
    assert [r.shape[-1] for r in out.down_block_res_samples] == sizes
    assert out.mid_block_res_sample.shape == (2, 64, 3, 2, 2)
    assert len(controlnet.controlnet_down_blocks) == len(widths)


def test_from_unet_copies_the_encoder_weights(unet):
    controlnet = FlowControlNetModel.from_unet(unet)
    for name in ("conv_in", "time_embedding", "stride_embedding", "down_blocks", "mid_block"):
        ours, theirs = getattr(controlnet, name).state_dict(), getattr(unet, name).state_dict()
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), name
    cond_embedding = controlnet.controlnet_cond_embedding.layers
    assert isinstance(cond_embedding[0], nn.Conv3d) and cond_embedding[0].weight.shape == (512, 5, 1, 3, 3)


def test_scale_multiplies_residuals_and_unet_adds_them(unet):
    controlnet = _wake(FlowControlNetModel.from_unet(unet))
    args, cond = _inputs()
    with torch.no_grad():
        down1, mid1 = controlnet(*args, cond, return_dict=False)
        down2, mid2 = controlnet(*args, cond, conditioning_scale=0.5, return_dict=False)
        assert mid1.abs().max() > 1e-3
        assert torch.allclose(mid2, 0.5 * mid1) and all(torch.allclose(b, 0.5 * a) for a, b in zip(down1, down2))

        unet.attach_controlnet(controlnet, 0.5)
        attached = unet(*args, control=cond).sample
        unet.attach_controlnet(None)
        explicit = unet(*args, down_block_additional_residuals=down2, mid_block_additional_residual=mid2).sample
        plain = unet(*args).sample
    assert torch.allclose(attached, explicit, atol=1e-6)
    assert (attached - plain).abs().max() > 1e-4


def test_guess_mode_ramps_the_scale(unet):
    controlnet = _wake(FlowControlNetModel.from_unet(unet))
    args, cond = _inputs()
    with torch.no_grad():
        down, mid = controlnet(*args, cond, return_dict=False)
        gdown, gmid = controlnet(*args, cond, guess_mode=True, return_dict=False)
    assert torch.allclose(gdown[0], 0.1 * down[0], atol=1e-6)
    assert torch.allclose(gmid, mid, atol=1e-6)


def test_bf16_runs_close_to_fp32(unet):
    controlnet = _wake(FlowControlNetModel.from_unet(unet))
    args, cond = _inputs()
    with torch.no_grad():
        ref = controlnet(*args, cond).mid_block_res_sample
        low_args = [a.bfloat16() if torch.is_tensor(a) and a.is_floating_point() else a for a in args]
        low = controlnet.to(torch.bfloat16)(*low_args, cond.bfloat16()).mid_block_res_sample
    assert low.dtype == torch.bfloat16
    assert (low.float() - ref).abs().max() < 0.05 * ref.abs().max()


def test_condition_shape_is_checked(unet):
    controlnet = FlowControlNetModel.from_unet(unet)
    args, cond = _inputs()
    with pytest.raises(ShapeMismatchError, match="controlnet_cond"):
        controlnet(*args, cond[:, :4])
