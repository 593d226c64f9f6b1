"""Bad video and image files: every one is refused with a ``MediaReadError`` that names the file,
or, for the image variants motionkit converts (alpha, grayscale, 16-bit), accepted and converted.

Each failing call is made through the Python API and the CLI, and must leave the folder as it
found it: inputs byte-identical, no output, no partial or temporary file.
"""

from __future__ import annotations

import os
import struct
import subprocess
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from reliability_helpers import pan_frames

import motionkit as mk
from motionkit.errors import MediaReadError, TooLargeError
from motionkit.io.image import load_image


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def truncated(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    out = path.with_name(f"truncated_{int(100 * fraction)}_{path.name}")
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


@pytest.fixture
def broken_videos(tmp_path, video_file) -> dict[str, Path]:
    """Videos no decoder can give a frame of, each a different way."""
    good = video_file("good.mp4")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    zero = tmp_path / "zero_frames.mp4"  # a valid container whose video stream has no frame
    subprocess.run([_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=32x32:r=5",
                    "-frames:v", "0", str(zero)], check=True)
    audio = tmp_path / "audio_only.m4a"
    subprocess.run([_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "anullsrc", "-t", "0.2", str(audio)], check=True)
    no_frames = tmp_path / "no_frames"
    no_frames.mkdir()
    out = {
        "truncated mp4 (index lost)": truncated(good, 0.5),
        "mp4 cut after its header": truncated(good, 0.02),
        "random bytes": garbage,
        "empty file": empty,
        "zero-frame video": zero,
        "audio only": audio,
        "empty frame folder": no_frames,
    }
    good.unlink()
    return out


def test_broken_videos_are_refused_by_read(broken_videos, unchanged):
    unchanged.snapshot()
    for what, path in broken_videos.items():
        with pytest.raises(MediaReadError) as info:
            mk.Clip.read(path).to_numpy()
        assert path.name in str(info.value), f"{what}: the message must name the file: {info.value}"
    unchanged()


def test_broken_videos_are_refused_by_translate_and_estimate(broken_videos, small_photo, tmp_path, unchanged):
    edited = tmp_path / "edited.png"
    cv2.imwrite(str(edited), small_photo)
    unchanged.snapshot()
    for what, path in broken_videos.items():
        with pytest.raises(MediaReadError):
            mk.translate(path, edited).write(tmp_path / "out.mp4")
        with pytest.raises(MediaReadError):
            mk.estimate_motion(path)
    unchanged()


def test_broken_videos_through_the_cli(broken_videos, small_photo, tmp_path, unchanged, cli_error):
    edited = tmp_path / "edited.png"
    cv2.imwrite(str(edited), small_photo)
    unchanged.snapshot()
    for what, path in broken_videos.items():
        cli_error(["translate", path, edited, "-o", tmp_path / "out.mp4"], path.name)
        cli_error(["motion", path, "-o", tmp_path / "out.npz"], path.name)
    unchanged()


@pytest.mark.parametrize("suffix", [".webm", ".mkv", ".gif", ".mp4"])
@pytest.mark.parametrize("fraction", [0.4, 0.8])
def test_a_video_cut_short_reads_consistently_or_is_refused(tmp_path, small_photo, suffix, fraction):
    """A stream cut mid-way gives its decodable frames, counted exactly, or a MediaReadError."""
    full = tmp_path / f"full{suffix}"
    mk.Clip.from_array(pan_frames(small_photo, 10), fps=5).write(full)
    cut = truncated(full, fraction)
    try:
        clip = mk.Clip.read(cut)
        frames = clip.to_numpy()
    except MediaReadError as exc:
        assert cut.name in str(exc)
        return
    assert 1 <= len(clip) == len(frames) <= 10
    assert frames.shape[1:] == small_photo.shape


def test_single_frame_video_translates_to_the_edited_frame(tmp_path, small_photo, unchanged):
    source = tmp_path / "one.mp4"
    mk.Clip.from_array(small_photo[None], fps=5).write(source)
    edited = np.ascontiguousarray(small_photo[..., ::-1])
    out = mk.translate(source, edited)
    assert len(out) == 1
    # Frame 0 of a translation is the edited frame itself.
    np.testing.assert_array_equal(out.frame(0), edited)
    out.write(tmp_path / "out.mp4")
    assert len(mk.Clip.read(tmp_path / "out.mp4")) == 1


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture
def broken_images(tmp_path, small_photo) -> dict[str, Path]:
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), small_photo)
    files = {"truncated png": truncated(good, 0.3), "random bytes": tmp_path / "garbage.png", "empty file": tmp_path / "empty.jpg",
             "missing file": tmp_path / "missing.png"}
    files["random bytes"].write_bytes(os.urandom(500))
    files["empty file"].write_bytes(b"")
    good.unlink()
    return files


def test_broken_images_are_refused_everywhere(broken_images, tmp_path, unchanged, cli_error):
    unchanged.snapshot()
    for what, path in broken_images.items():
        with pytest.raises(MediaReadError) as info:
            load_image(path)
        assert path.name in str(info.value), what
        with pytest.raises(MediaReadError):
            mk.animate(path, frames=3)
        cli_error(["animate", path, "--frames", "3", "-o", tmp_path / "out.mp4"], path.name)
    unchanged()


def test_an_image_claiming_absurd_dimensions_is_refused_before_decoding(tmp_path, unchanged, cli_error):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(100_000, 100_000))  # 30 GB of pixels in 100 bytes
    unchanged.snapshot()
    with pytest.raises(TooLargeError):
        load_image(bomb)
    with pytest.raises(TooLargeError):
        mk.animate(bomb, frames=3)
    cli_error(["animate", bomb, "--frames", "3", "-o", tmp_path / "out.mp4"], "bomb.png")
    unchanged()


@pytest.fixture
def variant_images(tmp_path, small_photo) -> dict[str, tuple[Path, np.ndarray]]:
    """Image files in the variants motionkit converts, each with the RGB it must become."""
    rgb = small_photo
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, : rgb.shape[1] // 2] = 0  # left half transparent: composited over white
    rgba = np.dstack([rgb, alpha])
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    deep = rgb.astype(np.uint16) * 257  # 16-bit, exactly 257 x the 8-bit values
    out = {}
    Image.fromarray(rgba).save(tmp_path / "alpha.png")
    expected = rgb.copy()
    expected[:, : rgb.shape[1] // 2] = 255
    out["alpha"] = (tmp_path / "alpha.png", expected)
    Image.fromarray(gray).save(tmp_path / "gray.png")
    out["grayscale"] = (tmp_path / "gray.png", np.repeat(gray[..., None], 3, axis=2))
    cv2.imwrite(str(tmp_path / "deep.png"), cv2.cvtColor(deep, cv2.COLOR_RGB2BGR))
    out["16-bit"] = (tmp_path / "deep.png", rgb)
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "deep_gray.png")
    out["16-bit grayscale"] = (tmp_path / "deep_gray.png", np.repeat(gray[..., None], 3, axis=2))
    return out


def test_alpha_grayscale_and_16_bit_images_are_converted(variant_images, unchanged):
    unchanged.snapshot()
    for what, (path, expected) in variant_images.items():
        image = load_image(path)
        assert image.dtype == np.uint8 and image.shape == expected.shape, what
        assert np.abs(image.astype(int) - expected.astype(int)).max() <= 1, what
        clip = mk.animate(path, [mk.Trajectory.line((40, 30), (46, 30), frames=3)], frames=3)
        assert np.abs(clip.frame(0).astype(int) - expected.astype(int)).max() <= 1, what
    unchanged()


def test_converted_images_through_the_cli(variant_images, tmp_path, capsys):
    from motionkit.cli import main

    for what, (path, _) in variant_images.items():
        out = tmp_path / f"{path.stem}.mp4"
        assert main(["animate", str(path), "--drag", "40,30:46,30", "--frames", "3", "-o", str(out)]) == 0, what
        assert len(mk.Clip.read(out)) == 3
