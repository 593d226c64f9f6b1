"""animate reads backend pairs from the registry: which components run, and what they share."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import motionkit as mk
from motionkit.errors import InvalidInputError, ShapeMismatchError

SIZE = (24, 32)


class RecordingPredictor(mk.MotionPredictor):
    """Moves everything right by 2 px per frame and remembers how it was made and called."""

    made: list[dict] = []
    prompts: list = []

    def __init__(self, **options):
        RecordingPredictor.made.append(options)

    def predict(self, image, trajectories=(), mask=None, *, frames=None, size=None, prompt=None):
        RecordingPredictor.prompts.append(prompt)
        return mk.MotionField.camera(pan=(2.0 * ((frames or 4) - 1), 0.0), frames=frames or 4, size=size)


class RecordingRenderer(mk.Renderer):
    """Repeats the image and remembers its options and the mask it was given."""

    made: list[dict] = []
    masks: list = []

    def __init__(self, **options):
        RecordingRenderer.made.append(options)

    def render(self, image, motion, mask=None, *, fps=8.0):
        RecordingRenderer.masks.append(mask)
        return mk.Clip.from_image(image, frames=motion.frames, fps=fps)


@pytest.fixture
def learned(fresh_registry):
    """A plugin-style learned backend: ``fake`` = recording predictor + renderer sharing weights, seed, prompt."""
    for recorder in (RecordingPredictor, RecordingRenderer):
        recorder.made = []
    RecordingPredictor.prompts, RecordingRenderer.masks = [], []
    fresh_registry.register("predictor", "fake", RecordingPredictor)
    fresh_registry.register("renderer", "fake", RecordingRenderer)
    fresh_registry.register_backend("fake", predictor="fake", renderer="fake", shared_options=("weights", "seed", "prompt"))
    return fresh_registry


def image() -> torch.Tensor:
    return torch.rand(3, *SIZE)


def test_a_backend_pair_shares_its_options_and_the_prompt(learned):
    mk.animate(image(), frames=3, backend="fake", prompt="a cat", predictor_options={"weights": "w", "seed": 1, "other": 2})
    assert RecordingPredictor.made == [{"weights": "w", "seed": 1, "other": 2}]
    assert RecordingPredictor.prompts == ["a cat"]
    assert RecordingRenderer.made == [{"weights": "w", "seed": 1, "prompt": "a cat"}]


def test_renderer_options_win_over_shared_ones(learned):
    mk.animate(image(), frames=3, backend="fake", predictor_options={"seed": 1}, renderer_options={"seed": 9})
    assert RecordingRenderer.made == [{"seed": 9}]


def test_the_pair_not_the_backend_name_decides_what_is_shared(learned):
    # The same two components named one by one still form the `fake` backend ...
    mk.animate(image(), frames=3, predictor="fake", renderer="fake", predictor_options={"seed": 1})
    assert RecordingRenderer.made == [{"seed": 1}]
    # ... and any renderer may follow the learned predictor, sharing nothing it does not take.
    clip = mk.animate(image(), frames=3, backend="fake", renderer="warp", predictor_options={"seed": 1}, prompt="p")
    assert len(clip) == 3 and len(RecordingRenderer.made) == 1


def test_classical_is_the_default_and_warp_follows_the_pair(learned):
    clip = mk.animate(image(), frames=4, predictor="fake")
    assert len(clip) == 4 and RecordingPredictor.made == [{}] and RecordingRenderer.made == []
    # warp rendered the recording predictor's 2 px/frame pan: a column moved right by 6 px
    frame0, last = clip.frame(0).astype(int), clip.frame(3).astype(int)
    np.testing.assert_allclose(last[4:-4, 12], frame0[4:-4, 6], atol=2)


def test_a_camera_move_turns_off_the_render_mask_only(learned):
    brush = mk.RegionMask.from_polygon([(4, 4), (20, 4), (20, 20), (4, 20)], size=SIZE)
    mk.animate(image(), frames=3, backend="fake", brush=brush)
    mk.animate(image(), frames=3, backend="fake", brush=brush, camera={"zoom": 1.1})
    assert isinstance(RecordingRenderer.masks[0], mk.RegionMask) and RecordingRenderer.masks[1] is None


def test_motion_edit_sees_the_predicted_field_and_its_result_is_rendered():
    seen = []

    def halve(field: mk.MotionField) -> mk.MotionField:
        seen.append(field)
        return field * 0.5

    picture = (torch.rand(3, *SIZE) * 255).round() / 255
    clip = mk.animate(picture, camera={"pan": (8.0, 0.0)}, frames=3, motion_edit=halve)
    expected = mk.render(picture, seen[0] * 0.5, fps=8.0)
    assert seen[0].frames == 3
    np.testing.assert_array_equal(clip.to_numpy(), expected.to_numpy())


def test_render_checks_sizes_and_unknown_backends_are_refused(learned):
    with pytest.raises(ShapeMismatchError, match="motion field is 16x8"):
        mk.render(image(), mk.MotionField.zeros(3, (8, 16)))
    with pytest.raises(ShapeMismatchError, match="brush"):
        mk.render(image(), mk.MotionField.zeros(3, SIZE), brush=mk.RegionMask.full((4, 4)))
    with pytest.raises(InvalidInputError, match="unknown backend 'magic'.*classical, fake, motion-i2v"):
        mk.animate(image(), backend="magic")
