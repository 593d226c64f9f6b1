"""Replay the official denoising loops stored in ``pipeline_cases.safetensors``.

The official ``FlowGenPipeline`` and ``AnimationPipeline`` were run on tiny random models with
three stand-ins (fixture README, section 4): prompt encoding returns the stored
``in.encoder_hidden_states``, VAE encoding returns ``in.first_frame_latent_prescale`` and VAE
decoding is the identity; the initial noise is given. This module feeds the same inputs to
motionkit's loops (:mod:`motionkit.pipelines.motion_i2v.loops`) with the tiny networks
loaded from the folder, and compares every stored step latent, both videos and the scheduler
vectors. Sizes and frame counts are read from the data, so any folder of that layout works.

Example:
    >>> records = run_pipeline_cases("shared/fixtures/motion_i2v_official/tiny")  # doctest: +SKIP
    >>> all(r.ok for r in records)                                                # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from motionkit.fidelity.fixtures import load_tiny_models, need
from motionkit.fidelity.records import CheckRecord, within
from motionkit.pipelines.motion_i2v.loops import decode_frames, denoise_flow, denoise_video, stage2_eps_fn
from motionkit.pipelines.motion_i2v.scheduling import LATENT_SCALE, make_scheduler

#: Scheduler examples must match to this absolute error (README, section 7).
SCHED_ATOL = 1e-6
#: Step latents and the stage-1 video: this fraction of the stored tensor's largest magnitude.
RELATIVE_TOL = 1e-5
#: The stage-2 video is clamped to [0, 1]; an absolute tolerance applies.
VIDEO_ATOL = 5e-4


def _scheduler_records(cases: dict[str, torch.Tensor]) -> list[CheckRecord]:
    records = []
    sched = make_scheduler()
    sched.set_timesteps(len(cases["sched.timesteps_25"]))
    same = torch.equal(sched.timesteps.cpu(), cases["sched.timesteps_25"])
    records.append(CheckRecord("sched.timesteps_25", 0.0 if same else float("inf"), 0.0, same))
    records.append(within("sched.betas", sched.betas, cases["sched.betas"], SCHED_ATOL))
    records.append(within("sched.alphas_cumprod", sched.alphas_cumprod, cases["sched.alphas_cumprod"], SCHED_ATOL))
    sample, eps = cases["sched.step_example.sample"], cases["sched.step_example.model_output"]
    for key in sorted(k for k in cases if k.startswith("sched.step_example.prev_sample_t")):
        t = int(key.rsplit("_t", 1)[1])
        got = sched.step(eps, t, sample, eta=0.0).prev_sample
        records.append(within(key, got, cases[key], SCHED_ATOL))
    for key in sorted(k for k in cases if k.startswith("sched.add_noise_example.t")):
        t = int(key.rsplit(".t", 1)[1])
        got = sched.add_noise(sample, eps, torch.tensor([t]))
        records.append(within(key, got, cases[key], SCHED_ATOL))
    return records


def _step_recorder(indices: torch.Tensor, store: dict[int, torch.Tensor]):
    wanted = {int(i) for i in indices}

    def on_step(i: int, t: int, latents: torch.Tensor, pred_x0: torch.Tensor) -> None:
        if i in wanted:
            store[i] = latents.detach().clone()

    return on_step


def _steps_record(name: str, store: dict[int, torch.Tensor], indices: torch.Tensor, want: torch.Tensor) -> CheckRecord:
    tol = RELATIVE_TOL * float(want.abs().max())
    missing = [int(i) for i in indices if int(i) not in store]
    if missing:
        return CheckRecord(f"{name} (steps {missing} never ran)", float("inf"), tol, False)
    return within(name, torch.stack([store[int(i)] for i in indices]), want, tol)


def _guidance(folder: Path) -> float:
    """The CFG scale the cases were made with (``pipeline_probe.json``), 7.0 (the official demo's) without one."""
    probe = folder / "pipeline_probe.json"
    if probe.is_file():
        return float(json.loads(probe.read_text()).get("guidance_scale", 7.0))
    return 7.0


def replay_stage1(unet: torch.nn.Module, cases: dict[str, torch.Tensor], guidance: float = 7.0) -> list[CheckRecord]:
    """Run the stage-1 loop on the stored inputs and compare its steps and video.

    Example:
        >>> [r.ok for r in replay_stage1(stage1, cases)]  # doctest: +SKIP
        [True, True]
    """
    steps = len(cases["stage1.timesteps"])
    noise = cases["in.stage1_latents_8ch"]
    frames = noise.shape[2]
    image_latent = (cases["in.first_frame_latent_prescale"] * LATENT_SCALE).unsqueeze(2).repeat(1, 1, frames, 1, 1)
    store: dict[int, torch.Tensor] = {}
    with torch.no_grad():
        latents = denoise_flow(
            unet,
            make_scheduler(),
            image_latent=image_latent,
            noise=noise,
            stride=cases["in.stage1_stride"],
            text_embeddings=cases["in.encoder_hidden_states"],
            control=cases["in.stage1_control"],
            steps=steps,
            guidance=guidance,
            on_step=_step_recorder(cases["step_indices"], store),
        )
        video = decode_frames(lambda z: z, latents, LATENT_SCALE)
    want_video = cases["stage1.video"]
    return [
        _steps_record("stage1.step_latents", store, cases["step_indices"], cases["stage1.step_latents"]),
        within("stage1.video", video, want_video, RELATIVE_TOL * float(want_video.abs().max())),
    ]


def replay_stage2(unet: torch.nn.Module, cases: dict[str, torch.Tensor], flow: torch.Tensor,
                  guidance: float = 7.0) -> list[CheckRecord]:
    """Run the stage-2 loop on the stored inputs and ``flow`` ``(F, 2, H, W)`` pixels; compare steps and video.

    Example:
        >>> [r.ok for r in replay_stage2(stage2, cases, flow)]  # doctest: +SKIP
        [True, True]
    """
    steps = len(cases["stage2.timesteps"])
    image_latent = (cases["in.first_frame_latent_prescale"] * LATENT_SCALE).unsqueeze(2)
    static = F.interpolate(cases["in.brush_mask"], scale_factor=(1, 1 / 8, 1 / 8), mode="nearest")
    text = cases["in.encoder_hidden_states"]
    store: dict[int, torch.Tensor] = {}
    with torch.no_grad():
        latents = denoise_video(
            stage2_eps_fn(unet, text, flow[None].repeat(2, 1, 1, 1, 1)),
            make_scheduler(),
            image_latent=image_latent,
            noise=cases["in.stage2_latents"],
            static=static,
            steps=steps,
            guidance=guidance,
            on_step=_step_recorder(cases["step_indices"], store),
        )
        video = (decode_frames(lambda z: z, latents, LATENT_SCALE) / 2 + 0.5).clamp(0, 1)
    return [
        _steps_record("stage2.step_latents", store, cases["step_indices"], cases["stage2.step_latents"]),
        within("stage2.video", video, cases["stage2.video"], VIDEO_ATOL),
    ]


def run_pipeline_cases(folder: str | os.PathLike) -> list[CheckRecord]:
    """Replay every official loop of ``folder/pipeline_cases.safetensors``; one record per compared tensor.

    Args:
        folder: a folder laid out like ``shared/fixtures/motion_i2v_official/tiny``.

    Returns:
        Records for the scheduler vectors, ``stage1.step_latents``, ``stage1.video``,
        ``stage2.step_latents`` and ``stage2.video``.

    Raises:
        WeightsNotFoundError: a file of the layout is missing.

    Example:
        >>> [r.name for r in run_pipeline_cases("shared/fixtures/motion_i2v_official/tiny") if not r.ok]  # doctest: +SKIP
        []
    """
    folder = Path(folder)
    cases = load_file(need(folder, "pipeline_cases.safetensors"))
    flow = load_file(need(folder, "cases.safetensors"))["stage2.flow_pre"][0]
    stage1, stage2 = load_tiny_models(folder)
    guidance = _guidance(folder)
    return _scheduler_records(cases) + replay_stage1(stage1, cases, guidance) + replay_stage2(stage2, cases, flow, guidance)


def pipeline_checks(folder: str | os.PathLike, keys_path: str | os.PathLike | None = None) -> list[CheckRecord]:
    """The replay as a check group of the parity command: records named ``pipeline.<tensor>``.

    A folder without ``pipeline_cases.safetensors`` gives no records. ``keys_path`` is unused
    (every check group takes it).
    """
    if not (Path(folder) / "pipeline_cases.safetensors").is_file():
        return []
    return [replace(r, name=f"pipeline.{r.name}") for r in run_pipeline_cases(folder)]
