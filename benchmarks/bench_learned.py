"""Motion-I2V's learned stages: the time of one denoising step.

On CPU the UNets are built tiny, from the configurations in
``shared/fixtures/motion_i2v_official/tiny/*_config.json`` (random weights; the time of a
step does not depend on the weights' values), at the official frame count and latent size
(16 frames, 40x64 latents = 320x512 pixels), with classifier-free guidance (batch 2).

``--gpu-full`` builds the *full-size* UNets from the configurations recorded in
``keys_full.json`` (SD-1.5 widths, 1.3 G parameters each, plus the 0.57 G ControlNet) with
random weights, and times one step at 16x320x512 in fp16 and bf16 on CUDA.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from benchmarks.common import Row, skipped_row, timed

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("MOTIONKIT_SHARED", REPO.parent / "shared")) / "fixtures" / "motion_i2v_official"


def _tiny_kwargs(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "tiny" / f"{name}_config.json").read_text())["init_kwargs"]


def _full_kwargs(name: str) -> dict[str, Any]:
    config = json.loads((FIXTURES / "keys_full.json").read_text())[name]["resolved_config"]
    return {k: v for k, v in config.items() if not k.startswith("_")}


def build(scale: str, dtype, device: str):
    """Stage-1 UNet with its ControlNet attached, and the stage-2 UNet, random weights."""
    import torch
    from diffusers.utils import logging as diffusers_logging

    from motionkit.models.motion_i2v.controlnet import FlowControlNetModel
    from motionkit.models.motion_i2v.unet import (
        AnimationUNet3DConditionModel,
        FlowUNet3DConditionModel,
    )

    # diffusers warns on every .to(dtype) of a model that has no fp32-only modules; not news here.
    diffusers_logging.set_verbosity_error()
    kwargs = _tiny_kwargs if scale == "tiny" else _full_kwargs
    torch.manual_seed(0)
    stage1 = FlowUNet3DConditionModel(**kwargs("stage1_unet"))
    stage1.attach_controlnet(FlowControlNetModel.from_unet(stage1))
    stage2 = AnimationUNet3DConditionModel(**kwargs("stage2_unet"))
    return stage1.to(device, dtype).eval(), stage2.to(device, dtype).eval()


def step_inputs(stage1, frames: int, height: int, width: int, dtype, device: str) -> dict[str, Any]:
    """One guided step's inputs: batch 2 (unconditional + conditional), latents at 1/8 size."""
    import torch

    h, w = height // 8, width // 8
    ctx = stage1.config.cross_attention_dim
    g = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=g).to(device, dtype)

    return {
        "s1_sample": rand(2, 8, frames, h, w),
        "stride": torch.arange(frames, device=device)[None].repeat(2, 1) * 8,
        "control": rand(2, 5, frames, h, w),
        "s2_sample": rand(2, 4, frames, h, w),
        "text": rand(2, 77, ctx),
        "flow": rand(2, frames, 2, height, width) * 10,
    }


def _step_rows(scale: str, frames: int, height: int, width: int, dtype_name: str, device: str, repeats: int, warmup: int = 1) -> list[Row]:
    import torch

    dtype = getattr(torch, dtype_name)
    label = f"{frames}x{height}x{width} ({scale} UNets, {dtype_name}, {device}), batch 2 (CFG)"
    stage1, stage2 = build(scale, dtype, device)
    x = step_inputs(stage1, frames, height, width, dtype, device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def stage1_step():
        with torch.inference_mode():
            stage1(x["s1_sample"], 500, x["stride"], x["text"], control=x["control"])
        sync()

    def stage2_step():
        with torch.inference_mode():
            stage2(x["s2_sample"], 500, x["text"], x["flow"])
        sync()

    rows = []
    for name, fn, model in (("stage 1 (flow UNet + ControlNet)", stage1_step, stage1), ("stage 2 (motion-augmented UNet)", stage2_step, stage2)):
        seconds = timed(fn, repeats=repeats, warmup=warmup)
        params = sum(p.numel() for p in model.parameters())
        extra = {"seconds_per_step": seconds, "parameters": params}
        if device == "cuda":
            extra["peak_cuda_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
        rows.append(
            Row(
                operation=f"Motion-I2V {name}, one denoising step",
                implementation=f"motionkit.models.motion_i2v, {params / 1e6:.1f} M parameters",
                size=label,
                unit="steps/s",
                throughput=1.0 / seconds,
                notes=f"{seconds * 1000:.0f} ms per step, {torch.get_num_threads()} torch threads; no baseline (the official code needs CUDA)",
                metrics=extra,
            )
        )
    return rows


def bench_learned_cpu(quick: bool) -> list[Row]:
    """One denoising step of each stage at the tiny configuration on this CPU."""
    frames, height, width = (2, 64, 64) if quick else (16, 320, 512)
    try:
        return _step_rows("tiny", frames, height, width, "float32", "cpu", 1 if quick else 3, warmup=0 if quick else 1)
    except Exception as exc:  # the networks are built by another part of the project
        return [skipped_row("Motion-I2V denoising step", f"{frames}x{height}x{width} tiny", "steps/s", f"unavailable: {type(exc).__name__}: {exc}")]


def bench_gpu_full() -> list[Row]:
    """Full-size UNets at 16x320x512 in fp16 and bf16 on CUDA (run where a GPU is lent)."""
    import torch

    if not torch.cuda.is_available():
        return [skipped_row("Motion-I2V denoising step (full size)", "16x320x512", "steps/s", "no CUDA device on this machine")]
    rows: list[Row] = []
    for dtype_name in ("float16", "bfloat16"):
        torch.cuda.reset_peak_memory_stats()
        rows += _step_rows("full", 16, 320, 512, dtype_name, "cuda", 5)
        torch.cuda.empty_cache()
    return rows
