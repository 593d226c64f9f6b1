"""Motion-I2V from the user's side: a converted weights folder on disk, driven only through the
public API (``animate``, ``predict_motion``, ``Renderer.get``, ``translate``, ``Clip.translate``)
and the ``motionkit`` command line.

The folder holds the tiny random networks of ``conftest.py`` in the layout ``motionkit
convert-official`` writes, so everything below is what a user with real weights runs, only
smaller (64x64, 4 frames, 2 DDIM steps).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from diffusers import AutoencoderKL
from helpers.images import to_tensor
from helpers.motion_i2v_frames import clip_frames, round_trip
from transformers import CLIPTextModel

import motionkit as mk
from motionkit.cli import main
from motionkit.models.motion_i2v.controlnet import FlowControlNetModel
from motionkit.models.motion_i2v.unet import (
    AnimationUNet3DConditionModel,
    FlowUNet3DConditionModel,
)

FAST = {"steps": 2, "seed": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def weights(flow_generator, animator, tmp_path_factory):
    """The tiny networks saved as a converted folder (stage-1 UNet without its ControlNet, as the converter writes it)."""
    folder = tmp_path_factory.mktemp("motion-i2v-weights")
    unet = flow_generator.unet
    controlnet, unet.controlnet = unet.controlnet, None
    try:
        unet.save_pretrained(folder / "stage1_unet")
    finally:
        unet.controlnet = controlnet
    parts = {"controlnet": controlnet, "flow_vae": flow_generator.flow_vae, "image_vae": flow_generator.image_vae,
             "stage2_unet": animator.unet, "stage2_vae": animator.vae, "text_encoder": animator.text_encoder,
             "tokenizer": animator.tokenizer}
    for name, module in parts.items():
        module.save_pretrained(folder / name)
    return folder


@pytest.fixture(scope="module")
def photo(cat_photo) -> np.ndarray:
    """The cat's face as a ``uint8 (64, 64, 3)`` photo, what a user loads."""
    return cv2.resize(cat_photo[100:228, 150:278], (64, 64), interpolation=cv2.INTER_AREA)



def _drag(frames: int = 4) -> mk.Trajectory:
    return mk.Trajectory.line((20, 30), (30, 30), frames=frames)


def _left_half() -> mk.RegionMask:
    values = torch.zeros(64, 64)
    values[:, :32] = 1.0
    return mk.RegionMask(values)


def test_animate_drag_only(weights, photo, animator):
    clip = mk.animate(photo, [_drag()], backend="motion-i2v", predictor_options={"weights": weights, **FAST},
                      prompt="a cat turns its head", fps=6)
    assert len(clip) == 4 and clip.size == (64, 64) and clip.fps == 6
    frames = clip_frames(clip)
    # frame 0 is the photo up to the VAE round trip (the render's own posterior draw), uint8 rounding aside
    reference = round_trip(animator.vae, to_tensor(photo))
    assert (frames[0] - reference).abs().max() <= 1 / 255
    # the later frames are rendered, not copies of frame 0
    assert (frames[1:] - frames[:1]).abs().mean() > 1e-3


def test_animate_drag_and_brush(weights, photo, animator):
    options = {"weights": weights, **FAST}
    field = mk.predict_motion(photo, [_drag()], brush=_left_half(), predictor="motion-i2v", **options)
    assert field.flow[:, :, :, 32:].abs().max() == 0  # the brush: exactly zero flow outside
    assert field.flow[1:, :, :, :32].abs().max() > 0
    clip = mk.animate(photo, [_drag()], brush=_left_half(), backend="motion-i2v", predictor_options=options)
    assert len(clip) == 4 and clip.size == (64, 64)


def test_pixels_outside_the_brush_stay_within_the_vae_round_trip(weights, photo, animator):
    # The tiny random VAE mixes the whole 8x8 latent (mid-block attention), so pixel locality is
    # checked with a brush that paints nothing: every pixel is outside it and must stay put.
    options = {"weights": weights, **FAST}
    still = mk.RegionMask(torch.zeros(64, 64))
    held = clip_frames(mk.animate(photo, [_drag()], brush=still, backend="motion-i2v", predictor_options=options))
    free = clip_frames(mk.animate(photo, [_drag()], backend="motion-i2v", predictor_options=options))
    image = to_tensor(photo)
    reference = round_trip(animator.vae, image)
    round_trip_error = (reference - image).abs().mean()
    assert ((held - image).abs().mean(dim=(1, 2, 3)) <= round_trip_error + 0.02).all()
    # held frames stay at frame 0 (the round trip); without the brush the frames move away from it
    assert (held[1:] - reference).abs().mean() < 0.5 * (free[1:] - reference).abs().mean()


def test_animate_text_only(weights, photo):
    clip = mk.animate(photo, frames=3, backend="motion-i2v", predictor_options={"weights": weights, **FAST},
                      prompt="waves", fps=5)
    assert len(clip) == 3 and clip.size == (64, 64) and clip.fps == 5


def test_any_image_size_comes_back_at_that_size(weights, photo):
    wide = cv2.resize(photo, (100, 70))
    clip = mk.animate(wide, [mk.Trajectory.line((50, 35), (60, 35), frames=3)], backend="motion-i2v",
                      predictor_options={"weights": weights, **FAST})
    assert len(clip) == 3 and clip.size == (70, 100)


def test_predict_edit_then_render(weights, photo):
    field = mk.predict_motion(photo, [_drag()], predictor="motion-i2v", prompt="a cat", weights=weights, **FAST)
    assert field.flow.shape == (4, 2, 64, 64) and torch.equal(field.flow[0], torch.zeros(2, 64, 64))
    again = mk.predict_motion(photo, [_drag()], predictor="motion-i2v", prompt="a cat", weights=weights, **FAST)
    assert torch.equal(field.flow, again.flow)  # a seed reproduces the field
    edited = (field * 0.5).compose(mk.MotionField.camera(pan=(4.0, 0.0), frames=4, size=(64, 64)))
    renderer = mk.Renderer.get("motion-i2v", weights=weights, prompt="a cat", **FAST)
    image = to_tensor(photo)
    first, second = renderer.render(image, edited, fps=4), renderer.render(image, edited, fps=4)
    assert len(first) == 4 and first.size == (64, 64)
    assert np.array_equal(first.frame(3), second.frame(3))  # the seed holds per call, not per renderer
    # the motion steers the frames: another field gives other pixels
    other = renderer.render(image, mk.MotionField.camera(pan=(-6.0, 3.0), frames=4, size=(64, 64)))
    assert not np.array_equal(first.frame(3), other.frame(3))


def test_options_shared_by_both_stages_reach_the_renderer(weights, photo):
    steps = []
    clip = mk.animate(photo, [_drag()], backend="motion-i2v",
                      predictor_options={"weights": weights, **FAST},
                      renderer_options={"callback": lambda step, total, preview: steps.append((step, total))})
    assert len(clip) == 4
    assert steps == [(1, 2), (2, 2)]  # the renderer ran with the predictor's weights and steps


@pytest.fixture(scope="module")
def pan_video(photo) -> mk.Clip:
    """12 frames of the photo panning 1 px right per frame."""
    return mk.Clip.from_array(np.stack([np.roll(photo, t, axis=1) for t in range(12)]), fps=12)


def test_translate_video_to_video(weights, pan_video, animator):
    edited = 255 - pan_video.frame(0)
    out = mk.translate(pan_video, edited, renderer="motion-i2v",
                       renderer_options={"weights": weights, "window": 4, "overlap": 1, **FAST})
    assert len(out) == 12 and out.size == (64, 64) and out.fps == 12
    # A keyframe is the edit itself, bit for bit (not the renderer's VAE round trip of it).
    assert np.array_equal(out.frame(0), edited)


def test_clip_translate_with_the_learned_renderer(weights, pan_video):
    short = mk.Clip.from_array(np.stack([pan_video.frame(i) for i in range(4)]), fps=8)
    out = short.translate(short.frame(0)[:, ::-1].copy(), estimator="farneback", renderer="motion-i2v",
                          renderer_options={"weights": weights, **FAST})
    assert len(out) == 4 and out.fps == 8


def test_missing_weights_name_the_folder_and_the_converter(tmp_path, photo):
    missing = tmp_path / "nowhere"
    with pytest.raises(mk.errors.WeightsNotFoundError, match="convert-official") as info:
        mk.animate(photo, [_drag()], backend="motion-i2v", predictor_options={"weights": missing})
    assert str(missing) in str(info.value)
    with pytest.raises(mk.errors.WeightsNotFoundError, match="convert-official"):
        mk.translate(mk.Clip.from_image(photo), photo, renderer="motion-i2v", renderer_options={"weights": missing})


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photo_file(photo, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-photo") / "cat.png"
    cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    return path


def test_cli_animate_with_the_learned_backend(weights, photo_file, tmp_path, capsys):
    out, field = tmp_path / "cat.mp4", tmp_path / "cat.npz"
    status = main(["animate", str(photo_file), "--drag", "20,30:30,30", "--backend", "motion-i2v", "--weights", str(weights),
                   "--prompt", "a cat", "--seed", "1", "--steps", "2", "--frames", "4", "-o", str(out),
                   "--save-motion", str(field)])
    assert status == 0, capsys.readouterr().err
    clip = mk.Clip.read(out)
    assert len(clip) == 4 and clip.size == (64, 64)
    assert "denoising" in capsys.readouterr().err  # both stages show their progress
    # stage 1 alone, saved; the edited field rendered later by `motionkit render` with the same weights
    (mk.MotionField.load(field) * 0.5).save(tmp_path / "edited.npz")
    status = main(["render", str(photo_file), str(tmp_path / "edited.npz"), "--renderer", "motion-i2v",
                   "--weights", str(weights), "--steps", "2", "--seed", "1", "-o", str(tmp_path / "edited.mp4")])
    assert status == 0, capsys.readouterr().err
    assert len(mk.Clip.read(tmp_path / "edited.mp4")) == 4


def test_cli_translate_with_the_learned_renderer(weights, photo_file, pan_video, tmp_path, capsys):
    short = mk.Clip.from_array(np.stack([pan_video.frame(i) for i in range(4)]), fps=8)
    short.write(tmp_path / "v.mp4")
    status = main(["translate", str(tmp_path / "v.mp4"), str(photo_file), "--renderer", "motion-i2v",
                   "--weights", str(weights), "--steps", "2", "-o", str(tmp_path / "t.mp4")])
    assert status == 0, capsys.readouterr().err
    assert len(mk.Clip.read(tmp_path / "t.mp4")) == 4


def test_cli_without_weights_is_one_line_naming_the_folder(photo_file, tmp_path, capsys, monkeypatch):
    default = tmp_path / "default-weights"
    monkeypatch.setenv("MOTIONKIT_MOTION_I2V_WEIGHTS", str(default))
    status = main(["animate", str(photo_file), "--drag", "20,30:30,30", "--backend", "motion-i2v",
                   "--prompt", "a cat", "-o", str(tmp_path / "x.mp4")])
    err = capsys.readouterr().err
    assert status == 1 and len(err.strip().splitlines()) == 1
    assert str(default) in err and "convert-official" in err
    assert not (tmp_path / "x.mp4").exists()



def test_precision_offload_tiling_and_progress_through_animate(weights, photo, capsys, monkeypatch):
    ran = set()  # (network, method, its dtype when it ran); "image VAE" is stage 1's image VAE or stage 2's VAE

    def spy(cls, method):
        original = getattr(cls, method)

        def spied(self, *args, **kwargs):
            name = cls.__name__ if cls is not AutoencoderKL else ("flow VAE" if self.config.in_channels == 2 else "image VAE")
            ran.add((name, method, self.dtype))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, method, spied)

    for cls in (FlowUNet3DConditionModel, FlowControlNetModel, AnimationUNet3DConditionModel, CLIPTextModel):
        spy(cls, "forward")
    # the VAE's tiled paths (diffusers' AutoencoderKL._encode calls _tiled_encode, _decode calls tiled_decode)
    spy(AutoencoderKL, "_tiled_encode")
    spy(AutoencoderKL, "tiled_decode")
    # a VAE's tile is its sample_size (64 here), so a 64 x 64 photo is never split: once tiling is
    # on, tiles of 32 px (4 latent px) instead
    enable_tiling = AutoencoderKL.enable_tiling

    def enable_small_tiles(self):
        enable_tiling(self)
        self.tile_sample_min_size, self.tile_latent_min_size = 32, 4

    monkeypatch.setattr(AutoencoderKL, "enable_tiling", enable_small_tiles)

    options = {"weights": weights, **FAST, "dtype": "bfloat16", "cpu_offload": True, "vae_tiling": True, "progress": True}
    clip = mk.animate(photo, [_drag()], backend="motion-i2v", predictor_options=options)
    assert len(clip) == 4 and clip.size == (64, 64)
    assert "denoising" in capsys.readouterr().err  # a progress bar per denoising loop
    bf16, f32 = torch.bfloat16, torch.float32
    # the UNets, the ControlNet and the text model ran in the requested dtype; the VAEs in float32, tiled both ways
    assert ran == {
        ("FlowUNet3DConditionModel", "forward", bf16), ("FlowControlNetModel", "forward", bf16),
        ("AnimationUNet3DConditionModel", "forward", bf16), ("CLIPTextModel", "forward", bf16),
        ("flow VAE", "_tiled_encode", f32), ("flow VAE", "tiled_decode", f32),
        ("image VAE", "_tiled_encode", f32), ("image VAE", "tiled_decode", f32),
    }


def test_animate_longer_than_a_window(weights, photo):
    calls = []
    clip = mk.animate(photo, [mk.Trajectory.line((20, 30), (40, 30), frames=10)], backend="motion-i2v",
                      predictor_options={"weights": weights, **FAST, "window": 4,
                                         "callback": lambda step, total, preview: calls.append(total)},
                      renderer_options={"window": 4, "overlap": 1})
    assert len(clip) == 10 and clip.size == (64, 64)
    assert set(calls) == {6}  # stage 1 chained 3 windows of 2 steps each
