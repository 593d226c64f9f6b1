"""Every option the Python API has is reachable from the command line, through a flag or the spec.

Two audits that fail when something new is not: every argument of the verbs ``animate``,
``render``, ``predict_motion`` and ``check`` is mapped to the flag that reaches it (and that flag
exists), and every constructor option of every registered component (plugins included) gets
through the generic ``--predictor-option`` / ``--renderer-option`` / ``--estimator-option``
flags into the spec's hints or the verb, unless its value is a live Python object
(:data:`motionkit.cli.options.PYTHON_ONLY`).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import typer

import motionkit as mk
from motionkit.cli import main
from motionkit.cli.app import app
from motionkit.cli.options import PYTHON_ONLY
from tests.helpers.images import write_photo

#: Verb -> argument -> (command, the flags or arguments that reach it).
REACH = {
    "animate": {
        "image": ("animate", ["IMAGE"]), "trajectories": ("animate", ["--drag", "--pin", "--spec"]),
        "brush": ("animate", ["--brush"]), "camera": ("animate", ["--camera"]), "frames": ("animate", ["--frames"]),
        "fps": ("animate", ["--fps"]), "predictor": ("animate", ["--predictor"]), "renderer": ("animate", ["--renderer"]),
        "backend": ("animate", ["--backend"]), "prompt": ("animate", ["--prompt"]),
        "predictor_options": ("animate", ["--predictor-option", "--model", "--seed", "--steps"]),
        "renderer_options": ("animate", ["--renderer-option"]),
        # A function edits the field in Python; on the command line: save it, edit it, render it.
        "motion_edit": ("animate", ["--save-motion"]),
        "spec": ("animate", ["--spec"]), "depth": ("animate", ["--depth"]),
    },
    "render": {
        "image": ("render", ["IMAGE"]), "motion": ("render", ["FIELD"]), "brush": ("render", ["--brush"]),
        "renderer": ("render", ["--renderer"]), "fps": ("render", ["--fps"]), "prompt": ("render", ["--prompt"]),
        "options": ("render", ["--renderer-option", "--model", "--seed", "--steps"]),
    },
    # Stage 1 alone is `animate ... --save-motion M.npz` without -o.
    "predict_motion": {
        "image": ("animate", ["IMAGE"]), "trajectories": ("animate", ["--drag", "--pin", "--spec"]),
        "brush": ("animate", ["--brush"]), "camera": ("animate", ["--camera"]), "frames": ("animate", ["--frames"]),
        "predictor": ("animate", ["--predictor"]), "prompt": ("animate", ["--prompt"]), "depth": ("animate", ["--depth"]),
        "options": ("animate", ["--predictor-option"]),
    },
    "check": {
        "video": ("check", ["VIDEO"]), "spec": ("check", ["--spec"]), "estimator": ("check", ["--estimator"]),
        "overlay": ("check", ["--overlay"]), "refine": ("check", ["--refine", "--no-refine"]),
        "depth": ("check", ["--depth"]), "options": ("check", ["--estimator-option"]),
    },
}


def command_flags(name: str) -> set[str]:
    command = typer.main.get_command(app).commands[name]
    flags = set()
    for param in command.params:
        flags.update(param.opts + param.secondary_opts)
        if param.param_type_name == "argument":
            flags.add(param.name.upper())
    return flags


@pytest.mark.parametrize("verb", sorted(REACH))
def test_every_argument_of_the_verbs_has_a_flag(verb):
    parameters = set(inspect.signature(getattr(mk, verb)).parameters)
    assert parameters == set(REACH[verb]), f"map the new arguments of mk.{verb} to the flags that reach them"
    for argument, (command, flags) in REACH[verb].items():
        missing = set(flags) - command_flags(command)
        assert not missing, f"mk.{verb}({argument}=) is said to be reached by {missing}, which `motionkit {command}` lacks"


def reachable(kind: str, name: str) -> list[str]:
    return sorted(o for o in mk.registry.accepts(kind, name).options if o not in PYTHON_ONLY)


@pytest.fixture(scope="module")
def tiny_image(tmp_path_factory, cat_photo):
    path = tmp_path_factory.mktemp("reach") / "cat.png"
    write_photo(path, cat_photo, (48, 32))
    return path


@pytest.mark.parametrize("kind", ["predictor", "renderer"])
def test_every_component_option_reaches_the_spec_through_the_generic_flags(kind, tiny_image, tmp_path):
    for name in sorted(mk.registry.available()[kind]):
        options = reachable(kind, name)
        if mk.registry.accepts(kind, name).any_option:
            continue  # takes any keyword: nothing to enumerate
        flags = [f for option in options for f in (f"--{kind}-option", f"{option}=1")]
        saved = tmp_path / f"{kind}-{name}.json"
        assert main(["animate", str(tiny_image), "--backend", "classical", f"--{kind}", name, *flags,
                     "--save-spec", str(saved)]) == 0, f"{kind} {name!r}: an option was refused"
        hints = mk.MotionSpec.load(saved).hints
        assert sorted(getattr(hints, f"{kind}_options")) == options


def test_python_only_options_are_live_objects():
    # The list is short on purpose: anything else a component takes must be JSON-shaped.
    assert set(PYTHON_ONLY) == {"callback", "generator", "pipeline", "options"}


def test_renderer_options_reach_render_and_estimator_options_reach_check(tiny_image, tmp_path, monkeypatch):
    seen = {}

    def fake_render(image, motion, **kwargs):
        seen["render"] = kwargs
        return mk.Clip.from_array(np.zeros((2, 32, 48, 3), np.uint8), fps=8)

    class FakeReport:
        worst_epe = 0.0

        def table(self):
            return "table"

    def fake_check(video, spec, **kwargs):
        seen["check"] = kwargs
        return FakeReport()

    monkeypatch.setattr(mk, "render", fake_render)
    monkeypatch.setattr(mk, "check", fake_check)
    mk.MotionField.camera(pan=(2, 0), frames=2, size=(32, 48)).save(tmp_path / "m.npz")
    warp = reachable("renderer", "warp")
    assert main(["render", str(tiny_image), str(tmp_path / "m.npz"), "-o", str(tmp_path / "o/"),
                 *[f for o in warp for f in ("--renderer-option", f"{o}=1")]]) == 0
    assert sorted(set(seen["render"]) - {"brush", "renderer", "fps"}) == warp
    spec = mk.MotionSpec.from_pixels((32, 48), frames=2).save(tmp_path / "s.json")
    for estimator in sorted(mk.registry.available()["flow_estimator"]):
        options = reachable("flow_estimator", estimator)
        assert main(["check", str(tmp_path / "o"), "--spec", str(spec), "--estimator", estimator, "--no-refine",
                     *[f for o in options for f in ("--estimator-option", f"{o}=1")]]) == 0
        assert seen["check"]["refine"] is False and sorted(set(seen["check"]) - {"estimator", "overlay", "refine", "depth"}) == options
    assert main(["check", str(tmp_path / "o"), "--spec", str(spec), "--estimator-option", "guidance=1"]) == 1
