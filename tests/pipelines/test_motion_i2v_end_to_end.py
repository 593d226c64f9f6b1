"""The Motion-I2V predictor and renderer on tiny random networks: shapes, pinned frame 0, brush, windows."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers.motion_i2v_frames import clip_frames, round_trip

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.mask import RegionMask
from motionkit.motion import MotionField
from motionkit.pipelines.motion_i2v import MotionI2VPredictor, MotionI2VRenderer

FAST = {"steps": 2, "seed": 0, "device": "cpu"}


@pytest.fixture
def image(cat_photo) -> torch.Tensor:
    photo = torch.from_numpy(cat_photo[100:228, 150:278].copy()).permute(2, 0, 1).float() / 255
    return torch.nn.functional.interpolate(photo[None], size=(64, 64), mode="area")[0]


def _drag(start, end, frames=4):
    return np.linspace(start, end, frames)


def test_drag_only_field_has_image_size_and_zero_frame0(flow_generator, image):
    predictor = MotionI2VPredictor(pipeline=flow_generator, **FAST)
    motion = predictor.predict(image, [_drag((20, 30), (30, 30))], frames=4, prompt="a cat")
    assert isinstance(motion, MotionField)
    assert motion.flow.shape == (4, 2, 64, 64)
    assert torch.equal(motion.flow[0], torch.zeros(2, 64, 64))
    assert torch.isfinite(motion.flow).all()


def test_same_seed_same_field_and_drags_change_it(flow_generator, image):
    predictor = MotionI2VPredictor(pipeline=flow_generator, **FAST)
    a = predictor.predict(image, [_drag((20, 30), (40, 30))], frames=4)
    b = predictor.predict(image, [_drag((20, 30), (40, 30))], frames=4)
    c = predictor.predict(image, [_drag((20, 30), (20, 50))], frames=4)
    assert torch.equal(a.flow, b.flow)
    assert not torch.allclose(a.flow, c.flow)


def test_brush_zeroes_motion_outside(flow_generator, image):
    values = torch.zeros(64, 64)
    values[:, :32] = 1.0  # only the left half may move
    predictor = MotionI2VPredictor(pipeline=flow_generator, **FAST)
    motion = predictor.predict(image, [_drag((10, 30), (20, 30))], RegionMask(values), frames=4)
    assert torch.equal(motion.flow[:, :, :, 32:], torch.zeros_like(motion.flow[:, :, :, 32:]))
    assert motion.flow[:, :, :, :32].abs().max() > 0


def test_text_only_prediction_follows_the_prompt(flow_generator, image):
    predictor = MotionI2VPredictor(pipeline=flow_generator, **FAST)
    waves = predictor.predict(image, [], frames=3, prompt="waves")
    assert waves.flow.shape == (3, 2, 64, 64)
    # the prompt reaches the model: the same prompt and seed give the same field, another prompt another one
    assert torch.equal(waves.flow, predictor.predict(image, [], frames=3, prompt="waves").flow)
    cat = predictor.predict(image, [], frames=3, prompt="a cat")
    assert (cat.flow[1:] - waves.flow[1:]).abs().mean() > 0.1  # pixels; the fields are ~30 px


def test_long_field_is_chained_from_windows(flow_generator, image):
    steps = []
    predictor = MotionI2VPredictor(pipeline=flow_generator, window=4, **FAST,
                                   callback=lambda step, total, preview: steps.append((step, total, tuple(preview.shape))))
    motion = predictor.predict(image, [_drag((20, 30), (40, 30), frames=10)], frames=10)
    assert motion.flow.shape == (10, 2, 64, 64)
    # 3 windows (0-3, 3-6, 6-9) of 2 steps each, previews of 3 latent frames
    assert [s[:2] for s in steps] == [(i, 6) for i in range(1, 7)]
    assert steps[0][2] == (3, 4, 8, 8)


def test_predictor_refuses_bad_input(flow_generator, image):
    predictor = MotionI2VPredictor(pipeline=flow_generator, **FAST)
    with pytest.raises(InvalidInputError):
        predictor.predict(None, [], frames=4, size=(64, 64))
    with pytest.raises(ShapeMismatchError):
        predictor.predict(image, [], RegionMask(torch.ones(32, 32)), frames=4)
    with pytest.raises(InvalidInputError):
        predictor.predict(image, [], frames=1)


def test_render_keeps_frame0_and_size(animator, image):
    motion = MotionField(torch.linspace(0, 3, 4).view(4, 1, 1, 1).expand(4, 2, 64, 64).clone())
    clip = MotionI2VRenderer(pipeline=animator, **FAST).render(image, motion, fps=10)
    assert len(clip) == 4 and clip.fps == 10
    frames = clip_frames(clip)
    assert frames.shape == (4, 3, 64, 64)
    # frame 0 is the reference through the VAE (same posterior draw: the renderer's first draw)
    reference = round_trip(animator.vae, image)
    assert (frames[0] - reference).abs().max() <= 1 / 255  # uint8 rounding only


def test_render_brush_keeps_static_region(animator, image):
    values = torch.zeros(64, 64)
    values[:, :32] = 1.0
    shift = torch.full((4, 2, 64, 64), 2.0)
    shift[0] = 0
    motion = MotionField(shift)
    renderer = MotionI2VRenderer(pipeline=animator, **FAST)
    free = clip_frames(renderer.render(image, motion))
    held = clip_frames(renderer.render(image, motion, RegionMask(values)))
    reference = round_trip(animator.vae, image)
    # right half (static) stays near the reference's VAE round trip; without the brush it does not
    err_held = (held[1:, :, :, 40:] - reference[:, :, 40:]).abs().mean()
    err_free = (free[1:, :, :, 40:] - reference[:, :, 40:]).abs().mean()
    assert err_held < err_free


def test_edited_and_estimated_fields_render(animator, flow_generator, image):
    predicted = MotionI2VPredictor(pipeline=flow_generator, **FAST).predict(image, [_drag((20, 30), (30, 30))], frames=4)
    camera = torch.ones(4, 2, 64, 64)
    camera[0] = 0
    edited = predicted * 0.5 + MotionField(camera)
    renderer = MotionI2VRenderer(pipeline=animator, prompt="a cat", **FAST)
    estimated, changed = clip_frames(renderer.render(image, predicted)), clip_frames(renderer.render(image, edited))
    reference = round_trip(animator.vae, image)
    for frames in (estimated, changed):
        assert frames.shape == (4, 3, 64, 64)
        assert (frames[0] - reference).abs().max() <= 1 / 255  # the image up to the VAE round trip
        assert (frames[1:] - frames[:1]).abs().mean() > 1e-2  # later frames are rendered, not copies of frame 0
    # the edit reaches the pixels: same seed and prompt, another field, other later frames
    assert (changed[1:] - estimated[1:]).abs().mean() > 1e-3


def test_video_to_video_from_given_field(animator, image):
    # the field of a video (here a synthetic pan), an edited first frame
    pan = torch.zeros(4, 2, 64, 64)
    pan[:, 0] = torch.arange(4.0).view(4, 1, 1) * 2
    edited = image.flip(0)  # a colour edit of frame 0
    renderer = MotionI2VRenderer(pipeline=animator, **FAST)
    panned = clip_frames(renderer.render(edited, MotionField(pan)))
    assert panned.shape == (4, 3, 64, 64)
    # frame 0 is the edit up to the VAE round trip (uint8 rounding only), and far from the unedited source
    assert (panned[0] - round_trip(animator.vae, edited)).abs().max() <= 1 / 255
    assert (panned[0] - round_trip(animator.vae, image)).abs().mean() > 0.05
    # the given field steers the later frames: a tilt instead of the pan gives other pixels, the same frame 0
    tilted = clip_frames(renderer.render(edited, MotionField(pan.flip(1))))
    assert torch.equal(tilted[0], panned[0])
    assert (tilted[1:] - panned[1:]).abs().mean() > 1e-3


def test_twelve_frames_through_four_frame_windows(animator, image):
    motion = MotionField(torch.linspace(0, 6, 12).view(12, 1, 1, 1).expand(12, 2, 64, 64).clone())
    calls = []
    unet = animator.unet
    original = unet.forward

    def counting(sample, *args, **kwargs):
        calls.append(sample.shape[2])
        return original(sample, *args, **kwargs)

    unet.forward = counting
    try:
        clip = MotionI2VRenderer(pipeline=animator, window=4, overlap=1, **FAST).render(image, motion)
    finally:
        del unet.forward
    assert len(clip) == 12
    assert set(calls) == {4}  # every network call saw one 4-frame window
    assert len(calls) == 2 * 5  # 2 steps x 5 windows


def test_renderer_refuses_mismatched_field(animator, image):
    with pytest.raises(ShapeMismatchError):
        MotionI2VRenderer(pipeline=animator, **FAST).render(image, MotionField(torch.zeros(4, 2, 32, 32)))


def test_converted_folder_loads_and_runs(flow_generator, animator, tmp_path, image):
    # write the tiny networks in the converted layout, then let the components load them
    parts = {"stage1_unet": flow_generator.unet, "controlnet": flow_generator.unet.controlnet,
             "flow_vae": flow_generator.flow_vae, "image_vae": flow_generator.image_vae,
             "stage2_unet": animator.unet, "stage2_vae": animator.vae, "text_encoder": animator.text_encoder,
             "tokenizer": animator.tokenizer}
    for name, module in parts.items():
        if name == "stage1_unet":
            controlnet, module.controlnet = module.controlnet, None
            module.save_pretrained(tmp_path / name)
            module.controlnet = controlnet
        else:
            module.save_pretrained(tmp_path / name)
    predictor = MotionI2VPredictor(weights=tmp_path, **FAST)
    loaded = predictor.predict(image, [_drag((20, 30), (30, 30))], frames=4)
    direct = MotionI2VPredictor(pipeline=flow_generator, **FAST).predict(image, [_drag((20, 30), (30, 30))], frames=4)
    assert torch.allclose(loaded.flow, direct.flow, atol=1e-4)
    clip = MotionI2VRenderer(weights=tmp_path, **FAST).render(image, loaded)
    assert len(clip) == 4


def test_bfloat16_offload_and_progress_run(text_parts, image):
    # fresh networks: the predictor casts what it is given
    from helpers.tiny_motion_i2v import UNET_KWARGS, tiny_vae

    from motionkit.models.motion_i2v.unet import AnimationUNet3DConditionModel
    from motionkit.pipelines.motion_i2v.animation import Animator

    torch.manual_seed(4)
    text_encoder, tokenizer = text_parts
    pipe = Animator(unet=AnimationUNet3DConditionModel(**UNET_KWARGS).eval(), vae=tiny_vae(3),
                    text_encoder=type(text_encoder)(text_encoder.config).eval(), tokenizer=tokenizer)
    previews = []
    renderer = MotionI2VRenderer(pipeline=pipe, dtype="bfloat16", cpu_offload=True, progress=True,
                                 callback=lambda step, total, preview: previews.append((step, total, tuple(preview.shape))), **FAST)
    motion = MotionField(torch.linspace(0, 2, 4).view(4, 1, 1, 1).expand(4, 2, 64, 64).clone())
    clip = renderer.render(image, motion)
    assert len(clip) == 4
    assert pipe.unet.dtype == torch.bfloat16 and pipe.vae.dtype == torch.float32
    assert previews == [(1, 2, (4, 3, 8, 8)), (2, 2, (4, 3, 8, 8))]


def test_any_image_size_runs_at_a_multiple_of_64(flow_generator, animator):
    image = torch.rand(3, 70, 100)
    motion = MotionI2VPredictor(pipeline=flow_generator, **FAST).predict(image, [_drag((50, 35), (60, 35))], frames=3)
    assert motion.flow.shape == (3, 2, 70, 100)
    clip = MotionI2VRenderer(pipeline=animator, **FAST).render(image, motion)
    assert clip.size == (70, 100)
    with pytest.raises(InvalidInputError):
        MotionI2VRenderer(pipeline=animator, resolution=(70, 100), **FAST)


def test_chained_windows_compose_their_flows(flow_generator, image, monkeypatch):
    # each window predicts "frame j of the window is j px right of the window's first frame"
    from motionkit.pipelines.motion_i2v.flowgen import FlowGenerator

    starts = []

    def fake_window(self, reference, tracks, static, count, *args):
        starts.append([t[0].tolist() for t in tracks])
        flow = torch.zeros(count, 2, *reference.shape[-2:])
        flow[:, 0] = torch.arange(count, dtype=torch.float32).view(count, 1, 1)
        return flow

    monkeypatch.setattr(FlowGenerator, "_window", fake_window)
    drag = np.stack([np.arange(10.0) + 20, np.full(10, 30.0)], axis=1)  # 1 px right per frame
    motion = MotionI2VPredictor(pipeline=flow_generator, window=4, **FAST).predict(image, [drag], frames=10)
    assert torch.allclose(motion.flow[:, 0, 32, 32], torch.arange(10.0))
    # every window starts its drag where the point is at the window's first frame (frames 0, 3, 6)
    assert [s[0] for s in starts] == [[20.0, 30.0], [23.0, 30.0], [26.0, 30.0]]
