"""Building blocks of the Motion-I2V 3D UNets: SD-1.5 layers applied to video features.

Video features are ``(B, C, F, H, W)``. The spatial layers of Stable Diffusion are
"inflated": convolutions, GroupNorms and the text transformer run on every frame on its own,
and temporal mixing happens only in the motion modules (:mod:`.motion_module`). Each class
registers its sub-modules under the official names and in the official order, so the
released state_dicts load with ``strict=True``:

* :class:`InflatedConv3d` (a per-frame ``Conv2d``, 4-D weights), :func:`group_norm`
* :class:`ResnetBlock3D` (``norm1, conv1, time_emb_proj, norm2, conv2, conv_shortcut``)
* :class:`Transformer3DModel` (``norm, proj_in, transformer_blocks, proj_out``) with
  :class:`BasicTransformerBlock` (``attn1, norm1, attn2, norm2, ff, norm3``)
* :class:`DownBlock3D`, :class:`UpBlock3D`, :class:`MidBlock3DCrossAttn`
  (``attentions, resnets, motion_modules, downsamplers/upsamplers``)

The time embedding ``temb`` is per frame, ``(B, F, T)``: stage 1 adds a stride embedding per
frame and stage 2 gives frame 0 its own timestep.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from diffusers.models.attention import FeedForward
from diffusers.models.attention_processor import Attention
from torch import nn

from .config import UNet3DSpec
from .motion_module import MotionModule


def _frames_to_batch(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, F, H, W)`` -> ``(B*F, C, H, W)`` in "(b f)" order."""
    b, c, f, h, w = x.shape
    return x.transpose(1, 2).reshape(b * f, c, h, w)


def _batch_to_frames(x: torch.Tensor, frames: int) -> torch.Tensor:
    """``(B*F, C, H, W)`` -> ``(B, C, F, H, W)``."""
    bf, c, h, w = x.shape
    return x.reshape(bf // frames, frames, c, h, w).transpose(1, 2)


class InflatedConv3d(nn.Conv2d):
    """A 2-D convolution applied to every frame of ``(B, C, F, H, W)`` features.

    The weight stays 4-D ``(out, in, kh, kw)`` like the official ``InflatedConv3d``.

    Example:
        >>> conv = InflatedConv3d(4, 8, kernel_size=3, padding=1)
        >>> conv(torch.randn(2, 4, 3, 16, 16)).shape
        torch.Size([2, 8, 3, 16, 16])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102 - documented on the class
        return _batch_to_frames(super().forward(_frames_to_batch(x)), x.shape[2])


class InflatedGroupNorm(nn.GroupNorm):
    """GroupNorm with statistics per frame (the official ``use_inflated_groupnorm=True``).

    Example:
        >>> norm = InflatedGroupNorm(2, 8)
        >>> norm(torch.randn(1, 8, 3, 4, 4)).shape
        torch.Size([1, 8, 3, 4, 4])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return _batch_to_frames(super().forward(_frames_to_batch(x)), x.shape[2])


def group_norm(inflated: bool, groups: int, channels: int, eps: float) -> nn.GroupNorm:
    """GroupNorm for ``(B, C, F, H, W)``: per frame if ``inflated``, else over all frames at once.

    Example:
        >>> type(group_norm(True, 2, 8, 1e-5)).__name__
        'InflatedGroupNorm'
    """
    cls = InflatedGroupNorm if inflated else nn.GroupNorm
    return cls(num_groups=groups, num_channels=channels, eps=eps, affine=True)


def _activation(name: str) -> nn.Module:
    return nn.Mish() if name == "mish" else nn.SiLU()


class ResnetBlock3D(nn.Module):
    """SD residual block on video features, conditioned on a per-frame time embedding.

    ``out = (shortcut(x) + conv2(act(norm2(conv1(act(norm1(x))) + proj(act(temb)))))) / scale``;
    with ``time_scale_shift="scale_shift"`` the projection gives ``(scale, shift)`` applied after
    ``norm2``.

    Args:
        in_channels, out_channels: feature widths.
        temb_channels: width of ``temb``.
        groups, eps: GroupNorm settings; ``inflated`` chooses per-frame statistics.

    Example:
        >>> block = ResnetBlock3D(8, 16, temb_channels=32, groups=4, eps=1e-5, inflated=True)
        >>> block(torch.randn(2, 8, 3, 8, 8), torch.randn(2, 3, 32)).shape
        torch.Size([2, 16, 3, 8, 8])
    """

    def __init__(self, in_channels: int, out_channels: int, temb_channels: int, *, groups: int,
                 eps: float, inflated: bool, act_fn: str = "silu", output_scale_factor: float = 1.0,
                 time_scale_shift: str = "default") -> None:
        super().__init__()
        self.output_scale_factor = output_scale_factor
        self.time_scale_shift = time_scale_shift
        self.norm1 = group_norm(inflated, groups, in_channels, eps)
        self.conv1 = InflatedConv3d(in_channels, out_channels, kernel_size=3, padding=1)
        proj_width = 2 * out_channels if time_scale_shift == "scale_shift" else out_channels
        self.time_emb_proj = nn.Linear(temb_channels, proj_width)
        self.norm2 = group_norm(inflated, groups, out_channels, eps)
        self.conv2 = InflatedConv3d(out_channels, out_channels, kernel_size=3, padding=1)
        self.nonlinearity = _activation(act_fn)
        self.conv_shortcut = (InflatedConv3d(in_channels, out_channels, kernel_size=1)
                              if in_channels != out_channels else None)

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, C_in, F, H, W)``, ``temb`` ``(B, F, T)`` -> ``(B, C_out, F, H, W)``."""
        h = self.conv1(self.nonlinearity(self.norm1(x)))
        t = self.time_emb_proj(self.nonlinearity(temb)).permute(0, 2, 1)[..., None, None]
        if self.time_scale_shift == "scale_shift":
            scale, shift = t.chunk(2, dim=1)
            h = self.norm2(h) * (1 + scale) + shift
        else:
            h = self.norm2(h + t)
        h = self.conv2(self.nonlinearity(h))
        shortcut = self.conv_shortcut(x) if self.conv_shortcut is not None else x
        return (shortcut + h) / self.output_scale_factor


class Downsample3D(nn.Module):
    """Per-frame stride-2 3x3 convolution (``conv``)."""

    def __init__(self, channels: int, padding: int = 1) -> None:
        super().__init__()
        self.conv = InflatedConv3d(channels, channels, kernel_size=3, stride=2, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, F, H, W)`` -> ``(B, C, F, ceil(H/2), ceil(W/2))``."""
        return self.conv(x)


class Upsample3D(nn.Module):
    """Nearest 2x spatial upsampling (or to ``size``) then a per-frame 3x3 convolution (``conv``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = InflatedConv3d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor, size: Sequence[int] | None = None) -> torch.Tensor:
        """``(B, C, F, H, W)`` -> ``(B, C, F, 2H, 2W)``, or ``(B, C, *size)`` if ``size=(F, H', W')``."""
        if size is None:
            x = F.interpolate(x, scale_factor=(1.0, 2.0, 2.0), mode="nearest")
        else:
            x = F.interpolate(x, size=tuple(size), mode="nearest")
        return self.conv(x)


class BasicTransformerBlock(nn.Module):
    """Per-frame self-attention, text cross-attention and GEGLU feed-forward on tokens.

    Pre-LayerNorm residual layers: ``attn1(norm1)``, ``attn2(norm2, text)``, ``ff(norm3)``.
    Attention is :class:`diffusers.models.attention_processor.Attention` (PyTorch SDPA).
    """

    def __init__(self, dim: int, heads: int, head_dim: int, cross_attention_dim: int,
                 upcast_attention: bool = False) -> None:
        super().__init__()
        self.attn1 = Attention(query_dim=dim, heads=heads, dim_head=head_dim, bias=False,
                               upcast_attention=upcast_attention)
        self.norm1 = nn.LayerNorm(dim)
        self.attn2 = Attention(query_dim=dim, cross_attention_dim=cross_attention_dim, heads=heads,
                               dim_head=head_dim, bias=False, upcast_attention=upcast_attention)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, activation_fn="geglu")
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """``x`` ``(N, S, dim)``, ``context`` ``(N, K, cross_dim)`` -> ``(N, S, dim)``."""
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), encoder_hidden_states=context) + x
        return self.ff(self.norm3(x)) + x


class Transformer3DModel(nn.Module):
    """The SD spatial transformer run on every frame, with the text as cross-attention context.

    GroupNorm (``groups``, eps 1e-6) -> ``proj_in`` (1x1 conv, or Linear with
    ``linear_projection``) -> one :class:`BasicTransformerBlock` -> ``proj_out`` -> residual.

    Example:
        >>> t = Transformer3DModel(32, heads=2, cross_attention_dim=16, groups=8)
        >>> t(torch.randn(2, 32, 3, 4, 6), torch.randn(2, 5, 16)).shape
        torch.Size([2, 32, 3, 4, 6])
    """

    def __init__(self, channels: int, heads: int, cross_attention_dim: int, groups: int,
                 linear_projection: bool = False, upcast_attention: bool = False) -> None:
        super().__init__()
        self.linear_projection = linear_projection
        self.norm = nn.GroupNorm(num_groups=groups, num_channels=channels, eps=1e-6, affine=True)
        proj = nn.Linear if linear_projection else (lambda i, o: nn.Conv2d(i, o, kernel_size=1))
        self.proj_in = proj(channels, channels)
        self.transformer_blocks = nn.ModuleList([
            BasicTransformerBlock(channels, heads, channels // heads, cross_attention_dim, upcast_attention)])
        self.proj_out = proj(channels, channels)

    def forward(self, x: torch.Tensor, encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, C, F, H, W)``, ``encoder_hidden_states`` ``(B, K, D)`` -> ``(B, C, F, H, W)``."""
        frames = x.shape[2]
        h = residual = _frames_to_batch(x)
        n, c, height, width = h.shape
        context = encoder_hidden_states.repeat_interleave(frames, dim=0)
        h = self.norm(h)
        if not self.linear_projection:
            h = self.proj_in(h)
        h = h.permute(0, 2, 3, 1).reshape(n, height * width, c)
        if self.linear_projection:
            h = self.proj_in(h)
        for block in self.transformer_blocks:
            h = block(h, context)
        if self.linear_projection:
            h = self.proj_out(h)
        h = h.reshape(n, height, width, c).permute(0, 3, 1, 2)
        if not self.linear_projection:
            h = self.proj_out(h)
        return _batch_to_frames(h + residual, frames)


def _motion_module(spec: UNet3DSpec, channels: int, wanted: bool, flow_augmented: bool) -> MotionModule | None:
    if not wanted:
        return None
    return MotionModule(channels, **spec.motion_module_kwargs, flow_augmented=flow_augmented)


def _transformer(spec: UNet3DSpec, channels: int, heads: int) -> Transformer3DModel:
    return Transformer3DModel(channels, heads, spec.cross_attention_dim, spec.norm_num_groups,
                              spec.use_linear_projection, spec.upcast_attention)


def _resnet(spec: UNet3DSpec, in_channels: int, out_channels: int, scale: float = 1.0) -> ResnetBlock3D:
    return ResnetBlock3D(in_channels, out_channels, spec.time_embed_dim, groups=spec.norm_num_groups,
                         eps=spec.norm_eps, inflated=spec.use_inflated_groupnorm, act_fn=spec.act_fn,
                         output_scale_factor=scale, time_scale_shift=spec.resnet_time_scale_shift)


class _VideoBlock(nn.Module):
    """Shared ``resnet -> (attention) -> (motion module)`` step of the down and up blocks."""

    attentions: nn.ModuleList | None
    resnets: nn.ModuleList
    motion_modules: nn.ModuleList

    def _layer(self, i: int, x: torch.Tensor, temb: torch.Tensor, context: torch.Tensor,
               flow_pre: torch.Tensor | None) -> torch.Tensor:
        x = self.resnets[i](x, temb)
        if self.attentions is not None:
            x = self.attentions[i](x, context)
        if self.motion_modules[i] is not None:
            x = self.motion_modules[i](x, context, flow_pre=flow_pre)
        return x


class DownBlock3D(_VideoBlock):
    """One encoder level: ``num_layers`` x (resnet, optional cross-attention, optional motion
    module), then an optional stride-2 downsampler.

    ``forward`` returns the output and the skip tensors (one per layer, plus the downsampler's).
    """

    def __init__(self, spec: UNet3DSpec, level: int, in_channels: int, *, flow_augmented: bool) -> None:
        super().__init__()
        out_channels = spec.block_out_channels[level]
        layers = spec.layers_per_block
        cross = spec.down_block_types[level] == "CrossAttnDownBlock3D"
        heads = spec.heads_per_level[level]
        motion = spec.down_has_motion(level)
        self.attentions = nn.ModuleList([_transformer(spec, out_channels, heads) for _ in range(layers)]) if cross else None
        self.resnets = nn.ModuleList([
            _resnet(spec, in_channels if i == 0 else out_channels, out_channels) for i in range(layers)])
        self.motion_modules = nn.ModuleList([
            _motion_module(spec, out_channels, motion, flow_augmented) for _ in range(layers)])
        last = level == len(spec.block_out_channels) - 1
        self.downsamplers = None if last else nn.ModuleList([Downsample3D(out_channels, spec.downsample_padding)])

    def forward(self, x: torch.Tensor, temb: torch.Tensor, context: torch.Tensor,
                flow_pre: torch.Tensor | None = None) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """``x`` ``(B, C, F, H, W)`` -> (output, skips)."""
        skips = []
        for i in range(len(self.resnets)):
            x = self._layer(i, x, temb, context, flow_pre)
            skips.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, tuple(skips)


class UpBlock3D(_VideoBlock):
    """One decoder level: ``layers_per_block + 1`` x (concat skip, resnet, optional
    cross-attention, optional motion module), then an optional 2x upsampler.

    ``level`` counts from the deepest (0) up; the channel bookkeeping follows the official code.
    """

    def __init__(self, spec: UNet3DSpec, level: int, prev_output_channels: int, *, flow_augmented: bool) -> None:
        super().__init__()
        reversed_channels = list(reversed(spec.block_out_channels))
        levels = len(reversed_channels)
        out_channels = reversed_channels[level]
        skip_in = reversed_channels[min(level + 1, levels - 1)]
        layers = spec.layers_per_block + 1
        cross = spec.up_block_types[level] == "CrossAttnUpBlock3D"
        heads = list(reversed(spec.heads_per_level))[level]
        motion = spec.up_has_motion(level)
        self.attentions = nn.ModuleList([_transformer(spec, out_channels, heads) for _ in range(layers)]) if cross else None
        self.resnets = nn.ModuleList([
            _resnet(spec, (prev_output_channels if i == 0 else out_channels)
                    + (skip_in if i == layers - 1 else out_channels), out_channels)
            for i in range(layers)])
        self.motion_modules = nn.ModuleList([
            _motion_module(spec, out_channels, motion, flow_augmented) for _ in range(layers)])
        last = level == levels - 1
        self.upsamplers = None if last else nn.ModuleList([Upsample3D(out_channels)])

    def forward(self, x: torch.Tensor, skips: Sequence[torch.Tensor], temb: torch.Tensor, context: torch.Tensor,
                flow_pre: torch.Tensor | None = None, upsample_size: Sequence[int] | None = None) -> torch.Tensor:
        """``x`` ``(B, C, F, H, W)`` and this level's skips (consumed last-first) -> upsampled output."""
        skips = list(skips)
        for i in range(len(self.resnets)):
            x = torch.cat([x, skips.pop()], dim=1)
            x = self._layer(i, x, temb, context, flow_pre)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x, upsample_size)
        return x


class MidBlock3DCrossAttn(nn.Module):
    """The bottleneck: resnet, then (cross-attention, optional motion module, resnet)."""

    def __init__(self, spec: UNet3DSpec, *, flow_augmented: bool) -> None:
        super().__init__()
        channels = spec.block_out_channels[-1]
        scale = spec.mid_block_scale_factor
        self.attentions = nn.ModuleList([_transformer(spec, channels, spec.heads_per_level[-1])])
        self.resnets = nn.ModuleList([_resnet(spec, channels, channels, scale), _resnet(spec, channels, channels, scale)])
        self.motion_modules = nn.ModuleList([
            _motion_module(spec, channels, spec.use_motion_module and spec.motion_module_mid_block, flow_augmented)])

    def forward(self, x: torch.Tensor, temb: torch.Tensor, context: torch.Tensor,
                flow_pre: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, C, F, H, W)`` -> same shape."""
        x = self.resnets[0](x, temb)
        for attention, motion, resnet in zip(self.attentions, self.motion_modules, self.resnets[1:]):
            x = attention(x, context)
            if motion is not None:
                x = motion(x, context, flow_pre=flow_pre)
            x = resnet(x, temb)
        return x
