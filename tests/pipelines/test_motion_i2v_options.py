"""The learned components' options come from one table, MotionI2VOptions: signatures, sharing, refusals."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch

from motionkit.errors import InvalidInputError
from motionkit.pipelines.motion_i2v import MotionI2VPredictor, MotionI2VRenderer
from motionkit.pipelines.motion_i2v.options import MotionI2VOptions

FAST = dict(steps=2, seed=0, device="cpu")


@pytest.mark.parametrize("cls, role", [(MotionI2VPredictor, "predictor"), (MotionI2VRenderer, "renderer")])
def test_constructor_keywords_are_the_options_of_its_role(cls, role):
    parameters = inspect.signature(cls.__init__).parameters
    assert list(parameters)[:4] == ["self", "weights", "pipeline", "options"]
    assert tuple(parameters)[4:] == tuple(n for n in MotionI2VOptions.names(role) if n != "weights")
    defaults = {f.name: f.default for f in dataclasses.fields(MotionI2VOptions)}
    assert all(parameters[name].default == defaults[name] for name in tuple(parameters)[4:])


def test_stage_specific_options_belong_to_one_stage():
    predictor, renderer = set(MotionI2VOptions.names("predictor")), set(MotionI2VOptions.names("renderer"))
    assert {"strides", "stride_step", "flow_unit"} <= predictor - renderer
    assert {"prompt", "overlap"} <= renderer - predictor


def test_shared_options_are_what_the_predictor_hands_the_renderer():
    # The names animate (and the registry's backend pair) pass from predictor_options to the renderer.
    assert MotionI2VOptions.SHARED == ("weights", "steps", "guidance", "negative_prompt", "eta", "seed", "resolution",
                                       "max_area", "dtype", "device", "cpu_offload", "vae_tiling", "progress")
    assert set(MotionI2VOptions.SHARED) <= set(MotionI2VOptions.names("predictor")) & set(MotionI2VOptions.names("renderer"))
    # a generator's state or a per-stage callback is not handed on: they mean something per stage
    assert {"generator", "callback", "window"}.isdisjoint(MotionI2VOptions.SHARED)


def test_values_are_checked_and_normalised_once():
    options = MotionI2VOptions(steps=3.0, dtype="bf16", device="cpu", strides=[8, 16])
    assert options.steps == 3 and options.dtype == torch.bfloat16 and options.device == torch.device("cpu")
    assert options.strides == (8, 16)
    assert dataclasses.replace(options, steps=5).dtype == torch.bfloat16
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.steps = 4
    for bad in ({"steps": 0}, {"guidance": float("nan")}, {"resolution": (70, 100)}, {"dtype": "int8"}):
        with pytest.raises(InvalidInputError):
            MotionI2VOptions(**bad)


def test_components_refuse_options_of_the_other_stage_and_unknown_ones(flow_generator, animator):
    with pytest.raises(InvalidInputError, match="'prompt'.*an option of the renderer"):
        MotionI2VPredictor(pipeline=flow_generator, prompt="a cat")
    with pytest.raises(InvalidInputError, match="'strides'.*an option of the predictor"):
        MotionI2VRenderer(pipeline=animator, strides=[8, 16])
    with pytest.raises(InvalidInputError, match="no option 'stepz'.*steps"):
        MotionI2VRenderer(pipeline=animator, stepz=3)


def test_an_options_object_and_keywords_combine(animator):
    base = MotionI2VOptions(**FAST, prompt="waves", window=8)
    renderer = MotionI2VRenderer(pipeline=animator, options=base, steps=3)
    assert renderer.options.steps == 3 and renderer.options.prompt == "waves" and renderer.options.window == 8
    assert base.steps == 2  # the given object is not changed
    assert MotionI2VRenderer(pipeline=animator, options=base).options is base


def test_the_registry_pair_shares_exactly_these_options_and_animate_s_prompt():
    # The registry sits below the pipelines and keeps its own tuple (importing this table would
    # pull torch into `import motionkit`); this keeps the two in step.
    from motionkit import registry

    shared = registry.backend("motion-i2v").shared_options
    assert set(shared) == set(MotionI2VOptions.SHARED) | {"prompt"}
    assert set(shared) <= set(MotionI2VOptions.names("renderer"))
