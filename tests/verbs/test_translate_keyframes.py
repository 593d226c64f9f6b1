"""Video-to-video on real clips: a local edit survives, keyframes blend, a scene cut stops the carry.

The edit is OpenCV's stylization: local and locked to the content (each pixel depends on its
neighbourhood; no colour map reproduces it). Ground truth is the edit applied to every
source frame; the baseline is plain DIS + remap of the edited frame (``helpers.real_clips``).
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest
from helpers.real_clips import dis_remap, mean_psnr, psnr, real_clip, stylize

import motionkit as mk
from motionkit.clip.carry import grade_of
from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops.colour import apply_colour_map_numpy


def translated(frames: np.ndarray, edits, **options) -> list[np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", mk.SceneCutWarning)
        return list(mk.Clip.from_array(frames, fps=25).translate(edits, **options).iter_frames())


@pytest.mark.parametrize(
    ("name", "start", "frames", "scale"),
    [("carphone", 0, 16, 1.0), ("bikes", 30, 16, 0.4)],
    ids=["talking-head-camera-motion", "bikes-street-pan"],
)
def test_local_edit_beats_plain_dis_remap_by_2db(name, start, frames, scale, one_torch_thread):
    video = real_clip(name, start, frames, scale)
    truth = np.stack([stylize(f) for f in video])
    ours = translated(video, truth[0])
    baseline = dis_remap(video, truth[0])
    assert np.array_equal(ours[0], truth[0])
    gain = mean_psnr(ours, truth) - mean_psnr(baseline, truth)
    assert gain >= 2.0, (mean_psnr(ours, truth), mean_psnr(baseline, truth))


@pytest.fixture(scope="module")
def talking_head():
    video = real_clip("carphone", 0, 16, 1.0)
    return video, np.stack([stylize(f) for f in video])


def test_two_keyframes_beat_each_keyframe_alone(talking_head, one_torch_thread):
    video, truth = talking_head
    last = len(video) - 1
    both = translated(video, {0: truth[0], last: truth[last]})
    assert np.array_equal(both[0], truth[0]) and np.array_equal(both[last], truth[last])
    score = mean_psnr(both, truth, skip=(0, last))
    alone = [mean_psnr(translated(video, {k: truth[k]}), truth, skip=(0, last)) for k in (0, last)]
    assert score > max(alone) + 0.3, (score, alone)


def test_a_keyframe_in_the_middle_is_carried_backwards_too(talking_head, one_torch_thread):
    video, truth = talking_head
    out = translated(video, {8: truth[8]})
    assert len(out) == len(video) and np.array_equal(out[8], truth[8])
    before = [psnr(o, g) for o, g in zip(out[:8], truth[:8])]
    baseline = dis_remap(video, truth[8], key=8)
    assert np.mean(before) >= np.mean([psnr(o, g) for o, g in zip(baseline[:8], truth[:8])]) + 0.8


def test_a_scene_cut_warns_and_stops_carrying_the_edit(talking_head, one_torch_thread):
    head = talking_head[0][:10]
    bunny = np.stack([cv2.resize(f, (176, 144), interpolation=cv2.INTER_AREA) for f in real_clip("bunny", 0, 8, 0.25)])
    video = np.concatenate([head, bunny])
    edited = stylize(head[0])
    edited[40:70, 60:110] = (0, 255, 0)  # a painted block on the face
    with pytest.warns(mk.SceneCutWarning, match="scene cuts at frames 10") as caught:
        out = list(mk.Clip.from_array(video, fps=25).translate(edited).iter_frames())
    assert caught[0].message.cuts == [10] and caught[0].message.uncovered == [10]
    assert len(out) == len(video)
    # Before the cut the paint rides along; after it the frames are the colour-mapped source.
    assert (np.abs(out[9].astype(int) - (0, 255, 0)).sum(axis=2) < 60).sum() > 0.5 * 30 * 50
    graded = grade_of(head[0] / np.float32(255), edited / np.float32(255))
    for t in range(10, len(video)):
        expected = np.clip(np.rint(apply_colour_map_numpy(graded, video[t] / np.float32(255)) * 255), 0, 255)
        assert np.abs(out[t].astype(int) - expected).max() <= 1
        assert (np.abs(out[t].astype(int) - (0, 255, 0)).sum(axis=2) < 60).mean() < 0.01  # no paint in the other shot
    # Asked to, it keeps carrying (the paint shows up in the other shot) and does not warn.
    with warnings.catch_warnings():
        warnings.simplefilter("error", mk.SceneCutWarning)
        carried = list(mk.Clip.from_array(video, fps=25).translate(edited, scene_cuts="carry").iter_frames())
    assert not np.array_equal(carried[12], out[12])


def test_keyframes_are_checked(talking_head):
    video = talking_head[0][:4]
    clip = mk.Clip.from_array(video)
    with pytest.raises(InvalidInputError, match="keyframe 9 is outside"):
        clip.translate({9: video[0]})
    with pytest.raises(ShapeMismatchError, match="edited keyframe 2"):
        clip.translate({0: video[0], 2: video[2][:-1]})
    with pytest.raises(InvalidInputError, match="motion_edit needs one keyframe"):
        clip.translate({0: video[0], 3: video[3]}, motion_edit=lambda f: f * 0.5)
    with pytest.raises(InvalidInputError, match="scene_cuts"):
        clip.translate(video[0], scene_cuts="never")


def test_keyframed_translation_streams_in_flat_memory(tmp_path, coffee_photo, one_torch_thread):
    """Memory does not grow with the video: no pass reads far ahead of the output, traced memory stays flat.

    Buffering a segment's flows (or frames) for the backward carry would read that segment
    before its first frame is out, and add a flow per frame to the traced peak.
    """
    import tracemalloc

    photo = cv2.resize(coffee_photo, (160, 120), interpolation=cv2.INTER_AREA)
    reads: list[list[int]] = []  # per pass over the source, the frame indices it read

    def pan(frames: int):
        def frames_of_a_pass():
            seen: list[int] = []
            reads.append(seen)
            for t in range(frames):
                seen.append(t)
                yield np.ascontiguousarray(np.roll(photo, t, axis=1)[12:108, 16:144])
        return frames_of_a_pass

    edited = np.ascontiguousarray(photo[12:108, 16:144, ::-1])

    def run(frames: int) -> tuple[int, int]:
        reads.clear()
        clip = mk.Clip.from_frames(pan(frames), frames, (96, 128), fps=24)
        ahead = 0
        tracemalloc.start()
        try:
            for t, _ in enumerate(clip.translate({0: edited, frames // 2: edited, frames - 1: edited}).iter_frames()):
                # The first pass finds the cuts and the source keyframes before any frame is out.
                ahead = max([ahead] + [seen[-1] - t for seen in reads[1:] if seen])
            return tracemalloc.get_traced_memory()[1], ahead
        finally:
            tracemalloc.stop()

    run(4)  # lazy imports and caches first
    (short, _), (long, ahead) = run(8), run(32)
    assert ahead <= 8, ahead  # a few frames in flight per stage, never a segment (15 frames)
    one_flow = 2 * 96 * 128 * 4
    # Threads make the peak vary by ~15 flows; buffering the 24 extra frames' flows and renders adds ~60.
    assert long - short < 40 * one_flow, (short / 2**20, long / 2**20)
