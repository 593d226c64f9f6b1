"""The flow VAE of Motion-I2V: motion fields in pixels <-> 4-channel latents.

Stage 1 generates motion in the latent space of a 2-channel Stable-Diffusion-1.5-style
``AutoencoderKL``. The official code feeds it flows normalised to [0, 1]:
``((dx / W) + 1) / 2`` and ``((dy / H) + 1) / 2`` (W, H = the field's width and height in
pixels), and reads decoded flows back with ``clamp(2x - 1, -1, 1)`` times W (dx) and H (dy).
The diffusion latent is the encoding times :data:`FLOW_LATENT_SCALE` (0.18215); the
ControlNet condition uses the unscaled encoding.

Frames: a motion field's frame 0 is the reference (zero displacement). Stage 1 generates only
frames ``1..T-1``, so :func:`encode_flow` drops frame 0 by default and
:func:`decode_flow_tensor` puts a zero frame 0 back (the ``MotionField`` form,
:func:`motionkit.pipelines.motion_i2v.flowgen.decode_flow`, lives a floor up, with the objects). Frames go through the VAE one at a time (bounded memory; the
official decoder does the same); the posterior sample of :func:`encode_flow` draws its noise
for all frames in one call, as the official batched encoder does, so a seeded generator gives
the official latents.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL
from diffusers.utils.torch_utils import randn_tensor

from motionkit.errors import InvalidInputError, ShapeMismatchError

__all__ = [
    "FLOW_LATENT_SCALE",
    "FLOW_VAE_CONFIG",
    "build_flow_vae",
    "normalize_flow",
    "denormalize_flow",
    "encode_flow",
    "decode_flow_tensor",
]

#: Multiplier from the flow VAE's encoding to the stage-1 diffusion latent (SD 1.5's value).
FLOW_LATENT_SCALE = 0.18215

#: The released flow VAE: the SD-1.5 VAE with 2 input and 2 output channels (latent stays 4).
FLOW_VAE_CONFIG: dict[str, Any] = {
    "in_channels": 2,
    "out_channels": 2,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "act_fn": "silu",
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 512,
    "scaling_factor": FLOW_LATENT_SCALE,
}

#: The VAE halves the resolution this many times: 8 pixels per latent cell.
_DOWNSCALE = 8


def build_flow_vae(**overrides: Any) -> AutoencoderKL:
    """A randomly initialised flow VAE with the released architecture (or ``overrides``).

    Example:
        >>> vae = build_flow_vae(block_out_channels=[8], down_block_types=["DownEncoderBlock2D"],
        ...                      up_block_types=["UpDecoderBlock2D"], norm_num_groups=4, layers_per_block=1)
        >>> vae.config.in_channels, vae.config.latent_channels
        (2, 4)
    """
    return AutoencoderKL(**{**FLOW_VAE_CONFIG, **overrides})


def _flow_tensor(motion: Any) -> torch.Tensor:
    flow = getattr(motion, "flow", motion)
    if not isinstance(flow, torch.Tensor):
        raise InvalidInputError(
            f"motion must be a MotionField or a tensor (T, 2, H, W) in pixels, got {type(motion).__name__}"
        )
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ShapeMismatchError(f"a motion field must be (T, 2, H, W) in pixels, got shape {tuple(flow.shape)}")
    return flow


def normalize_flow(flow: torch.Tensor) -> torch.Tensor:
    """Pixel displacements -> the flow VAE's input range: ``((dx / W) + 1) / 2``, ``((dy / H) + 1) / 2``.

    Args:
        flow: ``(T, 2, H, W)`` pixels (dx right, dy down).

    Returns:
        ``(T, 2, H, W)`` float32; 0.5 means "no motion", 0 and 1 a full image width/height.

    Example:
        >>> normalize_flow(torch.tensor([64.0, -32.0]).view(1, 2, 1, 1).expand(1, 2, 32, 64))[0, :, 0, 0].tolist()
        [1.0, 0.0]
    """
    height, width = flow.shape[-2:]
    size = flow.new_tensor([width, height], dtype=torch.float32).view(1, 2, 1, 1)
    return (flow.float() / size + 1) / 2


def denormalize_flow(decoded: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The flow VAE's output -> pixels: ``clamp(2x - 1, -1, 1)`` times W (dx) and H (dy).

    Args:
        decoded: ``(T, 2, h, w)`` VAE output (about [0, 1]).
        size: ``(H, W)`` of the returned field; if it differs from ``(h, w)`` the normalised
            field is resized bilinearly first (normalised units do not depend on resolution).

    Returns:
        ``(T, 2, H, W)`` float32 displacements in pixels.

    Example:
        >>> denormalize_flow(torch.ones(1, 2, 4, 4), (4, 8))[0, :, 0, 0].tolist()
        [8.0, 4.0]
    """
    height, width = size
    field = (2 * decoded.float() - 1).clamp(-1, 1)
    if tuple(field.shape[-2:]) != (height, width):
        field = F.interpolate(field, size=(height, width), mode="bilinear", align_corners=False)
    return field * field.new_tensor([width, height]).view(1, 2, 1, 1)


def encode_flow(
    vae: AutoencoderKL,
    motion: Any,
    *,
    scale: bool = True,
    sample: bool = True,
    generator: torch.Generator | None = None,
    drop_reference: bool = True,
) -> torch.Tensor:
    """Encode a motion field (pixels) into flow-VAE latents, as the official stage 1 does.

    Args:
        vae: the 2-channel flow VAE.
        motion: a tensor ``(T, 2, H, W)`` in pixels, or anything with such a ``.flow`` (a
            ``MotionField``); H and W divisible by 8.
        scale: multiply by :data:`FLOW_LATENT_SCALE` (the diffusion latent); ``False`` gives
            the unscaled encoding the ControlNet condition uses.
        sample: draw from the posterior (the official ``latent_dist.sample()``: mean + std *
            noise, the noise ``(T', 4, h, w)`` drawn in one call); ``False`` returns the mean.
        generator: random generator for ``sample`` (default: torch's global one).
        drop_reference: skip frame 0 (the zero reference), as stage 1 only models frames 1..T-1.

    Returns:
        ``(T', 4, H/8, W/8)`` latents in the VAE's dtype, ``T' = T - 1`` with ``drop_reference``.

    Example:
        >>> latents = encode_flow(vae, motion, scale=False)      # doctest: +SKIP
    """
    flow = _flow_tensor(motion)
    if drop_reference:
        flow = flow[1:]
    if flow.shape[0] == 0:
        raise InvalidInputError("nothing to encode: the motion field has no frames after the reference frame 0")
    height, width = flow.shape[-2:]
    if height % _DOWNSCALE or width % _DOWNSCALE:
        raise ShapeMismatchError(
            f"the flow VAE needs H and W divisible by {_DOWNSCALE}, got {height}x{width}; resize the motion field"
        )
    means, stds = [], []
    for frame in normalize_flow(flow):
        posterior = vae.encode(frame[None].to(device=vae.device, dtype=vae.dtype)).latent_dist
        means.append(posterior.mode())
        stds.append(posterior.std)
    out = torch.cat(means)
    if sample:
        # One draw for all frames, as the official batched `latent_dist.sample()` makes.
        noise = randn_tensor(tuple(out.shape), generator=generator, device=out.device, dtype=out.dtype)
        out = out + torch.cat(stds) * noise
    return out * FLOW_LATENT_SCALE if scale else out


def decode_flow_tensor(
    vae: AutoencoderKL,
    latents: torch.Tensor,
    size: tuple[int, int] | None = None,
    *,
    scaled: bool = True,
    prepend_reference: bool = True,
) -> torch.Tensor:
    """Decode flow-VAE latents into a ``(T, 2, H, W)`` float32 tensor in pixels.

    Args:
        vae: the 2-channel flow VAE.
        latents: ``(T', 4, h, w)`` latents of frames 1..T' (stage 1's output).
        size: ``(H, W)`` of the field in pixels (default ``(8h, 8w)``, the decoded size).
        scaled: the latents carry :data:`FLOW_LATENT_SCALE` (divide it out first).
        prepend_reference: put a zero frame 0 in front, making ``T = T' + 1`` frames.

    Returns:
        ``(T, 2, H, W)`` float32 displacements from frame 0, in pixels.

    Example:
        >>> flow = decode_flow_tensor(vae, latents, (320, 512))   # doctest: +SKIP
    """
    if latents.dim() != 4:
        raise ShapeMismatchError(f"latents must be (T, 4, h, w), got shape {tuple(latents.shape)}")
    size = size or (latents.shape[-2] * _DOWNSCALE, latents.shape[-1] * _DOWNSCALE)
    if scaled:
        latents = latents * (1 / FLOW_LATENT_SCALE)  # the official pipeline multiplies by the reciprocal
    frames = []
    for latent in latents:
        decoded = vae.decode(latent[None].to(device=vae.device, dtype=vae.dtype)).sample
        frames.append(denormalize_flow(decoded, size))
    flow = torch.cat(frames)
    if prepend_reference:
        flow = torch.cat([torch.zeros_like(flow[:1]), flow])
    return flow
