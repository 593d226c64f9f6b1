"""``mk.animate(image, spec=...)`` makes the frames ``motionkit animate IMAGE --spec`` makes; camera moves in 3D from Python."""

from __future__ import annotations

import numpy as np
import pytest

import motionkit as mk
from motionkit.cli import main
from motionkit.spec.document import BackendHints
from tests.helpers.images import write_photo


@pytest.fixture(scope="module")
def small_cat(tmp_path_factory, cat_photo):
    path = tmp_path_factory.mktemp("animate_spec") / "cat.png"
    write_photo(path, cat_photo, (120, 80))
    return path


def frames(folder) -> np.ndarray:
    return mk.Clip.read(folder).to_numpy()


def shot() -> mk.MotionSpec:
    return mk.MotionSpec.from_pixels((80, 120), frames=5, fps=10, drags=[[(70, 56), (82, 50)]], pins=[(15, 70)],
                                     camera={"zoom": 1.04}, hints=BackendHints(renderer_options={"fill": "stretch"}))


def test_animate_with_a_spec_gives_the_frames_of_the_cli(small_cat, tmp_path):
    path = shot().save(tmp_path / "cat.json")
    assert main(["animate", str(small_cat), "--spec", str(path), "-o", str(tmp_path / "cli/")]) == 0
    clip = mk.animate(small_cat, spec=path)
    assert clip.fps == 10 and len(clip) == 5
    np.testing.assert_array_equal(clip.to_numpy(), frames(tmp_path / "cli"))
    # The hinted fill is used: without it the frames differ.
    plain = mk.animate(small_cat, spec=shot().with_changes(hints=BackendHints()))
    assert not np.array_equal(plain.to_numpy(), clip.to_numpy())


def test_explicit_arguments_override_the_spec_like_flags(small_cat, tmp_path):
    path = shot().save(tmp_path / "cat.json")
    assert main(["animate", str(small_cat), "--spec", str(path), "--frames", "7", "--fps", "12", "--drag", "30,20:30,30",
                 "--renderer-option", "fill=background", "-o", str(tmp_path / "cli/")]) == 0
    drag = mk.MotionSpec.from_pixels((80, 120), frames=7, drags=[[(30, 20), (30, 30)]]).trajectories_at((80, 120))[0]
    clip = mk.animate(small_cat, [drag], spec=shot(), frames=7, fps=12, renderer_options={"fill": "background"})
    assert clip.fps == 12 and len(clip) == 7
    np.testing.assert_array_equal(clip.to_numpy(), frames(tmp_path / "cli"))


def test_a_spec_and_a_camera_field_do_not_mix(small_cat):
    field = mk.MotionField.camera(pan=(3, 0), frames=5, size=(80, 120))
    with pytest.raises(mk.errors.InvalidInputError, match="camera"):
        mk.animate(small_cat, spec=shot().with_changes(camera=None), camera=field)
    with pytest.raises(mk.errors.UnusedOptionError, match="guidance"):
        mk.animate(small_cat, spec=shot(), renderer_options={"guidance": 7.0})


def test_animate_takes_3d_camera_moves_with_parallax():
    # A near left half (depth 1) and a far right half (depth 4): trucking right moves near content most.
    image = np.full((40, 60, 3), 128, np.uint8)
    depth = np.ones((40, 60), np.float32)
    depth[:, 30:] = 4.0
    clip_flat = mk.predict_motion(image, camera={"truck": 0.05}, frames=3)
    clip_deep = mk.predict_motion(image, camera={"truck": 0.05}, frames=3, depth=depth)
    flat, deep = clip_flat.flow[-1, 0].numpy(), clip_deep.flow[-1, 0].numpy()
    assert np.allclose(flat[:, 5], flat[:, 55], atol=0.05) and flat[20, 5] < -0.5      # a flat plane: one slide, to the left
    assert deep[20, 5] < 2 * deep[20, 55] < 0                                           # near moves more than far
    keyed = mk.predict_motion(image, camera={"keys": [{"t": 2, "orbit": 6.0}], "orbit": 0.0}, frames=5)
    there_and_back = keyed.flow[:, 0, 20, 5].abs()
    assert there_and_back[2] > 0.5 and there_and_back[4] < 1e-4                         # orbit out at frame 2, back by 4


def test_an_unknown_camera_move_is_named_not_a_type_error():
    image = np.full((20, 30, 3), 100, np.uint8)
    with pytest.raises(mk.errors.InvalidInputError, match="tilt"):
        mk.animate(image, camera={"tilt": 3}, frames=3)
