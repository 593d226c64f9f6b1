"""What the Motion-I2V render tests compare: a clip's frames as tensors, an image through the stage-2 VAE.

Frame 0 of a render is the image's VAE round trip, not the image (the tiny random VAE is far
from lossless), so tests compare it with :func:`round_trip` rather than with the image.
"""

from __future__ import annotations

import numpy as np
import torch

from helpers.images import to_tensor
from motionkit.pipelines.motion_i2v.conditioning import vae_decode, vae_encode


def clip_frames(clip) -> torch.Tensor:
    """A clip's frames as ``float32 (T, 3, H, W)`` in [0, 1]."""
    return to_tensor(np.stack([clip.frame(i) for i in range(len(clip))]))


def round_trip(vae, image: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """``image (3, H, W)`` in [0, 1] through ``vae`` with the posterior draw a render seeded ``seed`` makes first.

    The renderer's first draw from its generator is the image's posterior sample, so a render
    with ``seed`` has exactly this as frame 0, up to uint8 rounding (1/255).
    """
    with torch.no_grad():
        z = vae_encode(vae, image[None] * 2 - 1, torch.Generator().manual_seed(seed))
        return (vae_decode(vae)(z)[0] / 2 + 0.5).clamp(0, 1)
