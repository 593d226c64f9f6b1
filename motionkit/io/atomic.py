"""Atomic outputs: a file appears at its target path whole, or not at all.

Everything motionkit writes goes through :func:`atomic_path`: the writer fills a temporary
file in the target's own folder (so the final rename stays on one file system and is atomic),
and only a writer that finished without raising (``KeyboardInterrupt`` included) replaces the
target. An existing file at the target is untouched until that moment.

Modes: a new output gets the mode a plain ``open()`` (or ``mkdir``) gives, the process umask
applied (``0644`` / ``0755`` under the usual ``0022``); an output that replaces a file or
folder keeps that one's mode. The temporary is created by the kernel with the umask applied,
so the umask is never read or changed (``os.umask`` is process-wide and racy across threads).

Interruption: while a write is open in the main thread, ``SIGTERM`` is turned into
``SystemExit(143)`` so the same clean-up as for Ctrl-C runs (the encoder is stopped, the
temporary removed). A writer killed outright (``SIGKILL``, power loss) leaves its temporary;
the next write to the same folder removes such leftovers (in a folder of over 1000 entries, the
first write in a minute, per process, so many writes there do not list it each time): only
temporaries of this naming
(``.NAME.mk-PID-HOST-XXXXXXXX[.tmp]SUFFIX``), and only when their writer is gone (same host:
its process no longer exists; another host: untouched for :data:`FOREIGN_STALE_S`). A live
writer's temporary is never touched, however old.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from motionkit.errors import MediaWriteError, MotionkitError

#: A temporary written on another host is taken as abandoned after this long without change (s).
FOREIGN_STALE_S = 24 * 3600.0

_HOST = f"{zlib.crc32(socket.gethostname().encode()) & 0xFFFFFFFF:08x}"
_TEMP = re.compile(r"\..+\.mk-(?P<pid>\d+)-(?P<host>[0-9a-f]{8})-[0-9a-z]{8}(?:\..*)?")


def _check_parent(target: Path) -> None:
    """The target's folder must exist, be a folder and be writable (for files and folders alike)."""
    folder = target.parent
    if not folder.exists():
        raise MediaWriteError(f"cannot write {target}: folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise MediaWriteError(f"cannot write {target}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK):
        raise MediaWriteError(f"cannot write {target}: folder {folder} is not writable")


def _check_file_target(target: Path) -> None:
    _check_parent(target)
    if target.is_dir():
        raise MediaWriteError(f"cannot write {target}: a folder of that name exists")
    if target.exists() and not target.is_file():
        # A device, socket or pipe: renaming onto it would replace it with a plain file.
        raise MediaWriteError(f"cannot write {target}: it exists and is not a regular file; choose a file path")


@contextlib.contextmanager
def _as_write_error(target: Path) -> Iterator[None]:
    """Turn an operating-system failure of the writer (a full disk, a vanished folder) into a
    :class:`MediaWriteError` naming the target; motionkit's own errors pass through unchanged."""
    try:
        yield
    except MotionkitError:
        raise
    except OSError as exc:
        raise MediaWriteError(f"cannot write {target}: {exc.strerror or exc}") from exc


# -- temporaries: naming, creation, the sweep of abandoned ones --------------------------------


def _temp_name(target: Path, tag: str, suffix: str) -> Path:
    token = "".join(secrets.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(8))
    return target.parent / f".{target.name}.mk-{os.getpid()}-{_HOST}-{token}{tag}{suffix}"


def _new_temp_file(target: Path, suffix: str) -> Path:
    """Create an empty temporary beside ``target``; ``0o666`` asked, so the kernel applies the umask."""
    for _ in range(100):
        path = _temp_name(target, "", suffix)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666))
            return path
        except FileExistsError:
            continue
    raise MediaWriteError(f"cannot write {target}: no free temporary name in {target.parent}")


def _new_temp_dir(target: Path, tag: str = "") -> Path:
    for _ in range(100):
        path = _temp_name(target, tag, "")
        try:
            os.mkdir(path, 0o777)  # the umask applies, as for a plain mkdir
            return path
        except FileExistsError:
            continue
    raise MediaWriteError(f"cannot write {target}: no free temporary name in {target.parent}")


def _writer_gone(pid: int, host: str, mtime: float) -> bool:
    if host != _HOST:
        return time.time() - mtime > FOREIGN_STALE_S
    if pid == os.getpid():
        return False  # this process: another thread may be writing it now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, owned by someone else
    return False


_swept: dict[str, float] = {}
_swept_lock = threading.Lock()
#: A folder holding more than :data:`SWEEP_BIG_FOLDER` entries is swept at most every
#: :data:`SWEEP_INTERVAL_S` seconds per process, so writing many files into it does not list
#: it once per file; smaller folders are swept at every write.
SWEEP_BIG_FOLDER = 1000
SWEEP_INTERVAL_S = 60.0


def _sweep_now(folder: Path) -> None:
    key, now = os.fspath(folder), time.monotonic()
    with _swept_lock:
        if now - _swept.get(key, -SWEEP_INTERVAL_S) < SWEEP_INTERVAL_S:
            return
    if _sweep(folder)[1] > SWEEP_BIG_FOLDER:
        with _swept_lock:
            _swept[key] = now


def sweep_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove temporaries that motionkit writers left in ``folder`` when they were killed.

    Only names of this module's temporaries are considered, and only those whose writer is
    gone (see the module docstring); anything else, a live writer's temporary included, stays.
    Failures to remove are ignored (another process may sweep at the same time).

    Returns:
        The paths removed.
    """
    return _sweep(folder)[0]


def _sweep(folder: str | os.PathLike) -> tuple[list[Path], int]:
    """:func:`sweep_stale_temporaries`, also returning how many entries the folder holds."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed, 0
    for entry in entries:
        if not entry.name.startswith("."):
            continue
        match = _TEMP.fullmatch(entry.name)
        if match is None:
            continue
        try:
            mtime = entry.stat(follow_symlinks=False).st_mtime
            if not _writer_gone(int(match["pid"]), match["host"], mtime):
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed, len(entries)


def _keep_mode(target: Path, tmp: Path) -> None:
    """Give ``tmp`` the mode of the file or folder it is about to replace, if there is one."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))


# -- SIGTERM as Ctrl-C while a write is open ---------------------------------------------------

_sigterm_lock = threading.Lock()
_sigterm_depth = 0
_sigterm_previous = None


def _on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _sigterm_cleans_up() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``SystemExit`` in the main thread, so the writers'
    clean-up runs as for ``KeyboardInterrupt``. Only when nobody else handles SIGTERM (the
    handler is the default) and only from the main thread (Python's rule for handlers)."""
    global _sigterm_depth, _sigterm_previous
    installed = False
    if threading.current_thread() is threading.main_thread():
        with _sigterm_lock:
            if _sigterm_depth == 0 and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                _sigterm_previous = signal.signal(signal.SIGTERM, _on_sigterm)
            if signal.getsignal(signal.SIGTERM) is _on_sigterm:
                _sigterm_depth += 1
                installed = True
    try:
        yield
    finally:
        if installed:
            with _sigterm_lock:
                _sigterm_depth -= 1
                if _sigterm_depth == 0:
                    signal.signal(signal.SIGTERM, _sigterm_previous)


# -- the two context managers --------------------------------------------------------------------


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path to write; move it onto ``target`` when the block succeeds.

    The output gets the mode a plain ``open()`` would give (umask applied), or the mode of the
    file it replaces.

    Args:
        target: the final path.
        suffix: suffix of the temporary file (defaults to the target's, so encoders that pick
            a format by extension still do).

    Raises:
        MediaWriteError: the folder is missing or unwritable, or the final rename failed.

    Example:
        >>> with atomic_path("out.txt") as tmp:  # doctest: +SKIP
        ...     tmp.write_text("all or nothing")
    """
    target = Path(target)
    _check_file_target(target)
    _sweep_now(target.parent)
    with _sigterm_cleans_up():
        with _as_write_error(target):
            tmp = _new_temp_file(target, suffix if suffix is not None else target.suffix)
        try:
            with _as_write_error(target):
                yield tmp
            try:
                _keep_mode(target, tmp)
                os.replace(tmp, target)
            except OSError as exc:
                raise MediaWriteError(f"cannot write {target}: {exc.strerror or exc}") from exc
        finally:
            # On failure (or after a successful replace, a no-op) nothing is left behind.
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Like :func:`atomic_path` for a folder of files (e.g. PNG frames).

    The folder is built beside the target and swapped in at the end; an existing folder at
    ``target`` is replaced only once the new one is complete. The new folder gets the mode a
    plain ``mkdir`` would give (umask applied), or the mode of the folder it replaces.
    """
    target = Path(target)
    _check_parent(target)
    if target.exists() and not target.is_dir():
        raise MediaWriteError(f"cannot write folder {target}: a file of that name exists")
    _sweep_now(target.parent)
    with _sigterm_cleans_up():
        with _as_write_error(target):
            tmp = _new_temp_dir(target)
        try:
            with _as_write_error(target):
                yield tmp
            old = None
            if target.exists():
                _keep_mode(target, tmp)
                old = _new_temp_dir(target, ".old")
                os.replace(target, old / "x")
            os.replace(tmp, target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
