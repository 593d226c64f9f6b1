"""One local Ray (2 CPUs) for the batch tests, and the inputs of a mixed JOBS file made once."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="batch runs need Ray: pip install 'motionkit[batch]'")

import motionkit as mk


@pytest.fixture(scope="package")
def local_ray():
    """A local Ray of 2 CPUs for the whole package (starting one takes ~20 s; do it once)."""
    # Workers import motionkit from this tree, as the test process does.
    root = str(Path(__file__).resolve().parents[2])
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="package")
def inputs(tmp_path_factory, cat_photo) -> Path:
    """A folder with a small photo, a spec, a saved field, a video with its edited frame 0, a corrupt image."""
    import cv2

    folder = tmp_path_factory.mktemp("batch_inputs")
    photo = cv2.resize(cat_photo, (160, 106), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(folder / "cat.png"), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    spec = mk.MotionSpec.from_pixels((106, 160), frames=6, fps=8, drags=[[(80, 50), (90, 52)]])
    spec.save(folder / "spec.json")
    spec.compile(str(folder / "cat.png")).save(folder / "motion.npz")
    mk.render(str(folder / "cat.png"), spec.compile(str(folder / "cat.png")), fps=8).write(folder / "shot.mp4")
    edited = mk.Clip.read(folder / "shot.mp4").frame(0).copy()
    edited[20:60, 30:90] = 255 - edited[20:60, 30:90]  # a visible edit on frame 0
    cv2.imwrite(str(folder / "shot_frame0.png"), cv2.cvtColor(edited, cv2.COLOR_RGB2BGR))
    rng = np.random.default_rng(0)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 300, dtype=np.uint8).tobytes())
    return folder
