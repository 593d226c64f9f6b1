"""Plugin discovery end to end, installing nothing.

A plugin is any distribution with an entry point in the group ``motionkit.plugins``. Here a
``*.dist-info`` folder with an ``entry_points.txt`` is written to a temporary folder on the
import path, which is exactly what ``pip install`` leaves in site-packages, so
``importlib.metadata`` finds it the way it finds a real plugin.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from motionkit import registry

PLUGIN_MODULE = '''
"""A tiny motionkit plugin: a renderer that fades the image to gray along the clip."""
import torch

import motionkit as mk


class FadeRenderer(mk.Renderer):
    def render(self, image, motion, mask=None, *, fps=8.0):
        weights = torch.linspace(0.0, 1.0, motion.frames).view(-1, 1, 1, 1)
        frames = torch.lerp(image[None].expand(motion.frames, -1, -1, -1), torch.full_like(image, 0.5)[None], weights)
        return mk.Clip.from_array(frames, fps=fps)


def setup(register):
    register("renderer", "fade-to-gray", FadeRenderer)
    register("backend", "gray-fade", {"predictor": "sparse", "renderer": "fade-to-gray"})
'''

BROKEN_MODULE = '''
raise ImportError("mk_fade_broken needs libfancy, which is not installed")
'''

ENTRY_POINTS = """
[motionkit.plugins]
fade = mk_fade_plugin:setup
fancy = mk_fade_broken:setup
"""


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    """A folder holding two plugin modules and the dist-info that advertises them."""
    (tmp_path / "mk_fade_plugin.py").write_text(PLUGIN_MODULE, encoding="utf-8")
    (tmp_path / "mk_fade_broken.py").write_text(BROKEN_MODULE, encoding="utf-8")
    info = tmp_path / "mk_fade_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mk-fade-plugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(textwrap.dedent(ENTRY_POINTS), encoding="utf-8")
    return tmp_path


def test_cli_lists_a_working_plugin_as_loaded_and_a_broken_one_with_its_reason(plugin_dir):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "motionkit", "plugins"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    renderers = lines[lines.index("renderer:") + 1 : lines.index("flow_estimator:")]
    assert any(line.split()[:2] == ["fade-to-gray", "(fade)"] for line in renderers), result.stdout
    backends = lines[lines.index("backend:") + 1 : next(i for i, line in enumerate(lines) if line.startswith("plugins"))]
    assert ["gray-fade", "(fade)", "sparse", "+", "fade-to-gray"] in [line.split() for line in backends], result.stdout
    fade = next(line for line in lines if line.split()[:1] == ["fade"])
    fancy = next(line for line in lines if line.split()[:1] == ["fancy"])
    assert "mk_fade_plugin:setup" in fade and fade.rstrip().endswith("loaded")
    assert "FAILED" in fancy and "needs libfancy" in fancy


def test_a_discovered_plugin_renders_through_the_public_api(plugin_dir, fresh_registry, monkeypatch):
    import motionkit as mk

    monkeypatch.syspath_prepend(str(plugin_dir))
    assert "fade-to-gray" in mk.Renderer.available()
    image = torch.rand(3, 8, 12)
    clip = mk.Renderer.get("fade-to-gray").render(image, mk.MotionField.zeros(5, (8, 12)), fps=5)
    assert len(clip) == 5 and clip.fps == 5
    np.testing.assert_array_equal(clip.frame(0), mk.Clip.from_array(image[None]).frame(0))
    assert np.abs(clip.frame(4).astype(int) - 128).max() <= 1  # the last frame is gray
    # the plugin's backend works through animate like a built-in one
    animated = mk.animate(image, camera={"pan": (2.0, 0.0)}, frames=3, backend="gray-fade")
    assert np.abs(animated.frame(2).astype(int) - 128).max() <= 1
    failed = [status for status in fresh_registry.plugins() if not status.loaded]
    assert [status.name for status in failed] == ["fancy"] and "libfancy" in failed[0].error
    with pytest.raises(mk.errors.UnknownComponentError, match="failed to load"):
        mk.Renderer.get("fancy-renderer")
