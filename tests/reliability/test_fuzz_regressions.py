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
from motionkit.errors import MotionFileError, TooLargeError


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


def _png_claiming(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_a_mask_image_claiming_absurd_dimensions_is_refused(tmp_path):
    """Found by the atheris ``image_file`` target (a GIF header claiming 3.2 G pixels): Pillow's
    ``DecompressionBombError`` escaped ``RegionMask.from_image`` (``load_image`` refuses it)."""
    path = tmp_path / "brush.png"
    path.write_bytes(_png_claiming(60_000, 60_000))
    with pytest.raises(TooLargeError):
        mk.RegionMask.from_image(path)


def test_the_cli_refuses_an_absurd_brush_in_one_line(tmp_path, small_photo, cli_error):
    import cv2

    cv2.imwrite(str(tmp_path / "photo.png"), small_photo)
    (tmp_path / "brush.png").write_bytes(_png_claiming(60_000, 60_000))
    cli_error(["animate", tmp_path / "photo.png", "--brush", tmp_path / "brush.png", "-o", tmp_path / "out.mp4"], "brush.png")
    assert not (tmp_path / "out.mp4").exists()


def test_reading_a_mask_image_costs_a_few_bytes_per_pixel(tmp_path):
    """Found by the atheris ``image_file`` target as an out-of-memory: a 118-byte GIF declaring
    13056 x 13107 pixels (under every size limit) made ``RegionMask.from_image`` use 5 GB of
    RAM (``load_image``: 1.2 GB). Here a 13 KB GIF of 4000 x 4000: the float32 mask is 4 bytes
    a pixel, and the decode may cost a few more, but not ~30 (float64 temporaries)."""
    import tracemalloc

    from PIL import Image

    side = 4000
    path = tmp_path / "brush.gif"
    Image.new("L", (side, side), 200).save(path)
    assert path.stat().st_size < 20_000
    tracemalloc.start()
    try:
        mask = mk.RegionMask.from_image(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert mask.size == (side, side)
    assert peak / side**2 <= 16, f"{peak / side**2:.1f} bytes per pixel to read a mask image"
