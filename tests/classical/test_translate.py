"""Video-to-video: an edit of frame 0 carried through a panning real photo, frame by frame.

Translation runs through the public protocols (``Clip.translate``: estimate -> render ->
source-guided fill), here with the classical ``dis`` estimator and ``warp`` renderer.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from helpers.synth_video import moving_photo

from motionkit.clip import Clip
from motionkit.errors import ShapeMismatchError
from motionkit.ops.colour import apply_colour_map_numpy as apply_colour_map
from motionkit.ops.colour import fit_colour_map_numpy as fit_colour_map


def translate_frames(frames: np.ndarray, edited: np.ndarray) -> list[np.ndarray]:
    """``uint8`` frames of the translation of the video ``frames`` ``(T, H, W, 3)``."""
    return list(Clip.from_array(frames, fps=8).translate(edited).iter_frames())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


@pytest.fixture(scope="module")
def pan(coffee_photo):
    photo = cv2.resize(coffee_photo, (300, 200), interpolation=cv2.INTER_AREA)
    video, _ = moving_photo(photo, 12, velocity=(2.0, 0.8), size=(160, 240))
    return video


def channel_swap(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[..., [2, 0, 1]])


def gamma(image: np.ndarray) -> np.ndarray:
    return np.rint(255.0 * (image / 255.0) ** 0.6).astype(np.uint8)


@pytest.mark.parametrize("edit", [channel_swap, gamma])
def test_colour_edit_of_frame0_matches_the_edit_of_every_frame(pan, edit):
    out = list(translate_frames(pan, edit(pan[0])))
    assert len(out) == len(pan)
    assert np.array_equal(out[0], edit(pan[0]))
    # Whole frames, borders included (new content enters on the left and top).
    scores = [psnr(o, edit(f)) for o, f in zip(out[1:], pan[1:])]
    assert min(scores) >= 28.0, scores


def test_a_local_paint_stroke_follows_the_motion(pan):
    edited = pan[0].copy()
    edited[60:80, 100:120] = (0, 255, 0)  # a green square painted on frame 0
    out = list(translate_frames(pan, edited))
    t = len(pan) - 1
    dx, dy = round(2.0 * t), round(0.8 * t)  # where frame 0's pixels are in frame t
    moved = out[t][60 + dy + 3 : 80 + dy - 3, 100 + dx + 3 : 120 + dx - 3].astype(int)
    assert np.abs(moved - (0, 255, 0)).max() <= 12
    # Where the square was, the frame shows the video's content again, not the paint.
    left = out[t][62:78, 102 : 100 + dx - 2].astype(int)
    assert np.abs(left - pan[t][62:78, 102 : 100 + dx - 2]).mean() < 20


def test_frames_stream_in_constant_memory(pan):
    passes: list[list[int]] = []

    def endless():
        pulled = []
        passes.append(pulled)
        for i in itertools.count():
            pulled.append(i)
            yield pan[i % 3]

    clip = Clip.from_frames(endless, count=10**4, size=pan.shape[1:3], fps=8)
    outputs = clip.translate(pan[0], estimator_options={"preset": "fast"}).iter_frames()
    list(itertools.islice(outputs, 4))
    # One decode (or one pass for the estimator and one for the blend) reads frames as they are
    # rendered: at most the stages' short read-ahead beyond the 4 frames asked for, never the clip.
    from motionkit.clip.carry import _AHEAD

    assert len(passes) <= 2 and all(len(pulled) <= 5 + _AHEAD for pulled in passes), passes


def test_edited_frame_of_another_size_is_refused(pan):
    with pytest.raises(ShapeMismatchError, match="edited first frame"):
        list(translate_frames(pan, pan[0][:-2]))


def test_float_edit_and_colour_map():
    rng = np.random.default_rng(0)
    source = rng.random((20, 20, 3)).astype(np.float32)
    target = source**0.7
    assert np.abs(apply_colour_map(fit_colour_map(source, target), source) - target).mean() < 0.01
    frames = [np.full((24, 24, 3), 90, np.uint8)] * 2
    out = list(translate_frames(np.stack(frames), np.full((24, 24, 3), 0.5, np.float32)))
    assert [int(o[5, 5, 0]) for o in out] == [128, 128]


def test_object_moving_over_a_pan_uncovers_background_that_frame0_never_showed(pan, cat_photo):
    # A cat patch slides right 5 px/frame over the panning coffee photo: behind it, background
    # appears that frame 0 hides; it must come from the (colour-mapped) source frames.
    video = pan.copy()
    patch = cv2.resize(cat_photo, (60, 50), interpolation=cv2.INTER_AREA)
    for t in range(len(video)):
        video[t, 50 + t : 100 + t, 30 + 5 * t : 90 + 5 * t] = patch
    edited = channel_swap(video[0])
    edited[65:80, 45:60] = (0, 255, 0)  # paint on the cat
    out = list(translate_frames(video, edited))
    t = len(video) - 1
    paint = out[t][65 + t + 3 : 80 + t - 3, 45 + 5 * t + 3 : 60 + 5 * t - 3].astype(int)
    assert np.abs(paint - (0, 255, 0)).max() <= 12  # the paint rode along with the cat
    uncovered = (slice(52, 98), slice(32, 30 + 5 * t - 2))  # under the cat in frame 0 only
    assert psnr(out[t][uncovered], channel_swap(video[t])[uncovered]) >= 28.0
    keep = np.ones(video.shape[1:3], bool)
    keep[65 + t : 80 + t, 45 + 5 * t : 60 + 5 * t] = False
    assert psnr(out[t][keep], channel_swap(video[t])[keep]) >= 28.0
