"""``motionkit translate --keyframe FRAME:PATH``: keyframes from the command line, and the cuts it prints."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from helpers.real_clips import real_clip

import motionkit as mk
from motionkit.cli import main


def save(path, image: np.ndarray) -> str:
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return str(path)


@pytest.fixture(scope="module")
def video_with_a_cut(tmp_path_factory):
    folder = tmp_path_factory.mktemp("translate_cli")
    head = real_clip("carphone", 0, 6, 1.0)
    bunny = np.stack([cv2.resize(f, (176, 144), interpolation=cv2.INTER_AREA) for f in real_clip("bunny", 0, 4, 0.25)])
    frames = np.concatenate([head, bunny])
    mk.Clip.from_array(frames, fps=10).write(folder / "v.mp4", quality=10)
    return folder, mk.Clip.read(folder / "v.mp4").to_numpy()


def test_keyframes_without_the_positional_frame_and_the_cut_is_printed(video_with_a_cut, tmp_path, capsys):
    folder, frames = video_with_a_cut
    first, later = 255 - frames[0], 255 - frames[3]
    status = main(["translate", str(folder / "v.mp4"), "--keyframe", f"0:{save(tmp_path / 'k0.png', first)}",
                   "--keyframe", f"3:{save(tmp_path / 'k3.png', later)}", "-o", str(tmp_path / "out.mp4")])
    assert status == 0
    printed = capsys.readouterr()
    assert "scene cuts at frames 6" in printed.out + printed.err
    out = mk.Clip.read(tmp_path / "out.mp4").to_numpy()
    assert len(out) == len(frames)
    # The inverted keyframes are carried; after the cut the colour map (an inversion) still applies.
    assert np.abs(out[3].astype(int) - later).mean() < 8 and np.abs(out[8].astype(int) - (255 - frames[8])).mean() < 12


def test_a_keyframe_given_twice_or_malformed_is_refused(video_with_a_cut, tmp_path, capsys):
    folder, frames = video_with_a_cut
    edited = save(tmp_path / "e.png", frames[0])
    assert main(["translate", str(folder / "v.mp4"), edited, "--keyframe", f"0:{edited}", "-o", str(tmp_path / "a.mp4")]) != 0
    assert "frame 0 is given twice" in capsys.readouterr().err
    assert main(["translate", str(folder / "v.mp4"), "--keyframe", "zero:" + edited, "-o", str(tmp_path / "b.mp4")]) != 0
    assert "FRAME:PATH" in capsys.readouterr().err
    assert main(["translate", str(folder / "v.mp4"), "-o", str(tmp_path / "c.mp4")]) != 0
    assert "--keyframe" in capsys.readouterr().err
    assert not (tmp_path / "a.mp4").exists()
