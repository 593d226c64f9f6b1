"""Stage 1's latents become a MotionField one floor above the flow VAE's tensor maths."""

from __future__ import annotations

import torch
from helpers.tiny_motion_i2v import tiny_vae

from motionkit.models.motion_i2v.flow_vae import decode_flow_tensor
from motionkit.motion import MotionField
from motionkit.pipelines.motion_i2v.flowgen import decode_flow


def test_decode_flow_returns_a_motion_field_with_a_zero_frame0():
    vae = tiny_vae(2)
    latents = torch.randn(3, 4, 2, 3)
    with torch.no_grad():
        motion = decode_flow(vae, latents, (16, 24))
        expected = decode_flow_tensor(vae, latents, (16, 24))
    assert isinstance(motion, MotionField)
    assert motion.flow.shape == (4, 2, 16, 24)
    assert torch.equal(motion.flow[0], torch.zeros(2, 16, 24))
    assert torch.equal(motion.flow, expected)
