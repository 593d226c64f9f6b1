"""The dual-clock schedule itself: SDEdit when the clocks agree, the masked region held to the preview otherwise."""

from __future__ import annotations

import pytest
import torch

from motionkit.errors import InvalidInputError
from motionkit_ttm.dualclock import DualClock, denoise, noised, schedule_kind


def schedulers():
    from diffusers import CogVideoXDDIMScheduler, EulerDiscreteScheduler, FlowMatchEulerDiscreteScheduler, UniPCMultistepScheduler

    return [UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0),
            FlowMatchEulerDiscreteScheduler(), EulerDiscreteScheduler(use_karras_sigmas=True, prediction_type="v_prediction"),
            CogVideoXDDIMScheduler(prediction_type="v_prediction")]


def drift(latents, index, t):
    """A stand-in for a model step: deterministic, not the identity, not contractive towards any preview."""
    return latents * 0.9 + torch.sin(latents * 3.0 + index) * 0.1


@pytest.mark.parametrize("scheduler", schedulers(), ids=lambda s: type(s).__name__)
def test_equal_start_steps_are_plain_sdedit_from_the_preview(scheduler):
    scheduler.set_timesteps(8)
    generator = torch.Generator().manual_seed(0)
    preview, noise = torch.randn(1, 4, 3, 4, 4, generator=generator), torch.randn(1, 4, 3, 4, 4, generator=generator)
    mask = (torch.rand(1, 1, 3, 4, 4, generator=generator) > 0.5).float()
    out = denoise(scheduler, DualClock(8, 3, 3), preview, mask, noise, drift)
    expected = noised(scheduler, preview, noise, 3)  # SDEdit: noise the preview to step 3, denoise from there
    for index in range(3, 8):
        expected = drift(expected, index, scheduler.timesteps[index])
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


@pytest.mark.parametrize("scheduler", schedulers(), ids=lambda s: type(s).__name__)
def test_the_masked_region_is_the_noised_preview_until_its_own_start(scheduler):
    scheduler.set_timesteps(8)
    generator = torch.Generator().manual_seed(1)
    preview, noise = torch.randn(1, 4, 3, 4, 4, generator=generator), torch.randn(1, 4, 3, 4, 4, generator=generator)
    mask = torch.zeros(1, 1, 3, 4, 4)
    mask[..., :2] = 1.0
    seen: dict[int, torch.Tensor] = {}
    denoise(scheduler, DualClock(8, 2, 6), preview, mask, noise, drift, record=lambda i, x: seen.__setitem__(i, x.clone()))
    inside = mask.bool().expand_as(preview)
    for index in range(1, 6):  # what step index + 1 sees, for every step up to the masked start (6)
        torch.testing.assert_close(seen[index][inside], noised(scheduler, preview, noise, index + 1)[inside])
    assert not torch.allclose(seen[2][~inside], noised(scheduler, preview, noise, 3)[~inside])  # outside: the model's own
    assert not torch.allclose(seen[6][inside], noised(scheduler, preview, noise, 7)[inside])    # inside, after its start


def test_noising_follows_each_parameterisation():
    flow, _, euler, ddim = schedulers()
    for scheduler in (flow, euler, ddim):
        scheduler.set_timesteps(10)
    clean, noise = torch.ones(3), torch.full((3,), 2.0)
    s = float(flow.sigmas[4])
    torch.testing.assert_close(noised(flow, clean, noise, 4), (1 - s) * clean + s * noise)
    torch.testing.assert_close(noised(euler, clean, noise, 4), clean + float(euler.sigmas[4]) * noise)
    a = float(ddim.alphas_cumprod[int(ddim.timesteps[4])])
    torch.testing.assert_close(noised(ddim, clean, noise, 4), a**0.5 * clean + (1 - a) ** 0.5 * noise)
    assert noised(flow, clean, noise, 10) is clean  # the end of the schedule is the clean preview
    assert [schedule_kind(x) for x in (flow, euler, ddim)] == ["flow", "sigma", "vp"]


def test_start_steps_are_checked():
    for bad in ((8, 5, 3), (8, -1, 2), (8, 2, 9), (8, 8, 8)):
        with pytest.raises(InvalidInputError, match="start"):
            DualClock(*bad)
    assert DualClock(50, 3, 7).imposed_steps == range(3, 7)
