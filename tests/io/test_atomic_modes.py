"""Output modes: what a plain open()/mkdir gives under the umask, or the mode of the file replaced."""

from __future__ import annotations

import os
import stat
import threading

import numpy as np
import pytest

from motionkit.io.atomic import atomic_dir, atomic_path
from motionkit.io.video_writer import VideoWriter


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    saved = []

    def set_to(value: int) -> None:
        saved.append(os.umask(value))

    yield set_to
    if saved:
        os.umask(saved[0])


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_new_files_and_folders_get_the_mode_a_plain_open_gives(tmp_path, umask, mask):
    umask(mask)
    with open(tmp_path / "plain.txt", "w"):
        pass
    (tmp_path / "plain_dir").mkdir()
    with atomic_path(tmp_path / "out.txt") as tmp:
        tmp.write_text("x")
    with atomic_dir(tmp_path / "frames") as tmp:
        (tmp / "a.txt").write_text("a")
    assert _mode(tmp_path / "out.txt") == _mode(tmp_path / "plain.txt") == 0o666 & ~mask
    assert _mode(tmp_path / "frames") == _mode(tmp_path / "plain_dir") == 0o777 & ~mask


def test_a_video_gets_the_umask_mode_too(tmp_path, umask):
    umask(0o022)
    with VideoWriter(tmp_path / "out.mp4", fps=4) as writer:
        for _ in range(2):
            writer.write(np.full((16, 16, 3), 100, np.uint8))
    assert _mode(tmp_path / "out.mp4") == 0o644


def test_replacing_keeps_the_mode_of_the_file_or_folder_replaced(tmp_path, umask):
    umask(0o022)
    target = tmp_path / "shared.txt"
    target.write_text("old")
    os.chmod(target, 0o664)
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and _mode(target) == 0o664
    os.chmod(target, 0o644)
    with atomic_path(target) as tmp:
        tmp.write_text("newer")
    assert _mode(target) == 0o644
    folder = tmp_path / "frames"
    folder.mkdir()
    os.chmod(folder, 0o750)
    with atomic_dir(folder) as tmp:
        (tmp / "a.txt").write_text("a")
    assert _mode(folder) == 0o750 and (folder / "a.txt").exists()


def test_writing_never_changes_the_umask_other_threads_see(tmp_path, umask):
    """The umask is process-wide: a writer that set it to 0 even briefly would let a file made
    by another thread at that moment be world-writable. Watch it from a second thread."""
    umask(0o022)
    seen, stop = set(), threading.Event()

    def watch() -> None:
        while not stop.is_set():
            with open("/proc/self/status") as f:
                seen.update(line.split()[1] for line in f if line.startswith("Umask:"))

    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs /proc to read the umask without changing it")
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for i in range(200):
            with atomic_path(tmp_path / f"f{i}.txt") as tmp:
                tmp.write_text("x")
    finally:
        stop.set()
        watcher.join()
    assert seen == {"0022"}
