"""The option rule in the verbs: a prompt (or option) nothing in the pipeline reads is refused before any work."""

from __future__ import annotations

import pytest
import torch

import motionkit as mk
from motionkit.errors import UnusedOptionError

SIZE = (24, 32)
pytestmark = pytest.mark.filterwarnings("ignore::motionkit.errors.MotionkitWarning")  # these fakes move nothing


class PromptPredictor(mk.MotionPredictor):
    """Reads a prompt per call; moves nothing."""

    prompts: list = []

    def predict(self, image, trajectories=(), mask=None, *, frames=None, size=None, prompt=None):
        PromptPredictor.prompts.append(prompt)
        return mk.MotionField.zeros(frames or 3, tuple(image.shape[-2:]))


class PerCallPromptRenderer(mk.Renderer):
    """Takes the prompt in render(), as motion-i2v's renderer can."""

    prompts: list = []

    def render(self, image, motion, mask=None, *, fps=8.0, prompt=None):
        PerCallPromptRenderer.prompts.append(prompt)
        return mk.Clip.from_image(image, frames=motion.frames, fps=fps)


class BuiltPromptRenderer(mk.Renderer):
    """Takes the prompt when built (as Time-to-Move renderers on Wan do)."""

    made: list = []

    def __init__(self, prompt: str = ""):
        BuiltPromptRenderer.made.append(prompt)

    def render(self, image, motion, mask=None, *, fps=8.0):
        return mk.Clip.from_image(image, frames=motion.frames, fps=fps)


@pytest.fixture
def prompted(fresh_registry):
    PromptPredictor.prompts, PerCallPromptRenderer.prompts, BuiltPromptRenderer.made = [], [], []
    fresh_registry.register("predictor", "prompted", PromptPredictor)
    fresh_registry.register("renderer", "per-call", PerCallPromptRenderer)
    fresh_registry.register("renderer", "built", BuiltPromptRenderer)
    return fresh_registry


def test_a_prompt_on_the_classical_backend_is_refused_before_any_work(monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the predictor ran although the prompt was refused")

    from motionkit.classical.densify import SparsePredictor

    monkeypatch.setattr(SparsePredictor, "predict", no_work)
    with pytest.raises(UnusedOptionError) as caught:
        mk.animate(torch.rand(3, *SIZE), [mk.Trajectory.line((5, 5), (9, 5), frames=3)], prompt="a cat")
    message = str(caught.value)
    assert "option 'prompt' is used by none of predictor 'sparse' + renderer 'warp'" in message
    assert "predictor 'motion-i2v'" in message and "renderer 'motion-i2v'" in message
    with pytest.raises(UnusedOptionError, match="predictor 'sparse'"):
        mk.predict_motion(torch.rand(3, *SIZE), prompt="a cat")
    with pytest.raises(UnusedOptionError, match="renderer 'warp'"):
        mk.render(torch.rand(3, *SIZE), mk.MotionField.zeros(3, SIZE), prompt="a cat")


def test_the_prompt_reaches_each_component_that_reads_it(prompted):
    mk.animate(torch.rand(3, *SIZE), frames=3, predictor="prompted", renderer="per-call", prompt="waves")
    assert PromptPredictor.prompts == ["waves"] and PerCallPromptRenderer.prompts == ["waves"]
    # A prompt only the renderer reads is fine, and goes to its constructor when it takes it there.
    mk.animate(torch.rand(3, *SIZE), frames=3, renderer="built", prompt="clouds")
    assert BuiltPromptRenderer.made == ["clouds"]
    mk.render(torch.rand(3, *SIZE), mk.MotionField.zeros(3, SIZE), renderer="built", prompt="rain")
    assert BuiltPromptRenderer.made == ["clouds", "rain"]


def test_no_prompt_is_passed_where_none_was_given(prompted):
    mk.animate(torch.rand(3, *SIZE), frames=3, predictor="prompted", renderer="built")
    assert PromptPredictor.prompts == [None] and BuiltPromptRenderer.made == [""]


def test_a_constructor_option_the_component_lacks_is_refused_with_who_takes_it():
    with pytest.raises(UnusedOptionError, match="renderer 'warp' takes no option 'seed'.*renderer 'motion-i2v'"):
        mk.animate(torch.rand(3, *SIZE), frames=3, renderer_options={"seed": 1})
    with pytest.raises(UnusedOptionError, match="predictor 'sparse' takes no option 'steps'"):
        mk.predict_motion(torch.rand(3, *SIZE), steps=4)
