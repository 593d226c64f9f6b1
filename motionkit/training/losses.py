"""One training loss per task, on a batch of :class:`~motionkit.training.data.VideoCaptionDataset` items.

All follow the official training scripts (``train_*flow_gen*.py`` of G-U-N/Motion-I2V):
epsilon prediction with the linear DDIM schedule, latents x0.18215, flows normalised to [0, 1]
for the flow VAE, the stage-1 image latent from the [0, 1] frame, the stage-2 latents from the
[-1, 1] frames.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from motionkit.models.motion_i2v.flow_vae import normalize_flow
from motionkit.pipelines.motion_i2v.loops import network_output
from motionkit.pipelines.motion_i2v.scheduling import LATENT_SCALE, make_scheduler


@dataclass
class Networks:
    """What training may use; a task needs only some of them (see :func:`motionkit.training.models.load_networks`).

    ``stage1_unet`` carries the ControlNet (``attach_controlnet``) for the ``controlnet`` task.

    Example:
        >>> Networks().stage2_unet is None
        True
    """

    text_encoder: Any = None
    tokenizer: Any = None
    image_vae: Any = None
    flow_vae: Any = None
    stage1_unet: Any = None
    stage2_unet: Any = None
    flow_vae_objective: Any = None


class FlowVAEObjective(torch.nn.Module):
    """The flow VAE as one module whose forward gives ``(reconstruction, kl)``.

    Distributed wrappers only see ``forward``, so the VAE is trained through this.

    Example:
        >>> recon, kl = FlowVAEObjective(flow_vae)(torch.rand(2, 2, 64, 64))  # doctest: +SKIP
    """

    def __init__(self, vae: Any) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # noqa: D102 - see class
        posterior = self.vae.encode(x).latent_dist
        return self.vae.decode(posterior.sample()).sample, posterior.kl().mean()


def random_block_mask(batch: int, size: tuple[int, int], ratio: float, block: int = 8,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """``(B, 1, H, W)`` masks keeping ``int(ratio * blocks)`` random ``block x block`` squares per sample.

    The ControlNet learns from such sparse samples of the true flow (official
    ``generate_sparse_flow_mask``, 8-pixel blocks).

    Example:
        >>> m = random_block_mask(2, (16, 16), 0.5, generator=torch.Generator().manual_seed(0))
        >>> m.shape, m[0].sum().item()
        (torch.Size([2, 1, 16, 16]), 128.0)
    """
    h, w = size
    rows, cols = h // block, w // block
    keep = int(rows * cols * ratio)
    mask = torch.zeros(batch, 1, h, w)
    for b in range(batch):
        for cell in torch.randperm(rows * cols, generator=generator)[:keep].tolist():
            r, c = divmod(cell, cols)
            mask[b, :, r * block : (r + 1) * block, c * block : (c + 1) * block] = 1.0
    return mask


def encode_text(nets: Networks, captions: list[str], null_ratio: float, device: torch.device) -> torch.Tensor:
    """Frozen CLIP embeddings of the captions, each replaced by ``""`` with probability ``null_ratio``.

    Example:
        >>> encode_text(nets, ["a dog runs"], 0.1, torch.device("cpu")).shape  # doctest: +SKIP
        torch.Size([1, 77, 768])
    """
    texts = ["" if random.random() < null_ratio else c for c in captions]
    ids = nets.tokenizer(texts, padding="max_length", max_length=nets.tokenizer.model_max_length, truncation=True,
                         return_tensors="pt").input_ids.to(device)
    with torch.no_grad():
        return nets.text_encoder(ids)[0]


def _frames_flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1, *x.shape[2:])


def _to_video(x: torch.Tensor, batch: int) -> torch.Tensor:
    """``(B*F, C, h, w)`` -> ``(B, C, F, h, w)``."""
    return x.reshape(batch, -1, *x.shape[1:]).permute(0, 2, 1, 3, 4)


def _encode(vae: Any, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return vae.encode(x.to(vae.dtype)).latent_dist.sample().float()


def _track_input(x: torch.Tensor) -> torch.Tensor:
    # With only the temporal modules trainable, backward through the frozen layers before them
    # crashed (segfault, torch 2.13 CPU); a graph that starts at the input avoids that path.
    return x.detach().requires_grad_(True)


def _noised(latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    sched = make_scheduler()
    noise = torch.randn_like(latents)
    t = torch.randint(0, sched.config.num_train_timesteps, (latents.shape[0],), device=latents.device)
    return sched.add_noise(latents, noise, t), noise, t


def flow_vae_loss(nets: Networks, batch: dict[str, Any], *, kl_weight: float = 1e-6, **_: Any) -> torch.Tensor:
    """Reconstruction MSE of normalised flows (frames 1..F-1) plus ``kl_weight`` x KL.

    Example:
        >>> flow_vae_loss(nets, batch).backward()  # doctest: +SKIP
    """
    x = normalize_flow(_frames_flat(batch["flow"][:, 1:]))
    recon, kl = (nets.flow_vae_objective or FlowVAEObjective(nets.flow_vae))(x)
    return F.mse_loss(recon.float(), x.float()) + kl_weight * kl


def stage1_loss(nets: Networks, batch: dict[str, Any], *, control: bool = False, null_text_ratio: float = 0.1,
                sparse_ratio_max: float = 0.5, **_: Any) -> torch.Tensor:
    """Epsilon loss of the flow UNet on flow latents, conditioned on frame 0, text, strides (and sparse flow).

    Example:
        >>> stage1_loss(nets, batch, null_text_ratio=0.1).backward()  # doctest: +SKIP
    """
    pixels, flow = batch["pixel_values"], batch["flow"]
    b, f = flow.shape[:2]
    device = pixels.device
    flows = normalize_flow(_frames_flat(flow[:, 1:]))  # (B*(F-1), 2, H, W) in [0, 1]
    latents = _to_video(_encode(nets.flow_vae, flows), b) * LATENT_SCALE
    image = _encode(nets.image_vae, pixels[:, 0]) * LATENT_SCALE
    image = image[:, :, None].expand(-1, -1, f - 1, -1, -1)
    cond = None
    if control:
        mask = random_block_mask(b, flow.shape[-2:], random.random() * sparse_ratio_max).to(device)
        mask = mask[:, None].expand(-1, f - 1, -1, -1, -1).reshape(-1, 1, *flow.shape[-2:])
        sparse = mask * (flows - 0.5) + 0.5
        sparse_latent = _to_video(_encode(nets.flow_vae, sparse), b)  # unscaled, like the official
        mask_latent = F.interpolate(_to_video(mask, b), scale_factor=(1, 1 / 8, 1 / 8), mode="nearest")
        cond = torch.cat([sparse_latent, mask_latent], dim=1)
    noisy, noise, t = _noised(latents)
    text = encode_text(nets, list(batch["text"]), null_text_ratio, device)
    kwargs = {"control": cond} if cond is not None else {}
    pred = network_output(nets.stage1_unet(_track_input(torch.cat([image, noisy], dim=1)), t, batch["stride"][:, 1:], text, **kwargs))
    return F.mse_loss(pred.float(), noise.float())


def controlnet_loss(nets: Networks, batch: dict[str, Any], **options: Any) -> torch.Tensor:
    """:func:`stage1_loss` with random sparse blocks of the true flow as the ControlNet condition.

    Example:
        >>> controlnet_loss(nets, batch, sparse_ratio_max=0.5).backward()  # doctest: +SKIP
    """
    return stage1_loss(nets, batch, control=True, **options)


def stage2_loss(nets: Networks, batch: dict[str, Any], *, null_text_ratio: float = 0.1, **_: Any) -> torch.Tensor:
    """Epsilon loss of the video UNet on frames 1..F-1; frame 0 stays the clean reference latent.

    Example:
        >>> stage2_loss(nets, batch).backward()  # doctest: +SKIP
    """
    pixels, flow = batch["pixel_values"], batch["flow"]
    b = pixels.shape[0]
    latents = _to_video(_encode(nets.image_vae, _frames_flat(pixels) * 2 - 1), b) * LATENT_SCALE
    noisy, noise, t = _noised(latents)
    noisy = torch.cat([latents[:, :, :1], noisy[:, :, 1:]], dim=2)
    text = encode_text(nets, list(batch["text"]), null_text_ratio, pixels.device)
    pred = network_output(nets.stage2_unet(_track_input(noisy), t, text, flow_pre=flow))
    return F.mse_loss(pred[:, :, 1:].float(), noise[:, :, 1:].float())


LOSSES = {"flow-vae": flow_vae_loss, "stage1": stage1_loss, "controlnet": controlnet_loss, "stage2": stage2_loss}
