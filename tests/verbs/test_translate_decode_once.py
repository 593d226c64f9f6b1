"""translate with one keyframe decodes the source once; the tee that shares it never holds more than a few frames."""

from __future__ import annotations

import numpy as np

import motionkit as mk
from motionkit.clip import carry
from motionkit.clip.frame_tee import MAX_BEHIND, FrameTee


def test_one_keyframe_reads_the_source_once_and_renders_as_two_reads_did(coffee_photo, monkeypatch, one_torch_thread):
    import cv2

    photo = cv2.resize(coffee_photo, (160, 120), interpolation=cv2.INTER_AREA)
    passes: list[int] = []

    def frames():
        passes.append(0)
        for t in range(12):
            passes[-1] += 1
            yield np.ascontiguousarray(np.roll(photo, 2 * t, axis=1)[12:108, 16:144])

    clip = mk.Clip.from_frames(frames, 12, (96, 128), fps=24)
    edited = np.ascontiguousarray(255 - photo[12:108, 16:144])
    once = clip.translate(edited).to_numpy()
    assert passes == [12]

    class TwoDecodes:  # what translate did before: the carry's estimator reads its own pass
        def __init__(self, decoded, reopen):
            self.decoded, self.reopen = decoded, reopen

        def branch(self, index):
            return self.decoded if index == 0 else self.reopen(0)

    monkeypatch.setattr(carry, "FrameTee", TwoDecodes)
    passes.clear()
    twice = clip.translate(edited).to_numpy()
    assert len(passes) == 2 and np.array_equal(once, twice)


def test_a_branch_left_far_behind_reads_on_from_a_fresh_pass():
    opened: list[int] = []

    def reopen(start: int):
        opened.append(start)
        return iter(range(start, 100))

    tee = FrameTee(iter(range(100)), reopen)
    ahead, behind = tee.branch(1), tee.branch(0)
    first = [next(behind) for _ in range(3)]
    rest_ahead = list(ahead)  # reads everything before the other takes another frame
    assert rest_ahead == list(range(100)) and first == [0, 1, 2]
    assert len(tee._queues[0] or []) == 0  # let go, its queue dropped: at most MAX_BEHIND were ever held
    assert list(behind) == list(range(3, 100)) and opened == [3]
    assert MAX_BEHIND < 100
