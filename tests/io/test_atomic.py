"""Atomic outputs: all or nothing at the target, whatever goes wrong."""

from __future__ import annotations

import os

import pytest

from motionkit.errors import MediaWriteError
from motionkit.io.atomic import atomic_dir, atomic_path


def test_success_replaces_the_target_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
        assert target.read_text() == "old"  # untouched until the block ends
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_keeps_the_previous_file(tmp_path, error):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(error):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise error()
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_os_errors_of_the_writer_become_media_write_errors(tmp_path):
    with pytest.raises(MediaWriteError, match="No space left"):
        with atomic_path(tmp_path / "out.bin"):
            raise OSError(28, os.strerror(28))
    assert list(tmp_path.iterdir()) == []


def test_refuses_parents_and_targets_it_cannot_replace(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(MediaWriteError, match="not a folder"):
        with atomic_path(tmp_path / "file" / "out.txt"):
            pass
    with pytest.raises(MediaWriteError, match="does not exist"):
        with atomic_path(tmp_path / "missing" / "out.txt"):
            pass
    (tmp_path / "dir").mkdir()
    with pytest.raises(MediaWriteError, match="folder of that name"):
        with atomic_path(tmp_path / "dir"):
            pass
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(MediaWriteError, match="not a regular file"):
        with atomic_path(fifo):
            pass
    assert fifo.exists() and not fifo.is_file()


def test_folder_output_swaps_in_whole(tmp_path):
    target = tmp_path / "frames"
    target.mkdir()
    (target / "old.png").write_text("old")
    with pytest.raises(ValueError):
        with atomic_dir(target) as tmp:
            (tmp / "a.png").write_text("a")
            raise ValueError
    assert [p.name for p in target.iterdir()] == ["old.png"]
    with atomic_dir(target) as tmp:
        (tmp / "a.png").write_text("a")
    assert [p.name for p in target.iterdir()] == ["a.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]
