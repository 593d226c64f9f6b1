"""Flags reach everything a spec holds and every option a component takes: 3D camera keys, --predictor/--renderer-option."""

from __future__ import annotations

import numpy as np
import pytest

import motionkit as mk
from motionkit.cli import main
from motionkit.cli.parse import parse_camera
from motionkit.errors import InvalidInputError
from tests.helpers.images import write_photo


@pytest.fixture(scope="module")
def small_cat(tmp_path_factory, cat_photo):
    path = tmp_path_factory.mktemp("spec_flags") / "cat.png"
    write_photo(path, cat_photo, (120, 80))
    return path


def test_camera_flags_key_3d_moves_with_easing(small_cat, tmp_path):
    flags = ["--camera", "orbit=6@3", "--camera", "orbit=0", "--camera", "dolly=0.1@3", "--camera", "easing=ease-in-out@3",
             "--camera", "fov=40", "--camera", "center=50,40", "--frames", "5"]
    assert main(["animate", str(small_cat), *flags, "--save-spec", str(tmp_path / "s.json")]) == 0
    camera = mk.MotionSpec.load(tmp_path / "s.json").camera
    assert [k.t for k in camera.keyframes] == [0, 3, 4]
    assert [k.orbit for k in camera.keyframes] == [0, 6, 0] and [k.dolly for k in camera.keyframes] == [0, 0.1, 0.1]
    assert camera.keyframes[0].easing == "ease-in-out" and camera.keyframes[1].easing == "linear"   # arriving at frame 3
    assert camera.field_of_view == 40 and camera.center == pytest.approx((50.5 / 120, 40.5 / 80))


def test_camera_flags_with_a_depth_map_give_parallax(small_cat, tmp_path):
    depth = np.ones((80, 120), np.float32)
    depth[:, 60:] = 4.0                                                 # left half near, right half far
    np.save(tmp_path / "depth.npy", depth)
    # --save-motion without -o predicts the motion only (stage 1, mk.predict_motion).
    assert main(["animate", str(small_cat), "--camera", "pedestal=0.05", "--depth", str(tmp_path / "depth.npy"),
                 "--frames", "3", "--save-motion", str(tmp_path / "m.npz"), "--save-spec", str(tmp_path / "s.json")]) == 0
    field = mk.MotionField.load(tmp_path / "m.npz")
    dy = field.flow[-1, 1].numpy()
    assert dy[40, 20] > 2 * dy[40, 100] > 0                             # content slides down, near content fastest
    image = mk.Clip.read(small_cat).frame(0)
    again = mk.MotionSpec.load(tmp_path / "s.json").compile(image, depth=tmp_path / "depth.npy")
    assert np.array_equal(again.flow.numpy(), field.flow.numpy())


@pytest.mark.parametrize("text", ["orbit=x", "dolly=1", "fov=0", "center=1,2@3", "easing=bouncy", "truck=1@0", "orbit=1@2@3"])
def test_bad_camera_flags_are_refused(text):
    with pytest.raises(InvalidInputError, match="--camera"):
        parse_camera([text])


def test_option_flags_reach_the_components_and_the_spec(small_cat, tmp_path):
    flags = ["--drag", "70,56:82,50", "--frames", "4", "--predictor-option", "radius=30", "--predictor-option", "mode=elastic",
             "--renderer-option", "fill=stretch"]
    assert main(["animate", str(small_cat), *flags, "-o", str(tmp_path / "out/"), "--save-motion", str(tmp_path / "m.npz"),
                 "--save-spec", str(tmp_path / "s.json")]) == 0
    spec = mk.MotionSpec.load(tmp_path / "s.json")
    assert spec.hints.predictor_options == {"radius": 30, "mode": "elastic"} and spec.hints.renderer_options == {"fill": "stretch"}
    image = mk.Clip.read(small_cat).frame(0)
    bare = spec.with_changes(hints=mk.MotionSpec.model_fields["hints"].default)
    motion = bare.compile(image, radius=30, mode="elastic")
    assert np.array_equal(mk.MotionField.load(tmp_path / "m.npz").flow.numpy(), motion.flow.numpy())
    assert not np.array_equal(bare.compile(image, mode="elastic").flow.numpy(), motion.flow.numpy())   # radius mattered
    rendered = mk.render(image, motion, renderer="warp", fill="stretch").to_numpy()
    np.testing.assert_array_equal(mk.Clip.read(tmp_path / "out").to_numpy(), rendered)


def test_an_option_no_component_takes_is_refused_naming_its_flag(small_cat, tmp_path, capsys):
    assert main(["animate", str(small_cat), "--drag", "70,56:82,50", "--renderer-option", "guidance=7",
                 "-o", str(tmp_path / "x.mp4")]) == 1
    err = capsys.readouterr().err
    assert "--renderer-option guidance" in err and "renderer 'warp'" in err and not (tmp_path / "x.mp4").exists()
    assert main(["animate", str(small_cat), "--drag", "70,56:82,50", "--predictor-option", "radius", "-o", str(tmp_path / "y.mp4")]) == 1
    assert "KEY=VALUE" in capsys.readouterr().err
