"""Synthetic captioned videos with known motion, and a stand-in flow estimator, for the training tests."""

from __future__ import annotations

import numpy as np
import torch


def square_video(offset: int, frames: int = 12, size: int = 64) -> np.ndarray:
    video = np.full((frames, size, size, 3), 40, np.uint8)
    yy, xx = np.mgrid[:size, :size]
    for t in range(frames):
        x0 = 10 + offset + 2 * t
        video[t][(xx >= x0) & (xx < x0 + 16) & (yy >= 20) & (yy < 36)] = (220, 180, 60)
        video[t] += ((xx * 3 + yy * 5) % 23).astype(np.uint8)[..., None]
    return video


class ShiftEstimator:
    """Stand-in FlowEstimator returning zero flow and counting its calls (the tests check sampling and caching)."""

    calls = 0

    def estimate(self, clip):
        from motionkit.motion import MotionField

        ShiftEstimator.calls += 1
        frames = np.stack(list(clip.iter_frames()))
        flow = torch.zeros(len(frames), 2, *frames.shape[1:3])
        return MotionField(flow)
