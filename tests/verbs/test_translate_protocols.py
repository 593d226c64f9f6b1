"""translate through the public protocols: an edited motion, and plugin flow estimators of both kinds.

The plugin estimators report the true motion of a synthetic pan (the test knows it), one by
implementing only ``estimate`` (it materialises its field), one by streaming ``iter_flows``.
Both are registered through an entry point, as an installed plugin would be, and used by
``mk.translate`` and by ``python -m motionkit translate``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

import motionkit as mk

SIZE = (72, 96)
STEP = 2  # px per frame to the right
FRAMES = 6

PLUGIN = f'''
"""Two flow estimators that know the test video moves {STEP} px right per frame."""
import torch

import motionkit as mk

STEP = {STEP}


def pan(t, size):
    flow = torch.zeros(2, *size)
    flow[0] = STEP * t
    return flow


class EstimateOnly(mk.FlowEstimator):
    def estimate(self, clip):
        return mk.MotionField(torch.stack([pan(t, clip.size) for t in range(len(clip))]))


class Streaming(mk.FlowEstimator):
    def iter_flows(self, frames):
        for t, frame in enumerate(frames):
            yield pan(t, frame.shape[:2])


def setup(register):
    register("flow_estimator", "pan-estimate", EstimateOnly)
    register("flow_estimator", "pan-stream", Streaming)
'''


def textured(height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 255, (height // 4 + 1, width // 4 + 1, 3), np.uint8)
    return cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)


@pytest.fixture(scope="module")
def video() -> np.ndarray:
    """A texture panning STEP px right per frame, ``uint8 (FRAMES, H, W, 3)``."""
    big = textured(SIZE[0], SIZE[1] + STEP * FRAMES)
    return np.stack([big[:, STEP * (FRAMES - t) : STEP * (FRAMES - t) + SIZE[1]] for t in range(FRAMES)])


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    (tmp_path / "mk_pan_plugin.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "mk_pan_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mk-pan-plugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(textwrap.dedent("""
        [motionkit.plugins]
        pan = mk_pan_plugin:setup
    """), encoding="utf-8")
    return tmp_path


def shift_of(frame: np.ndarray, reference: np.ndarray) -> int:
    """How far right (px) the middle of ``reference`` is found in ``frame``, by template matching."""
    patch = reference[20:52, 30:62]
    scores = cv2.matchTemplate(frame, patch, cv2.TM_SQDIFF)
    _, _, (x, _), _ = cv2.minMaxLoc(scores)
    return x - 30


def test_motion_edit_halves_the_motion(video):
    out = mk.translate(mk.Clip.from_array(video, fps=6), video[0], motion_edit=lambda field: field * 0.5)
    frames = out.to_numpy()
    assert len(frames) == FRAMES and np.array_equal(frames[0], video[0])
    assert shift_of(video[-1], video[0]) == STEP * (FRAMES - 1)
    assert shift_of(frames[-1], video[0]) == STEP * (FRAMES - 1) // 2


@pytest.mark.parametrize("estimator", ["pan-estimate", "pan-stream"])
def test_plugin_estimators_work_through_translate(video, plugin_dir, fresh_registry, monkeypatch, estimator):
    monkeypatch.syspath_prepend(str(plugin_dir))
    clip = mk.Clip.from_array(video, fps=6)
    field = clip.estimate_motion(estimator)
    assert field.is_lazy == (estimator == "pan-stream")  # estimate-only materialises
    edited = np.ascontiguousarray(video[0][..., ::-1])
    out = mk.translate(clip, edited, estimator=estimator).to_numpy()
    # The edit rides along with the pan: frame t is the edited frame moved STEP * t right.
    t = FRAMES - 1
    np.testing.assert_allclose(out[t][:, STEP * t + 2 : -2].astype(int), edited[:, 2 : -STEP * t - 2].astype(int), atol=3)
    halved = mk.translate(clip, edited, estimator=estimator, motion_edit=lambda f: f * 0.5).to_numpy()
    assert shift_of(halved[t], edited) == STEP * t // 2


@pytest.mark.parametrize("estimator", ["pan-estimate", "pan-stream"])
def test_plugin_estimators_work_through_the_cli(video, plugin_dir, tmp_path, estimator):
    source, edited, out = tmp_path / "pan.mp4", tmp_path / "edited.png", tmp_path / f"{estimator}.mp4"
    mk.Clip.from_array(video, fps=6).write(source, quality=10)
    cv2.imwrite(str(edited), np.ascontiguousarray(video[0]))  # RGB written as BGR: a channel swap
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "motionkit", "translate", str(source), str(edited), "-o", str(out), "--estimator", estimator],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    frames = mk.Clip.read(out).to_numpy()
    assert len(frames) == FRAMES
    swapped = np.ascontiguousarray(video[0][..., ::-1])
    assert shift_of(frames[-1], swapped) == STEP * (FRAMES - 1)
