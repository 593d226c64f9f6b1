"""The two Motion-I2V video UNets: stage-1 flow generation and stage-2 flow-guided rendering.

Both are an SD-1.5 UNet inflated to video ``(B, C, F, h, w)`` with AnimateDiff motion modules
(:mod:`.blocks`, :mod:`.motion_module`), built from the official constructor keywords and
holding their weights under the official key names.

* :class:`FlowUNet3DConditionModel` (stage 1): 8 input channels (image latent + noisy flow
  latent), 4 output channels (flow-latent noise); a per-frame *stride* embedding is added to
  the time embedding; an attached :class:`~.controlnet.FlowControlNetModel` (or precomputed
  residuals) adds the trajectory / motion-brush condition.
* :class:`AnimationUNet3DConditionModel` (stage 2): 4 in / 4 out; its motion modules are
  motion-augmented and read ``flow_pre`` ``(B, F, 2, 8h, 8w)`` in pixels; frame 0 is embedded
  with timestep 1.0 and the other frames with the real timestep (the official behaviour).

Example:
    >>> from motionkit.models.motion_i2v.config import read_official_config
    >>> kw = read_official_config("tiny/stage1_unet_config.json")   # doctest: +SKIP
    >>> unet = FlowUNet3DConditionModel(**kw).eval()                 # doctest: +SKIP
    >>> eps = unet(sample, 961, stride, text).sample                 # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.utils import BaseOutput
from torch import nn

from motionkit.errors import InvalidInputError, ShapeMismatchError

from .blocks import DownBlock3D, InflatedConv3d, MidBlock3DCrossAttn, UpBlock3D, group_norm
from .config import UNet3DSpec

_DOWN = ("CrossAttnDownBlock3D", "CrossAttnDownBlock3D", "CrossAttnDownBlock3D", "DownBlock3D")
_UP = ("UpBlock3D", "CrossAttnUpBlock3D", "CrossAttnUpBlock3D", "CrossAttnUpBlock3D")


@dataclass
class UNet3DConditionOutput(BaseOutput):
    """``sample``: ``(B, out_channels, F, h, w)`` predicted noise."""

    sample: torch.Tensor


def timesteps_for_batch(timestep: torch.Tensor | float | int, batch: int, device: torch.device) -> torch.Tensor:
    """Turn a diffusion timestep (scalar or ``(B,)``) into a ``(B,)`` tensor on ``device``.

    Example:
        >>> timesteps_for_batch(961, 2, torch.device("cpu")).tolist()
        [961, 961]
    """
    if not torch.is_tensor(timestep):
        dtype = torch.float64 if isinstance(timestep, float) else torch.int64
        timestep = torch.tensor([timestep], dtype=dtype)
    timestep = timestep.to(device).reshape(-1)
    if timestep.numel() not in (1, batch):
        raise ShapeMismatchError(f"timestep has {timestep.numel()} values for a batch of {batch}; "
                                 "pass one value or one per batch element")
    return timestep.expand(batch)


def check_video_inputs(sample: torch.Tensor, in_channels: int, encoder_hidden_states: torch.Tensor,
                       cross_attention_dim: int) -> None:
    """Refuse a ``sample``/text pair the network cannot take, saying what was expected."""
    if sample.dim() != 5 or sample.shape[1] != in_channels:
        raise ShapeMismatchError(f"sample must be (B, {in_channels}, F, h, w), got {tuple(sample.shape)}")
    if (encoder_hidden_states.dim() != 3 or encoder_hidden_states.shape[0] != sample.shape[0]
            or encoder_hidden_states.shape[2] != cross_attention_dim):
        raise ShapeMismatchError(
            f"encoder_hidden_states must be (B={sample.shape[0]}, tokens, {cross_attention_dim}), "
            f"got {tuple(encoder_hidden_states.shape)}")


def stride_embedding_input(stride: torch.Tensor | Sequence[int], batch: int, frames: int,
                           device: torch.device) -> torch.Tensor:
    """Broadcast the per-frame stride (frame gap) ``(1, F)`` or ``(B, F)`` to ``(B*F,)``.

    Example:
        >>> stride_embedding_input([[8, 16]], 2, 2, torch.device("cpu")).tolist()
        [8, 16, 8, 16]
    """
    stride = torch.as_tensor(stride, device=device)
    if stride.dim() == 1:
        stride = stride[None]
    if stride.dim() != 2 or stride.shape[1] != frames or batch % stride.shape[0]:
        raise ShapeMismatchError(f"stride must be (1, F) or (B, F) with F={frames}, B={batch}; "
                                 f"got {tuple(stride.shape)}")
    return stride.repeat(batch // stride.shape[0], 1).reshape(-1)


def stage1_time_embedding(model: ModelMixin, timestep: torch.Tensor | float | int,
                          stride: torch.Tensor | Sequence[int], batch: int, frames: int) -> torch.Tensor:
    """Stage-1 per-frame conditioning ``(B, F, T)``: ``time_embedding(sin(t)) + stride_embedding(sin(stride_f))``.

    ``model`` holds ``time_proj``, ``time_embedding`` and ``stride_embedding`` (the stage-1 UNet
    and its ControlNet both do). The sinusoid is computed in float32, the MLPs in the model's dtype.
    """
    # Ask a weight for device and dtype: ModelMixin.device/.dtype walk every sub-module.
    weight = model.time_embedding.linear_1.weight
    t = timesteps_for_batch(timestep, batch, weight.device)
    s = stride_embedding_input(stride, batch, frames, weight.device)
    emb = model.time_embedding(model.time_proj(t).to(weight.dtype))[:, None]
    return emb + model.stride_embedding(model.time_proj(s).to(weight.dtype).reshape(batch, frames, -1))


class _VideoUNet(ModelMixin, ConfigMixin):
    """The shared body of both stages; subclasses add the time embedding and the call."""

    def _build(self, spec: UNet3DSpec, *, flow_augmented: bool, stride_embedding: bool) -> None:
        channels = spec.block_out_channels
        self.spec = spec
        self.conv_in = InflatedConv3d(spec.in_channels, channels[0], kernel_size=3, padding=1)
        self.time_proj = Timesteps(channels[0], spec.flip_sin_to_cos, spec.freq_shift)
        self.time_embedding = TimestepEmbedding(channels[0], spec.time_embed_dim)
        if stride_embedding:
            self.stride_embedding = TimestepEmbedding(channels[0], spec.time_embed_dim)
        self.down_blocks = nn.ModuleList()
        previous = channels[0]
        for level in range(len(channels)):
            self.down_blocks.append(DownBlock3D(spec, level, previous, flow_augmented=flow_augmented))
            previous = channels[level]
        # Registered before the mid block: the official state_dict lists up_blocks first.
        self.up_blocks = nn.ModuleList()
        previous = channels[-1]
        for level in range(len(channels)):
            self.up_blocks.append(UpBlock3D(spec, level, previous, flow_augmented=flow_augmented))
            previous = channels[::-1][level]
        self.mid_block = MidBlock3DCrossAttn(spec, flow_augmented=flow_augmented)
        self.conv_norm_out = group_norm(spec.use_inflated_groupnorm, spec.norm_num_groups, channels[0], spec.norm_eps)
        self.conv_act = nn.SiLU()
        self.conv_out = InflatedConv3d(channels[0], spec.out_channels, kernel_size=3, padding=1)

    def _sinusoid(self, values: torch.Tensor) -> torch.Tensor:
        # Timesteps always computes in float32; the embedding MLP runs in the model's dtype.
        return self.time_proj(values).to(self.time_embedding.linear_1.weight.dtype)

    def _run(self, sample: torch.Tensor, emb: torch.Tensor, context: torch.Tensor,
             flow_pre: torch.Tensor | None, down_residuals: Sequence[torch.Tensor] | None,
             mid_residual: torch.Tensor | None) -> torch.Tensor:
        """The UNet body on ``sample`` ``(B, C, F, h, w)`` with per-frame ``emb`` ``(B, F, T)``."""
        if self.spec.center_input_sample:
            sample = 2 * sample - 1.0
        # Sizes that do not halve evenly are restored from the skips' sizes on the way up.
        up_factor = 2 ** (len(self.up_blocks) - 1)
        forward_sizes = any(s % up_factor for s in sample.shape[-2:])
        x = self.conv_in(sample)
        skips: list[torch.Tensor] = [x]
        for block in self.down_blocks:
            x, block_skips = block(x, emb, context, flow_pre)
            skips.extend(block_skips)
        if down_residuals is not None:
            if len(down_residuals) != len(skips):
                raise ShapeMismatchError(f"{len(down_residuals)} down-block residuals for {len(skips)} skip tensors")
            skips = [s + r for s, r in zip(skips, down_residuals)]
        x = self.mid_block(x, emb, context, flow_pre)
        if mid_residual is not None:
            x = x + mid_residual
        upsample_size = None
        for i, block in enumerate(self.up_blocks):
            count = len(block.resnets)
            block_skips, skips = skips[-count:], skips[:-count]
            if forward_sizes and i < len(self.up_blocks) - 1:
                upsample_size = skips[-1].shape[2:]
            x = block(x, block_skips, emb, context, flow_pre, upsample_size)
        return self.conv_out(self.conv_act(self.conv_norm_out(x)))


class FlowUNet3DConditionModel(_VideoUNet):
    """Stage-1 flow-generation UNet (official ``flowgen.models.unet3d.UNet3DConditionModel``).

    Constructor keywords are the official ones (see :class:`.config.UNet3DSpec`); pass an
    official ``init_kwargs`` dict as ``**kwargs``. Input: ``sample`` ``(B, 8, F, h, w)`` =
    [first-frame image latent, noisy flow latent]; output ``(B, 4, F, h, w)`` noise.

    Time conditioning is per frame: ``emb[b, f] = time_embedding(sin(t)) +
    stride_embedding(sin(stride[f]))`` with the same sinusoid for both.

    Example:
        >>> unet = FlowUNet3DConditionModel(block_out_channels=(32, 32), layers_per_block=1,
        ...     down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        ...     up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), norm_num_groups=8,
        ...     cross_attention_dim=16, attention_head_dim=2, use_inflated_groupnorm=True)
        >>> out = unet(torch.randn(1, 8, 3, 8, 8), 10, torch.tensor([[8, 16, 24]]), torch.randn(1, 4, 16))
        >>> out.sample.shape
        torch.Size([1, 4, 3, 8, 8])
    """

    @register_to_config
    def __init__(
        self,
        sample_size: int | None = None,
        in_channels: int = 8,
        out_channels: int = 4,
        center_input_sample: bool = False,
        flip_sin_to_cos: bool = True,
        freq_shift: int = 0,
        down_block_types: Sequence[str] = _DOWN,
        mid_block_type: str = "UNetMidBlock3DCrossAttn",
        up_block_types: Sequence[str] = _UP,
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
        dual_cross_attention: bool = False,
        use_linear_projection: bool = False,
        class_embed_type: str | None = None,
        num_class_embeds: int | None = None,
        upcast_attention: bool = False,
        resnet_time_scale_shift: str = "default",
        use_inflated_groupnorm: bool = False,
        use_motion_module: bool = False,
        motion_module_resolutions: Sequence[int] = (1, 2, 4, 8),
        motion_module_mid_block: bool = False,
        motion_module_decoder_only: bool = False,
        motion_module_type: str | None = None,
        motion_module_kwargs: dict[str, Any] | None = None,
        unet_use_cross_frame_attention: bool | None = None,
        unet_use_temporal_attention: bool | None = None,
    ) -> None:
        super().__init__()
        spec = UNet3DSpec.from_kwargs({**self.config, "motion_module_kwargs": motion_module_kwargs or {}})
        self._build(spec, flow_augmented=False, stride_embedding=True)
        self.controlnet: nn.Module | None = None
        self.control_scale = 1.0

    def attach_controlnet(self, controlnet: nn.Module | None, conditioning_scale: float = 1.0) -> None:
        """Attach a :class:`~.controlnet.FlowControlNetModel` that ``forward(control=...)`` runs.

        Like the official app (``unet.controlnet = controlnet``), the ControlNet becomes the
        sub-module ``controlnet``: the state_dict then also holds its keys, prefixed
        ``controlnet.``, after ``conv_out.*``. ``None`` detaches it. Save the two networks
        with their own ``save_pretrained``; detach before saving the UNet.
        """
        self.controlnet = controlnet
        self.control_scale = float(conditioning_scale)

    def time_embedding_per_frame(self, timestep: torch.Tensor | float | int, stride: torch.Tensor | Sequence[int],
                                 batch: int, frames: int) -> torch.Tensor:
        """``(B, F, 4*C0)`` embedding of the timestep plus each frame's stride."""
        return stage1_time_embedding(self, timestep, stride, batch, frames)

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float | int,
        stride: torch.Tensor | Sequence[int],
        encoder_hidden_states: torch.Tensor,
        control: torch.Tensor | None = None,
        down_block_additional_residuals: Sequence[torch.Tensor] | None = None,
        mid_block_additional_residual: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> UNet3DConditionOutput | tuple[torch.Tensor]:
        """Predict the flow-latent noise.

        Args:
            sample: ``(B, in_channels, F, h, w)``.
            timestep: diffusion step, scalar or ``(B,)``.
            stride: ``(1, F)`` or ``(B, F)`` frame gap of each generated frame (``8, 16, ...``).
            encoder_hidden_states: ``(B, tokens, cross_attention_dim)`` text embedding.
            control: ``(B, 5, F, h, w)`` ControlNet condition (unscaled flow latent + mask);
                needs :meth:`attach_controlnet`.
            down_block_additional_residuals, mid_block_additional_residual: precomputed
                ControlNet outputs, added to the skips and to the mid-block output.
            return_dict: return :class:`UNet3DConditionOutput` instead of a tuple.

        Returns:
            noise prediction ``(B, out_channels, F, h, w)``.
        """
        check_video_inputs(sample, self.spec.in_channels, encoder_hidden_states, self.spec.cross_attention_dim)
        if control is not None:
            if self.controlnet is None:
                raise InvalidInputError("control was given but no ControlNet is attached; "
                                        "call attach_controlnet(controlnet) first")
            if down_block_additional_residuals is not None or mid_block_additional_residual is not None:
                raise InvalidInputError("pass either control or precomputed ControlNet residuals, not both")
            down_block_additional_residuals, mid_block_additional_residual = self.controlnet(
                sample, timestep, stride, encoder_hidden_states, controlnet_cond=control,
                conditioning_scale=self.control_scale, return_dict=False)
        batch, _, frames = sample.shape[:3]
        emb = self.time_embedding_per_frame(timestep, stride, batch, frames)
        out = self._run(sample, emb, encoder_hidden_states, None,
                        down_block_additional_residuals, mid_block_additional_residual)
        return UNet3DConditionOutput(sample=out) if return_dict else (out,)


class AnimationUNet3DConditionModel(_VideoUNet):
    """Stage-2 rendering UNet (official ``animation.models.forward_unet.UNet3DConditionModel``).

    Same keywords as :class:`FlowUNet3DConditionModel` (defaults: 4 in / 4 out); its motion
    modules are motion-augmented: every one receives ``flow_pre`` and warps frame 0's features
    along it. Frame 0 gets the time embedding of ``t = 1.0`` and frames ``1..F-1`` that of the
    real ``t`` (the released model was trained so; frame 0 is the clean reference latent).

    Example:
        >>> unet = AnimationUNet3DConditionModel(block_out_channels=(32, 32), layers_per_block=1,
        ...     down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        ...     up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), norm_num_groups=8,
        ...     cross_attention_dim=16, attention_head_dim=2, use_motion_module=True,
        ...     motion_module_type="Vanilla", motion_module_kwargs={"num_attention_heads": 2,
        ...     "num_transformer_block": 1, "temporal_position_encoding": True,
        ...     "temporal_position_encoding_max_len": 32})
        >>> flow = torch.zeros(1, 3, 2, 64, 64)
        >>> unet(torch.randn(1, 4, 3, 8, 8), 10, torch.randn(1, 4, 16), flow).sample.shape
        torch.Size([1, 4, 3, 8, 8])
    """

    @register_to_config
    def __init__(
        self,
        sample_size: int | None = None,
        in_channels: int = 4,
        out_channels: int = 4,
        center_input_sample: bool = False,
        flip_sin_to_cos: bool = True,
        freq_shift: int = 0,
        down_block_types: Sequence[str] = _DOWN,
        mid_block_type: str = "UNetMidBlock3DCrossAttn",
        up_block_types: Sequence[str] = _UP,
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
        dual_cross_attention: bool = False,
        use_linear_projection: bool = False,
        class_embed_type: str | None = None,
        num_class_embeds: int | None = None,
        upcast_attention: bool = False,
        resnet_time_scale_shift: str = "default",
        use_inflated_groupnorm: bool = False,
        use_motion_module: bool = False,
        motion_module_resolutions: Sequence[int] = (1, 2, 4, 8),
        motion_module_mid_block: bool = False,
        motion_module_decoder_only: bool = False,
        motion_module_type: str | None = None,
        motion_module_kwargs: dict[str, Any] | None = None,
        unet_use_cross_frame_attention: bool | None = None,
        unet_use_temporal_attention: bool | None = None,
    ) -> None:
        super().__init__()
        spec = UNet3DSpec.from_kwargs({**self.config, "motion_module_kwargs": motion_module_kwargs or {}})
        self._build(spec, flow_augmented=True, stride_embedding=False)

    def time_embedding_per_frame(self, timestep: torch.Tensor | float | int, batch: int, frames: int) -> torch.Tensor:
        """``(B, F, 4*C0)``: frame 0 embeds ``t = 1.0``, the other frames embed ``timestep``."""
        device = self.time_embedding.linear_1.weight.device
        t = timesteps_for_batch(timestep, batch, device)
        emb = self.time_embedding(self._sinusoid(t))
        first = self.time_embedding(self._sinusoid(torch.ones(batch, device=device)))
        return torch.cat([first[:, None], emb[:, None].expand(batch, frames - 1, emb.shape[-1])], dim=1)

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float | int,
        encoder_hidden_states: torch.Tensor,
        flow_pre: torch.Tensor,
        return_dict: bool = True,
    ) -> UNet3DConditionOutput | tuple[torch.Tensor]:
        """Predict the video-latent noise along a given motion.

        Args:
            sample: ``(B, in_channels, F, h, w)``; frame 0 is the reference image latent.
            timestep: diffusion step, scalar or ``(B,)``.
            encoder_hidden_states: ``(B, tokens, cross_attention_dim)``.
            flow_pre: ``(B, F, 2, Hf, Wf)`` displacement from frame 0 to each frame in pixels of
                an ``Hf x Wf`` grid (the image, ``8h x 8w``); ch 0 = dx, ch 1 = dy; frame 0 unused.
                With ``B = 2`` the official uncond/cond pairing of the warped frame 0 applies.
            return_dict: return :class:`UNet3DConditionOutput` instead of a tuple.

        Returns:
            noise prediction ``(B, out_channels, F, h, w)``.
        """
        check_video_inputs(sample, self.spec.in_channels, encoder_hidden_states, self.spec.cross_attention_dim)
        batch, _, frames = sample.shape[:3]
        if flow_pre.dim() != 5 or tuple(flow_pre.shape[:3]) != (batch, frames, 2):
            raise ShapeMismatchError(f"flow_pre must be (B={batch}, F={frames}, 2, Hf, Wf) in pixels, "
                                     f"got {tuple(flow_pre.shape)}")
        emb = self.time_embedding_per_frame(timestep, batch, frames)
        out = self._run(sample, emb, encoder_hidden_states, flow_pre, None, None)
        return UNet3DConditionOutput(sample=out) if return_dict else (out,)
