"""The denoising loops, scheduler, rasterisation and windows against what the official code does.

The step-by-step replay of the official loops is in tests/fidelity/test_replay.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from motionkit import components
from motionkit.errors import InvalidInputError, OutOfBoundsError, WeightsNotFoundError
from motionkit.pipelines.motion_i2v.loops import denoise_flow, denoise_video
from motionkit.pipelines.motion_i2v.rasterize import (
    default_flow_unit,
    rasterize_drags,
    resample_track,
    sparse_condition,
    static_from_region,
)
from motionkit.pipelines.motion_i2v.scheduling import LATENT_SCALE, make_scheduler
from motionkit.pipelines.motion_i2v.windows import chain_segments, plan_windows, windowed_eps


def test_scheduler_matches_official_vectors(official_fixtures):
    cases = load_file(official_fixtures / "tiny" / "pipeline_cases.safetensors")
    sched = make_scheduler()
    sched.set_timesteps(25)
    assert torch.equal(sched.timesteps, cases["sched.timesteps_25"])
    assert torch.allclose(sched.alphas_cumprod, cases["sched.alphas_cumprod"], atol=1e-6, rtol=0)
    x, eps = cases["sched.step_example.sample"], cases["sched.step_example.model_output"]
    for t in (961, 481, 41, 1):
        got = sched.step(eps, t, x, eta=0.0).prev_sample
        assert torch.allclose(got, cases[f"sched.step_example.prev_sample_t{t}"], atol=1e-6, rtol=0)


class _RecordingUNet(torch.nn.Module):
    """Stands in for the stage-1 UNet: records its inputs and predicts eps = 0."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.calls = []

    def forward(self, x, t, stride, encoder_hidden_states=None, control=None):
        self.calls.append((x.clone(), int(t), stride, encoder_hidden_states, control))
        return (torch.zeros(x.shape[0], 4, *x.shape[2:]),)


def test_stage1_loop_feeds_image_first_doubles_for_cfg_and_keeps_four_noise_channels():
    unet = _RecordingUNet()
    image = torch.randn(1, 4, 1, 2, 3)
    noise = torch.randn(1, 8, 3, 2, 3)
    control = torch.randn(1, 5, 3, 2, 3)
    text = torch.randn(2, 5, 7)
    stride = torch.tensor([[8, 16, 24]])
    out = denoise_flow(unet, make_scheduler(), image_latent=image, noise=noise, stride=stride,
                       text_embeddings=text, control=control, steps=3, guidance=7.0)
    x, t, s, emb, ctrl = unet.calls[0]
    assert x.shape == (2, 8, 3, 2, 3) and t == 667
    assert torch.equal(x[0, :4], image.expand(-1, -1, 3, -1, -1)[0])  # image latent first
    assert torch.equal(x[0, 4:], noise[0, :4])  # then the first 4 noise channels
    assert torch.equal(x[0], x[1]) and torch.equal(ctrl, torch.cat([control, control]))
    assert s is stride and emb is text
    # eps = 0 everywhere: DDIM scales the noise towards x0 = x / sqrt(a); three steps end at alpha 1
    sched = make_scheduler()
    assert torch.allclose(out, noise[:, :4] / sched.alphas_cumprod[667].sqrt(), atol=1e-5)


def test_stage2_loop_pins_frame0_and_repaints_static_region_exactly():
    sched = make_scheduler()
    image = torch.randn(1, 4, 1, 4, 4)
    noise = torch.randn(1, 4, 5, 4, 4)
    static = torch.zeros(1, 1, 1, 4, 4)
    static[..., :2] = 1.0
    repaint = noise.clone()
    repaint[:, :, :1] = image
    seen = []

    def oracle(x, t):
        # the exact noise of the static region (as the official aliasing defines it), 0.3 elsewhere
        seen.append(x.clone())
        eps = torch.full_like(x, 0.3)
        eps[..., :2] = torch.cat([repaint] * (x.shape[0] // 1))[..., :2]
        return eps

    out = denoise_video(oracle, sched, image_latent=image, noise=noise, static=static, steps=4, guidance=1.0)
    assert all(torch.equal(x[:, :, 0], image[:, :, 0]) for x in seen)  # frame 0 pinned every step
    assert torch.equal(out[:, :, :1], image)
    # with the true noise, the static region lands on the clean reference latent
    assert torch.allclose(out[..., :2], image.expand_as(out)[..., :2], atol=1e-4)
    assert not torch.allclose(out[:, :, 1:, :, 2:], image.expand(-1, -1, 4, -1, -1)[..., 2:], atol=1e-2)


def test_stage2_loop_cfg_batches_uncond_then_cond():
    sched = make_scheduler()
    batches = []

    def eps(x, t):
        batches.append(x.shape[0])
        out = torch.zeros_like(x)
        out[1] = 1.0  # cond predicts 1, uncond 0 -> guided eps = guidance
        return out

    calls = []
    denoise_video(eps, sched, image_latent=torch.zeros(1, 4, 1, 2, 2), noise=torch.zeros(1, 4, 3, 2, 2), steps=2,
                  guidance=3.0, on_step=lambda i, t, lat, x0: calls.append(x0))
    assert batches == [2, 2]
    # x0 = (x - sqrt(1 - a) * eps) / sqrt(a) with eps = 3 on a zero frame 1 at the first step
    a = sched.alphas_cumprod[sched.timesteps[0]]
    assert torch.allclose(calls[0][:, :, 1], -(1 - a).sqrt() * 3.0 / a.sqrt() * torch.ones(1, 4, 2, 2))


def test_rasterize_hand_computed_case():
    # a drag from (3, 2) to (5, 2) over 3 frames, square half-size 1: rows [1, 3), cols [2, 4)
    drag, known = rasterize_drags([[[3, 2], [5, 2]]], frames=3, size=(6, 8), flow_unit=1)
    assert drag.shape == (2, 2, 6, 8) and known.shape == (2, 1, 6, 8)
    expected_known = torch.zeros(6, 8)
    expected_known[1:3, 2:4] = 1
    assert torch.equal(known[0, 0], expected_known) and torch.equal(known[1, 0], expected_known)
    assert torch.equal(drag[0, 0], expected_known * 1.0)  # halfway: one pixel right
    assert torch.equal(drag[1, 0], expected_known * 2.0)
    assert not drag[:, 1].any()


def test_square_is_clipped_at_the_border_and_click_moves_one_pixel():
    drag, known = rasterize_drags([[[0, 0]]], frames=2, size=(4, 4), flow_unit=2)
    assert torch.equal(known[0, 0, :2, :2], torch.ones(2, 2)) and known.sum() == 4
    assert torch.equal(drag[0, :, 0, 0], torch.tensor([1.0, 1.0]))


def test_pchip_resampling_keeps_given_points_and_is_monotone():
    track = [[0, 0], [10, 0], [12, 5]]
    points = resample_track(track, 5)
    assert np.allclose(points[[0, 2, 4]], track)
    assert np.all(np.diff(points[:, 0]) >= 0)
    assert np.allclose(resample_track(points, 5), points)


def test_default_flow_unit_scales_with_area():
    assert default_flow_unit((320, 512)) == 64
    assert default_flow_unit((64, 64)) == 10


def test_drag_outside_image_refused():
    with pytest.raises(OutOfBoundsError):
        rasterize_drags([[[10, 2], [12, 2]]], frames=3, size=(6, 8))
    with pytest.raises(InvalidInputError):
        rasterize_drags([], frames=1, size=(6, 8))


def test_brush_conversion_and_sparse_condition():
    region = torch.tensor([[1.0, 1.0, 0.0, 0.0]])  # left half may move
    static = static_from_region(region, (1, 4))
    assert static.tolist() == [[0.0, 0.0, 1.0, 1.0]]
    assert static_from_region(None, (1, 4)).sum() == 0  # nothing painted: everything may move
    drag = torch.zeros(1, 2, 1, 4)
    drag[:, 0] = 2.0  # two pixels right everywhere, known in column 0 only
    known = torch.zeros(1, 1, 1, 4)
    known[..., 0] = 1
    sparse, mask = sparse_condition(drag, known, static)
    assert mask[0, 0].tolist() == [[1.0, 0.0, 1.0, 1.0]]  # static region counts as known zero motion
    assert sparse[0, 0].tolist() == [[0.5 + 2 / 4 / 2, 0.5, 0.5, 0.5]]
    assert torch.equal(sparse[0, 1], torch.full((1, 4), 0.5))


def test_windows_cover_every_frame_and_blend_consistent_predictions_exactly():
    windows = plan_windows(12, window=4, overlap=1)
    assert all(w[0] == 0 and len(w) == 4 for w in windows)
    assert sorted({f for w in windows for f in w}) == list(range(12))
    assert plan_windows(5, window=16, overlap=4) == [list(range(5))]
    assert plan_windows is components.plan_windows  # one planner: the blend and the streaming path cut alike
    x = torch.randn(2, 4, 12, 3, 3)
    eps = windowed_eps(lambda idx: (lambda xs, t: xs * 2.0), 12, window=4, overlap=1)
    assert torch.allclose(eps(x, 10), x * 2.0, atol=1e-6)
    assert chain_segments(16) == [(0, 15)]
    assert chain_segments(31) == [(0, 15), (15, 30)]


def test_missing_weights_name_the_file_and_the_converter(tmp_path):
    from motionkit.pipelines.motion_i2v import MotionI2VPredictor, MotionI2VRenderer

    with pytest.raises(WeightsNotFoundError, match=r"stage1_unet.*convert-official"):
        MotionI2VPredictor(weights=tmp_path / "nowhere")
    with pytest.raises(WeightsNotFoundError, match=r"stage2_unet.*convert-official"):
        MotionI2VRenderer(weights=tmp_path / "nowhere")


def test_registry_finds_both_components(tmp_path):
    from motionkit import registry

    with pytest.raises(WeightsNotFoundError):
        registry.create("predictor", "motion-i2v", weights=str(tmp_path))
    with pytest.raises(WeightsNotFoundError):
        registry.create("renderer", "motion-i2v", weights=str(tmp_path))


def test_latent_scale_is_sd15():
    assert LATENT_SCALE == 0.18215
