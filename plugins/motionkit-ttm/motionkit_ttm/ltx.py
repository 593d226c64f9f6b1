"""``ttm-ltx``: Time-to-Move on diffusers' ``LTXImageToVideoPipeline`` (LTX-Video).

LTX-Video is a flow-matching transformer over a heavily compressed latent (32 px, 8 frames per
latent cell). The image conditions it by *being* the first latent frame, at timestep 0 token by
token; the sampler updates the other frames. Here latent frame 0 is the clean latent of frame 0
(the input image; the causal VAE encodes it alone), kept fixed through the run; the dual clock
acts on the later frames.

**Start steps (our choice; TTM did not report LTX).** ``outside_start`` 4 and ``inside_start``
10 of 50 steps: between TTM's Wan (3, 7) and CogVideoX (4, 9) settings in schedule fraction,
with the masked region held a little longer because a 32-px latent cell makes the mask coarse
(the imposed region bleeds into neighbouring background, so a later ``outside_start`` would
freeze it). Not validated on real weights here; tune as TTM's README describes (too low:
drift and duplication; too high: rigid, static).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from motionkit.learned import option
from motionkit_ttm.fit import Fit
from motionkit_ttm.renderer import TextTTMOptions, TTMRenderer


@dataclass(frozen=True)
class LTXOptions(TextTTMOptions):
    """:class:`~motionkit_ttm.renderer.TextTTMOptions` plus LTX-Video's.

    Attributes:
        text_tokens: prompt tokens the T5 encoder sees (LTX: 128).
        frame_rate: the frame rate the model is told (rotary scaling), frames per second.
    """

    OWNER: ClassVar[str] = "ttm-ltx"

    text_tokens: int = option(128)
    frame_rate: float = option(25.0)


class LTXTTMRenderer(TTMRenderer):
    """Time-to-Move on LTX-Video (``LTXImageToVideoPipeline``). Options: :class:`LTXOptions`.

    Defaults: 50 steps, guidance 3.0, ``outside_start`` 4, ``inside_start`` 10 (see the module
    docs), about 512 x 768 pixels in multiples of 32, frames ``8k + 1``.

    Example:
        >>> import motionkit as mk
        >>> ltx = mk.Renderer.get("ttm-ltx", model="./LTX-Video", prompt="waves roll in")  # doctest: +SKIP
    """

    NAME = "ttm-ltx"
    OPTIONS = LTXOptions
    PIPELINE = "LTXImageToVideoPipeline"
    DEFAULT_MODEL = "Lightricks/LTX-Video"
    MODEL_ENV = "MOTIONKIT_TTM_LTX_MODEL"
    DEFAULTS: ClassVar[dict[str, Any]] = {"steps": 50, "guidance": 3.0, "outside_start": 4, "inside_start": 10,
                                          "area": 512 * 768, "negative_prompt": ""}
    FRAME_STEP = 8

    @LTXOptions.keywords("renderer", skip=("model",), aliases=True)
    def __init__(self, model: Any = None, *, pipeline: Any = None, options: Any = None, **keywords: Any) -> None:
        super().__init__(model, pipeline=pipeline, options=options, **keywords)
        self.FRAME_STEP = int(self.pipeline.vae_temporal_compression_ratio)

    def size_multiple(self) -> int:
        return self.spatial_factor() * int(self.pipeline.transformer_spatial_patch_size)

    def temporal_factor(self) -> int:
        return int(self.pipeline.vae_temporal_compression_ratio)

    def spatial_factor(self) -> int:
        return int(self.pipeline.vae_spatial_compression_ratio)

    def _normalise(self, latents: torch.Tensor) -> torch.Tensor:
        vae = self.pipeline.vae
        return self.pipeline._normalize_latents(latents.float(), vae.latents_mean, vae.latents_std, vae.config.scaling_factor)

    def prepare(self, image: torch.Tensor, fit: Fit, generator: torch.Generator) -> dict[str, Any]:
        pipe, o, device = self.pipeline, self.options, self.device
        cfg = self.guidance_on()
        embeds, attention, negative, negative_attention = pipe.encode_prompt(
            prompt=o.prompt, negative_prompt=o.negative_prompt, do_classifier_free_guidance=cfg, num_videos_per_prompt=1,
            max_sequence_length=int(o.text_tokens), device=device)
        if cfg:
            embeds, attention = torch.cat([negative, embeds]), torch.cat([negative_attention, attention])
        first = self._normalise(pipe.vae.encode((image[None, :, None] * 2 - 1).to(device)).latent_dist.mode())
        h, w = fit.work_size
        shape = (fit.latent_frames, h // self.spatial_factor(), w // self.spatial_factor())
        conditioning = torch.zeros(1, 1, *shape, device=device)
        conditioning[:, :, 0] = 1.0
        packed = pipe._pack_latents(conditioning, pipe.transformer_spatial_patch_size, pipe.transformer_temporal_patch_size).squeeze(-1)
        t = self.temporal_factor()
        return {"embeds": embeds.to(self.dtype), "attention": attention, "first": first, "conditioning": packed, "shape": shape,
                "rope": (t / float(o.frame_rate), self.spatial_factor(), self.spatial_factor())}

    def encode(self, frames: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        video = (frames.permute(1, 0, 2, 3)[None] * 2 - 1).to(self.device, torch.float32)
        return self._normalise(self.pipeline.vae.encode(video).latent_dist.mode())  # (1, C, F, h, w)

    def layout_mask(self, mask: torch.Tensor) -> torch.Tensor:
        return mask[None, None]

    def set_timesteps(self, fit: Fit) -> torch.Tensor:
        from diffusers.pipelines.ltx.pipeline_ltx_image2video import calculate_shift

        pipe, steps = self.pipeline, int(self.options.steps)
        config = pipe.scheduler.config
        h, w = fit.work_size
        tokens = fit.latent_frames * (h // self.spatial_factor()) * (w // self.spatial_factor())
        mu = calculate_shift(tokens, config.get("base_image_seq_len", 256), config.get("max_image_seq_len", 4096),
                             config.get("base_shift", 0.5), config.get("max_shift", 1.15))
        pipe.scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / steps, steps), mu=mu, device=self.device)
        return pipe.scheduler.timesteps

    def step(self, state: dict[str, Any], latents: torch.Tensor, index: int, t: torch.Tensor) -> torch.Tensor:
        pipe, o = self.pipeline, self.options
        state["experts"].append("transformer")
        p, pt = pipe.transformer_spatial_patch_size, pipe.transformer_temporal_patch_size
        latents = torch.cat([state["first"], latents[:, :, 1:]], dim=2)
        cfg = self.guidance_on()
        packed = pipe._pack_latents(latents, p, pt)
        batch = torch.cat([packed] * 2) if cfg else packed
        conditioning = torch.cat([state["conditioning"]] * batch.shape[0])
        timestep = t.expand(batch.shape[0]).unsqueeze(-1) * (1 - conditioning)
        frames, height, width = state["shape"]
        prediction = pipe.transformer(hidden_states=batch.to(self.dtype), encoder_hidden_states=state["embeds"], timestep=timestep,
                                      encoder_attention_mask=state["attention"], num_frames=frames, height=height, width=width,
                                      rope_interpolation_scale=state["rope"], return_dict=False)[0].float()
        if cfg:
            unguided, guided = prediction.chunk(2)
            prediction = unguided + float(o.guidance) * (guided - unguided)
        prediction = pipe._unpack_latents(prediction, frames, height, width, p, pt)
        later = pipe.scheduler.step(prediction[:, :, 1:], t, latents[:, :, 1:], return_dict=False)[0]
        return torch.cat([state["first"], later], dim=2)

    def decode(self, latents: torch.Tensor, state: dict[str, Any]) -> torch.Tensor:
        pipe = self.pipeline
        vae = pipe.vae
        latents = torch.cat([state["first"], latents[:, :, 1:]], dim=2)
        latents = pipe._denormalize_latents(latents, vae.latents_mean, vae.latents_std, vae.config.scaling_factor)
        timestep = torch.zeros(1, device=latents.device) if vae.config.timestep_conditioning else None
        video = vae.decode(latents, timestep, return_dict=False)[0]
        return ((video[0].permute(1, 0, 2, 3).float() + 1) / 2).clamp(0, 1).cpu()
