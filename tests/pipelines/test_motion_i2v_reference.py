"""Fields measured from a later frame through the Motion-I2V renderer, and video-to-video's backward carry with it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import motionkit as mk
from motionkit.clip.translation import translate
from motionkit.motion import MotionField
from motionkit.pipelines.motion_i2v import MotionI2VRenderer

FAST = {"steps": 2, "seed": 0, "device": "cpu"}


@pytest.fixture
def image(cat_photo) -> torch.Tensor:
    photo = torch.from_numpy(cat_photo[100:228, 150:278].copy()).permute(2, 0, 1).float() / 255
    return torch.nn.functional.interpolate(photo[None], size=(64, 64), mode="area")[0]


def measured_from(k: int, frames: int, speed: float = 0.8) -> torch.Tensor:
    """``(T, 2, 64, 64)``: content drifting right by ``speed`` px a frame, measured from frame ``k`` (zero there)."""
    flow = torch.zeros(frames, 2, 64, 64)
    flow[:, 0] = (torch.arange(frames, dtype=torch.float32) - k).view(-1, 1, 1) * speed
    return flow


def test_a_field_measured_from_a_later_frame_is_rendered_from_that_frame(animator, image):
    renderer = MotionI2VRenderer(pipeline=animator, window=5, overlap=2, **FAST)
    k, frames = 4, 7
    flow = measured_from(k, frames)
    out = renderer.render(image, MotionField(flow, reference=k), fps=5).to_numpy()
    # The networks get frame k first, then the others in time order.
    order = [k, *[t for t in range(frames) if t != k]]
    first = renderer.render(image, MotionField(flow[order]), fps=5).to_numpy()
    assert np.array_equal(out[k], first[0])
    assert np.array_equal(out[[t for t in range(frames) if t != k]], first[1:])
    # Taken as it comes (frame 0 first, as before), frame k would be rendered as a moved frame.
    assert not np.array_equal(out[0], first[0])
    # Streamed (lazy) the same: the reference frame is held until its place.
    lazy = renderer.render(image, MotionField.from_frames(lambda: iter(flow), frames, (64, 64), reference=k), fps=5)
    assert lazy.is_lazy
    streamed = lazy.to_numpy()
    assert np.array_equal(streamed[k], first[0]) and streamed.shape == out.shape


class Recording(MotionI2VRenderer):
    """The tiny Motion-I2V renderer, logging the image and the field of every carry it renders."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[np.ndarray, torch.Tensor, int]] = []

    def render(self, image, motion, mask=None, *, fps=8.0, prompt=None):
        field = motion.materialize()
        self.calls.append((image.permute(1, 2, 0).numpy().copy(), field.flow.clone(), field.reference))
        return super().render(image, field, mask, fps=fps, prompt=prompt)


def test_translate_carries_a_later_keyframe_backwards_through_the_learned_renderer(animator, cat_photo):
    import cv2

    photo = cv2.resize(cat_photo, (120, 80), interpolation=cv2.INTER_AREA)
    frames = np.stack([np.ascontiguousarray(np.roll(photo, t, axis=1)[8:72, 24:88]) for t in range(7)])  # 1 px/frame right
    video = mk.Clip.from_array(frames, fps=8)
    edits = {0: frames[0][..., ::-1].copy(), 5: np.ascontiguousarray(255 - frames[5])}
    renderer = Recording(pipeline=animator, window=5, overlap=2, **FAST)
    estimator = mk.registry.create("flow_estimator", "dis")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = translate(video, edits, estimator, renderer).to_numpy()
    assert np.array_equal(out[0], edits[0]) and np.array_equal(out[5], edits[5])  # keyframes bit for bit
    backward = [c for c in renderer.calls if np.allclose(c[0] * 255, edits[5], atol=0.5)]
    forward_from_5 = [c for c in backward if c[1].shape[0] == 2]  # frames 5, 6
    from_5 = [c for c in backward if c[1].shape[0] == 5]  # keyframe 5 first, then frames 1..4
    assert forward_from_5 and from_5
    _, flow, reference = from_5[0]
    assert reference == 0 and flow[0].abs().max().item() == 0.0  # measured from keyframe 5, which comes first
    # Frame 1 (after it, time order) is 4 frames before 5: content 4 px to the left.
    drift = [float(flow[j, 0, 16:-16, 16:-16].median()) for j in range(1, 5)]
    assert np.allclose(drift, [-4.0, -3.0, -2.0, -1.0], atol=0.5), drift
    # Frames 1..4 blend the forward carry of 0 with the backward one of 5: the inverted
    # keyframe shows more the closer a frame is to 5.
    inverted = [float(np.corrcoef(out[t].ravel(), (255 - frames[t]).ravel())[0, 1]) for t in range(1, 5)]
    assert inverted[-1] > inverted[0], inverted
