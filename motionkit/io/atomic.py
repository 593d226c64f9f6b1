"""Atomic outputs: a file appears at its target path whole, or not at all.

Everything motionkit writes goes through :func:`atomic_path`: the writer fills a temporary
file in the target's own folder (so the final rename stays on one file system and is atomic),
and only a writer that finished without raising (``KeyboardInterrupt`` included) replaces the
target. An existing file at the target is untouched until that moment.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from motionkit.errors import MediaWriteError, MotionkitError


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


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path to write; move it onto ``target`` when the block succeeds.

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
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix if suffix is not None else target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        with _as_write_error(target):
            yield tmp
        try:
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
    ``target`` is replaced only once the new one is complete.
    """
    target = Path(target)
    folder = target.parent
    _check_parent(target)
    if target.exists() and not target.is_dir():
        raise MediaWriteError(f"cannot write folder {target}: a file of that name exists")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=folder))
    try:
        with _as_write_error(target):
            yield tmp
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=folder))
            os.replace(target, old / "x")
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
