"""Stage 2 as a pipeline: reference image + motion field (+ static brush) -> video frames.

:class:`Animator` holds the networks and runs the official ``AnimationPipeline`` recipe
(:func:`~motionkit.pipelines.motion_i2v.loops.denoise_video`): the image enters in [-1, 1],
frame 0 of the latents is pinned to it, the flow conditions the motion-augmented temporal
attention in pixels, and a static brush region is kept by RePaint blending. Videos longer than
a window are denoised as overlapping windows anchored on frame 0
(:func:`~motionkit.pipelines.motion_i2v.windows.windowed_eps`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.pipelines.motion_i2v.conditioning import encode_prompt, placed, randn, vae_decode, vae_encode
from motionkit.pipelines.motion_i2v.flowgen import Sampling
from motionkit.pipelines.motion_i2v.loops import decode_frames, denoise_video, stage2_eps_fn
from motionkit.pipelines.motion_i2v.scheduling import LATENT_SCALE, make_scheduler
from motionkit.pipelines.motion_i2v.windows import windowed_eps

#: A linear map from SD-1.5 latents to approximate RGB in [-1, 1], for cheap step previews.
_LATENT_RGB = torch.tensor(
    [[0.298, 0.207, 0.208], [0.187, 0.286, 0.173], [-0.158, 0.189, 0.264], [-0.184, -0.271, -0.473]]
)


def latent_preview(latents: torch.Tensor) -> torch.Tensor:
    """``(B, 4, F, h, w)`` scaled latents -> ``(F, 3, h, w)`` rough RGB in [0, 1] of batch 0 (no VAE call).

    Example:
        >>> latent_preview(torch.zeros(1, 4, 2, 8, 8)).shape
        torch.Size([2, 3, 8, 8])
    """
    rgb = torch.einsum("cfhw,cr->frhw", latents[0].float().cpu(), _LATENT_RGB)
    return (rgb / 2 + 0.5).clamp(0, 1)


@dataclass
class Animator:
    """The stage-2 networks: video UNet (flow-augmented temporal attention), image VAE, CLIP text model.

    ``unet`` is called ``unet(x, t, encoder_hidden_states=..., flow_pre=...)`` with ``flow_pre``
    ``(B, F, 2, H, W)`` in pixels.

    Example:
        >>> stage2 = Animator(unet, vae, text_encoder, tokenizer)  # doctest: +SKIP
        >>> stage2(image, flow, None, "a boat sails", Sampling()).shape  # doctest: +SKIP
        torch.Size([16, 3, 320, 512])
    """

    unet: Any
    vae: Any
    text_encoder: Any
    tokenizer: Any

    def __call__(
        self, image: torch.Tensor, flow: torch.Tensor, static: torch.Tensor | None, prompt: str, sampling: Sampling
    ) -> torch.Tensor:
        """Render ``image`` along ``flow``.

        Args:
            image: ``(3, H, W)`` in [0, 1], H and W multiples of 64.
            flow: ``(T, 2, H, W)`` displacement from frame 0 in pixels (frame 0 is ignored).
            static: ``(H, W)`` official brush (1 = keep the reference there) or None.
            prompt: text describing the video.
            sampling: steps, guidance, generator, device, windows, ...

        Returns:
            ``(T, 3, H, W)`` float32 frames in [0, 1]; frame 0 is the VAE round trip of ``image``.
            The callback's preview is a rough RGB of the predicted clean video, ``(T, 3, H/8, W/8)``.
        """
        frames = flow.shape[0]
        if flow.dim() != 4 or flow.shape[1] != 2 or flow.shape[-2:] != image.shape[-2:]:
            raise ShapeMismatchError(f"flow must be (T, 2, H, W) at the image size {tuple(image.shape[-2:])}, got {tuple(flow.shape)}")
        if frames < 2:
            raise InvalidInputError(f"stage 2 renders at least 2 frames (frame 0 and one more), got {frames}")
        device, gen, offload = sampling.device, sampling.generator, sampling.cpu_offload
        h, w = image.shape[-2:]
        cfg = sampling.guidance > 1
        with placed(self.text_encoder, device, offload):
            text = encode_prompt(self.text_encoder, self.tokenizer, prompt, sampling.negative_prompt, guidance=cfg, device=device)
        with placed(self.vae, device, offload):
            image_latent = (vae_encode(self.vae, image[None] * 2 - 1, gen) * LATENT_SCALE).to(device).unsqueeze(2)
        static_latent = None
        if static is not None and bool(static.any()):
            static_latent = F.interpolate(static[None, None, None].float(), scale_factor=(1, 1 / 8, 1 / 8), mode="nearest").to(device)
        noise = randn((1, 4, frames, h // 8, w // 8), gen, device)
        # The official pipeline repeats the flow to batch 2, the CFG batch [uncond, cond].
        flow_batch = flow[None].to(device).repeat(2 if cfg else 1, 1, 1, 1, 1)

        def make_eps(indices: list[int]):
            return stage2_eps_fn(self.unet, text, flow_batch[:, indices])

        eps = windowed_eps(make_eps, frames, sampling.window, sampling.overlap)
        on_step = None
        if sampling.callback is not None:

            def on_step(i: int, t: int, latents: torch.Tensor, pred_x0: torch.Tensor) -> None:
                sampling.callback(i + 1, sampling.steps, latent_preview(pred_x0))

        with placed(self.unet, device, offload):
            latents = denoise_video(
                eps, make_scheduler(), image_latent=image_latent, noise=noise, static=static_latent,
                steps=sampling.steps, guidance=sampling.guidance, eta=sampling.eta,
                generator=gen if sampling.eta > 0 else None, on_step=on_step, progress=sampling.progress,
            )
        with placed(self.vae, device, offload):
            video = decode_frames(vae_decode(self.vae), latents, LATENT_SCALE)
        return (video[0].permute(1, 0, 2, 3).cpu() / 2 + 0.5).clamp(0, 1)
