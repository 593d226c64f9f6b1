"""Temporal attention of the motion modules: over the frames at every pixel, plain or motion-augmented.

The plain :class:`TemporalAttention` is AnimateDiff's (stage 1); stage 2's
:class:`FlowAugmentedTemporalAttention` forward-warps (splats) the reference frame's features
along the predicted flow to every later frame and interleaves them with the frame tokens, so
each frame can look up "what frame 0 looked like at this pixel after moving". Both add a fixed
:class:`SinusoidalPositionalEncoding` over time; :func:`resize_flow` brings a pixel flow to a
feature resolution.

Parameter and buffer names are those of the official release (``to_q``, ``to_k``, ``to_v``,
``to_out.0``, ``pos_encoder.pe``), so its checkpoints load unchanged.

Shapes: ``B`` batch, ``C`` channels, ``L`` frames, ``H x W`` feature size.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops.splat import splat

__all__ = ["FlowAugmentedTemporalAttention", "SinusoidalPositionalEncoding", "TemporalAttention", "resize_flow"]


class SinusoidalPositionalEncoding(nn.Module):
    """Adds a fixed sinusoidal encoding of the token's position along the time axis.

    Channels are interleaved: even channel ``2k`` holds ``sin(pos * w_k)``, odd channel
    ``2k + 1`` holds ``cos(pos * w_k)``, with ``w_k = exp(-2k ln(10000) / C)``. The table is a
    persistent buffer ``pe`` of shape ``(1, max_len, C)`` because the released checkpoints
    store it.

    Example:
        >>> enc = SinusoidalPositionalEncoding(8, max_len=4)
        >>> enc(torch.zeros(2, 3, 8))[0, 0].tolist()[:2]   # position 0: sin 0, cos 0
        [0.0, 1.0]
    """

    def __init__(self, dim: int, max_len: int = 24) -> None:
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        frequency = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
        pe = torch.zeros(1, max_len, dim)
        pe[0, :, 0::2] = torch.sin(position * frequency)
        pe[0, :, 1::2] = torch.cos(position * frequency)
        self.register_buffer("pe", pe)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(N, S, C)`` with ``S <= max_len``; returns ``x + pe[:, :S]``."""
        length = x.shape[1]
        if length > self.pe.shape[1]:
            raise InvalidInputError(
                f"the temporal sequence has {length} tokens but the positional encoding covers "
                f"only {self.pe.shape[1]} (temporal_position_encoding_max_len); use fewer frames"
            )
        return x + self.pe[:, :length].to(x.dtype)


def resize_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize a pixel flow to a feature resolution, rescaling its vectors.

    Bilinear interpolation (``align_corners=False``), then ``dx`` is divided by ``W_in / W``
    and ``dy`` by ``H_in / H``, as the official stage-2 attention does per feature level.

    Args:
        flow: ``(N, 2, H_in, W_in)`` displacements in pixels of the input grid.
        size: target ``(H, W)``.

    Returns:
        ``(N, 2, H, W)`` float32 displacements in pixels of the target grid.

    Example:
        >>> resize_flow(torch.full((1, 2, 16, 16), 8.0), (4, 4))[0, :, 0, 0].tolist()
        [2.0, 2.0]
    """
    height, width = size
    in_height, in_width = flow.shape[-2:]
    resized = F.interpolate(flow.float(), size=(height, width), mode="bilinear", align_corners=False)
    dx = resized[:, 0:1] / (in_width / width)
    dy = resized[:, 1:2] / (in_height / height)
    return torch.cat([dx, dy], dim=1)


class TemporalAttention(nn.Module):
    """Multi-head self-attention over the frames at every spatial position.

    Input and output are ``(B*L, H*W, C)`` in "(b f)" order, the layout of the surrounding
    transformer. Internally every pixel becomes a sequence of ``L`` frame tokens (plus the
    positional encoding). ``to_q``/``to_k``/``to_v`` have no bias, ``to_out.0`` has one.

    Example:
        >>> attn = TemporalAttention(64, heads=2)
        >>> attn(torch.randn(2 * 6, 60, 64), video_length=6).shape
        torch.Size([12, 60, 64])
    """

    def __init__(
        self,
        dim: int,
        heads: int = 8,
        head_dim: int | None = None,
        *,
        position_encoding: bool = True,
        max_len: int = 24,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        head_dim = dim // heads if head_dim is None else head_dim
        inner = heads * head_dim
        self.heads = heads
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_k = nn.Linear(dim, inner, bias=False)
        self.to_v = nn.Linear(dim, inner, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(inner, dim), nn.Dropout(dropout)])
        self.pos_encoder = SinusoidalPositionalEncoding(dim, max_len) if position_encoding else None

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        n, s, inner = x.shape
        return x.reshape(n, s, self.heads, inner // self.heads).transpose(1, 2)

    def _attend(self, queries: torch.Tensor, keys_values: torch.Tensor) -> torch.Tensor:
        """Queries ``(N, Sq, C)`` attend over ``(N, Sk, C)``; returns ``(N, Sq, C)``."""
        q = self._split_heads(self.to_q(queries))
        k = self._split_heads(self.to_k(keys_values))
        v = self._split_heads(self.to_v(keys_values))
        out = F.scaled_dot_product_attention(q, k, v)
        n, _, sq, _ = out.shape
        out = out.transpose(1, 2).reshape(n, sq, -1)
        return self.to_out[1](self.to_out[0](out))

    def _encode_positions(self, sequence: torch.Tensor) -> torch.Tensor:
        return self.pos_encoder(sequence) if self.pos_encoder is not None else sequence

    @staticmethod
    def _check_layout(hidden_states: torch.Tensor, video_length: int) -> int:
        if hidden_states.dim() != 3 or hidden_states.shape[0] % video_length != 0:
            raise ShapeMismatchError(
                f"hidden_states must be (B*L, H*W, C) with L = video_length = {video_length}, "
                f"got shape {tuple(hidden_states.shape)}"
            )
        return hidden_states.shape[0] // video_length

    def forward(
        self,
        hidden_states: torch.Tensor,
        video_length: int,
        flow_pre: torch.Tensor | None = None,
        hw: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        """Attend over time; ``flow_pre`` and ``hw`` are accepted for a common signature and unused.

        Args:
            hidden_states: ``(B*L, H*W, C)``, already layer-normed.
            video_length: ``L``.

        Returns:
            ``(B*L, H*W, C)``.
        """
        batch = self._check_layout(hidden_states, video_length)
        _, pixels, channels = hidden_states.shape
        seq = hidden_states.reshape(batch, video_length, pixels, channels).transpose(1, 2)
        seq = self._encode_positions(seq.reshape(batch * pixels, video_length, channels))
        out = self._attend(seq, seq)
        out = out.reshape(batch, pixels, video_length, channels).transpose(1, 2)
        return out.reshape(batch * video_length, pixels, channels)


class FlowAugmentedTemporalAttention(TemporalAttention):
    """Stage-2 temporal attention whose keys include frame 0 warped along the flow.

    This is the official ``VersatileAttention`` of ``animation/models/forward_motion_module.py``:

    1. ``flow_pre`` ``(B, L, 2, Hf, Wf)`` (pixels) is resized to the feature size ``(H, W)``
       and its vectors rescaled (:func:`resize_flow`).
    2. Frame 0's features are forward-splatted ("avg" mode, float32, no gradient into the
       features, like the official ``.detach()``) along the flows of frames ``1..L-1``.
       Frame 0 is tiled along the batch the way the official code tiles it, so warped token
       ``k`` of batch ``b`` comes from the frame-0 features of batch ``(b*(L-1) + k - 1) mod B``.
       With ``B = 2`` (classifier-free guidance) this mixes the uncond and cond features;
       with ``B = 1`` it is the plain per-sample warp. Frame 0's flow is never read.
    3. The sequence per pixel is ``[h0, w1, h1, w2, h2, ..., w_{L-1}, h_{L-1}]`` (2L-1 tokens)
       plus the positional encoding at positions ``0..2L-2``.
    4. Queries come from the ``L`` frame tokens, keys and values from all ``2L-1`` tokens.

    Example:
        >>> attn = FlowAugmentedTemporalAttention(64, heads=2, max_len=32)
        >>> h = torch.randn(2 * 6, 6 * 10, 64)                     # (B*L, H*W, C)
        >>> flow = torch.randn(2, 6, 2, 48, 80)                     # pixels, any size
        >>> attn(h, video_length=6, flow_pre=flow, hw=(6, 10)).shape
        torch.Size([12, 60, 64])
    """

    def warp_reference(self, hidden_states: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """Splat frame 0's features along each later frame's flow (steps 2 of the class doc).

        Args:
            hidden_states: ``(B*L, H*W, C)`` tokens.
            flow: ``(B, L, 2, H, W)`` float32 flow at the feature resolution, pixels.

        Returns:
            ``(B*(L-1), C, H, W)`` float32 warped frame-0 features; entry ``i`` uses the flow of
            batch ``i // (L-1)``, frame ``1 + i % (L-1)`` and the features of batch ``i % B``.
        """
        batch, length, _, height, width = flow.shape
        channels = hidden_states.shape[-1]
        reference = hidden_states.reshape(batch, length, height, width, channels)[:, 0]
        reference = reference.permute(0, 3, 1, 2).float().detach()
        # repeat() tiles whole batches, so entry i holds batch i mod B: the official pairing.
        reference = reference.repeat(length - 1, 1, 1, 1)
        later_flows = flow[:, 1:].reshape(batch * (length - 1), 2, height, width)
        return splat(reference, later_flows, mode="avg")

    def forward(
        self,
        hidden_states: torch.Tensor,
        video_length: int,
        flow_pre: torch.Tensor | None = None,
        hw: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        """Motion-augmented attention over time.

        Args:
            hidden_states: ``(B*L, H*W, C)``, already layer-normed, "(b f)" order.
            video_length: ``L``.
            flow_pre: ``(B, L, 2, Hf, Wf)`` displacement from frame 0 to each frame in pixels
                of an ``Hf x Wf`` grid (usually the image); frame 0 is ignored.
            hw: the feature size ``(H, W)`` with ``H * W`` equal to the token count.

        Returns:
            ``(B*L, H*W, C)`` in the dtype of ``hidden_states``.
        """
        batch = self._check_layout(hidden_states, video_length)
        _, pixels, channels = hidden_states.shape
        if flow_pre is None or hw is None:
            raise InvalidInputError(
                "the motion-augmented temporal attention needs flow_pre (B, L, 2, Hf, Wf) in pixels "
                "and hw=(H, W); pass the predicted flow (zeros for a still image)"
            )
        height, width = hw
        if height * width != pixels:
            raise ShapeMismatchError(f"hw={tuple(hw)} does not match the {pixels} tokens per frame")
        if flow_pre.dim() != 5 or flow_pre.shape[:3] != (batch, video_length, 2):
            raise ShapeMismatchError(
                f"flow_pre must be (B, L, 2, Hf, Wf) = ({batch}, {video_length}, 2, Hf, Wf) to match "
                f"hidden_states, got {tuple(flow_pre.shape)}"
            )
        flow_height, flow_width = flow_pre.shape[-2:]
        flow = resize_flow(flow_pre.reshape(batch * video_length, 2, flow_height, flow_width), (height, width))
        flow = flow.reshape(batch, video_length, 2, height, width)

        warped = self.warp_reference(hidden_states, flow)
        warped = warped.reshape(batch, video_length - 1, channels, pixels).transpose(2, 3)
        frames = hidden_states.reshape(batch, video_length, pixels, channels)
        tokens = 2 * video_length - 1
        seq = frames.new_empty(batch, tokens, pixels, channels)
        seq[:, 0::2] = frames
        seq[:, 1::2] = warped.to(frames.dtype)
        seq = seq.transpose(1, 2).reshape(batch * pixels, tokens, channels)
        seq = self._encode_positions(seq)

        out = self._attend(seq[:, 0::2], seq)
        out = out.reshape(batch, pixels, video_length, channels).transpose(1, 2)
        return out.reshape(batch * video_length, pixels, channels)
