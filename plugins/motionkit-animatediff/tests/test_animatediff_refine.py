"""The AnimateDiff refinement renderer on tiny random components: what reaches the model, what comes back."""

from __future__ import annotations

from importlib.metadata import entry_points

import numpy as np
import pytest
import torch

import motionkit as mk
from motionkit import registry
from motionkit.errors import InvalidInputError, WeightsNotFoundError
from motionkit_animatediff import RENDERER_NAME, register
from motionkit_animatediff.renderer import AnimateDiffRefineRenderer, work_size


class Spy:
    """Wraps a pipeline and records the keyword arguments of every call."""

    def __init__(self, pipeline):
        self._pipeline = pipeline
        self.calls: list[dict] = []

    def __call__(self, **kwargs):
        self.calls.append({**kwargs, "free_noise": self._pipeline.free_noise_enabled})
        return self._pipeline(**kwargs)

    def __getattr__(self, name):
        return getattr(self._pipeline, name)


def pan(frames: int, size: tuple[int, int], dx: float = 4.0) -> mk.MotionField:
    return mk.MotionField.camera(pan=(dx, 0.0), frames=frames, size=size)


def renderer(pipeline, **options) -> AnimateDiffRefineRenderer:
    options = {"steps": 4, "strength": 0.5, "long_side": None, "prompt": "a cat", **options}
    return AnimateDiffRefineRenderer(pipeline=pipeline, device="cpu", **options)


def test_refines_the_warp_preview_and_keeps_frame_zero(pipeline, photo):
    spy = Spy(pipeline)
    motion = pan(4, (32, 32))
    clip = renderer(spy).render(photo, motion, fps=6)

    assert len(clip) == 4 and clip.size == (32, 32) and clip.fps == 6
    np.testing.assert_array_equal(clip.frame(0), mk.Clip.from_array(photo[None]).frame(0))
    # The model was handed the warp preview (structure), not the still image.
    preview = mk.Renderer.get("warp").render(photo, motion).to_tensor()
    sent = spy.calls[0]["video"][0]
    assert sent.shape == (4, 3, 32, 32)
    torch.testing.assert_close(sent, preview, atol=1e-6, rtol=0)
    assert spy.calls[0]["strength"] == 0.5 and spy.calls[0]["prompt"] == "a cat"
    # ... and what came back is the model's output, not the preview passed through.
    assert not np.array_equal(clip.to_numpy()[1:], mk.Clip.from_array(preview).to_numpy()[1:])


def test_same_seed_same_frames_other_seed_other_frames(pipeline, photo):
    motion = pan(4, (32, 32))
    a = renderer(pipeline, seed=3).render(photo, motion).to_numpy()
    b = renderer(pipeline, seed=3).render(photo, motion).to_numpy()
    c = renderer(pipeline, seed=4).render(photo, motion).to_numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[1:], c[1:])


def test_brush_mask_zero_keeps_the_input_pixels(pipeline, photo):
    mask = np.zeros((32, 32), np.float32)
    mask[:, 16:] = 1.0
    clip = renderer(pipeline).render(photo, pan(4, (32, 32)), mk.RegionMask(mask))
    still = mk.Clip.from_array(photo[None]).frame(0)
    for t in range(4):
        np.testing.assert_array_equal(clip.frame(t)[:, :16], still[:, :16])
    assert not np.array_equal(clip.frame(3)[:, 16:], still[:, 16:])


def test_odd_sizes_are_refined_at_multiples_of_eight_and_returned_at_their_size(pipeline):
    spy = Spy(pipeline)
    image = torch.rand(3, 30, 37)
    clip = renderer(spy, long_side=48).render(image, pan(3, (30, 37)))
    assert clip.size == (30, 37)
    assert (spy.calls[0]["height"], spy.calls[0]["width"]) == work_size((30, 37), 48) == (40, 48)


def test_clips_longer_than_the_window_are_refined_in_sliding_windows(pipeline, photo):
    spy = Spy(pipeline)
    long = renderer(spy, window=4).render(photo, pan(10, (32, 32)))
    assert len(long) == 10 and spy.calls[0]["video"].shape[1] == 10 and spy.calls[0]["free_noise"]
    assert not pipeline.free_noise_enabled                 # switched off again afterwards
    renderer(spy, window=4).render(photo, pan(4, (32, 32)))
    assert not spy.calls[1]["free_noise"]                 # a clip that fits is one plain pass


def test_bad_options_are_refused(pipeline):
    with pytest.raises(InvalidInputError, match="window"):
        renderer(pipeline, window=9)                       # the tiny adapter knows 8 positions
    with pytest.raises(InvalidInputError, match="window"):
        renderer(pipeline, window=2)                       # frame 0 and two more
    with pytest.raises(InvalidInputError, match="overlap"):
        renderer(pipeline, window=4, overlap=3)
    with pytest.raises(InvalidInputError, match="strength"):
        renderer(pipeline, strength=0.0)
    with pytest.raises(InvalidInputError, match="one denoising step"):
        renderer(pipeline, steps=2, strength=0.4)


def test_missing_weights_name_the_folder(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-model"
    with pytest.raises(WeightsNotFoundError, match="no-such-model.*model_index.json"):
        AnimateDiffRefineRenderer(model=missing, device="cpu")
    monkeypatch.setenv("MOTIONKIT_ANIMATEDIFF_MODEL", str(tmp_path / "from-env"))
    with pytest.raises(WeightsNotFoundError, match="from-env"):
        AnimateDiffRefineRenderer(device="cpu")
    sd_only = tmp_path / "sd15"
    sd_only.mkdir()
    (sd_only / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}', encoding="utf-8")
    with pytest.raises(WeightsNotFoundError, match="no motion adapter"):
        AnimateDiffRefineRenderer(model=sd_only, device="cpu")


def test_a_model_folder_missing_a_part_is_reported_as_missing_weights(saved_model, tmp_path):
    import shutil

    broken = tmp_path / "broken-model"
    shutil.copytree(saved_model, broken)
    shutil.rmtree(broken / "unet")
    with pytest.raises(WeightsNotFoundError, match="broken-model"):
        AnimateDiffRefineRenderer(model=broken, device="cpu")


def test_loads_a_local_model_folder(saved_model, photo):
    loaded = AnimateDiffRefineRenderer(model=saved_model, device="cpu", steps=4, long_side=None)
    assert len(loaded.render(photo, pan(4, (32, 32))).to_numpy()) == 4


def test_registers_lazily_under_its_name(monkeypatch, pipeline, photo):
    monkeypatch.setattr(registry, "_components", {k: dict(v) for k, v in registry._components.items()})
    monkeypatch.setattr(registry, "_origin", dict(registry._origin))
    monkeypatch.setattr(registry, "_plugins", None)  # a scan now fills the copies, not the real tables
    register(registry.register)
    assert registry._components["renderer"][RENDERER_NAME] == "motionkit_animatediff.renderer:AnimateDiffRefineRenderer"
    made = mk.Renderer.get(RENDERER_NAME, pipeline=pipeline, device="cpu", steps=4, long_side=None)
    assert isinstance(made, AnimateDiffRefineRenderer)


def test_works_through_animate_and_translate(monkeypatch, pipeline, photo):
    monkeypatch.setattr(registry, "_components", {k: dict(v) for k, v in registry._components.items()})
    monkeypatch.setattr(registry, "_origin", dict(registry._origin))
    monkeypatch.setattr(registry, "_plugins", None)
    register(registry.register)
    options = {"pipeline": pipeline, "device": "cpu", "steps": 4, "long_side": None}
    drag = mk.Trajectory.line((16, 16), (20, 14), frames=4)
    clip = mk.animate(photo, [drag], renderer=RENDERER_NAME, renderer_options=options, fps=4)
    assert len(clip) == 4 and clip.size == (32, 32)
    video = mk.Renderer.get("warp").render(photo, pan(4, (32, 32), dx=3.0))
    edited = 1.0 - photo                                  # a "painted" first frame
    out = mk.translate(video, edited, renderer=RENDERER_NAME, renderer_options=options)
    assert len(out) == 4
    np.testing.assert_array_equal(out.frame(0), mk.Clip.from_array(edited[None]).frame(0))


@pytest.mark.skipif(
    not any(ep.value == "motionkit_animatediff:register" for ep in entry_points(group="motionkit.plugins")),
    reason="package not installed (pip install -e plugins/motionkit-animatediff)",
)
def test_installed_package_is_found_through_its_entry_point():
    assert RENDERER_NAME in mk.Renderer.available()
    status = {p.name: p for p in registry.plugins()}["animatediff"]
    assert status.loaded, status.error


def test_readme_options_table_names_real_constructor_parameters():
    import inspect
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Options", 1)[1].split("\n## ", 1)[0]
    first_cells = re.findall(r"^\| ([^|]+) \|", section, flags=re.M)  # the header row has no backticks
    names = re.findall(r"`(\w+)`", "\n".join(first_cells))
    parameters = set(inspect.signature(AnimateDiffRefineRenderer.__init__).parameters)
    assert len(names) >= 13 and set(names) - parameters == set()


def test_a_given_pipeline_keeps_its_precision_unless_told(pipeline, photo):
    assert renderer(pipeline).dtype == torch.float32
    try:
        half = renderer(pipeline, dtype=torch.bfloat16)
        assert half.pipeline.unet.dtype == torch.bfloat16
        assert len(half.render(photo, pan(4, (32, 32)))) == 4
    finally:
        pipeline.to("cpu", torch.float32)  # the session's shared pipeline goes back as it was


def test_a_lazy_field_streams_window_by_window(pipeline, photo):
    flow = pan(6, (32, 32)).flow
    reads: list[int] = []

    def source():
        for t, frame in enumerate(flow):
            reads.append(t)
            yield frame

    spy = Spy(pipeline)
    refiner = renderer(spy, window=4, overlap=1)
    assert isinstance(refiner, mk.WindowRenderer) and renderer(pipeline, window=8).overlap == 2  # window // 4
    clip = refiner.render(photo, mk.MotionField.from_frames(source, 6, (32, 32)), fps=6)
    assert clip.is_lazy and len(clip) == 6 and clip.fps == 6 and reads == []
    frames = clip.to_numpy()
    # Windows [0, 1, 2, 3] and [0, 3, 4, 5]: the field read once, each window one plain refine of 4 frames.
    assert reads == list(range(6))
    assert [call["video"].shape[1] for call in spy.calls] == [4, 4] and not any(call["free_noise"] for call in spy.calls)
    np.testing.assert_array_equal(frames[0], mk.Clip.from_array(photo[None]).frame(0))
    first, second = refiner.render_window(photo, flow[[0, 1, 2, 3]]), refiner.render_window(photo, flow[[0, 3, 4, 5]])
    expected = torch.cat([first[:3], (first[3] * 0.5 + second[1] * 0.5)[None], second[2:]])
    np.testing.assert_array_equal(frames, mk.Clip.from_array(expected).to_numpy())  # frame 3 is cross-faded
    assert not np.array_equal(frames[3], mk.Clip.from_array(first[3:4]).frame(0))


def test_streamed_windows_keep_the_brush(pipeline, photo):
    mask = np.zeros((32, 32), np.float32)
    mask[:, 16:] = 1.0
    lazy = mk.MotionField.from_frames(lambda: iter(pan(6, (32, 32)).flow), 6, (32, 32))
    clip = renderer(pipeline, window=4, overlap=1).render(photo, lazy, mk.RegionMask(mask))
    still = mk.Clip.from_array(photo[None]).frame(0)
    for t in range(6):
        np.testing.assert_array_equal(clip.frame(t)[:, :16], still[:, :16])


@pytest.mark.skipif(
    not any(ep.value == "motionkit_animatediff:register" for ep in entry_points(group="motionkit.plugins")),
    reason="package not installed (pip install -e plugins/motionkit-animatediff)",
)
def test_runs_end_to_end_through_the_cli(saved_model, tmp_path):
    from motionkit.cli import main

    from skimage import data

    still = tmp_path / "cat.png"
    mk.Clip.from_array(data.chelsea()[120:248:8, 180:308:8][None].copy()).write(still)  # 16 x 16
    out = tmp_path / "refined.mp4"
    status = main(["animate", str(still), "--drag", "4,4:8,4", "--frames", "4", "--renderer", RENDERER_NAME,
                   "--model", str(saved_model), "--steps", "3", "--seed", "2", "--prompt", "a cat", "-o", str(out)])
    assert status == 0
    clip = mk.Clip.read(out)
    assert len(clip) == 4 and clip.size == (16, 16)


def test_takes_the_shared_learned_options_object(pipeline):
    made = AnimateDiffRefineRenderer(pipeline=pipeline, options=mk.LearnedOptions(device="cpu", steps=4, guidance=3.0, seed=5))
    assert (made.steps, made.guidance_scale, made.seed, made.device.type) == (4, 3.0, 5, "cpu")


@pytest.mark.parametrize("streamed", [False, True])
def test_a_field_measured_from_a_later_frame_keeps_the_image_at_that_frame(pipeline, photo, streamed):
    """I4: with ``reference == k`` frame k is the image and the preview moves it from there."""
    k, frames = 3, 6
    flow = pan(frames, (32, 32)).flow
    flow = flow - flow[k : k + 1]  # the pan, measured from frame k
    field = (mk.MotionField.from_frames(lambda: iter(flow), frames, (32, 32), reference=k) if streamed
             else mk.MotionField(flow, reference=k))
    spy = Spy(pipeline)
    out = renderer(spy, window=4, overlap=1).render(photo, field).to_numpy()
    still = mk.Clip.from_array(photo[None]).frame(0)
    np.testing.assert_array_equal(out[k], still)  # bit for bit (keep_first_frame)
    assert not np.array_equal(out[0], still)
    warp = mk.Renderer.get("warp")
    if streamed:  # every window starts at frame k: its first preview frame is the image
        assert len(spy.calls) >= 2
        for call in spy.calls:
            torch.testing.assert_close(call["video"][0][0], photo, atol=1e-6, rtol=0)
    else:  # one refine of the whole preview, in time order, with frame k the image
        preview = warp.render(photo, mk.MotionField(flow, reference=k)).to_tensor()
        torch.testing.assert_close(spy.calls[0]["video"][0], preview, atol=1e-6, rtol=0)
        torch.testing.assert_close(preview[k], photo, atol=1e-6, rtol=0)
