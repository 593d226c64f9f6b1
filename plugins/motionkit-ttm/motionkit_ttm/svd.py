"""``ttm-svd``: Time-to-Move on diffusers' ``StableVideoDiffusionPipeline`` (SVD, SVD-XT).

SVD is conditioned on the image only: CLIP image embeddings (cross-attention), the VAE latent
of the (slightly noised) image concatenated along channels to every frame's latents, and
"micro-conditions" (frame rate, motion bucket, noise augmentation). It takes **no prompt**: its
options have no ``prompt``, so a prompt given to it is refused as an unknown option.
Classifier-free guidance grows linearly over the frames from ``min_guidance`` to
``guidance``, as in the pipeline. Its Euler sampler has Karras-style sigmas
(``x = z + sigma * noise``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from motionkit.learned import option
from motionkit_ttm.fit import Fit, resize_frames
from motionkit_ttm.renderer import TTMOptions, TTMRenderer


@dataclass(frozen=True)
class SVDOptions(TTMOptions):
    """:class:`~motionkit_ttm.renderer.TTMOptions` plus SVD's micro-conditions (no prompt).

    Attributes:
        min_guidance: guidance of frame 0; later frames rise linearly to ``guidance``.
        motion_bucket_id: how much motion the model is told to make (SVD: 127).
        noise_aug_strength: noise added to the conditioning image (SVD: 0.02).
        conditioning_fps: the frame rate the model is told (SVD: 7; it sees ``fps - 1``).
        decode_chunk: frames decoded at once.
    """

    OWNER: ClassVar[str] = "ttm-svd"

    min_guidance: float = option(1.0)
    motion_bucket_id: int = option(127)
    noise_aug_strength: float = option(0.02)
    conditioning_fps: int = option(7)
    decode_chunk: int = option(8)


class SVDTTMRenderer(TTMRenderer):
    """Time-to-Move on Stable Video Diffusion (``StableVideoDiffusionPipeline``). Options: :class:`SVDOptions`.

    Defaults: 50 steps, guidance 3.0 (last frame; 1.0 at frame 0), ``outside_start`` 16 and
    ``inside_start`` 21 (TTM's setting for SVD), about 576 x 1024 pixels in multiples of 64, any
    frame count (trained on 14, XT on 25).

    Example:
        >>> import motionkit as mk
        >>> svd = mk.Renderer.get("ttm-svd", model="./stable-video-diffusion-img2vid-xt")  # doctest: +SKIP
    """

    NAME = "ttm-svd"
    OPTIONS = SVDOptions
    PIPELINE = "StableVideoDiffusionPipeline"
    DEFAULT_MODEL = "stabilityai/stable-video-diffusion-img2vid-xt"
    MODEL_ENV = "MOTIONKIT_TTM_SVD_MODEL"
    DEFAULTS: ClassVar[dict[str, Any]] = {"steps": 50, "guidance": 3.0, "outside_start": 16, "inside_start": 21, "area": 576 * 1024}
    FRAME_STEP = 1

    @SVDOptions.keywords("renderer", skip=("model",), aliases=True)
    def __init__(self, model: Any = None, *, pipeline: Any = None, options: Any = None, **keywords: Any) -> None:
        super().__init__(model, pipeline=pipeline, options=options, **keywords)

    def guidance_on(self) -> bool:
        return max(float(self.options.guidance), float(self.options.min_guidance)) > 1.0

    def size_multiple(self) -> int:
        return self.spatial_factor() * 2 ** (len(self.pipeline.unet.config.block_out_channels) - 1)

    def temporal_factor(self) -> int:
        return 1

    def spatial_factor(self) -> int:
        return int(self.pipeline.vae_scale_factor)

    def prepare(self, image: torch.Tensor, fit: Fit, generator: torch.Generator) -> dict[str, Any]:
        pipe, o, device = self.pipeline, self.options, self.device
        cfg = self.guidance_on()
        side = int(pipe.image_encoder.config.image_size)
        clip_in = resize_frames((image[None] * 2 - 1).clamp(-1, 1) * 0.5 + 0.5, (side, side))  # antialiased, as SVD does
        embeds = pipe._encode_image(clip_in.to(device), device, 1, cfg).to(self.dtype)
        pixels = image[None] * 2 - 1
        pixels = (pixels + float(o.noise_aug_strength) * torch.randn(pixels.shape, generator=generator)).to(device)
        latent = pipe._encode_vae_image(pixels, device=device, num_videos_per_prompt=1, do_classifier_free_guidance=cfg)
        condition = latent.float().unsqueeze(1).repeat(1, fit.work_frames, 1, 1, 1)
        ids = pipe._get_add_time_ids(int(o.conditioning_fps) - 1, int(o.motion_bucket_id), float(o.noise_aug_strength),
                                     self.dtype, 1, 1, cfg).to(device)
        scale = torch.linspace(float(o.min_guidance), float(o.guidance), fit.work_frames, device=device).view(1, -1, 1, 1, 1)
        return {"embeds": embeds, "condition": condition, "ids": ids, "scale": scale}

    def encode(self, frames: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        vae = self.pipeline.vae
        latents = vae.encode((frames * 2 - 1).to(self.device, torch.float32)).latent_dist.mode() * vae.config.scaling_factor
        return latents[None].float()  # (1, F, C, h, w)

    def layout_mask(self, mask: torch.Tensor) -> torch.Tensor:
        return mask[None, :, None]

    def step(self, state: dict[str, Any], latents: torch.Tensor, index: int, t: torch.Tensor) -> torch.Tensor:
        pipe = self.pipeline
        state["experts"].append("unet")
        cfg = self.guidance_on()
        batch = torch.cat([latents] * 2) if cfg else latents
        batch = pipe.scheduler.scale_model_input(batch, t)
        model_in = torch.cat([batch, state["condition"]], dim=2).to(self.dtype)
        prediction = pipe.unet(model_in, t, encoder_hidden_states=state["embeds"], added_time_ids=state["ids"], return_dict=False)[0].float()
        if cfg:
            unguided, guided = prediction.chunk(2)
            prediction = unguided + state["scale"] * (guided - unguided)
        return pipe.scheduler.step(prediction, t, latents, return_dict=False)[0]

    def decode(self, latents: torch.Tensor, state: dict[str, Any]) -> torch.Tensor:
        frames = self.pipeline.decode_latents(latents.to(torch.float32), latents.shape[1], int(self.options.decode_chunk))
        return ((frames[0].permute(1, 0, 2, 3).float() + 1) / 2).clamp(0, 1).cpu()
