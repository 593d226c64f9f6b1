"""``ttm-wan``: Time-to-Move on diffusers' ``WanImageToVideoPipeline`` (Wan 2.1/2.2 I2V, Wan 2.2 TI2V-5B).

Two layouts are handled, read from the pipeline's config:

- **I2V** (Wan 2.1 I2V, Wan 2.2 I2V-A14B): the transformer sees the noisy latents concatenated
  with a conditioning video (the image latent followed by zeros) and a 4-channel first-frame
  mask; Wan 2.1 adds CLIP image tokens.
- **TI2V-5B** (``expand_timesteps``): the first latent frame *is* the image latent and gets
  timestep 0 token by token; the other frames are denoised.

**Two experts and two clocks (Wan 2.2 A14B).** The pipeline's ``boundary_ratio`` hands steps
with ``t >= boundary_ratio * 1000`` to ``transformer`` (high noise) and the rest to
``transformer_2`` (low noise). The switch follows the schedule's timestep alone: both regions
are one latent tensor denoised by one network per step, so in a given step both regions see
the same expert. The dual clock only decides *what the masked latents are* before each step of
``[outside_start, inside_start)`` (reset to the noised preview); which network denoises them
is the step's. With TTM's defaults (3 and 7 of 50 steps) and Wan 2.2's flow shift of 5, every
imposed step has ``t`` > 900, so the whole dual-clock phase runs on the high-noise expert and
the low-noise expert refines the result freely; an ``inside_start`` past the boundary would
make the masked region skip the high-noise expert altogether (its layout fixed by the
preview). ``last_run.experts`` lists the network of every step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from motionkit.learned import option
from motionkit_ttm.fit import Fit
from motionkit_ttm.renderer import TextTTMOptions, TTMRenderer


#: Default working area of the TI2V-5B layout (704 x 1280, its 720p size).
TI2V_AREA = 704 * 1280


@dataclass(frozen=True)
class WanOptions(TextTTMOptions):
    """:class:`~motionkit_ttm.renderer.TextTTMOptions` plus Wan's.

    Attributes:
        guidance_2: guidance of the low-noise expert (Wan 2.2 A14B; None: ``guidance``).
        text_tokens: prompt tokens the text encoder sees (Wan: 512).
    """

    OWNER: ClassVar[str] = "ttm-wan"

    guidance_2: float | None = option(None)
    text_tokens: int = option(512)


class WanTTMRenderer(TTMRenderer):
    """Time-to-Move on Wan (``WanImageToVideoPipeline``). Options: :class:`WanOptions`.

    Defaults: 50 steps, guidance 5.0, ``outside_start`` 3 and ``inside_start`` 7 (TTM's
    cut-and-drag setting for Wan 2.2 I2V-A14B; 2 and 5 for camera moves), about 480 x 832
    pixels (704 x 1280 for TI2V-5B), frames ``4k + 1``, sides multiples of 16 (32 for TI2V-5B).

    Example:
        >>> import motionkit as mk
        >>> wan = mk.Renderer.get("ttm-wan", model="./Wan2.2-I2V-A14B-Diffusers", prompt="a cat turns its head")  # doctest: +SKIP
        >>> wan.render(image, motion).write("cat.mp4")  # doctest: +SKIP
    """

    NAME = "ttm-wan"
    OPTIONS = WanOptions
    PIPELINE = "WanImageToVideoPipeline"
    DEFAULT_MODEL = "Wan-AI/Wan2.2-I2V-A14B-Diffusers"
    MODEL_ENV = "MOTIONKIT_TTM_WAN_MODEL"
    DEFAULTS: ClassVar[dict[str, Any]] = {"steps": 50, "guidance": 5.0, "outside_start": 3, "inside_start": 7,
                                          "area": 480 * 832, "negative_prompt": ""}
    FRAME_STEP = 4

    @WanOptions.keywords("renderer", skip=("model",), aliases=True)
    def __init__(self, model: Any = None, *, pipeline: Any = None, options: Any = None, **keywords: Any) -> None:
        super().__init__(model, pipeline=pipeline, options=options, **keywords)
        area_given = keywords.get("area") is not None or (options is not None and getattr(options, "area", None) is not None)
        if self.expanded and not area_given:  # TI2V-5B is a 720p model
            self.options = dataclasses.replace(self.options, area=TI2V_AREA)

    @property
    def expanded(self) -> bool:
        """The TI2V-5B layout: the first latent frame is the image, at timestep 0."""
        return bool(self.pipeline.config.expand_timesteps)

    def _patch(self) -> tuple[int, int, int]:
        net = self.pipeline.transformer if self.pipeline.transformer is not None else self.pipeline.transformer_2
        return tuple(net.config.patch_size)

    def size_multiple(self) -> int:
        return self.spatial_factor() * max(self._patch()[1:])

    def temporal_factor(self) -> int:
        return int(self.pipeline.vae_scale_factor_temporal)

    def spatial_factor(self) -> int:
        return int(self.pipeline.vae_scale_factor_spatial)

    def _stats(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        config = self.pipeline.vae.config
        mean = torch.tensor(config.latents_mean, dtype=torch.float32, device=device).view(1, -1, 1, 1, 1)
        std = torch.tensor(config.latents_std, dtype=torch.float32, device=device).view(1, -1, 1, 1, 1)
        return mean, std

    def prepare(self, image: torch.Tensor, fit: Fit, generator: torch.Generator) -> dict[str, Any]:
        pipe, o, device = self.pipeline, self.options, self.device
        cfg = self.guidance_on()
        positive, negative = pipe.encode_prompt(prompt=o.prompt, negative_prompt=o.negative_prompt, do_classifier_free_guidance=cfg,
                                                num_videos_per_prompt=1, max_sequence_length=int(o.text_tokens), device=device)
        state: dict[str, Any] = {"positive": positive.to(self.dtype), "negative": None if negative is None else negative.to(self.dtype)}
        net = pipe.transformer if pipe.transformer is not None else pipe.transformer_2
        state["image_embeds"] = None
        if net.config.image_dim is not None:  # Wan 2.1 I2V: CLIP image tokens
            pixels = (image.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
            state["image_embeds"] = pipe.encode_image(pixels, device).to(self.dtype)
        h, w = fit.work_size
        latent_shape = (1, pipe.vae.config.z_dim, fit.latent_frames, h // self.spatial_factor(), w // self.spatial_factor())
        placeholder = torch.zeros(latent_shape, device=device)  # the pipeline's helper would otherwise draw noise
        made = pipe.prepare_latents((image[None] * 2 - 1).to(device), 1, pipe.vae.config.z_dim, h, w, fit.work_frames,
                                    torch.float32, device, None, placeholder)
        state["condition"] = made[1]
        state["first_frame_mask"] = made[2] if self.expanded else None
        boundary = pipe.config.boundary_ratio
        state["boundary"] = None if boundary is None else boundary * pipe.scheduler.config.num_train_timesteps
        self.last_prepared = state
        return state

    def encode(self, frames: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        video = (frames.permute(1, 0, 2, 3)[None] * 2 - 1).to(self.device, torch.float32)
        latents = self.pipeline.vae.encode(video).latent_dist.mode()
        mean, std = self._stats(latents.device)
        return ((latents - mean) / std).float()

    def layout_mask(self, mask: torch.Tensor) -> torch.Tensor:
        return mask[None, None]  # (1, 1, F, h, w)

    def step(self, state: dict[str, Any], latents: torch.Tensor, index: int, t: torch.Tensor) -> torch.Tensor:
        pipe, o = self.pipeline, self.options
        high = state["boundary"] is None or t >= state["boundary"]
        net = pipe.transformer if high else pipe.transformer_2
        scale = float(o.guidance) if high or o.guidance_2 is None else float(o.guidance_2)
        state["experts"].append("transformer" if high else "transformer_2")
        if self.expanded:
            first = state["first_frame_mask"]
            model_in = (1 - first) * state["condition"] + first * latents
            _, ph, pw = self._patch()
            timestep = (first[0, 0][:, ::ph, ::pw] * t).flatten()[None]
        else:
            model_in = torch.cat([latents, state["condition"]], dim=1)
            timestep = t.expand(1)
        model_in = model_in.to(self.dtype)
        common = {"hidden_states": model_in, "timestep": timestep, "encoder_hidden_states_image": state["image_embeds"],
                  "return_dict": False}
        prediction = net(encoder_hidden_states=state["positive"], **common)[0].float()
        if self.guidance_on():
            unguided = net(encoder_hidden_states=state["negative"], **common)[0].float()
            prediction = unguided + scale * (prediction - unguided)
        return pipe.scheduler.step(prediction, t, latents, return_dict=False)[0]

    def decode_latents_first(self, latents: torch.Tensor) -> torch.Tensor:
        """The first latent frame the decoder sees: the image latent in the TI2V layout, else the sampler's."""
        if self.expanded:
            first = self.last_prepared["first_frame_mask"]
            latents = (1 - first) * self.last_prepared["condition"] + first * latents
        return latents[:, :, :1]

    def decode(self, latents: torch.Tensor, state: dict[str, Any]) -> torch.Tensor:
        if self.expanded:
            first = state["first_frame_mask"]
            latents = (1 - first) * state["condition"] + first * latents
        mean, std = self._stats(latents.device)
        video = self.pipeline.vae.decode(latents * std + mean, return_dict=False)[0]
        return ((video[0].permute(1, 0, 2, 3).float() + 1) / 2).clamp(0, 1).cpu()
