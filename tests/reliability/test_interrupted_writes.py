"""A writer stopped mid-write: SIGTERM cleans up as Ctrl-C does; a SIGKILLed writer's leftover
is swept by the next write to the folder, and a live writer's temporary never is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import motionkit
from motionkit.io.atomic import atomic_path
from motionkit.io.video_writer import VideoWriter

# Writes frames of a real photo to ``existing.mp4`` slowly, until it is stopped.
_SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from skimage import data
    from motionkit.io.video_writer import VideoWriter
    photo = data.chelsea()[:128, :192]
    with VideoWriter(sys.argv[1], fps=8) as writer:
        for t in range(10_000):
            writer.write(np.roll(photo, t, axis=1))
            if t == 2:
                print("writing", flush=True)
            time.sleep(0.02)
    """
)


def _existing(folder: Path) -> tuple[Path, bytes]:
    target = folder / "existing.mp4"
    with VideoWriter(target, fps=8) as writer:
        for _ in range(2):
            writer.write(np.full((32, 32, 3), 90, np.uint8))
    return target, target.read_bytes()


def _start_writer(target: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(Path(motionkit.__file__).resolve().parents[1]))  # the tree under test
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(target)], stdout=subprocess.PIPE, env=env, text=True)
    assert proc.stdout.readline().strip() == "writing"  # a temporary now exists beside the target
    return proc


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.slow
def test_sigterm_mid_write_leaves_no_temporary_and_the_old_file(tmp_path):
    target, before = _existing(tmp_path)
    proc = _start_writer(target)
    assert _hidden(tmp_path), "the writer should be filling a temporary"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert _hidden(tmp_path) == []
    assert target.read_bytes() == before


@pytest.mark.slow
def test_a_killed_writers_temporary_is_swept_by_the_next_write(tmp_path):
    target, _ = _existing(tmp_path)
    proc = _start_writer(target)
    proc.kill()  # SIGKILL: no clean-up can run
    proc.wait(timeout=30)
    leftovers = _hidden(tmp_path)
    assert leftovers, "SIGKILL should leave the temporary behind"
    (tmp_path / ".notes.txt.keep").write_text("a user's hidden file")  # not ours: stays
    with atomic_path(tmp_path / "other.txt") as tmp:
        tmp.write_text("next write")
    assert _hidden(tmp_path) == [".notes.txt.keep"]


@pytest.mark.slow
def test_a_live_writers_temporary_is_never_swept(tmp_path):
    target, before = _existing(tmp_path)
    proc = _start_writer(target)
    try:
        live = _hidden(tmp_path)
        old = time.time() - 7 * 24 * 3600  # however old it looks
        for name in live:
            os.utime(tmp_path / name, (old, old))
        with atomic_path(tmp_path / "other.txt") as tmp:
            tmp.write_text("a concurrent write")
        assert _hidden(tmp_path) == live
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert target.read_bytes() == before


def test_sigterm_handler_is_only_borrowed_while_writing(tmp_path):
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    with atomic_path(tmp_path / "a.txt") as tmp:
        assert signal.getsignal(signal.SIGTERM) != signal.SIG_DFL
        with atomic_path(tmp_path / "b.txt") as inner:
            inner.write_text("b")
        assert signal.getsignal(signal.SIGTERM) != signal.SIG_DFL
        tmp.write_text("a")
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    mine = lambda signum, frame: None  # a user's own handler is never replaced
    previous = signal.signal(signal.SIGTERM, mine)
    try:
        with atomic_path(tmp_path / "c.txt") as tmp:
            assert signal.getsignal(signal.SIGTERM) is mine
            tmp.write_text("c")
    finally:
        signal.signal(signal.SIGTERM, previous)
