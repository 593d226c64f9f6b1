"""Video IO: real files written in tmp_path and read back; failures become MediaReadError/MediaWriteError."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

from motionkit.errors import InvalidInputError, MediaReadError, MediaWriteError, ShapeMismatchError
from motionkit.io.image import save_image
from motionkit.io.video import VideoWriter, ffmpeg_exe, frame_files, html_preview, iter_frames, probe


def moving_crops(photo: np.ndarray, frames: int = 8, height: int = 96, width: int = 128) -> np.ndarray:
    """A real photo seen through a window that slides 3 px right and 2 px down per frame."""
    return np.stack([photo[40 + 2 * t : 40 + 2 * t + height, 60 + 3 * t : 60 + 3 * t + width] for t in range(frames)])


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def write(path, frames, fps=10.0, **options):
    with VideoWriter(path, fps=fps, **options) as writer:
        for frame in frames:
            writer.write(frame)


def test_mp4_round_trip_keeps_count_size_fps_and_pixels(tmp_path, cat_photo):
    frames = moving_crops(cat_photo)
    path = tmp_path / "cat.mp4"
    write(path, frames, fps=12.0)
    info = probe(path)
    assert (info.frames, info.size, info.fps, info.codec) == (8, (96, 128), 12.0, "h264")
    back = np.stack(list(iter_frames(path)))
    assert back.dtype == np.uint8 and back.shape == frames.shape
    assert psnr(back, frames) > 30.0
    # Each decoded frame matches its own source frame best (order and timing are kept).
    errors = [[np.abs(b.astype(int) - f).mean() for f in frames] for b in back]
    assert [int(np.argmin(row)) for row in errors] == list(range(8))


@pytest.mark.parametrize("suffix", [".mp4", ".webm", ".mov", ".mkv", ".avi", ".m4v"])
def test_odd_sizes_come_back_whole(tmp_path, cat_photo, suffix):
    """yuv420p needs even sides: the writer pads, records the true size, and the reader crops back."""
    frames = moving_crops(cat_photo, frames=3, height=33, width=47)
    path = tmp_path / f"odd{suffix}"
    write(path, frames)
    info = probe(path)
    assert info.size == (33, 47) and info.coded_size == (34, 48)
    back = np.stack(list(iter_frames(path)))
    assert back.shape == (3, 33, 47, 3)
    assert psnr(back, frames) > 30.0
    # The last column and row are the photo's own, not lost and not replaced.
    assert psnr(back[:, :, -1], frames[:, :, -1]) > 26.0 and psnr(back[:, -1], frames[:, -1]) > 26.0


def test_a_real_451px_photo_and_a_301x199_clip_keep_every_column(tmp_path, cat_photo):
    import motionkit as mk

    assert cat_photo.shape[:2] == (300, 451)
    mk.Clip.from_image(cat_photo, frames=2).write(tmp_path / "cat.mp4")
    assert mk.Clip.read(tmp_path / "cat.mp4").size == (300, 451)
    crop = moving_crops(cat_photo, frames=3, height=199, width=301)
    mk.Clip.from_array(crop, fps=8).write(tmp_path / "crop.mp4")
    back = mk.Clip.read(tmp_path / "crop.mp4")
    assert back.size == (199, 301) and psnr(back.to_numpy(), crop) > 30.0


def test_one_pixel_sides_are_padded_and_cropped_back(tmp_path):
    line = np.arange(9 * 3, dtype=np.uint8).reshape(1, 9, 3) * 9
    write(tmp_path / "line.mp4", [line] * 2)
    assert probe(tmp_path / "line.mp4").size == (1, 9)
    assert np.stack(list(iter_frames(tmp_path / "line.mp4"))).shape == (2, 1, 9, 3)


def test_a_size_tag_that_does_not_match_the_padding_is_ignored(tmp_path, cat_photo):
    """A file rescaled by another tool keeps its decoded size even if it still carries our tag."""
    frames = moving_crops(cat_photo, frames=2, height=64, width=80)
    path = tmp_path / "tagged.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "80x64", "-i", "-",
                    "-metadata", "comment=motionkit frame 41x33", "-pix_fmt", "yuv420p", str(path)],
                   input=frames.tobytes(), check=True)
    assert probe(path).size == (64, 80) and probe(path).coded_size is None


def test_fractional_fps_survives(tmp_path):
    path = tmp_path / "ntsc.mp4"
    write(path, [np.zeros((16, 16, 3), np.uint8)] * 3, fps=30000 / 1001)
    assert probe(path).fps == pytest.approx(29.97, abs=1e-2)


def test_webm_round_trip(tmp_path, cat_photo):
    frames = moving_crops(cat_photo, frames=5)
    path = tmp_path / "cat.webm"
    write(path, frames, fps=10.0)
    info = probe(path)
    assert (info.frames, info.size, info.fps, info.codec) == (5, (96, 128), 10.0, "vp9")
    assert psnr(np.stack(list(iter_frames(path))), frames) > 30.0


def test_gif_round_trip(tmp_path, cat_photo):
    frames = moving_crops(cat_photo, frames=6, height=41, width=57)  # odd sides: GIF needs no padding
    path = tmp_path / "cat.gif"
    write(path, frames, fps=20.0)  # 5 cs per frame: representable exactly in a GIF
    info = probe(path)
    assert (info.frames, info.size, info.fps, info.codec) == (6, (41, 57), 20.0, "gif")
    back = np.stack(list(iter_frames(path)))
    assert back.shape == frames.shape
    assert psnr(back, frames) > 25.0  # 256 colours a frame


def test_png_folder_round_trip_is_lossless(tmp_path, cat_photo):
    frames = moving_crops(cat_photo, frames=4)
    write(str(tmp_path / "frames") + "/", frames)
    assert [p.name for p in frame_files(tmp_path / "frames")] == [f"frame_{i:06d}.png" for i in range(4)]
    info = probe(tmp_path / "frames")
    assert (info.frames, info.size, info.fps, info.codec) == (4, (96, 128), None, "frames")
    assert np.array_equal(np.stack(list(iter_frames(tmp_path / "frames"))), frames)


def test_frame_folders_sort_numbers_naturally(tmp_path):
    for i in (10, 2, 1):
        save_image(tmp_path / f"f{i}.png", np.full((4, 4, 3), i, np.uint8))
    (tmp_path / "notes.txt").write_text("ignored")
    assert [int(f[0, 0, 0]) for f in iter_frames(tmp_path)] == [1, 2, 10]


def test_a_single_image_is_a_one_frame_source(tmp_path, cat_photo):
    save_image(tmp_path / "cat.png", cat_photo)
    info = probe(tmp_path / "cat.png")
    assert (info.frames, info.size) == (1, cat_photo.shape[:2])
    assert np.array_equal(next(iter_frames(tmp_path / "cat.png")), cat_photo)


def test_truncated_mp4_is_a_media_read_error(tmp_path, cat_photo):
    path = tmp_path / "cut.mp4"
    write(path, moving_crops(cat_photo))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(MediaReadError, match="cut.mp4"):
        probe(path)


def test_truncated_faststart_mp4_is_detected_too(tmp_path):
    # With the index at the front the header still parses; the missing data must not
    # silently give a shorter clip.
    path = tmp_path / "fast.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=8", "-frames:v", "24",
                    "-pix_fmt", "yuv420p", "-c:v", "libx264", "-movflags", "+faststart", str(path)], check=True)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(MediaReadError, match="fast.mp4.*truncated"):
        probe(path)


def test_text_file_named_mp4_is_a_media_read_error(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("these are not frames\n" * 20)
    with pytest.raises(MediaReadError, match="notes.mp4") as caught:
        list(iter_frames(path))
    assert "ffmpeg version" not in str(caught.value) and len(str(caught.value)) < 300


def test_missing_path_and_empty_folder_are_media_read_errors(tmp_path):
    with pytest.raises(MediaReadError, match="missing.mp4"):
        probe(tmp_path / "missing.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MediaReadError, match="no image files"):
        probe(tmp_path / "empty")


def test_audio_only_file_has_no_video_stream(tmp_path):
    path = tmp_path / "beep.mkv"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=duration=0.2", str(path)], check=True)
    with pytest.raises(MediaReadError, match="no video stream"):
        probe(path)


def test_frame_folder_with_mixed_sizes_is_refused(tmp_path):
    save_image(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8))
    save_image(tmp_path / "b.png", np.zeros((5, 4, 3), np.uint8))
    with pytest.raises(ShapeMismatchError, match="b.png"):
        list(iter_frames(tmp_path))


def test_early_exit_from_reading_stops_cleanly(tmp_path, cat_photo):
    path = tmp_path / "cat.mp4"
    write(path, moving_crops(cat_photo))
    frames = iter_frames(path)
    first = next(frames)
    frames.close()
    assert first.shape == (96, 128, 3)


@pytest.mark.parametrize("interrupt", [RuntimeError("boom"), KeyboardInterrupt()])
@pytest.mark.parametrize("name", ["out.mp4", "out.gif", "frames"])
def test_failure_mid_write_keeps_the_previous_target(tmp_path, cat_photo, interrupt, name):
    target = tmp_path / name
    old_frames = moving_crops(cat_photo, frames=3)
    write(target, old_frames)
    snapshot = (
        {p.name: p.read_bytes() for p in target.iterdir()} if target.is_dir() else target.read_bytes()
    )
    with pytest.raises(type(interrupt)):
        with VideoWriter(target, fps=10) as writer:
            for i, frame in enumerate(moving_crops(cat_photo, frames=8)[::-1]):
                if i == 5:
                    raise interrupt
                writer.write(frame)
    after = {p.name: p.read_bytes() for p in target.iterdir()} if target.is_dir() else target.read_bytes()
    assert after == snapshot
    assert sorted(os.listdir(tmp_path)) == [name]  # no temporary file or folder left


def test_missing_folder_is_a_media_write_error(tmp_path):
    with pytest.raises(MediaWriteError, match="does not exist"):
        write(tmp_path / "nope" / "out.mp4", [np.zeros((8, 8, 3), np.uint8)])


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_folder_is_a_media_write_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(MediaWriteError, match="not writable"):
            write(locked / "out.mp4", [np.zeros((8, 8, 3), np.uint8)])
    finally:
        locked.chmod(0o755)


def test_encoder_failure_is_a_media_write_error_and_leaves_nothing(tmp_path):
    with pytest.raises(MediaWriteError, match="ffmpeg"):
        write(tmp_path / "out.mp4", [np.zeros((8, 8, 3), np.uint8)] * 3, codec="no_such_encoder")
    assert os.listdir(tmp_path) == []


def test_writer_refuses_bad_arguments_and_mixed_sizes(tmp_path):
    with pytest.raises(MediaWriteError, match="unknown suffix"):
        VideoWriter(tmp_path / "out.xyz", fps=8)
    with pytest.raises(MediaWriteError, match="save_image"):
        VideoWriter(tmp_path / "out.png", fps=8)
    for fps in (0, -1, float("nan"), float("inf")):
        with pytest.raises(InvalidInputError, match="fps"):
            VideoWriter(tmp_path / "out.mp4", fps=fps)
    with pytest.raises(ShapeMismatchError, match="frame 1 is 9x8"):
        write(tmp_path / "out.mp4", [np.zeros((8, 8, 3), np.uint8), np.zeros((9, 8, 3), np.uint8)])
    with pytest.raises(MediaWriteError, match="no frames"):
        write(tmp_path / "out.mp4", [])
    assert os.listdir(tmp_path) == []


def test_writer_coerces_other_image_layouts(tmp_path):
    write(tmp_path / "gray.mp4", [np.full((16, 16), 0.5, np.float32)] * 2)
    frame = next(iter_frames(tmp_path / "gray.mp4"))
    assert abs(int(frame.mean()) - 128) <= 2


def test_html_preview_embeds_a_video_or_an_image():
    frames = [np.full((600, 900, 3), v, np.uint8) for v in range(0, 250, 50)]
    page = html_preview(frames, len(frames), (600, 900), 8.0, title="Clip(...)", max_side=300, max_frames=3)
    assert '<video width="300" height="200"' in page and "data:video/mp4;base64," in page
    assert "first 3 frames" in page
    still = html_preview(frames[:1], 1, (600, 900), 8.0)
    assert "<img" in still and "data:image/png;base64," in still


def test_folder_that_is_a_file_is_a_media_write_error(tmp_path):
    # Unlike chmod, this refuses even root.
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file")
    with pytest.raises(MediaWriteError, match="not_a_folder"):
        write(blocker / "out.mp4", [np.zeros((8, 8, 3), np.uint8)])
    with pytest.raises(MediaWriteError, match="not_a_folder"):
        save_image(blocker / "out.png", np.zeros((8, 8, 3), np.uint8))
    assert blocker.read_text() == "a file"


def test_folder_without_write_permission_is_a_media_write_error(tmp_path, monkeypatch):
    # Root ignores chmod, so the permission answer itself is simulated here.
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if mode & os.W_OK else real_access(path, mode, **kw))
    with pytest.raises(MediaWriteError, match="not writable"):
        write(tmp_path / "out.mp4", [np.zeros((8, 8, 3), np.uint8)])
    assert os.listdir(tmp_path) == []


def test_variable_frame_rate_video_reads_each_stored_frame_once(tmp_path):
    path = tmp_path / "vfr.mp4"
    # 20 frames, the first 10 shown twice as long as the rest.
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "20",
                    "-vf", "setpts='if(lt(N,10),N*2,20+N-10)/10/TB'", "-fps_mode", "vfr",
                    "-pix_fmt", "yuv420p", "-c:v", "libx264", str(path)], check=True)
    info = probe(path)
    assert info.frames == 20
    assert len(list(iter_frames(path, info))) == 20


def test_rotated_phone_video_reports_the_decoded_size(tmp_path, cat_photo, capfd):
    plain, rotated = tmp_path / "plain.mp4", tmp_path / "rotated.mp4"
    write(plain, moving_crops(cat_photo, frames=3))  # 96 x 128
    subprocess.run([ffmpeg_exe(), "-v", "error", "-display_rotation", "90", "-i", str(plain), "-c", "copy", str(rotated)], check=True)
    info = probe(rotated)
    assert info.size == (128, 96)
    frames = list(iter_frames(rotated, info))
    assert len(frames) == 3 and frames[0].shape == (128, 96, 3)
    assert "frame size for reading" not in capfd.readouterr().err


def test_frame_folder_output_never_replaces_a_folder_of_other_files(tmp_path, cat_photo):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "holiday.jpg").write_bytes(b"precious")
    with pytest.raises(MediaWriteError, match="holds other files"):
        write(photos, moving_crops(cat_photo, frames=2))
    assert (photos / "holiday.jpg").read_bytes() == b"precious"
    # A previous set of frames is replaced whole (3 frames -> 2 frames).
    write(tmp_path / "frames", moving_crops(cat_photo, frames=3))
    write(tmp_path / "frames", moving_crops(cat_photo, frames=2))
    assert len(frame_files(tmp_path / "frames")) == 2
