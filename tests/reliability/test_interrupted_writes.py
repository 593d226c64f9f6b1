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


def test_only_our_names_of_gone_writers_are_swept(tmp_path):
    from motionkit.io import atomic

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)  # a process that has exited
    other_host = "0" * 8 if atomic._HOST != "0" * 8 else "1" * 8
    names = {
        f".out.mp4.mk-{dead_pid}-{atomic._HOST}-abcdefgh.mp4": False,  # this host, writer gone
        f".out.mp4.mk-{os.getpid()}-{atomic._HOST}-abcdefgh.mp4": True,  # this process: maybe another thread
        f".out.mp4.mk-{dead_pid}-{other_host}-abcdefgh.mp4": True,  # another host, recently touched
        f".old.mp4.mk-{dead_pid}-{other_host}-abcdefgi.mp4": False,  # another host, untouched for days
        ".out.mp4.tmp12345.mp4": True,  # not our naming
        f"out.mp4.mk-{dead_pid}-{atomic._HOST}-abcdefgh.mp4": True,  # not hidden: not ours
    }
    for name in names:
        (tmp_path / name).write_text("x")
    days = time.time() - 3 * 24 * 3600
    os.utime(tmp_path / f".old.mp4.mk-{dead_pid}-{other_host}-abcdefgi.mp4", (days, days))
    (tmp_path / f".frames.mk-{dead_pid}-{atomic._HOST}-abcdefgh.old").mkdir()  # a folder of a dead writer
    (tmp_path / f".frames.mk-{dead_pid}-{atomic._HOST}-abcdefgh.old" / "x").write_text("x")
    atomic.sweep_stale_temporaries(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(name for name, kept in names.items() if kept)
