"""Stage 1 as a pipeline: reference image + drags + static brush + prompt -> flow in pixels.

:class:`FlowGenerator` holds the networks and runs the official ``FlowGenPipeline`` recipe
(see :func:`~motionkit.pipelines.motion_i2v.loops.denoise_flow`) on one window of at most
16 frames; longer requests are *chained*: the image is forward-warped to the last frame of
the previous window, the next window is predicted from there and the flows are composed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from motionkit.errors import InvalidInputError
from motionkit.models.motion_i2v.flow_vae import decode_flow_tensor, denormalize_flow
from motionkit.motion import MotionField
from motionkit.ops.field import compose
from motionkit.ops.splat import splat
from motionkit.pipelines.motion_i2v.conditioning import encode_prompt, placed, randn, vae_decode, vae_encode
from motionkit.pipelines.motion_i2v.loops import decode_frames, denoise_flow
from motionkit.pipelines.motion_i2v.rasterize import rasterize_drags, resample_track, sparse_condition
from motionkit.pipelines.motion_i2v.scheduling import LATENT_SCALE, make_scheduler
from motionkit.pipelines.motion_i2v.windows import MODEL_FRAMES, chain_segments

#: Frame gap the official demo gives each generated frame: 8, 16, ..., 120.
OFFICIAL_STRIDE_STEP = 8


@dataclass
class Sampling:
    """How a denoising run is carried out; the defaults are the official demo's.

    Attributes:
        steps: DDIM steps (25).
        guidance: classifier-free guidance scale (7); <= 1 disables CFG.
        negative_prompt: the unconditional text for CFG.
        eta: DDIM eta (0 = deterministic).
        generator: random source of every draw (VAE posterior samples, initial noise).
        device: where the networks run.
        cpu_offload: keep modules on the CPU and move each to ``device`` only while used.
        callback: ``callback(step, total, preview)`` after every step (see the stage's docs).
        progress: show a tqdm bar per denoising loop.
        window, overlap: frames per temporal window (frame 0 included) and stage-2 overlap.

    Example:
        >>> Sampling(steps=10, guidance=5.0).window
        16
    """

    steps: int = 25
    guidance: float = 7.0
    negative_prompt: str | None = None
    eta: float = 0.0
    generator: torch.Generator | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    cpu_offload: bool = False
    callback: Callable[[int, int, torch.Tensor], None] | None = None
    progress: bool = False
    window: int = MODEL_FRAMES
    overlap: int = 4


def official_strides(count: int, step: int = OFFICIAL_STRIDE_STEP) -> torch.Tensor:
    """``(1, count)`` int64 frame gaps ``step, 2*step, ...`` (official: 8..120 for 15 frames).

    Example:
        >>> official_strides(3).tolist()
        [[8, 16, 24]]
    """
    return torch.arange(1, count + 1, dtype=torch.long)[None] * int(step)


def _warp_reference(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Forward-splat ``image (3, H, W)`` along ``flow (2, H, W)``; holes keep the original pixels."""
    warped, weight = splat(image[None], flow[None], mode="avg", return_weight=True)
    hole = (weight < 1e-3).float()
    return (warped * (1 - hole) + image[None] * hole)[0].clamp(0, 1)


@dataclass
class FlowGenerator:
    """The stage-1 networks: flow UNet (ControlNet attached), flow VAE, image VAE, CLIP text model.

    ``unet`` is called ``unet(x, t, stride, encoder_hidden_states=..., control=...)``; a UNet
    without a ControlNet (``unet.controlnet is None``) can still generate from text.

    Example:
        >>> stage1 = FlowGenerator(unet, flow_vae, image_vae, text_encoder, tokenizer)  # doctest: +SKIP
        >>> stage1(image, [drag], torch.zeros(320, 512), 16, "a boat sails", Sampling()).shape  # doctest: +SKIP
        torch.Size([16, 2, 320, 512])
    """

    unet: Any
    flow_vae: Any
    image_vae: Any
    text_encoder: Any
    tokenizer: Any

    def has_controlnet(self) -> bool:
        """Whether drags and the brush can steer generation (a ControlNet is attached)."""
        return getattr(self.unet, "controlnet", None) is not None

    def __call__(
        self,
        image: torch.Tensor,
        tracks: Sequence[Any],
        static: torch.Tensor,
        frames: int,
        prompt: str,
        sampling: Sampling,
        *,
        strides: Sequence[int] | None = None,
        stride_step: int = OFFICIAL_STRIDE_STEP,
        flow_unit: int | None = None,
    ) -> torch.Tensor:
        """Predict the flow from ``image`` to each of ``frames`` frames.

        Args:
            image: ``(3, H, W)`` in [0, 1], H and W multiples of 64.
            tracks: drags in pixels of ``image`` (each ``(T, 2)`` or a Trajectory).
            static: ``(H, W)`` official brush, 1 where nothing may move.
            frames: output frames, frame 0 included (>= 2).
            prompt: text describing the motion.
            sampling: steps, guidance, generator, device, ...
            strides: explicit frame gaps for frames 1..frames-1 (only when frames <= window).
            stride_step: frame gap between consecutive frames otherwise (official 8).
            flow_unit: half-size of a drag's square (default scales 64 px at 320x512).

        Returns:
            ``(frames, 2, H, W)`` float32 displacement from frame 0 in pixels, frame 0 zero.
        """
        if frames < 2:
            raise InvalidInputError(f"stage 1 predicts at least 2 frames (frame 0 and one more), got {frames}")
        if tracks and not self.has_controlnet():
            raise InvalidInputError("drags need the stage-1 ControlNet, but the flow UNet has none attached")
        if strides is not None and len(strides) != frames - 1:
            raise InvalidInputError(f"strides must give one frame gap per frame 1..{frames - 1}, got {len(strides)}")
        if strides is not None and frames > sampling.window:
            raise InvalidInputError(f"explicit strides need frames <= window ({sampling.window}); use stride_step instead")
        device = sampling.device
        h, w = image.shape[-2:]
        resampled = [resample_track(track, frames) for track in tracks]
        with placed(self.text_encoder, device, sampling.cpu_offload):
            text = encode_prompt(
                self.text_encoder, self.tokenizer, prompt, sampling.negative_prompt, guidance=sampling.guidance > 1, device=device
            )
        total = torch.zeros(frames, 2, h, w)
        segments = chain_segments(frames, sampling.window)
        for k, (start, end) in enumerate(segments):
            count = end - start + 1
            reference = image if start == 0 else _warp_reference(image, total[start])
            seg_tracks = [t[start : end + 1] for t in resampled if 0 <= t[start, 0] < w and 0 <= t[start, 1] < h]
            stride = torch.as_tensor([list(strides)], dtype=torch.long) if strides is not None else official_strides(count - 1, stride_step)
            flow = self._window(reference, seg_tracks, static, count, text, stride, sampling, flow_unit, (k, len(segments)))
            total[start : end + 1] = flow if start == 0 else compose(total[start].expand(count, -1, -1, -1), flow)
        return total

    def _window(
        self,
        reference: torch.Tensor,
        tracks: Sequence[np.ndarray],
        static: torch.Tensor,
        count: int,
        text: torch.Tensor,
        stride: torch.Tensor,
        sampling: Sampling,
        flow_unit: int | None,
        segment: tuple[int, int],
    ) -> torch.Tensor:
        """One stage-1 run of ``count`` frames from ``reference``: ``(count, 2, H, W)`` pixels, frame 0 zero."""
        device, gen, offload = sampling.device, sampling.generator, sampling.cpu_offload
        h, w = reference.shape[-2:]
        control = None
        if self.has_controlnet():
            drag, known = rasterize_drags(tracks, count, (h, w), flow_unit)
            sparse, mask = sparse_condition(drag, known, static)
            with placed(self.flow_vae, device, offload):
                sparse_latent = vae_encode(self.flow_vae, sparse, gen)  # (F, 4, h/8, w/8), unscaled like the official
            mask_latent = F.interpolate(mask.permute(1, 0, 2, 3)[None], scale_factor=(1, 1 / 8, 1 / 8), mode="nearest")
            control = torch.cat([sparse_latent.permute(1, 0, 2, 3)[None].to(device), mask_latent.to(device)], dim=1)
        with placed(self.image_vae, device, offload):
            image_latent = vae_encode(self.image_vae, reference[None], gen) * LATENT_SCALE
        image_latent = image_latent.to(device).unsqueeze(2).repeat(1, 1, count - 1, 1, 1)
        noise = randn((1, 8, count - 1, h // 8, w // 8), gen, device)
        on_step = _preview_hook(sampling, segment)
        with placed(self.unet, device, offload):
            latents = denoise_flow(
                self.unet, make_scheduler(), image_latent=image_latent, noise=noise, stride=stride.to(device),
                text_embeddings=text, control=control, steps=sampling.steps, guidance=sampling.guidance,
                eta=sampling.eta, generator=gen if sampling.eta > 0 else None, on_step=on_step, progress=sampling.progress,
            )
        with placed(self.flow_vae, device, offload):
            decoded = decode_frames(vae_decode(self.flow_vae), latents, LATENT_SCALE)[0].permute(1, 0, 2, 3)
        flow = denormalize_flow(decoded.cpu(), (h, w)) * (1.0 - static)
        return torch.cat([torch.zeros_like(flow[:1]), flow])


def _preview_hook(sampling: Sampling, segment: tuple[int, int]):
    """Forward every step to the user's callback; the preview is the predicted clean flow latent ``(F, 4, h, w)``."""
    if sampling.callback is None:
        return None
    index, count = segment

    def on_step(i: int, t: int, latents: torch.Tensor, pred_x0: torch.Tensor) -> None:
        sampling.callback(index * sampling.steps + i + 1, count * sampling.steps, pred_x0[0].permute(1, 0, 2, 3).detach().cpu())

    return on_step


def tracks_to_points(tracks: Sequence[Any], scale: tuple[float, float]) -> list[np.ndarray]:
    """Drags (Trajectory or ``(T, 2)``) as numpy points moved to an image resized by ``(sx, sy)``.

    Pixel centres sit at integers and images resize with ``align_corners=False``, so a point
    maps as ``x' = (x + 0.5) * sx - 0.5``.

    Example:
        >>> tracks_to_points([[[0.0, 0.0], [9.0, 9.0]]], (0.5, 0.5))[0].tolist()
        [[-0.25, -0.25], [4.25, 4.25]]
    """
    out = []
    for track in tracks:
        points = track.as_tensor() if hasattr(track, "as_tensor") else track
        points = np.asarray(points.detach().cpu().numpy() if isinstance(points, torch.Tensor) else points, dtype=np.float64)
        out.append((points.reshape(-1, 2) + 0.5) * np.asarray(scale, dtype=np.float64) - 0.5)
    return out


def decode_flow(vae: Any, latents: torch.Tensor, size: tuple[int, int] | None = None, *, scaled: bool = True) -> MotionField:
    """Decode flow-VAE latents of frames 1..T' into a ``MotionField`` (pixels, zero frame 0).

    The tensor maths is :func:`motionkit.models.motion_i2v.flow_vae.decode_flow_tensor` (same
    arguments); a ``MotionField`` always starts with its zero reference frame, so the zero
    frame 0 is always prepended.

    Args:
        vae: the 2-channel flow VAE.
        latents: ``(T', 4, h, w)`` latents of frames 1..T'.
        size: ``(H, W)`` of the field in pixels (default ``(8h, 8w)``).
        scaled: the latents carry the diffusion latent scale (0.18215).

    Returns:
        ``MotionField`` of shape ``(T' + 1, 2, H, W)``.

    Example:
        >>> motion = decode_flow(vae, latents, (320, 512))       # doctest: +SKIP
        >>> motion.flow.shape                                     # doctest: +SKIP
        torch.Size([16, 2, 320, 512])
    """
    return MotionField(decode_flow_tensor(vae, latents, size, scaled=scaled, prepend_reference=True))
