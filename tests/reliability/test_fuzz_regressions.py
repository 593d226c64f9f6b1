"""Inputs the fuzzers found that once escaped as something other than a ``MotionkitError``.

Each test pins one finding with the smallest input that shows it, built in code so the reason
is readable; the fuzz target that found it is named in the docstring.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

import motionkit as mk
from motionkit.errors import MotionFileError


def _npz_with_corrupt_deflate_stream() -> bytes:
    """A .npz whose ``flow.npy`` member's deflate stream starts with a reserved block type."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, value in (("flow.npy", np.zeros((2, 2, 4, 4), np.float32)), ("format_version.npy", np.int64(1))):
            member = io.BytesIO()
            np.save(member, value)
            archive.writestr(name, member.getvalue())
    data = bytearray(buffer.getvalue())
    # The first member's data follows its 30-byte local header and its name; 0b111 is
    # BFINAL=1 with BTYPE=11, which deflate reserves: zlib fails on the first byte.
    data[30 + len("flow.npy")] = 0b111
    return bytes(data)


def test_an_npz_with_a_corrupt_compressed_member_is_a_motion_file_error(tmp_path):
    """Found by the hypothesis-driven ``motion_npz`` target: ``zlib.error`` escaped ``MotionField.load``."""
    path = tmp_path / "corrupt.npz"
    path.write_bytes(_npz_with_corrupt_deflate_stream())
    with pytest.raises(MotionFileError, match="corrupt.npz"):
        mk.MotionField.load(path)


def test_the_cli_reports_a_corrupt_npz_in_one_line(tmp_path, small_photo, cli_error):
    import cv2

    cv2.imwrite(str(tmp_path / "photo.png"), small_photo)
    (tmp_path / "corrupt.npz").write_bytes(_npz_with_corrupt_deflate_stream())
    cli_error(["render", tmp_path / "photo.png", tmp_path / "corrupt.npz", "-o", tmp_path / "out.mp4"], "corrupt.npz")
    assert not (tmp_path / "out.mp4").exists()
