"""The flow-VAE codec: official normalisation, frame-0 handling, latent scaling, shapes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.models.motion_i2v.flow_vae import (
    FLOW_LATENT_SCALE,
    build_flow_vae,
    decode_flow_tensor,
    encode_flow,
    normalize_flow,
)


class BlockVAE:
    """Stand-in VAE: the latent is the 8x8 block mean (4 channels: x, y, x, y) with std 2, decode repeats it.

    It records what it was fed, so tests can check the exact normalised input.
    """

    dtype = torch.float32
    device = torch.device("cpu")

    def __init__(self) -> None:
        self.encoded: list[torch.Tensor] = []
        self.decoded: list[torch.Tensor] = []

    def encode(self, x: torch.Tensor):
        self.encoded.append(x)
        mean = F.avg_pool2d(x, 8).repeat(1, 2, 1, 1)
        posterior = SimpleNamespace(mode=lambda: mean, std=torch.full_like(mean, 2.0))
        return SimpleNamespace(latent_dist=posterior)

    def decode(self, z: torch.Tensor):
        self.decoded.append(z)
        return SimpleNamespace(sample=F.interpolate(z[:, :2], scale_factor=8, mode="nearest"))


def _blocky_flow(frames: int, height: int, width: int) -> torch.Tensor:
    coarse = (torch.rand(frames, 2, height // 8, width // 8) - 0.5) * torch.tensor([width, height]).view(1, 2, 1, 1)
    flow = F.interpolate(coarse, scale_factor=8, mode="nearest")
    flow[0] = 0
    return flow


def tiny_vae():
    return build_flow_vae(
        block_out_channels=[8, 8, 8, 8], norm_num_groups=4, layers_per_block=1, sample_size=32
    ).eval()


def test_encode_feeds_the_official_normalisation_frame_by_frame():
    vae = BlockVAE()
    flow = _blocky_flow(4, 16, 32)
    encode_flow(vae, flow, scale=False, sample=False)
    assert len(vae.encoded) == 3  # frames 1..3, one at a time
    for t, fed in enumerate(vae.encoded, start=1):
        assert fed.shape == (1, 2, 16, 32)
        torch.testing.assert_close(fed[0, 0], (flow[t, 0] / 32 + 1) / 2, rtol=0, atol=0)
        torch.testing.assert_close(fed[0, 1], (flow[t, 1] / 16 + 1) / 2, rtol=0, atol=0)


def test_scale_sample_and_reference_options():
    flow = _blocky_flow(3, 16, 16)
    unscaled = encode_flow(BlockVAE(), flow, scale=False, sample=False)
    scaled = encode_flow(BlockVAE(), flow, scale=True, sample=False)
    torch.testing.assert_close(scaled, unscaled * FLOW_LATENT_SCALE)
    sampled = encode_flow(BlockVAE(), flow, scale=False, generator=torch.Generator().manual_seed(7))
    noise = torch.randn(unscaled.shape, generator=torch.Generator().manual_seed(7))  # one draw for all frames
    torch.testing.assert_close(sampled, unscaled + 2.0 * noise, atol=0, rtol=0)
    everything = encode_flow(BlockVAE(), flow, scale=False, sample=False, drop_reference=False)
    assert everything.shape[0] == 3 and torch.equal(everything[1:], unscaled)


def test_round_trip_through_the_stand_in_returns_pixels():
    vae = BlockVAE()
    flow = _blocky_flow(5, 24, 40)
    latents = encode_flow(vae, flow, sample=False)
    assert latents.shape == (4, 4, 3, 5)
    back = decode_flow_tensor(vae, latents)
    assert back.shape == flow.shape and back.dtype == torch.float32
    assert torch.equal(back[0], torch.zeros(2, 24, 40))
    torch.testing.assert_close(back, flow, atol=1e-4, rtol=0)
    # the decoder saw the unscaled latents (x (1/0.18215), as the official), one frame at a time
    assert len(vae.decoded) == 4
    assert torch.equal(vae.decoded[0], latents[:1] * (1 / FLOW_LATENT_SCALE))


def test_decode_clamps_to_one_image_size_and_resizes():
    vae = BlockVAE()
    latents = torch.full((2, 4, 2, 3), 0.9 * FLOW_LATENT_SCALE)  # normalised 0.9 -> 0.8 of the size
    latents[1] = 5.0 * FLOW_LATENT_SCALE  # far outside: clamped to +1 image size
    flow = decode_flow_tensor(vae, latents, prepend_reference=False)
    assert flow.shape == (2, 2, 16, 24)
    torch.testing.assert_close(flow[0, 0], torch.full((16, 24), 0.8 * 24))
    torch.testing.assert_close(flow[0, 1], torch.full((16, 24), 0.8 * 16))
    assert torch.equal(flow[1, 0], torch.full((16, 24), 24.0))
    bigger = decode_flow_tensor(vae, latents, (32, 48), prepend_reference=False)
    torch.testing.assert_close(bigger[0, 0], torch.full((32, 48), 0.8 * 48))  # vectors rescale


def test_tiny_real_vae_round_trip_shapes_and_generator():
    vae = tiny_vae()
    flow = _blocky_flow(4, 32, 48)
    with torch.no_grad():
        a = encode_flow(vae, flow, generator=torch.Generator().manual_seed(1))
        b = encode_flow(vae, flow, generator=torch.Generator().manual_seed(1))
        mean = encode_flow(vae, flow, sample=False)
        back = decode_flow_tensor(vae, a, (32, 48))
    assert a.shape == (3, 4, 4, 6)
    assert torch.equal(a, b) and not torch.equal(a, mean)
    assert back.shape == (4, 2, 32, 48)
    assert back[1:, 0].abs().max() <= 48 and back[1:, 1].abs().max() <= 32


def test_tiny_real_vae_sees_the_normalised_flow():
    vae = tiny_vae()
    flow = _blocky_flow(2, 16, 16)
    with torch.no_grad():
        ours = encode_flow(vae, flow, scale=False, sample=False)
        direct = vae.encode(normalize_flow(flow[1:])).latent_dist.mode()
    torch.testing.assert_close(ours, direct, atol=1e-6, rtol=1e-5)


def test_accepts_motion_field():
    # models/ never imports the objects: a MotionField is read through its .flow tensor.
    from motionkit.motion import MotionField

    flow = _blocky_flow(3, 16, 16)
    latents = encode_flow(BlockVAE(), MotionField(flow), sample=False)
    torch.testing.assert_close(latents, encode_flow(BlockVAE(), flow, sample=False))
    torch.testing.assert_close(decode_flow_tensor(BlockVAE(), latents), flow, atol=1e-4, rtol=0)


def test_bad_inputs_are_refused():
    with pytest.raises(ShapeMismatchError, match="divisible by 8"):
        encode_flow(BlockVAE(), torch.zeros(2, 2, 12, 16))
    with pytest.raises(ShapeMismatchError, match=r"\(T, 2, H, W\)"):
        encode_flow(BlockVAE(), torch.zeros(2, 3, 16, 16))
    with pytest.raises(InvalidInputError, match="no frames after"):
        encode_flow(BlockVAE(), torch.zeros(1, 2, 16, 16))
    with pytest.raises(InvalidInputError, match="MotionField or a tensor"):
        encode_flow(BlockVAE(), [[0.0]])


def test_sampling_matches_the_official_batched_encoder_draw():
    """The official app encodes all frames in one batch and calls latent_dist.sample() once."""
    vae = tiny_vae()
    flow = _blocky_flow(4, 16, 24)
    with torch.no_grad():
        ours = encode_flow(vae, flow, scale=False, generator=torch.Generator().manual_seed(3))
        official = vae.encode(normalize_flow(flow[1:])).latent_dist.sample(generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(ours, official, atol=1e-6, rtol=1e-5)
