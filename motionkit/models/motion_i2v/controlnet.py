"""The stage-1 trajectory / motion-brush ControlNet of Motion-I2V.

A copy of the stage-1 UNet's encoder (conv_in, time and stride embeddings, down blocks with
their motion modules, mid block) whose input is shifted by an embedding of the 5-channel
condition: the *unscaled* flow-VAE latent of the sparse drag flow (4 channels) and the
down-sampled mask of where flow is given (1 channel). Zero-initialised 1x1 convolutions turn
every skip tensor and the mid-block output into residuals that the UNet adds to its own, so a
freshly built ControlNet changes nothing.

Example:
    >>> unet = FlowUNet3DConditionModel(**kw)                          # doctest: +SKIP
    >>> controlnet = FlowControlNetModel.from_unet(unet)                # doctest: +SKIP
    >>> down, mid = controlnet(sample, t, stride, text, cond, return_dict=False)  # doctest: +SKIP
    >>> eps = unet(sample, t, stride, text, down_block_additional_residuals=down,
    ...            mid_block_additional_residual=mid).sample           # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Sequence

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.utils import BaseOutput
from torch import nn

from motionkit.errors import InvalidInputError, ShapeMismatchError

from .blocks import DownBlock3D, InflatedConv3d, MidBlock3DCrossAttn
from .config import UNet3DSpec
from .unet import (
    _DOWN,
    FlowUNet3DConditionModel,
    check_video_inputs,
    stage1_time_embedding,
)


@dataclass
class ControlNetOutput(BaseOutput):
    """Residuals already multiplied by the conditioning scale.

    ``down_block_res_samples``: one per UNet skip, in order (conv_in output, then each down
    block's layer outputs and its downsampler output); ``mid_block_res_sample``: mid output.
    """

    down_block_res_samples: tuple[torch.Tensor, ...]
    mid_block_res_sample: torch.Tensor


class ControlNetConditioningEmbedding(nn.Module):
    """Per-frame embedding of the condition: Conv3d (1,3,3) -> SiLU -> zero-init Conv3d (1,3,3).

    ``layers.0`` and ``layers.2`` are true ``nn.Conv3d`` (5-D weights), as in the release.
    ``(B, cond_channels, F, h, w)`` -> ``(B, out_channels, F, h, w)``.
    """

    def __init__(self, out_channels: int, cond_channels: int = 5, hidden_channels: int = 512) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv3d(cond_channels, hidden_channels, kernel_size=(1, 3, 3), padding=(0, 1, 1)),
            nn.SiLU(),
            nn.Conv3d(hidden_channels, out_channels, kernel_size=(1, 3, 3), padding=(0, 1, 1)),
        )
        nn.init.zeros_(self.layers[2].weight)
        nn.init.zeros_(self.layers[2].bias)

    def forward(self, cond: torch.Tensor) -> torch.Tensor:  # noqa: D102 - documented on the class
        return self.layers(cond)


def _zero_conv(channels: int) -> InflatedConv3d:
    conv = InflatedConv3d(channels, channels, kernel_size=1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class FlowControlNetModel(ModelMixin, ConfigMixin):
    """Stage-1 ControlNet (official ``flowgen.models.controlnet.ControlNetModel``).

    Keywords are the official ones. ``conditioning_embedding_out_channels`` is stored but, as
    in the release, unused: the condition embedding is fixed at ``conditioning_channels`` (5)
    -> ``conditioning_hidden_channels`` (512) -> ``block_out_channels[0]``.

    Example:
        >>> unet = FlowUNet3DConditionModel(block_out_channels=(32, 32), layers_per_block=1,
        ...     down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        ...     up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), norm_num_groups=8,
        ...     cross_attention_dim=16, attention_head_dim=2)
        >>> net = FlowControlNetModel.from_unet(unet)
        >>> down, mid = net(torch.randn(1, 8, 3, 8, 8), 10, [[8, 16, 24]], torch.randn(1, 4, 16),
        ...                 torch.rand(1, 5, 3, 8, 8), return_dict=False)
        >>> len(down), float(mid.detach().abs().max())   # zero-initialised output convs
        (4, 0.0)
    """

    @register_to_config
    def __init__(
        self,
        in_channels: int = 8,
        flip_sin_to_cos: bool = True,
        freq_shift: int = 0,
        down_block_types: Sequence[str] = _DOWN,
        only_cross_attention: bool | Sequence[bool] = False,
        block_out_channels: Sequence[int] = (320, 640, 1280, 1280),
        layers_per_block: int = 2,
        downsample_padding: int = 1,
        mid_block_scale_factor: float = 1,
        act_fn: str = "silu",
        norm_num_groups: int = 32,
        norm_eps: float = 1e-5,
        cross_attention_dim: int = 768,
        attention_head_dim: int | Sequence[int] = 8,
        use_linear_projection: bool = False,
        class_embed_type: str | None = None,
        num_class_embeds: int | None = None,
        upcast_attention: bool = False,
        resnet_time_scale_shift: str = "default",
        projection_class_embeddings_input_dim: int | None = None,
        controlnet_conditioning_channel_order: str = "rgb",
        conditioning_embedding_out_channels: Sequence[int] | None = (16, 32, 96, 256),
        global_pool_conditions: bool = False,
        use_inflated_groupnorm: bool = False,
        use_motion_module: bool = False,
        motion_module_resolutions: Sequence[int] = (1, 2, 4, 8),
        motion_module_mid_block: bool = False,
        motion_module_decoder_only: bool = False,
        motion_module_type: str | None = None,
        motion_module_kwargs: dict[str, Any] | None = None,
        unet_use_cross_frame_attention: bool | None = None,
        unet_use_temporal_attention: bool | None = None,
        conditioning_channels: int = 5,
        conditioning_hidden_channels: int = 512,
    ) -> None:
        super().__init__()
        if controlnet_conditioning_channel_order not in ("rgb", "bgr"):
            raise InvalidInputError(f"controlnet_conditioning_channel_order={controlnet_conditioning_channel_order!r}; "
                                    "expected 'rgb' or 'bgr'")
        if global_pool_conditions:
            raise InvalidInputError("global_pool_conditions=True is not supported for video residuals; set it to false")
        spec = UNet3DSpec.from_kwargs({**self.config, "up_block_types": (),
                                       "motion_module_kwargs": motion_module_kwargs or {}})
        self.spec = spec
        channels = spec.block_out_channels
        self.conv_in = InflatedConv3d(in_channels, channels[0], kernel_size=3, padding=1)
        self.time_proj = Timesteps(channels[0], flip_sin_to_cos, freq_shift)
        self.time_embedding = TimestepEmbedding(channels[0], spec.time_embed_dim)
        self.stride_embedding = TimestepEmbedding(channels[0], spec.time_embed_dim)
        self.controlnet_cond_embedding = ControlNetConditioningEmbedding(
            channels[0], conditioning_channels, conditioning_hidden_channels)
        self.down_blocks = nn.ModuleList()
        self.controlnet_down_blocks = nn.ModuleList([_zero_conv(channels[0])])
        previous = channels[0]
        for level, width in enumerate(channels):
            block = DownBlock3D(spec, level, previous, flow_augmented=False)
            self.down_blocks.append(block)
            skips = len(block.resnets) + (block.downsamplers is not None)
            self.controlnet_down_blocks.extend(_zero_conv(width) for _ in range(skips))
            previous = width
        self.controlnet_mid_block = _zero_conv(channels[-1])
        self.mid_block = MidBlock3DCrossAttn(spec, flow_augmented=False)

    @classmethod
    def from_unet(cls, unet: FlowUNet3DConditionModel, load_weights_from_unet: bool = True,
                  **overrides: Any) -> "FlowControlNetModel":
        """Build a ControlNet matching a stage-1 UNet's encoder, optionally copying its weights.

        The copied parts are conv_in, the time and stride embeddings, the down blocks and the
        mid block; the condition embedding's output conv and all residual convs start at zero.

        Args:
            unet: the stage-1 UNet.
            load_weights_from_unet: copy the shared weights (as the official ``from_unet``).
            overrides: further constructor keywords (e.g. ``conditioning_channels``).
        """
        names = set(inspect.signature(cls.__init__).parameters) - {"self"}
        kwargs = {k: v for k, v in unet.config.items() if k in names}
        controlnet = cls(**{**kwargs, **overrides})
        if load_weights_from_unet:
            for name in ("conv_in", "time_embedding", "stride_embedding", "down_blocks", "mid_block"):
                getattr(controlnet, name).load_state_dict(getattr(unet, name).state_dict())
        weight = unet.conv_in.weight
        # nn.Module.to: diffusers' override warns about fp32 modules that these models lack.
        return nn.Module.to(controlnet, device=weight.device, dtype=weight.dtype)

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float | int,
        stride: torch.Tensor | Sequence[int],
        encoder_hidden_states: torch.Tensor,
        controlnet_cond: torch.Tensor,
        conditioning_scale: float = 1.0,
        guess_mode: bool = False,
        return_dict: bool = True,
    ) -> ControlNetOutput | tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        """Residuals for the stage-1 UNet from the drag / brush condition.

        Args:
            sample: ``(B, in_channels, F, h, w)``, the same input as the UNet's.
            timestep: scalar or ``(B,)``.
            stride: ``(1, F)`` or ``(B, F)`` frame gaps.
            encoder_hidden_states: ``(B, tokens, cross_attention_dim)``.
            controlnet_cond: ``(B, conditioning_channels, F, h, w)``: unscaled flow latent of the
                sparse flow, then the mask (1 where flow is given).
            conditioning_scale: multiplies every residual.
            guess_mode: scale residuals from 0.1 (first) to 1.0 (mid) on a log scale.
            return_dict: return :class:`ControlNetOutput` instead of ``(down, mid)``.

        Returns:
            ``(down_residuals, mid_residual)``: one down residual per UNet skip (``1 + levels *
            layers_per_block + levels - 1``), each ``(B, C_level, F, h_level, w_level)``.
        """
        check_video_inputs(sample, self.spec.in_channels, encoder_hidden_states, self.spec.cross_attention_dim)
        batch, _, frames, height, width = sample.shape
        expected = (batch, self.config.conditioning_channels, frames, height, width)
        if tuple(controlnet_cond.shape) != expected:
            raise ShapeMismatchError(f"controlnet_cond must be {expected}, got {tuple(controlnet_cond.shape)}")
        if self.config.controlnet_conditioning_channel_order == "bgr":
            controlnet_cond = torch.flip(controlnet_cond, dims=[1])

        emb = stage1_time_embedding(self, timestep, stride, batch, frames)

        x = self.conv_in(sample) + self.controlnet_cond_embedding(controlnet_cond.to(sample.dtype))
        skips = [x]
        for block in self.down_blocks:
            x, block_skips = block(x, emb, encoder_hidden_states)
            skips.extend(block_skips)
        x = self.mid_block(x, emb, encoder_hidden_states)

        down = [conv(skip) for conv, skip in zip(self.controlnet_down_blocks, skips)]
        mid = self.controlnet_mid_block(x)
        if guess_mode:
            scales = torch.logspace(-1, 0, len(down) + 1, device=mid.device) * conditioning_scale
            down = [r * scale for r, scale in zip(down, scales)]
            mid = mid * scales[-1]
        else:
            down = [r * conditioning_scale for r in down]
            mid = mid * conditioning_scale
        if not return_dict:
            return tuple(down), mid
        return ControlNetOutput(down_block_res_samples=tuple(down), mid_block_res_sample=mid)
