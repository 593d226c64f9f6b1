"""Helpers for the reliability suite: small real inputs, file hashing, leftover detection."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from reliability_helpers import pan_frames


def tree_digest(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder`` (hidden temp files included)."""
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture
def unchanged(tmp_path) -> Callable[[], None]:
    """Call it after a failing operation: nothing in ``tmp_path`` was added, removed or changed.

    The inputs a test writes before calling ``unchanged.snapshot()`` must be byte-identical
    afterwards, and no output, partial output or temporary file may remain.
    """

    class Checker:
        before: dict[str, str] = {}

        def snapshot(self) -> None:
            self.before = tree_digest(tmp_path)

        def __call__(self) -> None:
            after = tree_digest(tmp_path)
            added = sorted(set(after) - set(self.before))
            removed = sorted(set(self.before) - set(after))
            changed = sorted(k for k in set(after) & set(self.before) if after[k] != self.before[k])
            assert not added, f"left behind: {added}"
            assert not removed, f"removed inputs: {removed}"
            assert not changed, f"modified inputs: {changed}"

    return Checker()


@pytest.fixture(scope="session")
def small_photo() -> np.ndarray:
    """scikit-image's cat, shrunk to ``uint8 (72, 96, 3)``: big enough to have texture, fast to render."""
    from skimage import data

    return cv2.resize(data.chelsea(), (96, 72), interpolation=cv2.INTER_AREA)


@pytest.fixture
def video_file(tmp_path, small_photo) -> Callable[..., Path]:
    """Write a short real H.264 video of the panning photo; returns its path."""
    import motionkit as mk

    def make(name: str = "source.mp4", frames: int = 6) -> Path:
        path = tmp_path / name
        mk.Clip.from_array(pan_frames(small_photo, frames), fps=6).write(path)
        return path

    return make


@pytest.fixture
def cli_error(capsys) -> Callable[..., str]:
    """Run ``motionkit.cli.main(args)``; assert it failed as documented; return its error line.

    The contract: exit status 1, one ``motionkit: error: ...`` message, last on stderr
    (progress messages before it are allowed), and no traceback. Whether the message starts
    its own line (a progress bar may be left unterminated) is checked separately.
    """
    from motionkit.cli import main

    def run(args: list[str], *fragments: str) -> str:
        capsys.readouterr()
        status = main([str(a) for a in args])
        err = capsys.readouterr().err
        assert status == 1, f"exit status {status}, stderr: {err!r}"
        assert "Traceback" not in err, err
        assert err.count("motionkit: error:") == 1, f"expected one error message, got: {err!r}"
        start = err.index("motionkit: error:")
        message = re.split(r"[\r\n]", err[start:])[0]
        # After the message only a progress bar's final redraw may follow.
        trailing = [part for part in re.split(r"[\r\n]", err[start + len(message) :]) if part.strip()]
        assert all("%|" in part for part in trailing), f"the error must be the last thing printed: {err!r}"
        for fragment in fragments:
            assert fragment.lower() in message.lower(), f"{fragment!r} not in {message!r}"
        return message

    return run
