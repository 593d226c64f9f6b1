"""The CLI end to end on small inputs, as a user runs it."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

import motionkit as mk
from motionkit.cli import main
from tests.helpers.images import write_photo


@pytest.fixture(scope="module")
def cat_file(tmp_path_factory, cat_photo):
    path = tmp_path_factory.mktemp("cli") / "cat.png"
    write_photo(path, cat_photo, (160, 106), cv2.INTER_LINEAR)
    return path


def test_animate_writes_video_motion_and_preview(cat_file, tmp_path):
    out, field, preview = tmp_path / "a.mp4", tmp_path / "m.npz", tmp_path / "p.mp4"
    status = main([
        "animate", str(cat_file), "--drag", "94,84:104,78", "--pin", "20,95", "--frames", "6",
        "-o", str(out), "--save-motion", str(field), "--motion-preview", str(preview),
    ])
    assert status == 0
    clip = mk.Clip.read(out)
    assert len(clip) == 6 and clip.size == (106, 160)
    motion = mk.MotionField.load(field)
    # the dragged point's displacement in the last frame is the drag
    np.testing.assert_allclose(motion.flow[-1, :, 84, 94].numpy(), [10.0, -6.0], atol=1.0)
    assert len(mk.Clip.read(preview)) == 6


def test_render_a_saved_edited_field(cat_file, tmp_path):
    field = mk.MotionField.camera(pan=(8.0, 0.0), frames=4, size=(106, 160)) * 0.5
    field.save(tmp_path / "f.npz")
    assert main(["render", str(cat_file), str(tmp_path / "f.npz"), "-o", str(tmp_path / "r.gif")]) == 0
    assert len(mk.Clip.read(tmp_path / "r.gif")) == 4


def test_motion_and_translate_on_a_video(cat_file, tmp_path):
    image = mk.Clip.read(cat_file).frame(0)
    frames = np.stack([np.roll(image, shift=t, axis=1) for t in range(5)])
    mk.Clip.from_array(frames, fps=5).write(tmp_path / "v.mp4")
    edited = tmp_path / "edited.png"
    cv2.imwrite(str(edited), 255 - cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert main(["motion", str(tmp_path / "v.mp4"), "-o", str(tmp_path / "v.npz"), "--visualize", str(tmp_path / "flow.mp4")]) == 0
    field = mk.MotionField.load(tmp_path / "v.npz")
    assert field.frames == 5
    assert np.median(field.flow[-1, 0, 20:-20, 20:-20].numpy()) == pytest.approx(4.0, abs=0.5)
    assert main(["translate", str(tmp_path / "v.mp4"), str(edited), "-o", str(tmp_path / "t.mp4")]) == 0
    assert len(mk.Clip.read(tmp_path / "t.mp4")) == 5


def test_errors_are_one_line_and_leave_files_alone(cat_file, tmp_path, capsys):
    target = tmp_path / "keep.mp4"
    target.write_bytes(b"previous result")
    status = main(["animate", str(cat_file), "--drag", "1000,1000:1010,1000", "-o", str(target)])
    err = capsys.readouterr().err
    assert status == 1
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("motionkit: error:") and "outside" in errors[0]
    assert target.read_bytes() == b"previous result"
    assert main(["animate", str(tmp_path / "missing.png"), "-o", str(tmp_path / "x.mp4")]) == 1
    assert "missing.png" in capsys.readouterr().err
    assert main(["animate", str(cat_file), "--camera", "zoom=-1", "-o", str(tmp_path / "x.mp4")]) == 1
    assert not (tmp_path / "x.mp4").exists()


def test_plugins_lists_builtins(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "warp" in out and "sparse" in out and "dis" in out


@pytest.mark.parametrize("command", ["animate", "translate", "motion", "render", "demo", "convert-official"])
def test_every_command_help_shows_an_example(command, capsys):
    assert main([command, "--help"]) == 0
    assert "Example:" in capsys.readouterr().out


def test_python_dash_m_is_the_same_program():
    result = subprocess.run([sys.executable, "-m", "motionkit", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "animate" in result.stdout


def test_demo_writes_its_files(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path / "demo")]) == 0
    for name in ("demo.mp4", "motion.mp4", "side_by_side.gif"):
        assert (tmp_path / "demo" / name).stat().st_size > 1000
    clip = mk.Clip.read(tmp_path / "demo" / "demo.mp4")
    assert len(clip) == 16 and clip.size == (300, 451)  # padded to even for H.264, cropped back on read
    assert "done in" in capsys.readouterr().out


def test_learned_backend_without_weights_names_what_to_do(cat_file, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MOTIONKIT_MOTION_I2V_WEIGHTS", raising=False)
    missing = tmp_path / "no-weights"
    status = main(["animate", str(cat_file), "--drag", "94,84:104,78", "--backend", "motion-i2v",
                   "--weights", str(missing), "-o", str(tmp_path / "x.mp4")])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err
    assert str(missing) in err and "convert-official" in err
    assert not (tmp_path / "x.mp4").exists()


def test_train_refuses_unknown_task_and_missing_data(capsys):
    assert main(["train", "stage3", "--data", "."]) == 1
    assert "stage3" in capsys.readouterr().err
    assert main(["train", "stage1"]) == 1
    assert "--data" in capsys.readouterr().err
