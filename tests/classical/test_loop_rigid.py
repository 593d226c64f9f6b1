"""Seamless loops on rigid content show one sharp image; on a fluid they keep the long cross-fade.

The two layers of a seamless loop are the image moved forward ``t`` steps and backward
``N - t`` steps. Cross-fading them over the whole loop (Holynski et al. 2021) hides the loop
point on a stochastic texture, but on a face it is a double image in every frame; the blend
is now switched within the closing frames wherever the layers' coarse structure disagrees.
Measured by the gradient energy of the middle frame against the single (forward) render of
the same frame: a double image of a structure halves it.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from motionkit.classical.render import WarpRenderer
from motionkit.motion import MotionField
from motionkit.ops.seamless import closing_alpha, loop_alpha

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FRAMES = 8


def _energy(frame: np.ndarray, region: tuple[slice, slice]) -> float:
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float((cv2.Sobel(grey, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(grey, cv2.CV_32F, 0, 1) ** 2)[region].mean())


def _steady(velocity: tuple[float, float], size: tuple[int, int], weight: np.ndarray | None = None) -> MotionField:
    """``t`` steps of a uniform velocity (px per frame), optionally inside a soft band."""
    h, w = size
    band = torch.ones(h, w) if weight is None else torch.from_numpy(weight)
    flow = torch.zeros(FRAMES, 2, h, w)
    for t in range(FRAMES):
        flow[t, 0], flow[t, 1] = band * velocity[0] * t, band * velocity[1] * t
    return MotionField(flow)


def _middle_ratio(image: np.ndarray, motion: MotionField, region) -> float:
    loop = list(WarpRenderer(loop="seamless").render(image, motion).iter_frames())
    single = list(WarpRenderer().render(image, motion).iter_frames())
    return _energy(loop[FRAMES // 2], region) / _energy(single[FRAMES // 2], region)


def test_a_face_sliding_in_a_loop_is_one_sharp_image_mid_loop(cat_photo):
    image = cv2.resize(cat_photo, (200, 133), interpolation=cv2.INTER_AREA)
    band = np.zeros(image.shape[:2], np.float32)
    band[40:110] = 1.0
    band = cv2.GaussianBlur(band, (0, 0), 3.0)
    band[band < 0.02] = 0.0
    ratio = _middle_ratio(image, _steady((2.5, 0.0), image.shape[:2], band), (slice(55, 95), slice(30, 170)))
    # The whole-loop cross-fade gave 0.48 on this face (two copies 20 px apart).
    assert ratio > 0.8, f"middle loop frame keeps {ratio:.2f} of the single render's gradient energy"


def test_a_fluid_texture_keeps_the_long_cross_fade():
    from skimage import data

    grass = np.dstack([cv2.resize(data.grass(), (200, 133), interpolation=cv2.INTER_AREA)] * 3)
    ratio = _middle_ratio(grass, _steady((1.5, 0.5), grass.shape[:2]), (slice(20, 113), slice(30, 170)))
    assert ratio < 0.75, f"{ratio:.2f}: the grass was switched like a rigid object, not cross-faded"


def test_the_blend_weights_run_from_the_first_layer_to_the_second():
    rigid = np.array([0.0, 0.5, 1.0], np.float32)
    assert np.allclose(loop_alpha(0, 10, rigid), 0.0) and np.allclose(loop_alpha(10, 10, rigid), 1.0)
    assert np.allclose(loop_alpha(5, 10, rigid), [0.5, 0.25, 0.0])
    weights = [closing_alpha(t, 10) for t in range(11)]
    assert weights[:9] == [0.0] * 9 and 0 < weights[9] < 1 and weights[10] == 1.0 and weights == sorted(weights)
