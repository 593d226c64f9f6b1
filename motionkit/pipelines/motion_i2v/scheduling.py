"""The noise schedule both Motion-I2V stages sample with, configured as the official code does.

The official pipelines build diffusers' :class:`~diffusers.DDIMScheduler` with a *linear*
beta schedule from 0.00085 to 0.012 (not SD's ``scaled_linear``), ``steps_offset=1`` and
``clip_sample=False``; everything else keeps diffusers' defaults (1000 training steps,
``set_alpha_to_one=True``, epsilon prediction). With 25 steps the timesteps run
961, 921, ..., 41, 1 and the last step lands on alpha = 1.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import DDIMScheduler

#: ``DDIMScheduler`` keyword arguments of the official inference and training configs.
OFFICIAL_SCHEDULER_CONFIG: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "linear",
    "steps_offset": 1,
    "clip_sample": False,
    "set_alpha_to_one": True,
    "prediction_type": "epsilon",
    # diffusers >= 0.13 added this option; "leading" is what 0.11.1 (the official pin) did.
    "timestep_spacing": "leading",
}

#: SD-1.5 latent scale; the official loops multiply VAE samples by it and divide before decoding.
LATENT_SCALE = 0.18215


def make_scheduler(**overrides: Any) -> DDIMScheduler:
    """A fresh DDIM scheduler with the official Motion-I2V settings (``overrides`` win).

    Example:
        >>> sched = make_scheduler()
        >>> sched.set_timesteps(25)
        >>> sched.timesteps[:3].tolist(), int(sched.timesteps[-1])
        ([961, 921, 881], 1)
    """
    return DDIMScheduler(**{**OFFICIAL_SCHEDULER_CONFIG, **overrides})


def noise_to_level(scheduler: DDIMScheduler, clean: torch.Tensor, noise: torch.Tensor, timestep: int) -> torch.Tensor:
    """``sqrt(a_t) * clean + sqrt(1 - a_t) * noise`` at one timestep, broadcasting ``clean`` over frames.

    Args:
        clean: e.g. the reference latent ``(B, 4, 1, h, w)``.
        noise: ``(B, 4, F, h, w)``.
        timestep: training timestep in [0, num_train_timesteps).

    Returns:
        ``(B, 4, F, h, w)`` in ``noise``'s dtype, computed in float32 like the official loop.

    Example:
        >>> noise_to_level(make_scheduler(), torch.zeros(1, 4, 1, 2, 2), torch.ones(1, 4, 3, 2, 2), 999).shape
        torch.Size([1, 4, 3, 2, 2])
    """
    t = torch.tensor([int(timestep)], dtype=torch.long)
    return scheduler.add_noise(clean, noise, t)
