"""AnimateDiff-style temporal motion modules of Motion-I2V, plain and motion-augmented.

A motion module mixes information across the frames of a video feature map: every spatial
position attends over time. Stage 1 (flow generation) uses the plain AnimateDiff module;
stage 2 (video rendering) uses the *motion-augmented* variant, where the reference frame's
features are forward-warped (splatted) along the predicted flow to every later frame and
interleaved with the frame tokens, so each frame can look up "what frame 0 looked like at
this pixel after moving". The attention layers themselves are in :mod:`.temporal_attention`;
this module stacks them into transformer blocks and the module the UNets hold.

The parameter and buffer names equal those of the official release
(``temporal_transformer.transformer_blocks.0.attention_blocks.0.to_q.weight``, ...), so its
checkpoints load unchanged.

Shapes: ``B`` batch, ``C`` channels, ``L`` (or ``F``) frames, ``H x W`` feature size.
"""

from __future__ import annotations

from typing import Sequence

import torch
from diffusers.models.attention import FeedForward
from torch import nn

from motionkit.errors import InvalidInputError, ShapeMismatchError

from .temporal_attention import FlowAugmentedTemporalAttention, TemporalAttention

__all__ = ["MotionModule", "TemporalTransformer", "TemporalTransformerBlock"]


class TemporalTransformerBlock(nn.Module):
    """Pre-norm residual attention layers over time, then a GEGLU feed-forward.

    ``for attention, norm: h = attention(norm(h)) + h``; then ``h = ff(ff_norm(h)) + h``
    (feed-forward inner width ``4 * dim``). Works on ``(B*L, H*W, C)``.

    Example:
        >>> block = TemporalTransformerBlock(64, heads=2, num_attention_blocks=2)
        >>> block(torch.randn(12, 60, 64), video_length=6).shape
        torch.Size([12, 60, 64])
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        head_dim: int | None = None,
        *,
        num_attention_blocks: int = 2,
        position_encoding: bool = True,
        max_len: int = 24,
        flow_augmented: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        attention_cls = FlowAugmentedTemporalAttention if flow_augmented else TemporalAttention
        self.attention_blocks = nn.ModuleList(
            attention_cls(dim, heads, head_dim, position_encoding=position_encoding, max_len=max_len, dropout=dropout)
            for _ in range(num_attention_blocks)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(num_attention_blocks))
        self.ff = FeedForward(dim, dropout=dropout, activation_fn="geglu")
        self.ff_norm = nn.LayerNorm(dim)

    def forward(
        self,
        hidden_states: torch.Tensor,
        video_length: int,
        flow_pre: torch.Tensor | None = None,
        hw: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        """``(B*L, H*W, C)`` -> ``(B*L, H*W, C)``; ``flow_pre``/``hw`` go to flow-augmented attention."""
        for attention, norm in zip(self.attention_blocks, self.norms):
            hidden_states = attention(norm(hidden_states), video_length, flow_pre=flow_pre, hw=hw) + hidden_states
        return self.ff(self.ff_norm(hidden_states)) + hidden_states


class TemporalTransformer(nn.Module):
    """GroupNorm -> Linear ``proj_in`` -> temporal blocks -> Linear ``proj_out`` -> residual.

    Works on ``(B, C, L, H, W)`` video features. The GroupNorm always has 32 groups and eps
    1e-6, as in the official code (it does not follow the UNet's ``norm_num_groups``).

    Example:
        >>> t = TemporalTransformer(64, heads=2, num_layers=1)
        >>> t(torch.randn(1, 64, 4, 6, 10)).shape
        torch.Size([1, 64, 4, 6, 10])
    """

    def __init__(
        self,
        in_channels: int,
        heads: int,
        head_dim: int | None = None,
        num_layers: int = 1,
        *,
        num_attention_blocks: int = 2,
        position_encoding: bool = True,
        max_len: int = 24,
        flow_augmented: bool = False,
        norm_num_groups: int = 32,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        head_dim = in_channels // heads if head_dim is None else head_dim
        inner = heads * head_dim
        self.norm = nn.GroupNorm(norm_num_groups, in_channels, eps=1e-6, affine=True)
        self.proj_in = nn.Linear(in_channels, inner)
        self.transformer_blocks = nn.ModuleList(
            TemporalTransformerBlock(
                inner,
                heads,
                head_dim,
                num_attention_blocks=num_attention_blocks,
                position_encoding=position_encoding,
                max_len=max_len,
                flow_augmented=flow_augmented,
                dropout=dropout,
            )
            for _ in range(num_layers)
        )
        self.proj_out = nn.Linear(inner, in_channels)

    def forward(self, hidden_states: torch.Tensor, flow_pre: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, C, L, H, W)`` -> ``(B, C, L, H, W)``; ``flow_pre`` ``(B, L, 2, Hf, Wf)`` pixels."""
        if hidden_states.dim() != 5:
            raise ShapeMismatchError(
                f"video features must be (B, C, L, H, W), got shape {tuple(hidden_states.shape)}"
            )
        batch, channels, length, height, width = hidden_states.shape
        frames = hidden_states.transpose(1, 2).reshape(batch * length, channels, height, width)
        residual = frames
        h = self.norm(frames).permute(0, 2, 3, 1).reshape(batch * length, height * width, channels)
        h = self.proj_in(h)
        for block in self.transformer_blocks:
            h = block(h, length, flow_pre=flow_pre, hw=(height, width))
        h = self.proj_out(h).reshape(batch * length, height, width, channels).permute(0, 3, 1, 2)
        out = h + residual
        return out.reshape(batch, length, channels, height, width).transpose(1, 2)


class MotionModule(nn.Module):
    """One AnimateDiff temporal motion module (the official ``VanillaTemporalModule``).

    Constructor arguments mirror the official ``motion_module_kwargs`` (so a UNet can pass
    ``**motion_module_kwargs``), plus ``flow_augmented``: ``False`` for stage 1 (plain
    temporal self-attention), ``True`` for stage 2 (motion-augmented attention that needs
    ``flow_pre``).

    Args:
        in_channels: feature channels ``C``.
        num_attention_heads: heads; head dim is ``C // heads // temporal_attention_dim_div``.
        num_transformer_block: number of :class:`TemporalTransformerBlock`.
        attention_block_types: one ``"Temporal_Self"`` entry per attention layer of a block
            (the only kind the released models use).
        temporal_position_encoding: add the sinusoidal encoding over time.
        temporal_position_encoding_max_len: longest temporal sequence (the release uses 32:
            stage 2 needs ``2L - 1 = 31`` tokens for 16 frames).
        temporal_attention_dim_div: divides the head dim.
        zero_initialize: zero ``proj_out`` so a fresh module is the identity (training default).
        flow_augmented: use :class:`FlowAugmentedTemporalAttention`.

    Example:
        >>> mm = MotionModule(64, num_attention_heads=2, num_transformer_block=1,
        ...                   temporal_position_encoding=True, temporal_position_encoding_max_len=32)
        >>> x = torch.randn(1, 64, 4, 6, 10)
        >>> torch.equal(mm(x), x)        # zero-initialised proj_out: identity
        True
    """

    def __init__(
        self,
        in_channels: int,
        num_attention_heads: int = 8,
        num_transformer_block: int = 2,
        attention_block_types: Sequence[str] = ("Temporal_Self", "Temporal_Self"),
        temporal_position_encoding: bool = False,
        temporal_position_encoding_max_len: int = 24,
        temporal_attention_dim_div: int = 1,
        zero_initialize: bool = True,
        flow_augmented: bool = False,
    ) -> None:
        super().__init__()
        unsupported = [name for name in attention_block_types if name != "Temporal_Self"]
        if unsupported:
            raise InvalidInputError(
                f"attention_block_types {unsupported} are not supported; the Motion-I2V models use only "
                "'Temporal_Self'"
            )
        if in_channels % num_attention_heads != 0:
            raise InvalidInputError(
                f"in_channels ({in_channels}) must be divisible by num_attention_heads ({num_attention_heads})"
            )
        self.flow_augmented = flow_augmented
        self.temporal_transformer = TemporalTransformer(
            in_channels,
            num_attention_heads,
            in_channels // num_attention_heads // temporal_attention_dim_div,
            num_transformer_block,
            num_attention_blocks=len(attention_block_types),
            position_encoding=temporal_position_encoding,
            max_len=temporal_position_encoding_max_len,
            flow_augmented=flow_augmented,
        )
        if zero_initialize:
            nn.init.zeros_(self.temporal_transformer.proj_out.weight)
            nn.init.zeros_(self.temporal_transformer.proj_out.bias)

    def forward(
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        flow_pre: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mix features across frames.

        Args:
            hidden_states: ``(B, C, L, H, W)`` video features.
            encoder_hidden_states: accepted for the UNet's call signature; temporal
                self-attention does not read text (as in the official module).
            attention_mask: must be ``None``; temporal attention is unmasked.
            flow_pre: ``(B, L, 2, Hf, Wf)`` flow from frame 0 in pixels; required when
                ``flow_augmented``, ignored otherwise.

        Returns:
            ``(B, C, L, H, W)``, same dtype as the input.
        """
        if attention_mask is not None:
            raise InvalidInputError("the temporal motion module takes no attention_mask; pass None")
        if self.flow_augmented and flow_pre is None:
            raise InvalidInputError(
                "this motion module is flow-augmented (stage 2) and needs flow_pre (B, L, 2, Hf, Wf) in pixels"
            )
        return self.temporal_transformer(hidden_states, flow_pre=flow_pre if self.flow_augmented else None)
