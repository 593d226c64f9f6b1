"""The TTM renderers through the command line, as a user runs them: installed plugin, saved model folder, --model."""

from __future__ import annotations

from importlib.metadata import entry_points

import numpy as np
import pytest

import motionkit as mk
from motionkit.cli import main

from conftest import pipeline_for

INSTALLED = any(ep.value == "motionkit_ttm:register" for ep in entry_points(group="motionkit.plugins"))
pytestmark = pytest.mark.skipif(not INSTALLED, reason="package not installed (pip install -e plugins/motionkit-ttm)")

#: renderer -> the tiny pipeline saved as its model folder, and extra flags.
BACKBONES = {
    "ttm-wan": ("wan-ti2v", ["--prompt", "a cat"]),
    "ttm-cogvideox": ("cogvideox", ["--prompt", "a cat"]),
    "ttm-ltx": ("ltx", ["--prompt", "a cat"]),
    "ttm-svd": ("svd", []),
}


@pytest.fixture(scope="module")
def cat_png(tmp_path_factory) -> str:
    from skimage import data

    path = tmp_path_factory.mktemp("cli") / "cat.png"
    mk.Clip.from_array(data.chelsea()[120:248:4, 180:308:4][None].copy()).write(path)
    return str(path)


@pytest.mark.parametrize("renderer", list(BACKBONES))
def test_animate_with_a_ttm_renderer_and_a_model_folder(renderer, cat_png, tmp_path):
    case, flags = BACKBONES[renderer]
    folder = tmp_path / f"{renderer}-model"
    pipeline_for(case).save_pretrained(folder)
    out = tmp_path / "out.mp4"
    status = main(["animate", cat_png, "--drag", "8,8:14,8", "--frames", "5", "--renderer", renderer,
                   "--model", str(folder), "--steps", "4", "--seed", "1", *flags, "-o", str(out)])
    assert status == 0
    clip = mk.Clip.read(out)
    assert len(clip) == 5 and clip.size == (32, 32)
    assert not np.array_equal(clip.frame(4), clip.frame(0))


def test_a_missing_model_folder_is_one_line_naming_it(cat_png, tmp_path, capsys):
    missing = tmp_path / "no-wan-here"
    status = main(["animate", cat_png, "--drag", "8,8:14,8", "--frames", "5", "--renderer", "ttm-wan",
                   "--model", str(missing), "-o", str(tmp_path / "x.mp4")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status != 0 and any("no-wan-here" in line for line in err)


def test_plugins_lists_every_ttm_renderer_with_its_package_and_version(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    for name in BACKBONES:
        line = next(line for line in out.splitlines() if line.strip().startswith(name + " "))
        assert line.split()[1:] == ["(ttm)", "motionkit-ttm", "0.1.0"], line
