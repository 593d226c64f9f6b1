"""Seamless loops: the last frame flows on into the first, as between any two neighbouring frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from motionkit.classical.render import WarpRenderer
from motionkit.errors import InvalidInputError
from motionkit.motion import MotionField

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small frames: threads only cost hand-offs

FRAMES = 10
SPEED = 2.0  # px per frame, to the right


@pytest.fixture(scope="module")
def stream(cat_photo):
    """The cat's fur flowing right inside a soft band (a cinemagraph's steady velocity field)."""
    image = cv2.resize(cat_photo, (240, 160), interpolation=cv2.INTER_AREA)
    band = np.zeros(image.shape[:2], np.float32)
    band[50:130, :] = 1.0
    band = cv2.GaussianBlur(band, (0, 0), 3.0)
    band[band < 0.02] = 0.0
    velocity = torch.zeros(2, *image.shape[:2])
    velocity[0] = SPEED
    return image, band, MotionField.from_velocity(velocity, frames=FRAMES, mask=torch.from_numpy(band))


def _step(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Median DIS flow (dx, dy) from frame ``a`` to ``b`` inside the band, away from the image's left and right edges."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = dis.calc(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY), None)
    return np.median(flow[70:110, 40:200].reshape(-1, 2), axis=0)


def test_the_last_frame_continues_into_the_first_like_any_two_neighbours(stream):
    image, _, motion = stream
    frames = np.stack(list(WarpRenderer(loop="seamless").render(image, motion).iter_frames()))
    assert len(frames) == FRAMES
    steps = np.array([_step(frames[t], frames[t + 1]) for t in (2, 4, 7)])
    seam = _step(frames[-1], frames[0])
    assert np.allclose(steps[:, 0], SPEED, atol=0.5) and np.allclose(steps[:, 1], 0.0, atol=0.3)
    assert np.abs(seam - steps.mean(0)).max() < 0.5, f"seam step {seam} against neighbour steps {steps.mean(0)}"
    # Without the option the clip jumps back at the seam (ping-pong, MotionField.loop(), reverses there).
    plain = list(WarpRenderer().render(image, motion).iter_frames())
    assert _step(plain[-1], plain[0])[0] < -SPEED * (FRAMES - 1) / 2


def test_a_seamless_loop_starts_on_the_input_and_keeps_still_pixels_exact(stream):
    image, band, motion = stream
    frames = np.stack(list(WarpRenderer(loop="seamless").render(image, motion, band).iter_frames()))
    assert np.array_equal(frames[0], image)
    for frame in frames:
        assert np.array_equal(frame[band == 0], image[band == 0])
    assert np.abs(frames[FRAMES // 2].astype(int) - image.astype(int))[70:110].mean() > 5  # it does move


def test_unknown_loop_modes_are_refused():
    with pytest.raises(InvalidInputError, match="seamless"):
        WarpRenderer(loop="pingpong")
    assert "loop='seamless'" in repr(WarpRenderer(loop="seamless"))
