"""Outputs on object storage: ``out`` as an fsspec URL (``s3://bucket/run``, ``gs://...``, ``memory://...``).

A job whose output folder is a URL runs in a local staging folder on its worker; when it has
finished, each file is one upload of the finished file (``put_file``): the output first, then
``manifest.json``, then ``status.json``, which marks the job done. An object store makes an
upload visible only once complete, so a killed worker leaves nothing at a final URL. A local
path (or a ``file://`` URL) is written in place with :mod:`motionkit.io.atomic` instead.

Example:
    >>> is_url("s3://bucket/run"), is_url("out"), is_url("file:///tmp/out")
    (True, False, False)
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from motionkit.errors import MediaWriteError


def is_url(out: str | os.PathLike) -> bool:
    """Whether ``out`` names a remote fsspec location (a ``proto://`` URL other than ``file://``)."""
    text = os.fspath(out)
    return "://" in text and not text.startswith("file://")


def local_path(out: str | os.PathLike) -> Path:
    """``out`` as a local path (a ``file://`` URL loses its scheme)."""
    text = os.fspath(out)
    return Path(text.removeprefix("file://"))


def _fs(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec comes with torch
        raise MediaWriteError(f"cannot write {url}: fsspec is not installed") from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise MediaWriteError(f"cannot write {url}: {exc}") from None


def join(url: str, *names: str) -> str:
    """``url/name/...``."""
    return "/".join([url.rstrip("/"), *names])


def publish(staging: Path, url: str, names: list[str]) -> None:
    """Upload ``staging/name`` to ``url/name`` for each of ``names``, in order, each as one finished file.

    Raises:
        MediaWriteError: an upload failed (naming the URL).
    """
    fs, root = _fs(url)
    for name in names:
        target = f"{root.rstrip('/')}/{name}"
        try:
            fs.put_file(str(staging / name), target)
        except Exception as exc:  # any backend's error becomes one message naming the URL
            raise MediaWriteError(f"cannot upload {join(url, name)}: {exc}") from exc


def write_json_url(url: str, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON at ``url`` (one upload)."""
    fs, path = _fs(url)
    fs.pipe_file(path, (json.dumps(data, indent=1) + "\n").encode())


def read_json_url(url: str) -> dict[str, Any] | None:
    """The JSON object at ``url``, or None when it is missing or unreadable."""
    try:
        fs, path = _fs(url)
        data = json.loads(fs.cat_file(path))
    except Exception:  # noqa: BLE001 - missing, unreachable or not JSON: the job is simply not complete
        return None
    return data if isinstance(data, dict) else None


def sha256_url(url: str) -> str | None:
    """The SHA-256 of the object at ``url`` (streamed), or None when it cannot be read."""
    try:
        fs, path = _fs(url)
        digest = hashlib.sha256()
        with fs.open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except Exception:  # noqa: BLE001 - any backend: unreadable means not verified
        return None
    return digest.hexdigest()
