"""Median end-point error of DIS/Farneback and their strategies on synthetic moving photos.

Run: ``python -m benchmarks.measure_flow`` (the table in ``motionkit/classical/flow.py``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.synth_video import median_epe, moving_photo  # noqa: E402

from motionkit.classical.flow import DISFlowEstimator, FarnebackFlowEstimator  # noqa: E402

CASES = {
    "pan 0.3, -0.2 px/frame": dict(velocity=(0.3, -0.2)),
    "pan 3, 1.5 px/frame": dict(velocity=(3.0, 1.5)),
    "pan 1, 0.5 px/frame, 48 frames": dict(velocity=(1.0, 0.5), frames=48),
    "zoom 1 %/frame + pan 1 px/frame": dict(velocity=(1.0, 0.0), zoom_per_frame=1.01),
}


def main() -> None:
    photo = cv2.resize(data.coffee(), (400, 300), interpolation=cv2.INTER_AREA)
    for name, options in CASES.items():
        options = dict(options)
        video, truth = moving_photo(photo, options.pop("frames", 24), size=(240, 320), **options)
        cells = []
        for cls in (DISFlowEstimator, FarnebackFlowEstimator):
            for strategy in ("hybrid", "direct", "chained"):
                start = time.process_time()
                flows = np.stack(list(cls(strategy=strategy).iter_flows(iter(video))))
                ms = (time.process_time() - start) / (len(video) - 1) * 1000
                cells.append(f"{cls.__name__[:3]}-{strategy} {median_epe(flows, truth):.3f} ({ms:.0f} ms/frame)")
        print(f"{name}: " + " | ".join(cells))


if __name__ == "__main__":
    main()
