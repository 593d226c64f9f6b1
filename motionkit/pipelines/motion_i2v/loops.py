"""The two official denoising loops, as plain functions over tensors.

Both loops are written from the description of ``FlowGenPipeline.__call__`` and
``AnimationPipeline.__call__`` of G-U-N/Motion-I2V (see the fixture README, section 6) and
take every random or learned input explicitly (initial noise, text embeddings, image
latent), so that :mod:`motionkit.fidelity.replay` can feed them the official
stand-ins and compare every step. Latents stay float32 whatever the network's dtype; only
the network input is cast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from diffusers import DDIMScheduler

from motionkit.errors import ShapeMismatchError
from motionkit.pipelines.motion_i2v.scheduling import noise_to_level

#: ``on_step(i, t, latents, pred_x0)``: called after every step with the latents the next
#: step starts from (for stage 2: after the RePaint blend, before the frame-0 replacement).
StepHook = Callable[[int, int, torch.Tensor, torch.Tensor], None]
#: ``eps(model_input, t) -> eps`` for a CFG-expanded batch; lets windows wrap the network.
EpsFn = Callable[[torch.Tensor, Any], torch.Tensor]


def network_output(out: Any) -> torch.Tensor:
    """The tensor a diffusers-style model returned (``.sample``, a tuple's first item, or the tensor).

    Example:
        >>> network_output((torch.ones(1),))
        tensor([1.])
    """
    if isinstance(out, torch.Tensor):
        return out
    if hasattr(out, "sample"):
        return out.sample
    return out[0]


def _model_dtype(module: Any) -> torch.dtype:
    try:
        return next(module.parameters()).dtype
    except (AttributeError, StopIteration):
        return torch.float32


def guide(eps: torch.Tensor, guidance: float) -> torch.Tensor:
    """Classifier-free guidance on a ``[uncond, cond]`` batch: ``u + g * (c - u)``.

    Example:
        >>> guide(torch.tensor([1.0, 2.0]), 7.0)
        tensor([8.])
    """
    uncond, cond = eps.chunk(2)
    return uncond + guidance * (cond - uncond)


def _sample(
    scheduler: DDIMScheduler,
    latents: torch.Tensor,
    eps_fn: EpsFn,
    *,
    steps: int,
    guidance: float,
    eta: float,
    generator: torch.Generator | None,
    on_step: StepHook | None,
    progress: bool,
    pin: Callable[[torch.Tensor], torch.Tensor] | None = None,
    model_input: Callable[[torch.Tensor], torch.Tensor] | None = None,
    after_step: Callable[[int, torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """The DDIM loop both official pipelines run, with each stage's additions as hooks.

    Per step: ``pin`` the latents (stage 2: frame 0 = the image), build the network input
    (``model_input``; stage 1 puts the image latent first), double it for CFG as
    [uncond, cond], ``scale_model_input``, predict eps, guide, take the DDIM step, then
    ``after_step(i, latents)`` (stage 2: the RePaint blend) and the user's ``on_step``.
    """
    cfg = guidance > 1.0
    scheduler.set_timesteps(steps, device=latents.device)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(scheduler.timesteps), desc="denoising", leave=False)
    try:
        for i, t in enumerate(scheduler.timesteps):
            if pin is not None:
                latents = pin(latents)
            x = model_input(latents) if model_input is not None else latents
            x = torch.cat([x] * 2) if cfg else x
            eps = eps_fn(scheduler.scale_model_input(x, t), t)
            eps = guide(eps, guidance) if cfg else eps
            out = scheduler.step(eps, t, latents, eta=eta, generator=generator)
            latents = out.prev_sample
            if after_step is not None:
                latents = after_step(i, latents)
            if bar is not None:
                bar.update()
            if on_step is not None:
                on_step(i, int(t), latents, out.pred_original_sample)
    finally:
        if bar is not None:
            bar.close()
    return latents


def denoise_flow(
    unet: Any,
    scheduler: DDIMScheduler,
    *,
    image_latent: torch.Tensor,
    noise: torch.Tensor,
    stride: torch.Tensor,
    text_embeddings: torch.Tensor,
    control: torch.Tensor | None = None,
    steps: int = 25,
    guidance: float = 7.0,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    on_step: StepHook | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Stage 1: denoise flow latents conditioned on the reference image, text, strides and drags.

    Args:
        unet: the stage-1 flow UNet, called ``unet(x (B', 8, F, h, w), t, stride,
            encoder_hidden_states=..., control=...)`` with the ControlNet attached.
        scheduler: a DDIM scheduler (:func:`~motionkit.pipelines.motion_i2v.scheduling.make_scheduler`).
        image_latent: ``(B, 4, F, h, w)`` or ``(B, 4, 1, h, w)`` reference latent, already x0.18215.
        noise: ``(B, 8, F, h, w)`` as the official pipeline draws it (channels 4..7 are dropped),
            or ``(B, 4, F, h, w)``.
        stride: ``(1, F)`` int64 frame gaps (official: 8, 16, ...).
        text_embeddings: ``(2B, L, D)`` ordered [uncond, cond] when ``guidance > 1``, else ``(B, L, D)``.
        control: ``(B, 5, F, h, w)`` encoded sparse flow (4, unscaled) + known mask (1), or None.
        steps, guidance, eta: DDIM steps, CFG scale (> 1 enables CFG), DDIM eta.
        on_step: hook called after every step.

    Returns:
        ``(B, 4, F, h, w)`` float32 flow latents (still x0.18215).

    Example:
        >>> latents = denoise_flow(unet, make_scheduler(), image_latent=z, noise=torch.randn(1, 8, 15, 40, 64),
        ...                        stride=torch.arange(1, 16)[None] * 8, text_embeddings=text, control=control)  # doctest: +SKIP
    """
    latents = (noise * scheduler.init_noise_sigma)[:, :4].float()
    b, _, f, h, w = latents.shape
    if image_latent.shape[2] == 1:
        image_latent = image_latent.expand(-1, -1, f, -1, -1)
    if image_latent.shape != (b, 4, f, h, w):
        raise ShapeMismatchError(f"image latent {tuple(image_latent.shape)} does not match flow latents {(b, 4, f, h, w)}")
    cfg = guidance > 1.0
    dtype = _model_dtype(unet)
    kwargs = {"encoder_hidden_states": text_embeddings.to(dtype)}
    if control is not None:
        kwargs["control"] = (torch.cat([control] * 2) if cfg else control).to(dtype)

    def eps(x: torch.Tensor, t: Any) -> torch.Tensor:
        return network_output(unet(x.to(dtype), t, stride, **kwargs)).float()

    def with_image(z: torch.Tensor) -> torch.Tensor:
        return torch.cat([image_latent.float(), z], dim=1)

    return _sample(scheduler, latents, eps, steps=steps, guidance=guidance, eta=eta, generator=generator,
                   on_step=on_step, progress=progress, model_input=with_image)


def stage2_eps_fn(unet: Any, text_embeddings: torch.Tensor, flow: torch.Tensor) -> EpsFn:
    """The stage-2 network as ``eps(x, t)`` for a CFG-expanded batch ``x`` and its pixel flow.

    ``flow`` is ``(B', F, 2, H, W)`` pixels, already expanded to ``x``'s batch.

    Example:
        >>> eps = stage2_eps_fn(unet, text, flow[None].repeat(2, 1, 1, 1, 1))  # doctest: +SKIP
    """
    dtype = _model_dtype(unet)

    def eps(x: torch.Tensor, t: Any) -> torch.Tensor:
        out = unet(x.to(dtype), t, encoder_hidden_states=text_embeddings.to(dtype), flow_pre=flow.to(dtype))
        return network_output(out).float()

    return eps


def denoise_video(
    eps_fn: EpsFn,
    scheduler: DDIMScheduler,
    *,
    image_latent: torch.Tensor,
    noise: torch.Tensor,
    static: torch.Tensor | None = None,
    steps: int = 25,
    guidance: float = 7.0,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    on_step: StepHook | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Stage 2: denoise video latents whose frame 0 is pinned to the reference image.

    Every step overwrites frame 0 with ``image_latent``, predicts eps (CFG on a
    [uncond, cond] batch), takes a DDIM step and, except after the last step, blends the
    static brush region back to the reference noised to the next level (RePaint). As in the
    official loop, the noise used for that blend is the initial noise *with its frame 0
    replaced by the image latent* (the official tensors alias).

    Args:
        eps_fn: ``eps(x, t)`` on the CFG batch, e.g. :func:`stage2_eps_fn` or a windowed wrapper.
        image_latent: ``(B, 4, 1, h, w)`` reference latent, x0.18215.
        noise: ``(B, 4, F, h, w)`` initial latents.
        static: ``(B, 1, 1, h, w)`` latent-resolution static brush (1 = keep the reference), or None.

    Returns:
        ``(B, 4, F, h, w)`` float32 latents with frame 0 set to ``image_latent``.

    Example:
        >>> latents = denoise_video(stage2_eps_fn(unet, text, flow2), make_scheduler(), image_latent=z,
        ...                         noise=torch.randn(1, 4, 16, 40, 64), static=brush)  # doctest: +SKIP
    """
    latents = (noise * scheduler.init_noise_sigma).float().clone()
    if image_latent.shape[:2] != latents.shape[:2] or image_latent.shape[-2:] != latents.shape[-2:]:
        raise ShapeMismatchError(f"image latent {tuple(image_latent.shape)} does not fit video latents {tuple(latents.shape)}")
    image_latent = image_latent.float()
    repaint_noise = latents.clone()
    repaint_noise[:, :, :1] = image_latent

    def pin_frame0(z: torch.Tensor) -> torch.Tensor:
        z[:, :, :1] = image_latent  # in place, as the official loop writes into its latents
        return z

    def repaint(i: int, z: torch.Tensor) -> torch.Tensor:
        timesteps = scheduler.timesteps
        if static is None or i == len(timesteps) - 1:
            return z
        known = noise_to_level(scheduler, image_latent, repaint_noise, int(timesteps[i + 1]))
        return known * static + z * (1.0 - static)

    latents = _sample(scheduler, latents, eps_fn, steps=steps, guidance=guidance, eta=eta, generator=generator,
                      on_step=on_step, progress=progress, pin=pin_frame0, after_step=repaint)
    latents = latents.clone()
    latents[:, :, :1] = image_latent
    return latents


def decode_frames(decode: Callable[[torch.Tensor], torch.Tensor], latents: torch.Tensor, scale: float) -> torch.Tensor:
    """Decode ``(B, C, F, h, w)`` latents one frame at a time (VAE slicing) -> ``(B, C', F, H, W)``.

    ``decode`` maps ``(1, C, h, w)`` to ``(1, C', H, W)``; latents are multiplied by ``1 / scale`` first, as the official code does.

    Example:
        >>> decode_frames(lambda z: z, torch.ones(1, 4, 2, 3, 3), 0.5).shape
        torch.Size([1, 4, 2, 3, 3])
    """
    b, _, f = latents.shape[:3]
    flat = (latents * (1.0 / scale)).permute(0, 2, 1, 3, 4).reshape(b * f, *latents.shape[1:2], *latents.shape[3:])
    frames = [decode(flat[i : i + 1]) for i in range(flat.shape[0])]
    out = torch.cat(frames)
    return out.reshape(b, f, *out.shape[1:]).permute(0, 2, 1, 3, 4)
