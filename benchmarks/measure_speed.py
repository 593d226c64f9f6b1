"""Wall and CPU time of the classical backend on 16 frames at 512x512.

Run: ``python -m benchmarks.measure_speed`` (numbers quoted in the module docstrings).
"""

from __future__ import annotations

import time

import cv2
import torch
from skimage import data

from motionkit.classical.densify import SparsePredictor
from motionkit.classical.render import WarpRenderer
from motionkit.motion import MotionField
from motionkit.trajectory import Trajectory


def timed(label: str, fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    print(f"{label}: wall {time.perf_counter() - wall:.3f} s, cpu {time.process_time() - cpu:.3f} s")
    return result


def main() -> None:
    image = torch.from_numpy(cv2.resize(data.astronaut(), (512, 512))).permute(2, 0, 1).float() / 255
    drags = [
        Trajectory.line((250, 200), (290, 180), frames=16),
        Trajectory.line((120, 400), (100, 430), frames=16),
        Trajectory([(400, 100)]),
    ]
    predictor, renderer = SparsePredictor(), WarpRenderer()
    predictor.predict(image, drags)  # warm caches and imports
    motion = timed("densify 3 points, 16 x 512x512", lambda: predictor.predict(image, drags))
    timed("render the drag, 16 x 512x512", lambda: renderer.render(image, motion))
    pan = torch.arange(16.0)[:, None, None, None] * torch.tensor([1.5, -0.7])[None, :, None, None]
    camera = MotionField(pan.expand(16, 2, 512, 512).contiguous())
    timed("render a pan, 16 x 512x512", lambda: renderer.render(image, camera))


if __name__ == "__main__":
    main()
