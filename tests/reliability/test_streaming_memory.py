"""Memory does not grow with a video's length: translation streams frame by frame.

Measured with ``tracemalloc``, which sees numpy's buffers (frames, flows and the classical
renderer's work arrays are numpy), in this process: translating a 6x longer video must not
need more memory. Holding every flow of the long video alone would take 12 MB; holding its
frames, 4 MB. The peak RSS of a 720p, 300-frame translation is measured by the benchmark
(``python -m benchmarks.run``).
"""

from __future__ import annotations

import tracemalloc

import cv2
import numpy as np

import motionkit as mk

SIZE = (96, 128)


def write_pan(path, photo: np.ndarray, frames: int) -> None:
    """A panning video written from a lazy clip: the test itself never holds the video."""

    def source():
        for t in range(frames):
            yield np.ascontiguousarray(np.roll(photo, t, axis=1)[12 : 12 + SIZE[0], 16 : 16 + SIZE[1]])

    mk.Clip.from_frames(source, count=frames, size=SIZE, fps=24).write(path)


def peak_translating(video, edited, out) -> int:
    tracemalloc.start()
    try:
        mk.translate(video, edited).write(out)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_translating_a_longer_video_needs_no_more_memory(tmp_path):
    from skimage import data

    photo = cv2.resize(data.coffee(), (160, 120), interpolation=cv2.INTER_AREA)
    short, long = tmp_path / "short.mp4", tmp_path / "long.mp4"
    # 40 frames: translate's pipelined stages (source + predictions, carry, flow, encode) reach
    # their steady state in-flight memory within ~30 frames of this pan; after that the peak
    # is flat (66 flows at 40, 60, 80 and 160 frames), so 40 vs 120 measures growth with length.
    write_pan(short, photo, 40)
    write_pan(long, photo, 120)
    edited = np.ascontiguousarray(photo[12 : 12 + SIZE[0], 16 : 16 + SIZE[1], ::-1])
    peak_translating(short, edited, tmp_path / "warm-up.mp4")  # lazy imports and caches first
    short_peak = peak_translating(short, edited, tmp_path / "short_out.mp4")
    long_peak = peak_translating(long, edited, tmp_path / "long_out.mp4")
    assert len(mk.Clip.read(tmp_path / "long_out.mp4")) == 120
    one_flow = 2 * SIZE[0] * SIZE[1] * 4
    assert long_peak - short_peak < 10 * one_flow, f"{short_peak / 2**20:.1f} MiB for 40 frames, {long_peak / 2**20:.1f} MiB for 120"
    # A few frames in flight per pipelined stage (~66 flows here; 54 before the stages overlapped).
    assert long_peak < 75 * one_flow, f"{long_peak / 2**20:.1f} MiB to translate 120 frames of {SIZE}"
