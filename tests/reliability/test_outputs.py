"""Output locations that cannot take the file, and writes interrupted half-way.

"Unwritable" is made real without relying on permissions (the suite may run as root, which
ignores them): the target's folder is missing, or the "folder" is a regular file.
"Full" is simulated honestly at two levels:

* videos: the ffmpeg encoder motionkit starts is pointed at ``/dev/full``, the Linux device
  whose every write fails with ``ENOSPC``, so the real encoder meets a real full-disk error
  (the temporary file motionkit created stays empty and must be cleaned up);
* files written by Python (``.npz``, images): numpy's / Pillow's writer is replaced by one
  that writes part of the data into the real temporary file and then raises
  ``OSError(ENOSPC)``, as a filling disk would.

Interrupts are ``KeyboardInterrupt`` raised mid-write from inside the frame source (a lazy
clip, the source video of a translation) or from the writer itself. In every case the previous
file at the target is byte-identical afterwards, no temporary file remains, and no encoder
process is left running.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from reliability_helpers import pan_frames

import motionkit as mk
from motionkit.errors import MediaWriteError, MotionkitError


def _running_children() -> dict[int, str]:
    """``{pid: command name}`` of this process's child processes still running (zombies excluded)."""
    out = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        if int(rest[1]) == os.getpid() and rest[0] != "Z":
            out[int(pid)] = name
    return out


_before: dict[int, str] = {}


@pytest.fixture(autouse=True)
def _children_before():
    """The children running before each test (e.g. an encoder a preview keeps warm) are not its own."""
    _before.clear()
    _before.update(_running_children())
    yield


def live_children() -> list[str]:
    """Command names of the child processes this test started that are still running."""
    return [name for pid, name in _running_children().items() if _before.get(pid) != name]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def clip(small_photo) -> mk.Clip:
    return mk.Clip.from_array(pan_frames(small_photo, 5), fps=5)


@pytest.fixture
def field() -> mk.MotionField:
    return mk.MotionField.camera(pan=(6.0, 2.0), frames=4, size=(24, 32))


# --- unwritable locations ---------------------------------------------------------------------


def unwritable_targets(tmp_path: Path, name: str) -> list[Path]:
    blocker = tmp_path / "blocker.txt"
    blocker.write_text("a file where a folder is expected")
    return [tmp_path / "missing_folder" / name, blocker / name]


def test_unwritable_locations_refuse_every_writer(tmp_path, clip, field, small_photo, unchanged):
    from motionkit.io.image import save_image
    from motionkit.trajectory import save_trajectories

    writers = {
        "video": lambda folder: clip.write(folder / "out.mp4"),
        "gif": lambda folder: clip.write(folder / "out.gif"),
        "frame folder": lambda folder: clip.write(folder / "frames"),
        "image": lambda folder: save_image(folder / "out.png", small_photo),
        "motion .npz": lambda folder: field.save(folder / "motion.npz"),
        "motion .flo": lambda folder: field.save_flo(folder / "flo"),
        "trajectories": lambda folder: save_trajectories(folder / "drags.json", [mk.Trajectory.line((1, 1), (3, 3))]),
    }
    targets = unwritable_targets(tmp_path, "x")
    unchanged.snapshot()
    failures = []
    for what, write in writers.items():
        for target in targets:
            try:
                write(target.parent)
            except MediaWriteError as exc:
                assert str(target.parent) in str(exc), f"{what}: the message must name the folder: {exc}"
            except Exception as exc:  # noqa: BLE001 - the finding is the exception's type
                failures.append(f"{what} into {target.parent.name}/: {type(exc).__name__}: {exc}")
            else:
                failures.append(f"{what} into {target.parent.name}/: no error")
    assert not failures, "\n".join(failures)
    unchanged()


def test_unwritable_locations_through_the_cli(tmp_path, small_photo, unchanged, cli_error):
    import cv2

    image = tmp_path / "photo.png"
    cv2.imwrite(str(image), small_photo)
    targets = unwritable_targets(tmp_path, "out.mp4")
    unchanged.snapshot()
    for target in targets:
        cli_error(["animate", image, "--drag", "40,30:46,30", "--frames", "3", "-o", target], "cannot write")
        cli_error(["animate", image, "--frames", "3", "-o", tmp_path / "ok.mp4", "--save-motion", target.with_suffix(".npz")], "cannot write")
    unchanged()


def test_the_error_line_is_not_glued_to_a_progress_bar(tmp_path, small_photo, capsys):
    """A failure during writing must not print its message on the progress bar's line."""
    import cv2

    from motionkit.cli import main

    image = tmp_path / "photo.png"
    cv2.imwrite(str(image), small_photo)
    capsys.readouterr()
    assert main(["animate", str(image), "--frames", "3", "-o", str(tmp_path / "missing" / "out.mp4")]) == 1
    lines = capsys.readouterr().err.replace("\r", "\n").splitlines()
    assert any(line.startswith("motionkit: error:") for line in lines), lines


# --- a full disk ----------------------------------------------------------------------------------


@pytest.fixture
def encoder_to_dev_full(monkeypatch):
    """Point motionkit's ffmpeg encoder (the ``-i -`` raw-video command) at /dev/full."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    real_popen = subprocess.Popen

    def popen(cmd, *args, **kwargs):
        if isinstance(cmd, list) and "rawvideo" in cmd and "-" in cmd:
            cmd = [*cmd[:-1], "/dev/full"]
        return real_popen(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)


@pytest.mark.parametrize("suffix", [".mp4", ".gif", ".webm"])
def test_a_full_disk_while_encoding_keeps_the_previous_file(suffix, tmp_path, clip, encoder_to_dev_full, unchanged):
    target = tmp_path / f"out{suffix}"
    target.write_bytes(b"the previous render")
    unchanged.snapshot()
    with pytest.raises(MediaWriteError, match="(?i)space"):
        clip.write(target)
    unchanged()
    assert not live_children()


def test_a_full_disk_through_the_cli(tmp_path, small_photo, encoder_to_dev_full, unchanged, cli_error):
    import cv2

    image = tmp_path / "photo.png"
    cv2.imwrite(str(image), small_photo)
    unchanged.snapshot()
    cli_error(["animate", image, "--drag", "40,30:46,30", "--frames", "3", "-o", tmp_path / "out.mp4"], "space")
    unchanged()


def _write_half_then_enospc(real_write):
    """A stand-in for a writer taking a file or path first: write some bytes, then fail like a full disk."""

    def write(target, *args, **kwargs):
        if hasattr(target, "write"):
            target.write(b"partial data ")
        else:
            Path(target).write_bytes(b"partial data ")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return write


def test_a_full_disk_while_saving_a_field_keeps_the_previous_file(tmp_path, field, monkeypatch, unchanged):
    target = tmp_path / "motion.npz"
    mk.MotionField.zeros(2, (4, 4)).save(target)
    # Every .npz member (one per frame since format version 2) is written by numpy's write_array.
    monkeypatch.setattr(np.lib.format, "write_array", _write_half_then_enospc(np.lib.format.write_array))
    unchanged.snapshot()
    with pytest.raises(MotionkitError, match="(?i)space"):
        field.save(target)
    unchanged()


def test_a_full_disk_while_saving_images_keeps_the_previous_files(tmp_path, clip, small_photo, monkeypatch, unchanged):
    from PIL import Image

    from motionkit.io.image import save_image

    image_target, folder_target = tmp_path / "still.png", tmp_path / "frames"
    image_target.write_bytes(b"the previous image")
    folder_target.mkdir()
    (folder_target / "frame_000000.png").write_bytes(b"the previous frame")
    monkeypatch.setattr(Image.Image, "save", lambda self, fp, *a, **k: _write_half_then_enospc(None)(fp))
    unchanged.snapshot()
    with pytest.raises(MediaWriteError, match="(?i)space"):
        save_image(image_target, small_photo)
    with pytest.raises(MediaWriteError, match="(?i)space"):
        clip.write(folder_target)
    unchanged()


# --- interrupted writes -------------------------------------------------------------------------------


def interrupted_clip(small_photo, after: int) -> mk.Clip:
    """A lazy clip whose frame source is stopped by Ctrl-C after ``after`` frames."""
    frames = pan_frames(small_photo, 8)

    def source():
        for index, frame in enumerate(frames):
            if index == after:
                raise KeyboardInterrupt
            yield frame

    return mk.Clip.from_frames(source, count=len(frames), size=frames.shape[1:3], fps=8)


@pytest.mark.parametrize("name", ["out.mp4", "out.webm", "out.gif", "frames"])
def test_an_interrupted_render_keeps_the_previous_output(name, tmp_path, small_photo, clip, unchanged):
    target = tmp_path / name
    clip.write(target)  # the previous, complete render
    unchanged.snapshot()
    with pytest.raises(KeyboardInterrupt):
        interrupted_clip(small_photo, after=4).write(target)
    unchanged()
    assert not live_children()
    assert len(mk.Clip.read(target)) == len(clip)


def test_an_interrupted_translation_keeps_the_previous_output(tmp_path, small_photo, unchanged):
    target = tmp_path / "translated.mp4"
    previous = mk.Clip.from_array(pan_frames(small_photo, 3), fps=8)
    previous.write(target)
    source = interrupted_clip(small_photo, after=5)
    edited = np.ascontiguousarray(small_photo[..., ::-1])
    unchanged.snapshot()
    with pytest.raises(KeyboardInterrupt):
        mk.translate(source, edited).write(target)
    unchanged()
    assert not live_children()


def test_an_interrupted_field_save_keeps_the_previous_file(tmp_path, field, monkeypatch, unchanged):
    target = tmp_path / "motion.npz"
    mk.MotionField.zeros(2, (4, 4)).save(target)

    def interrupted(file, *args, **kwargs):
        file.write(b"PK partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np.lib.format, "write_array", interrupted)  # writes every .npz member
    unchanged.snapshot()
    with pytest.raises(KeyboardInterrupt):
        field.save(target)
    unchanged()
