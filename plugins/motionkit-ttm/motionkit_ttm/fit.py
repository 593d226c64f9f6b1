"""Fitting a clip to a backbone's constraints, and the motion mask at pixel and latent resolution.

Each backbone takes only some frame counts (Wan, CogVideoX: ``4k + 1``; LTX-Video: ``8k + 1``)
and sizes (multiples of the VAE's spatial factor times the transformer's patch). A request
of ``T`` frames at ``(H, W)`` runs at ``T'`` >= ``T`` frames (the preview's last frame held
for the added ones, which are dropped afterwards: the first ``T`` frames keep their timing)
and at a working size with the image's aspect ratio and about the model's pixel area, rounded
to the multiple; the frames come back resized to ``(H, W)``. :class:`Fit` says what was done.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from motionkit.errors import InvalidInputError


@dataclass(frozen=True)
class Fit:
    """How a request was fitted to a backbone.

    Attributes:
        frames: frames asked for (the motion field's).
        size: ``(H, W)`` asked for (the image's).
        work_frames: frames the model generates (>= ``frames``; the extra ones are dropped).
        work_size: ``(H, W)`` the model works at (the output is resized back to ``size``).
        latent_frames: frames of the latent video.
        rule: the constraint, in words (e.g. ``"frames 4k+1, sides multiples of 16"``).
    """

    frames: int
    size: tuple[int, int]
    work_frames: int
    work_size: tuple[int, int]
    latent_frames: int
    rule: str

    def __str__(self) -> str:
        held = self.work_frames - self.frames
        frames = f"{self.frames} frames" if not held else f"{self.frames} -> {self.work_frames} frames ({held} held, dropped after)"
        size = f"{self.size[0]}x{self.size[1]}"
        if self.work_size != self.size:
            size += f" -> {self.work_size[0]}x{self.work_size[1]} (resized back)"
        return f"{frames}, {size}, {self.latent_frames} latent frames [{self.rule}]"


def fit_frames(frames: int, step: int, *, max_frames: int | None = None) -> int:
    """The smallest count ``k * step + 1`` >= ``frames`` (``step`` 1: any count).

    Example:
        >>> fit_frames(16, 4), fit_frames(17, 4), fit_frames(10, 8)
        (17, 17, 17)
    """
    if frames < 2:
        raise InvalidInputError(f"a clip needs at least 2 frames, got {frames}")
    fitted = frames if step <= 1 else ((frames - 1 + step - 1) // step) * step + 1
    if max_frames is not None and fitted > max_frames:
        raise InvalidInputError(
            f"{frames} frames need {fitted} model frames, more than this backbone's {max_frames}; "
            "render a shorter field (motion[:n]) or pick a backbone with a longer window"
        )
    return fitted


def fit_size(size: tuple[int, int], area: int | None, multiple: int) -> tuple[int, int]:
    """``(H, W)`` scaled to about ``area`` pixels (None: kept), aspect kept, each side rounded to ``multiple``.

    Example:
        >>> fit_size((512, 512), 480 * 832, 16)
        (624, 624)
        >>> fit_size((30, 37), None, 16)
        (32, 32)
    """
    h, w = size
    scale = 1.0 if area is None else math.sqrt(area / (h * w))
    return tuple(max(multiple, int(round(side * scale / multiple)) * multiple) for side in (h, w))  # type: ignore[return-value]


def resize_frames(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(T, C, H, W)`` frames resized to ``size`` (antialiased bilinear), values clamped to [0, 1]."""
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames
    return F.interpolate(frames, size=size, mode="bilinear", align_corners=False, antialias=True).clamp_(0.0, 1.0)


def moving_region(flow: torch.Tensor, *, threshold: float = 0.5, relative: float = 0.1, dilate: int = 3) -> torch.Tensor:
    """Where a field moves: ``float32 (H, W)`` 1 where any frame's displacement exceeds ``threshold`` px and
    ``relative`` times the field's largest displacement (a smooth drag's faint tail is not "moving"),
    grown by ``dilate`` px (a square structuring element), in the reference frame's coordinates."""
    speed = flow.float().norm(dim=1).amax(dim=0)  # (H, W), px
    region = (speed > max(float(threshold), float(relative) * float(speed.max()))).float()
    if dilate > 0:
        region = F.max_pool2d(region[None, None], 2 * dilate + 1, stride=1, padding=dilate)[0, 0]
    return region


def latent_mask(masks: torch.Tensor, temporal: int, spatial: int) -> torch.Tensor:
    """Per-frame masks ``(T, H, W)`` -> ``(T_latent, H / spatial, W / spatial)`` in {0, 1}.

    Latent frame 0 covers frame 0; latent frame ``j >= 1`` covers frames
    ``(j - 1) * temporal + 1 ... j * temporal`` (the causal video VAEs' grouping). A latent cell
    is imposed where any pixel of any frame it covers is (max pooling: the motion is never cut).
    """
    t, h, w = masks.shape
    if h % spatial or w % spatial or (t - 1) % temporal:
        raise InvalidInputError(f"masks {tuple(masks.shape)} do not fit latent factors {temporal} (time) x {spatial} (space)")
    first = masks[:1]
    rest = masks[1:].reshape(-1, temporal, h, w).amax(dim=1) if t > 1 else masks[:0]
    grouped = torch.cat([first, rest])
    return (F.max_pool2d(grouped[:, None].float(), spatial)[:, 0] > 0.5).float()
