"""Behaviour of the temporal motion modules on tiny random weights."""

from __future__ import annotations

import pytest
import torch

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.models.motion_i2v.motion_module import MotionModule
from motionkit.models.motion_i2v.temporal_attention import FlowAugmentedTemporalAttention, SinusoidalPositionalEncoding

KWARGS = dict(
    num_attention_heads=2,
    num_transformer_block=1,
    temporal_position_encoding=True,
    temporal_position_encoding_max_len=32,
)


def _random_module(flow_augmented: bool, channels: int = 32, **overrides) -> MotionModule:
    mm = MotionModule(channels, **{**KWARGS, **overrides}, zero_initialize=False, flow_augmented=flow_augmented)
    return mm.eval()


def test_zero_initialised_module_is_identity():
    mm = MotionModule(32, **KWARGS, flow_augmented=True)
    x = torch.randn(2, 32, 4, 3, 5)
    assert torch.equal(mm(x, flow_pre=torch.randn(2, 4, 2, 24, 40)), x)


def test_vanilla_mixes_frames_but_not_batch_elements():
    mm = _random_module(False)
    x = torch.randn(2, 32, 5, 4, 6)
    with torch.no_grad():
        base = mm(x)
        changed = x.clone()
        changed[0, :, 3] = torch.randn(32, 4, 6)
        out = mm(changed)
    assert (out[0, :, 0] - base[0, :, 0]).abs().max() > 1e-3  # frame 0 sees frame 3
    assert torch.equal(out[1], base[1])  # the other video is untouched


def test_vanilla_is_equivariant_to_spatial_permutation():
    """Attention runs over time per pixel; space only enters through per-frame GroupNorm."""
    mm = _random_module(False)
    x = torch.randn(1, 32, 4, 3, 5)
    with torch.no_grad():
        flipped_then_module = mm(x.flip(-1))
        module_then_flipped = mm(x).flip(-1)
    torch.testing.assert_close(flipped_then_module, module_then_flipped, atol=1e-5, rtol=1e-5)


def test_vanilla_position_encoding_breaks_time_symmetry():
    x = torch.randn(1, 32, 4, 2, 2)
    reverse = torch.arange(3, -1, -1)
    with torch.no_grad():
        without = _random_module(False, temporal_position_encoding=False)
        torch.testing.assert_close(without(x[:, :, reverse]), without(x)[:, :, reverse], atol=1e-5, rtol=1e-5)
        with_pe = _random_module(False)
        assert (with_pe(x[:, :, reverse]) - with_pe(x)[:, :, reverse]).abs().max() > 1e-3


def test_vanilla_ignores_flow():
    mm = _random_module(False)
    x = torch.randn(1, 32, 4, 3, 5)
    with torch.no_grad():
        assert torch.equal(mm(x), mm(x, flow_pre=torch.randn(1, 4, 2, 24, 40)))


def test_frame0_flow_is_never_read():
    mm = _random_module(True)
    x = torch.randn(2, 32, 4, 3, 5)
    flow = torch.randn(2, 4, 2, 24, 40)
    other = flow.clone()
    other[:, 0] = 100.0
    with torch.no_grad():
        assert torch.equal(mm(x, flow_pre=flow), mm(x, flow_pre=other))


def test_flow_changes_the_output():
    mm = _random_module(True)
    x = torch.randn(1, 32, 4, 3, 5)
    with torch.no_grad():
        still = mm(x, flow_pre=torch.zeros(1, 4, 2, 24, 40))
        moving = mm(x, flow_pre=torch.full((1, 4, 2, 24, 40), 8.0))
    assert (still - moving).abs().max() > 1e-3


def test_warp_reference_moves_frame0_features_along_the_flow():
    attn = FlowAugmentedTemporalAttention(4, heads=1, max_len=8)
    batch, length, height, width = 1, 3, 4, 5
    h = torch.randn(batch * length, height * width, 4)
    flow = torch.zeros(batch, length, 2, height, width)
    flow[0, 1, 0] = 1.0  # frame 1: one pixel to the right
    flow[0, 2, 1] = 2.0  # frame 2: two pixels down
    warped = attn.warp_reference(h, flow)
    reference = h[0].reshape(height, width, 4).permute(2, 0, 1)
    scale = 1 / (1 + 1e-7)
    torch.testing.assert_close(warped[0, :, :, 1:], reference[:, :, :-1] * scale)
    assert torch.equal(warped[0, :, :, 0], torch.zeros(4, height))  # hole on the left
    torch.testing.assert_close(warped[1, :, 2:], reference[:, :-2] * scale)
    assert torch.equal(warped[1, :, :2], torch.zeros(4, 2, width))


def test_warp_reference_pairs_batches_like_the_official_tiling():
    """Entry i = b*(L-1) + k-1 warps the frame 0 of batch i mod B (the CFG-batch quirk)."""
    attn = FlowAugmentedTemporalAttention(4, heads=1, max_len=8)
    batch, length = 2, 3
    h = torch.randn(batch * length, 6, 4)
    warped = attn.warp_reference(h, torch.zeros(batch, length, 2, 2, 3))
    frame0 = h.reshape(batch, length, 2, 3, 4)[:, 0].permute(0, 3, 1, 2)
    scale = 1 / (1 + 1e-7)
    for i in range(batch * (length - 1)):
        torch.testing.assert_close(warped[i], frame0[i % batch] * scale)
    # Batch 0 / frame 2 (i = 1) uses batch 1's frame 0, not its own.
    assert not torch.allclose(warped[1], frame0[0] * scale)


@pytest.mark.parametrize("flow_augmented", [False, True])
def test_bfloat16_forward_runs_and_stays_close(flow_augmented):
    mm = _random_module(flow_augmented)
    x = torch.randn(2, 32, 4, 3, 5)
    flow = torch.randn(2, 4, 2, 24, 40) * 4
    with torch.no_grad():
        reference = mm(x, flow_pre=flow)
        out = mm.to(torch.bfloat16)(x.bfloat16(), flow_pre=flow.bfloat16())
    assert out.dtype == torch.bfloat16
    assert torch.isfinite(out).all()
    assert (out.float() - reference).abs().max() < 0.1 * reference.abs().max()


def test_positional_encoding_layout():
    pe = SinusoidalPositionalEncoding(6, max_len=5).pe
    assert pe.shape == (1, 5, 6)
    position, k = 3, 1
    omega = torch.exp(torch.tensor(-2 * k * torch.log(torch.tensor(10000.0)).item() / 6))
    torch.testing.assert_close(pe[0, position, 2 * k], torch.sin(position * omega))
    torch.testing.assert_close(pe[0, position, 2 * k + 1], torch.cos(position * omega))


def test_errors_name_the_problem():
    augmented = _random_module(True)
    x = torch.randn(1, 32, 4, 3, 5)
    with pytest.raises(InvalidInputError, match="flow_pre"):
        augmented(x)
    with pytest.raises(ShapeMismatchError, match="flow_pre"):
        augmented(x, flow_pre=torch.zeros(1, 3, 2, 24, 40))
    with pytest.raises(ShapeMismatchError, match="B, C, L, H, W"):
        augmented(x[0], flow_pre=torch.zeros(1, 4, 2, 24, 40))
    with pytest.raises(InvalidInputError, match="max_len"):
        _random_module(True, temporal_position_encoding_max_len=6)(x, flow_pre=torch.zeros(1, 4, 2, 3, 5))
    with pytest.raises(InvalidInputError, match="Temporal_Self"):
        MotionModule(32, attention_block_types=("Temporal_Cross",))
    with pytest.raises(InvalidInputError, match="attention_mask"):
        augmented(x, attention_mask=torch.ones(1), flow_pre=torch.zeros(1, 4, 2, 3, 5))
