"""``ttm-cogvideox``: Time-to-Move on diffusers' ``CogVideoXImageToVideoPipeline`` (CogVideoX-5B I2V).

The transformer sees the noisy latents (``(B, F, C, h, w)``) concatenated along channels with
the image latent in latent frame 0 and zeros after it. CogVideoX-5B-I2V has learned positional
embeddings for one size, so it works at that size (480 x 720) whatever the image's aspect; the
frames are resized back. Its ``CogVideoXDPMScheduler`` is second order (it carries the previous
clean estimate from step to step); the DDIM variant works too. CogVideoX 1.5 (temporal patches)
is not supported yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from motionkit.errors import InvalidInputError
from motionkit.learned import option
from motionkit_ttm.fit import Fit, fit_frames
from motionkit_ttm.renderer import TextTTMOptions, TTMRenderer


@dataclass(frozen=True)
class CogVideoXOptions(TextTTMOptions):
    """:class:`~motionkit_ttm.renderer.TextTTMOptions` plus CogVideoX's.

    Attributes:
        text_tokens: prompt tokens the T5 encoder sees (None: the transformer's ``max_text_seq_length``, 226).
    """

    OWNER: ClassVar[str] = "ttm-cogvideox"

    text_tokens: int | None = option(None)


class CogVideoXTTMRenderer(TTMRenderer):
    """Time-to-Move on CogVideoX (``CogVideoXImageToVideoPipeline``). Options: :class:`CogVideoXOptions`.

    Defaults: 50 steps, guidance 6.0, ``outside_start`` 4 and ``inside_start`` 9 (TTM's setting
    for CogVideoX-5B-I2V), frames ``4k + 1`` (trained on 49), the model's fixed size (480 x 720)
    when it has learned positional embeddings, else about 480 x 720 pixels in multiples of 16.

    Example:
        >>> import motionkit as mk
        >>> cog = mk.Renderer.get("ttm-cogvideox", model="./CogVideoX-5b-I2V", prompt="a monkey jumps")  # doctest: +SKIP
    """

    NAME = "ttm-cogvideox"
    OPTIONS = CogVideoXOptions
    PIPELINE = "CogVideoXImageToVideoPipeline"
    DEFAULT_MODEL = "THUDM/CogVideoX-5b-I2V"
    MODEL_ENV = "MOTIONKIT_TTM_COGVIDEOX_MODEL"
    DEFAULTS: ClassVar[dict[str, Any]] = {"steps": 50, "guidance": 6.0, "outside_start": 4, "inside_start": 9,
                                          "area": 480 * 720, "negative_prompt": ""}
    FRAME_STEP = 4

    @CogVideoXOptions.keywords("renderer", skip=("model",), aliases=True)
    def __init__(self, model: Any = None, *, pipeline: Any = None, options: Any = None, **keywords: Any) -> None:
        super().__init__(model, pipeline=pipeline, options=options, **keywords)
        if self.pipeline.transformer.config.patch_size_t is not None:
            raise InvalidInputError("ttm-cogvideox supports CogVideoX 1.0 layouts (no temporal patches); this is a CogVideoX 1.5 model")

    def size_multiple(self) -> int:
        return self.spatial_factor() * int(self.pipeline.transformer.config.patch_size)

    def temporal_factor(self) -> int:
        return int(self.pipeline.vae_scale_factor_temporal)

    def spatial_factor(self) -> int:
        return int(self.pipeline.vae_scale_factor_spatial)

    def fit(self, frames: int, size: tuple[int, int]) -> Fit:
        config = self.pipeline.transformer.config
        if not config.use_learned_positional_embeddings or self.options.resolution is not None:
            return super().fit(frames, size)
        work = (config.sample_height * self.spatial_factor(), config.sample_width * self.spatial_factor())
        work_frames = fit_frames(frames, self.FRAME_STEP)
        latent = (work_frames - 1) // self.temporal_factor() + 1
        return Fit(frames, tuple(size), work_frames, work, latent, f"frames 4k+1, fixed size {work[0]}x{work[1]} (learned positions)")

    def _scale(self) -> float:
        vae = self.pipeline.vae.config
        return 1 / vae.scaling_factor if vae.invert_scale_latents else vae.scaling_factor

    def prepare(self, image: torch.Tensor, fit: Fit, generator: torch.Generator) -> dict[str, Any]:
        pipe, o, device = self.pipeline, self.options, self.device
        tokens = int(o.text_tokens or pipe.transformer.config.max_text_seq_length)
        positive, negative = pipe.encode_prompt(prompt=o.prompt, negative_prompt=o.negative_prompt,
                                                do_classifier_free_guidance=self.guidance_on(), num_videos_per_prompt=1,
                                                max_sequence_length=tokens, device=device)
        embeds = torch.cat([negative, positive]) if self.guidance_on() else positive
        h, w = fit.work_size
        pixels = (image[None, :, None] * 2 - 1).to(device)
        latent = pipe.vae.encode(pixels).latent_dist.mode().permute(0, 2, 1, 3, 4) * self._scale()  # (1, 1, C, h', w')
        condition = torch.cat([latent, latent.new_zeros(1, fit.latent_frames - 1, *latent.shape[2:])], dim=1).float()
        config = pipe.transformer.config
        rotary = (pipe._prepare_rotary_positional_embeddings(h, w, fit.latent_frames, device)
                  if config.use_rotary_positional_embeddings else None)
        ofs = None if config.ofs_embed_dim is None else torch.full((1,), 2.0, device=device)
        return {"embeds": embeds.to(self.dtype), "condition": condition, "rotary": rotary, "ofs": ofs, "previous": None}

    def encode(self, frames: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        video = (frames.permute(1, 0, 2, 3)[None] * 2 - 1).to(self.device, torch.float32)
        latents = self.pipeline.vae.encode(video).latent_dist.mode() * self._scale()
        return latents.permute(0, 2, 1, 3, 4).float()  # (1, F, C, h, w)

    def layout_mask(self, mask: torch.Tensor) -> torch.Tensor:
        return mask[None, :, None]  # (1, F, 1, h, w)

    def step(self, state: dict[str, Any], latents: torch.Tensor, index: int, t: torch.Tensor) -> torch.Tensor:
        pipe, o = self.pipeline, self.options
        scheduler = pipe.scheduler
        state["experts"].append("transformer")
        cfg = self.guidance_on()
        batch = torch.cat([latents] * 2) if cfg else latents
        batch = scheduler.scale_model_input(batch, t)
        condition = torch.cat([state["condition"]] * 2) if cfg else state["condition"]
        model_in = torch.cat([batch, condition], dim=2).to(self.dtype)
        prediction = pipe.transformer(hidden_states=model_in, encoder_hidden_states=state["embeds"], timestep=t.expand(model_in.shape[0]),
                                      ofs=state["ofs"], image_rotary_emb=state["rotary"], return_dict=False)[0].float()
        if cfg:
            unguided, guided = prediction.chunk(2)
            prediction = unguided + float(o.guidance) * (guided - unguided)
        if type(scheduler).__name__ == "CogVideoXDPMScheduler":
            back = scheduler.timesteps[index - 1] if index > self.options.outside_start else None
            latents, state["previous"] = scheduler.step(prediction, state["previous"], t, back, latents,
                                                       generator=state.get("generator"), return_dict=False)
            return latents
        return scheduler.step(prediction, t, latents, return_dict=False)[0]

    def decode(self, latents: torch.Tensor, state: dict[str, Any]) -> torch.Tensor:
        video = self.pipeline.vae.decode(latents.permute(0, 2, 1, 3, 4) / self._scale()).sample
        return ((video[0].permute(1, 0, 2, 3).float() + 1) / 2).clamp(0, 1).cpu()
