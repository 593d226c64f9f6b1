"""animate's --renderer and --model, and learned flags going only where they do something."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import motionkit as mk
from motionkit.cli import main
from tests.helpers.images import write_photo


class GrayRenderer(mk.Renderer):
    """Frame 0 is the image, every later frame is mid-gray."""

    def render(self, image, motion, mask=None, *, fps=8.0):
        frames = image[None].repeat(motion.frames, 1, 1, 1)
        frames[1:] = 0.5
        return mk.Clip.from_array(frames, fps=fps)


class Recorder:
    """A predictor or renderer that records the options it was made with (those it declares)."""

    made: list[tuple[str, dict]] = []

    def __init__(self, role: str, **options):
        Recorder.made.append((role, {k: v for k, v in options.items() if v is not None}))


class RecordingPredictor(Recorder, mk.MotionPredictor):
    def __init__(self, weights=None, seed=None):
        super().__init__("predictor", weights=weights, seed=seed)

    def predict(self, image, trajectories=(), mask=None, *, frames=None, size=None, prompt=None):
        return mk.MotionField.zeros(frames, size)


class RecordingRenderer(Recorder, GrayRenderer):
    def __init__(self, weights=None, seed=None, prompt=None):
        super().__init__("renderer", weights=weights, seed=seed, prompt=prompt)


@pytest.fixture
def cat_file(tmp_path, cat_photo):
    path = tmp_path / "cat.png"
    write_photo(path, cat_photo, (64, 42), cv2.INTER_LINEAR)
    return path


@pytest.fixture
def components(fresh_registry):
    Recorder.made = []
    fresh_registry.register("renderer", "gray", GrayRenderer)
    fresh_registry.register("predictor", "fake", RecordingPredictor)
    fresh_registry.register("renderer", "fake", RecordingRenderer)
    fresh_registry.register_backend("fake", predictor="fake", renderer="fake", shared_options=("weights", "seed", "prompt"))
    return fresh_registry


def test_renderer_is_any_registered_one_whatever_the_predictor(cat_file, tmp_path, components):
    out = tmp_path / "gray.gif"
    assert main(["animate", str(cat_file), "--drag", "30,20:34,18", "--frames", "3", "--renderer", "gray", "-o", str(out)]) == 0
    clip = mk.Clip.read(out)
    assert len(clip) == 3
    assert np.abs(clip.frame(2).astype(int) - 128).max() <= 2  # the plugin renderer made this frame
    assert np.abs(clip.frame(0).astype(int) - 128).max() > 20  # frame 0 is still the photo


@pytest.mark.parametrize("flag", ["--model", "--weights"])
def test_model_goes_to_every_learned_component_and_weights_is_its_alias(flag, cat_file, tmp_path, components):
    args = ["animate", str(cat_file), "--frames", "3", "--backend", "fake", flag, "w", "--seed", "3", "--prompt", "hi"]
    assert main([*args, "-o", str(tmp_path / "o.gif")]) == 0
    made = dict(Recorder.made)
    assert made["predictor"] == {"weights": Path("w"), "seed": 3}
    assert made["renderer"] == {"weights": made["predictor"]["weights"], "seed": 3, "prompt": "hi"}


def test_a_learned_predictor_may_feed_a_weight_free_renderer(cat_file, tmp_path, components):
    args = ["animate", str(cat_file), "--frames", "3", "--backend", "fake", "--renderer", "warp", "--model", "w"]
    assert main([*args, "-o", str(tmp_path / "o.gif")]) == 0
    assert [role for role, _ in Recorder.made] == ["predictor"]  # warp was given nothing it does not take
    assert len(mk.Clip.read(tmp_path / "o.gif")) == 3


def test_a_flag_no_chosen_component_takes_is_one_clear_error(cat_file, tmp_path, capsys, components):
    target = tmp_path / "x.mp4"
    assert main(["animate", str(cat_file), "--seed", "3", "-o", str(target)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("motionkit: error: option --seed is used by none of predictor 'sparse' + renderer 'warp'")
    assert "predictor 'motion-i2v' (backend 'motion-i2v')" in err and "renderer 'motion-i2v'" in err
    assert "predictor 'fake' (backend 'fake')" in err
    field = tmp_path / "f.npz"
    mk.MotionField.zeros(3, (42, 64)).save(field)
    assert main(["render", str(cat_file), str(field), "--model", "w", "--prompt", "p", "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert "options --model, --prompt are used by none of renderer 'warp'" in err
    users = err.split("--model is used by ", 1)[1].split(";")[0]
    assert "renderer 'fake'" in users and "renderer 'motion-i2v'" in users  # and any installed plugin's
    assert not target.exists()


@pytest.mark.parametrize("flags", [["--prompt", "a cat"], ["--steps", "4"], ["--seed", "1"]])
def test_learned_flags_on_the_classical_backend_are_refused_before_any_work(flags, cat_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(mk, "animate", lambda *a, **k: pytest.fail("animate ran although a flag was refused"))
    target = tmp_path / "x.mp4"
    assert main(["animate", str(cat_file), "--drag", "30,20:34,18", *flags, "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert f"option {flags[0]} is used by none of predictor 'sparse' + renderer 'warp'" in err
    assert "renderer 'motion-i2v'" in err and not target.exists()


def test_a_prompt_goes_to_the_learned_pair(cat_file, tmp_path, components):
    assert main(["animate", str(cat_file), "--frames", "3", "--backend", "fake", "--prompt", "waves", "-o", str(tmp_path / "o.gif")]) == 0
    assert dict(Recorder.made)["renderer"] == {"prompt": "waves"}


def test_missing_weights_given_by_model_names_the_folder(cat_file, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MOTIONKIT_MOTION_I2V_WEIGHTS", raising=False)
    missing = tmp_path / "no-weights"
    status = main(["animate", str(cat_file), "--backend", "motion-i2v", "--model", str(missing), "-o", str(tmp_path / "x.mp4")])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err and str(missing) in err


def test_plugins_lists_backends_as_pairs(components, capsys):
    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    backends = lines[lines.index("backend:") + 1 :]
    assert any(line.split() == ["classical", "(motionkit)", "sparse", "+", "warp"] for line in backends)
    assert any(line.split() == ["fake", "(plugin)", "fake", "+", "fake"] for line in backends)
