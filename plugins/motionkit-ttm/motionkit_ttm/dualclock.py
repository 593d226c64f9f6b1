"""Dual-clock denoising (Time-to-Move, Singer et al. 2025, arXiv 2511.08633), written for any sampler.

The warp preview ``z`` (the VAE latents of a crude animation that already moves as asked) is
noised to an early point of the schedule and denoised from there (SDEdit), but the two regions
keep different clocks:

- **outside** the motion mask the model denoises from step ``outside_start`` on: it is free to
  repaint the background and what the crude warp got wrong there;
- **inside** the mask, from ``outside_start`` until ``inside_start`` the latents are reset after
  every step to the preview noised to the *next* step's level (one fixed noise draw, so the
  imposed signal is coherent across steps); only from ``inside_start`` on does the model
  denoise them freely. The moving object thus follows the preview much more closely (it starts
  denoising later, from less noise), while the whole clip still shares one denoising pass, so
  the two regions blend.

With ``inside_start == outside_start`` no reset happens: plain SDEdit from the preview.

Steps are indices into the sampler's timesteps for ``steps`` steps (TTM passes
``tweak-index`` = ``outside_start`` and ``tstrong-index`` = ``inside_start``), with
``0 <= outside_start <= inside_start <= steps``.

The noising follows the scheduler's own parameterisation, looked up by step index (not by
timestep value, which is ambiguous once a multistep solver has started):

- flow matching (``FlowMatchEulerDiscreteScheduler``, UniPC with ``use_flow_sigmas``):
  ``x = (1 - s) z + s n``;
- Karras/EDM sigmas (``EulerDiscreteScheduler``, as in SVD): ``x = z + s n``;
- variance preserving (DDIM, CogVideoX's DDIM/DPM): ``x = sqrt(a) z + sqrt(1 - a) n``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from motionkit.errors import InvalidInputError

#: ``step(latents, index, timestep) -> latents``: one denoising step of the sampler.
Step = Callable[[torch.Tensor, int, torch.Tensor], torch.Tensor]
#: ``record(index, latents)`` after every step (index = the step just run) and once before the first.
Record = Callable[[int, torch.Tensor], None]


@dataclass(frozen=True)
class DualClock:
    """The two start steps of a dual-clock run over ``steps`` steps.

    Attributes:
        steps: denoising steps of the full schedule.
        outside_start: step at which the region outside the mask starts denoising (TTM's ``tweak-index``).
        inside_start: step at which the masked region starts denoising (TTM's ``tstrong-index``).

    Example:
        >>> DualClock(50, 3, 7).imposed_steps
        range(3, 7)
    """

    steps: int
    outside_start: int
    inside_start: int

    def __post_init__(self) -> None:
        if not 0 <= self.outside_start <= self.inside_start <= self.steps:
            raise InvalidInputError(
                "the two start steps must satisfy 0 <= outside_start <= inside_start <= steps, got "
                f"outside_start={self.outside_start}, inside_start={self.inside_start}, steps={self.steps}"
            )
        if self.outside_start >= self.steps:
            raise InvalidInputError(f"outside_start={self.outside_start} leaves no denoising step of {self.steps}")

    @property
    def imposed_steps(self) -> range:
        """The steps after which the masked region is reset to the noised preview."""
        return range(self.outside_start, self.inside_start)


def schedule_kind(scheduler: Any) -> str:
    """``"flow"``, ``"sigma"`` or ``"vp"``: how ``scheduler`` mixes signal and noise (see the module docs)."""
    name = type(scheduler).__name__
    config = getattr(scheduler, "config", {})
    if "FlowMatch" in name or bool(getattr(config, "use_flow_sigmas", False)):
        return "flow"
    if name.startswith("Euler") or "EDM" in name:
        return "sigma"
    if hasattr(scheduler, "alphas_cumprod"):
        return "vp"
    raise InvalidInputError(f"the dual-clock sampler does not know how {name} noises a sample; use the pipeline's default scheduler")


def noised(scheduler: Any, clean: torch.Tensor, noise: torch.Tensor, index: int) -> torch.Tensor:
    """``clean`` latents noised to the level of step ``index`` of ``scheduler``'s current schedule.

    ``index == len(timesteps)`` is the end of the schedule: ``clean`` itself.
    """
    timesteps = scheduler.timesteps
    if index >= len(timesteps):
        return clean
    kind = schedule_kind(scheduler)
    if kind in ("flow", "sigma"):
        sigma = float(scheduler.sigmas[index])
        return (1.0 - sigma) * clean + sigma * noise if kind == "flow" else clean + sigma * noise
    alpha = float(scheduler.alphas_cumprod[int(timesteps[index])])
    return alpha**0.5 * clean + (1.0 - alpha) ** 0.5 * noise


def denoise(
    scheduler: Any,
    clock: DualClock,
    preview: torch.Tensor,
    mask: torch.Tensor,
    noise: torch.Tensor,
    step: Step,
    *,
    record: Record | None = None,
    progress: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Run dual-clock denoising from the ``preview`` latents and return the clean latents.

    Args:
        scheduler: a diffusers scheduler whose timesteps are already set for ``clock.steps`` steps.
        clock: the two start steps.
        preview: latents of the warp preview, any layout (``mask`` broadcasts against it).
        mask: ``1`` where the motion is imposed (latent resolution, values in [0, 1]).
        noise: one draw of Gaussian noise shaped like ``preview``, used for every noising.
        step: one step of the backbone (model prediction, guidance, scheduler update).
        record: called with ``(-1, latents)`` at the start and ``(i, latents)`` after step ``i``
            (after the reset, i.e. what step ``i + 1`` sees).
        progress: called with the number of steps done.
    """
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(clock.outside_start)
    timesteps = scheduler.timesteps
    keep = mask.to(preview.dtype)
    latents = noised(scheduler, preview, noise, clock.outside_start)
    if record is not None:
        record(clock.outside_start - 1, latents)
    for index in range(clock.outside_start, clock.steps):
        latents = step(latents, index, timesteps[index])
        if index < clock.inside_start:
            latents = torch.lerp(latents, noised(scheduler, preview, noise, index + 1).to(latents.dtype), keep)
        if record is not None:
            record(index, latents)
        if progress is not None:
            progress(index + 1 - clock.outside_start)
    return latents
