"""A spec's backend hints reach the command line: they choose the backend and give options, the flags win."""

from __future__ import annotations

import numpy as np
import pytest

import motionkit as mk
from motionkit.cli import main
from motionkit.spec.document import BackendHints
from tests.helpers.images import write_photo


@pytest.fixture
def small_cat(tmp_path, cat_photo):
    path = tmp_path / "cat.png"
    write_photo(path, cat_photo, (120, 80))
    return path


def frames(folder) -> np.ndarray:
    return mk.Clip.read(folder).to_numpy()


def spec_file(tmp_path, hints: BackendHints):
    spec = mk.MotionSpec.from_pixels((80, 120), frames=4, drags=[[(60, 40), (75, 40)]], hints=hints)
    return spec.save(tmp_path / "spec.json"), spec


def test_hinted_renderer_options_are_used_and_a_flag_wins(small_cat, tmp_path):
    path, spec = spec_file(tmp_path, BackendHints(backend="classical", renderer_options={"fill": "stretch"}))
    assert main(["animate", str(small_cat), "--spec", str(path), "-o", str(tmp_path / "hinted/")]) == 0
    image = mk.Clip.read(small_cat).frame(0)
    stretched = mk.render(image, spec.compile(image), renderer="warp", fill="stretch").to_numpy()
    background = mk.render(image, spec.compile(image), renderer="warp").to_numpy()
    assert not np.array_equal(stretched, background)  # the option changes the picture
    np.testing.assert_array_equal(frames(tmp_path / "hinted"), stretched)


def test_a_hinted_option_no_component_uses_is_refused_by_the_option_rule(small_cat, tmp_path, capsys):
    path, _ = spec_file(tmp_path, BackendHints(renderer_options={"guidance": 7.5}))
    assert main(["animate", str(small_cat), "--spec", str(path), "-o", str(tmp_path / "x.mp4")]) == 1
    err = capsys.readouterr().err
    assert "guidance" in err and "renderer 'warp'" in err and not (tmp_path / "x.mp4").exists()


def test_the_hinted_backend_is_chosen(small_cat, tmp_path, capsys):
    path, _ = spec_file(tmp_path, BackendHints(backend="motion-i2v", predictor_options={"weights": str(tmp_path / "none")}))
    assert main(["animate", str(small_cat), "--spec", str(path), "-o", str(tmp_path / "x.mp4")]) == 1
    assert "convert-official" in capsys.readouterr().err  # the learned backend looked for its weights
    # ... and --backend overrides the hint (the hinted weights then belong to no chosen component).
    assert main(["animate", str(small_cat), "--spec", str(path), "--backend", "classical", "-o", str(tmp_path / "y.mp4")]) == 1
    assert "weights" in capsys.readouterr().err
