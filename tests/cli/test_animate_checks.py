"""animate checks every output before any work, and warns about drags leaving the frame and still videos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import motionkit as mk
from motionkit.cli import main
from tests.helpers.images import write_photo


@pytest.fixture(scope="module")
def cat_file(tmp_path_factory, cat_photo):
    path = tmp_path_factory.mktemp("checks") / "cat.png"
    write_photo(path, cat_photo, (96, 64), cv2.INTER_LINEAR)
    return path


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if animate's verb runs (a check should have stopped the command first)."""
    monkeypatch.setattr(mk, "animate", lambda *a, **k: pytest.fail("mk.animate ran before the outputs were checked"))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-o", "{tmp}/out.txt"], "unknown suffix '.txt'"),
        (["-o", "{tmp}/missing/out.mp4"], "folder {tmp}/missing does not exist"),
        (["-o", "{tmp}/out.mp4", "--fps", "0"], "fps must be a finite number > 0"),
        (["-o", "{tmp}/out.png"], "cannot write a 16-frame clip to the image"),
        (["-o", "{tmp}/out.mp4", "--motion-preview", "{tmp}/preview.txt"], "unknown suffix '.txt'"),
        (["-o", "{tmp}/out.mp4", "--save-motion", "{tmp}/motion.txt"], "cannot save a motion field to"),
        (["-o", "{tmp}/out.mp4", "--save-motion", "{tmp}/missing/motion.npz"], "does not exist"),
    ],
)
def test_outputs_are_checked_before_any_work(args, expected, cat_file, tmp_path, capsys, no_work):
    args = [a.format(tmp=tmp_path) for a in args]
    assert main(["animate", str(cat_file), "--drag", "40,30:46,28", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("motionkit: error: ") and expected.format(tmp=tmp_path) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, no temporary left


def test_a_drag_leaving_the_frame_warns_with_the_track_and_how_far(cat_file, tmp_path, capsys):
    out = tmp_path / "far.mp4"
    assert main(["animate", str(cat_file), "--drag", "40,30:46,28", "--drag", "60,30:250,30", "--frames", "4", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("motionkit: warning:")]
    assert len(warnings) == 1, err
    # track 1 ends at x = 250 in a 96 px wide image: 250 - 95.5 = 154.5 px beyond the right edge
    assert "track 1 leaves the 96 x 64 (W x H) image: at frame 3 it is 154 px beyond the right edge, at (250, 30)" in warnings[0]
    assert len(mk.Clip.read(out)) == 4  # tracks may leave the frame: it is a warning, not an error


def test_a_run_that_moves_nothing_warns_that_the_video_is_still(cat_file, tmp_path, capsys):
    out = tmp_path / "still.mp4"
    assert main(["animate", str(cat_file), "--pin", "20,20", "--frames", "3", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "motionkit: warning: nothing moves: the motion is zero everywhere" in err
    assert main(["animate", str(cat_file), "--camera", "zoom=1.05", "--frames", "3", "-o", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_the_python_api_warns_too(cat_photo):
    image = np.ascontiguousarray(cat_photo[::4, ::4])
    with pytest.warns(mk.errors.MotionkitWarning, match="track 0 leaves .* beyond the left edge"):
        mk.predict_motion(image, [mk.Trajectory.line((10, 30), (-40, 30), frames=3)])
    with pytest.warns(mk.errors.MotionkitWarning, match="nothing moves"):
        mk.animate(image, frames=3)
