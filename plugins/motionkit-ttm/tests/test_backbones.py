"""Every backbone end to end on tiny random components: sizes, what reaches the model, the two clocks, weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import motionkit as mk
from motionkit.errors import InvalidInputError, WeightsNotFoundError
from motionkit_ttm.dualclock import noised
from motionkit_ttm.fit import resize_frames

from conftest import CASES, make

ALL = list(CASES)


def drag(frames: int, size=(32, 32), dx: float = 6.0) -> mk.MotionField:
    """The cat's head (top-left quarter) dragged right; the rest still."""
    flow = torch.zeros(frames, 2, *size)
    for t in range(frames):
        flow[t, 0, : size[0] // 2, : size[1] // 2] = dx * t / (frames - 1)
    return mk.MotionField(flow)


@pytest.mark.parametrize("case", ALL)
def test_renders_the_requested_frames_and_size_through_the_registry(case):
    image = torch.rand(3, 30, 37, generator=torch.Generator().manual_seed(0))
    renderer = make(case)
    clip = renderer.render(image, drag(6, (30, 37)), fps=5)
    fit = renderer.last_run.fit
    assert len(clip) == 6 and clip.size == (30, 37) and clip.fps == 5
    assert fit.work_frames >= 6 and (fit.work_frames - 1) % renderer.temporal_factor() == 0
    assert all(side % renderer.size_multiple() == 0 for side in fit.work_size)
    assert str(fit).startswith("6") and "resized back" in str(fit)


@pytest.mark.parametrize("case", ALL)
def test_the_warp_preview_reaches_the_model_and_holds_the_masked_region(case, photo):
    seen: dict[int, torch.Tensor] = {}
    motion = drag(5)
    renderer = make(case, callback=lambda i, total, x: seen.__setitem__(i, x.clone()))
    renderer.render(photo, motion)
    run = renderer.last_run
    # the latents denoised are the VAE's encoding of motionkit's own warp preview
    preview = resize_frames(mk.Renderer.get("warp").render(photo, motion).to_tensor(), run.fit.work_size)
    if run.fit.work_frames > 5:
        preview = torch.cat([preview, preview[-1:].expand(run.fit.work_frames - 5, -1, -1, -1)])
    torch.testing.assert_close(run.preview_latents, renderer.encode(preview, torch.Generator()))
    # at the start of the masked region's denoising its latents are exactly the noised preview latents
    inside = run.mask.bool().expand_as(run.preview_latents)
    assert 0 < inside.float().mean() < 1
    start = run.clock.inside_start
    expected = noised(renderer.pipeline.scheduler, run.preview_latents, run.noise, start)
    torch.testing.assert_close(seen[start - 1][inside], expected[inside])
    assert not torch.allclose(seen[start - 1][~inside], expected[~inside])


@pytest.mark.parametrize("case", ALL)
def test_changing_the_motion_changes_the_video(case, photo):
    # Same seed, same noise, same prompt: if the preview did not reach the model, the two would be identical.
    renderer = make(case, outside_start=3, inside_start=5)
    right, left = (mk.MotionField.camera(pan=(dx, 0.0), frames=5, size=(32, 32)) for dx in (6.0, -6.0))
    a = renderer.render(photo, right).to_numpy()
    ends_right = renderer.last_run.latents
    b = renderer.render(photo, left).to_numpy()
    ends_left = renderer.last_run.latents
    np.testing.assert_array_equal(a, renderer.render(photo, right).to_numpy())  # same motion again: same frames
    assert (ends_right - ends_left).abs().mean() > 1e-3
    assert np.abs(a[1:].astype(int) - b[1:].astype(int)).mean() > 0


@pytest.mark.parametrize("case", ["wan-a14b", "cogvideox", "ltx", "svd"])
def test_a_later_masked_start_keeps_the_masked_region_closer_to_the_preview(case, photo):
    def distances(inside_start: int) -> list[float]:
        """Per step, how far the masked latents are from the preview noised to the level they are at."""
        seen: dict[int, torch.Tensor] = {}
        renderer = make(case, outside_start=1, inside_start=inside_start, callback=lambda i, n, x: seen.__setitem__(i, x.clone()))
        renderer.render(photo, drag(5))
        run, scheduler = renderer.last_run, renderer.pipeline.scheduler
        inside = run.mask.bool().expand_as(run.preview_latents).clone()
        if case == "ltx":  # latent frame 0 is the image, fixed in both runs
            inside[:, :, 0] = False
        return [float((seen[i] - noised(scheduler, run.preview_latents, run.noise, i + 1))[inside].abs().mean()) for i in sorted(seen)]

    plain, held = distances(1), distances(4)  # SDEdit from step 1 everywhere vs. the masked region held until step 4
    assert len(plain) == len(held) == 6  # before the first step, and after each of the 5
    assert plain[0] == held[0] == 0.0  # both start from the noised preview
    assert all(h == 0.0 < p for h, p in zip(held[1:4], plain[1:4]))  # held: exactly on the preview's path
    assert all(h < p for h, p in zip(held[4:], plain[4:])), (held, plain)  # and still closer once free


@pytest.mark.parametrize("case", ["wan-ti2v", "ltx"])
def test_frame_zero_is_the_input_where_the_image_is_the_first_latent_frame(case, photo):
    renderer = make(case)
    clip = renderer.render(photo, drag(5))
    # Random weights decode nothing like a photo, so check what the model was allowed to change: the first
    # latent frame of the result is the image's own latent (its VAE encoding), untouched by the denoising.
    first = renderer.encode(photo[None], torch.Generator())
    final = renderer.last_run.latents
    torch.testing.assert_close(final[:, :, :1] if case == "ltx" else renderer.decode_latents_first(final), first)
    if case == "wan-ti2v":  # Wan's decoder is causal: decoded frame 0 is the VAE's round trip of the input alone
        state = renderer.prepare(photo, renderer.last_run.fit, torch.Generator())
        roundtrip = renderer.decode(torch.cat([first, torch.zeros_like(final)[:, :, 1:]], dim=2), state)[0]
        got = torch.from_numpy(clip.frame(0)).permute(2, 0, 1).float() / 255
        assert (got - roundtrip).abs().max() < 2 / 255
    exact = make(case, keep_first_frame=True).render(photo, drag(5))
    np.testing.assert_array_equal(exact.frame(0), mk.Clip.from_array(photo[None]).frame(0))


def test_wan_experts_follow_the_timestep_not_the_clocks(photo):
    renderer = make("wan-a14b", steps=8, outside_start=1, inside_start=6)
    renderer.render(photo, drag(5))
    run = renderer.last_run
    boundary = renderer.pipeline.config.boundary_ratio * 1000
    expected = ["transformer" if t >= boundary else "transformer_2" for t in run.timesteps[1:]]
    assert run.experts == expected and "transformer_2" in expected and expected[0] == "transformer"


def test_svd_takes_no_prompt_and_the_text_backbones_do():
    import inspect

    from motionkit_ttm.svd import SVDTTMRenderer
    from motionkit_ttm.wan import WanTTMRenderer

    assert "prompt" not in inspect.signature(SVDTTMRenderer.__init__).parameters
    # what a signature-reading option rule sees; weights= is how the CLI's --model arrives
    assert {"prompt", "negative_prompt", "steps", "model", "weights", "dtype"} <= set(inspect.signature(WanTTMRenderer.__init__).parameters)
    assert {"model", "weights", "seed", "steps"} <= set(inspect.signature(SVDTTMRenderer.__init__).parameters)
    # refused by the options table, or earlier by the registry's option rule where it reads signatures
    with pytest.raises(InvalidInputError, match="ttm-svd'? (renderer has|takes) no option 'prompt'"):
        make("svd", prompt="a fish")


def test_default_start_steps_are_ttm_s_scaled_to_the_step_count():
    wan = make("wan-i2v", steps=50, outside_start=None, inside_start=None)
    assert (wan.options.outside_start, wan.options.inside_start) == (3, 7)
    assert (make("svd", steps=50, outside_start=None, inside_start=None).options.inside_start) == 21
    scaled = make("cogvideox", steps=10, outside_start=None, inside_start=None).options
    assert (scaled.outside_start, scaled.inside_start) == (1, 2)  # 4 and 9 of 50
    with pytest.raises(InvalidInputError, match="start"):
        make("ltx", outside_start=4, inside_start=2)


def test_missing_weights_are_one_line_naming_the_folder_or_id(tmp_path, monkeypatch):
    empty = tmp_path / "no-model-here"
    empty.mkdir()
    with pytest.raises(WeightsNotFoundError) as caught:
        mk.Renderer.get("ttm-wan", model=empty, device="cpu")
    assert "no-model-here" in str(caught.value) and "\n" not in str(caught.value) and "huggingface-cli download" in str(caught.value)
    with pytest.raises(WeightsNotFoundError, match="nowhere/at-all"):
        mk.Renderer.get("ttm-svd", model=tmp_path / "nowhere" / "at-all", device="cpu")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsNotFoundError, match="'someone/not-cached'") as caught:
        mk.Renderer.get("ttm-ltx", model="someone/not-cached", device="cpu")
    assert "\n" not in str(caught.value)


def test_loads_a_local_diffusers_folder(saved_wan, photo, monkeypatch):
    loaded = mk.Renderer.get("ttm-wan", model=saved_wan, device="cpu", steps=4, text_tokens=16)
    assert len(loaded.render(photo, drag(5))) == 5
    monkeypatch.chdir(saved_wan.parent)  # a relative "./folder" is a folder, not a hub id
    assert mk.Renderer.get("ttm-wan", model=f"./{saved_wan.name}", device="cpu", steps=4).pipeline is not None


def test_video_to_video_carries_an_edited_first_frame_with_the_source_motion(monkeypatch, photo):
    from motionkit import registry
    from motionkit_ttm import register

    from conftest import CASES, FAST, pipeline_for

    monkeypatch.setattr(registry, "_components", {k: dict(v) for k, v in registry._components.items()})
    monkeypatch.setattr(registry, "_origin", dict(registry._origin))
    monkeypatch.setattr(registry, "_plugins", None)
    register(registry.register)  # as the installed entry point does
    video = mk.Renderer.get("warp").render(photo, mk.MotionField.camera(pan=(3.0, 0.0), frames=5, size=(32, 32)))
    edited = 1.0 - photo  # a "painted" first frame
    options = {"pipeline": pipeline_for("wan-ti2v"), **FAST, **CASES["wan-ti2v"][2], "keep_first_frame": True}
    out = mk.translate(video, edited, renderer="ttm-wan", renderer_options=options)
    assert len(out) == 5 and out.size == (32, 32)
    np.testing.assert_array_equal(out.frame(0), mk.Clip.from_array(edited[None]).frame(0))
    # the translate path and the direct path see the same motion: the estimated field, rendered the same way
    drags = mk.animate(photo, [mk.Trajectory.line((16, 16), (20, 16), frames=5)], renderer="ttm-wan", renderer_options=options)
    assert len(drags) == 5


def test_options_arrive_as_json_values_as_a_motion_spec_s_backend_hints_hold_them(photo):
    import json

    hints = json.loads('{"steps": 6, "outside_start": 1, "inside_start": 3, "resolution": [32, 48], "dtype": "float32", "seed": 4}')
    renderer = make("svd", **hints)
    clip = renderer.render(photo, drag(5))
    assert renderer.last_run.fit.work_size == (32, 48) and renderer.dtype == torch.float32 and clip.size == (32, 32)


def test_a_field_measured_from_a_later_frame_is_generated_from_that_frame(photo):
    """I4: with ``reference == k`` the image is frame k: the model is conditioned on it as its first frame."""
    from motionkit.components import reference_first

    k, frames = 3, 5
    flow = drag(frames).flow
    flow = flow - flow[k : k + 1]  # the same motion, measured from frame k
    renderer = make("wan-ti2v", keep_first_frame=True)
    out = renderer.render(photo, mk.MotionField(flow, reference=k)).to_numpy()
    assert out.shape == (frames, 32, 32, 3)
    np.testing.assert_array_equal(out[k], mk.Clip.from_array(photo[None]).frame(0))  # bit for bit
    # What the model saw: the warp preview from frame k first, then frames 0, 1, 2, 4.
    first = reference_first(mk.MotionField(flow, reference=k))
    preview = resize_frames(mk.Renderer.get("warp").render(photo, first).to_tensor(), renderer.last_run.fit.work_size)
    sent = renderer.last_run.preview_latents
    torch.testing.assert_close(sent, renderer.encode(preview, torch.Generator()))
    # ... and the clip came back in the field's order: frame 0 is the model's second frame.
    again = make("wan-ti2v", keep_first_frame=True).render(photo, first).to_numpy()
    np.testing.assert_array_equal(out[[k, 0, 1, 2, 4]], again)
    lazy = mk.MotionField.from_frames(lambda: iter(flow), frames, (32, 32), reference=k)
    np.testing.assert_array_equal(make("wan-ti2v", keep_first_frame=True).render(photo, lazy).to_numpy(), out)
