"""Clip: an immutable value of frames + fps, in memory or streamed from a frame source."""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest
import torch

from motionkit.clip import Clip
from motionkit.errors import InvalidInputError, MediaReadError, MediaWriteError, ShapeMismatchError
from motionkit.io.image import save_image


def moving_crops(photo: np.ndarray, frames: int = 8, height: int = 96, width: int = 128) -> np.ndarray:
    """A real photo seen through a window that slides 3 px right and 2 px down per frame."""
    return np.stack([photo[40 + 2 * t : 40 + 2 * t + height, 60 + 3 * t : 60 + 3 * t + width] for t in range(frames)])


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


class CountingSource:
    """A frame source that counts how often it is opened and how many frames it hands out."""

    def __init__(self, count: int, size=(24, 32)):
        self.count, self.size = count, size
        self.opened = 0
        self.yielded = 0

    def __call__(self):
        self.opened += 1
        for t in range(self.count):
            self.yielded += 1
            yield np.full((*self.size, 3), t % 256, np.uint8)


# -- construction --------------------------------------------------------------------------


def test_from_array_copies_uint8_input():
    frames = np.random.randint(0, 256, (4, 6, 8, 3), np.uint8)
    clip = Clip.from_array(frames, fps=5)
    frames[:] = 0
    assert clip.to_numpy().any()
    assert (len(clip), clip.size, clip.height, clip.width, clip.fps, clip.duration) == (4, (6, 8), 6, 8, 5.0, 0.8)
    assert not clip.is_lazy


def test_from_array_float_and_torch_layouts_agree():
    frames = np.random.randint(0, 256, (3, 5, 7, 3), np.uint8)
    as_float = Clip.from_array(frames / 255.0)
    as_torch = Clip.from_array(torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255)
    as_list = Clip.from_array([f for f in frames])
    for clip in (as_float, as_torch, as_list):
        assert np.array_equal(clip.to_numpy(), frames)


def test_from_array_converts_gray_and_alpha_frames():
    gray = Clip.from_array(np.zeros((2, 4, 5), np.uint8))
    assert gray.size == (4, 5) and gray.to_numpy().shape == (2, 4, 5, 3)
    clear = Clip.from_array(np.zeros((2, 4, 5, 4), np.uint8))
    assert (clear.to_numpy() == 255).all()  # transparent over white


def test_empty_clips_bad_fps_and_mixed_sizes_are_refused():
    with pytest.raises(InvalidInputError, match="at least one frame"):
        Clip.from_array(np.zeros((0, 4, 4, 3), np.uint8))
    with pytest.raises(InvalidInputError, match="at least one frame"):
        Clip.from_array([])
    for fps in (0, -3, float("nan"), float("inf"), "8"):
        with pytest.raises(InvalidInputError, match="fps"):
            Clip.from_array(np.zeros((1, 4, 4, 3), np.uint8), fps=fps)
    with pytest.raises(ShapeMismatchError, match="frame 1 is 5x4"):
        Clip.from_array([np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)])
    with pytest.raises(InvalidInputError, match="divide by 255"):
        Clip.from_array(np.full((2, 4, 4, 3), 100.0))
    with pytest.raises(InvalidInputError, match=r"\(T, 3, H, W\)"):
        Clip.from_array(torch.zeros(3, 4, 4))


def test_from_image_holds_one_frame_many_times(cat_photo):
    clip = Clip.from_image(cat_photo, frames=50, fps=10)
    assert (len(clip), clip.size, clip.duration) == (50, cat_photo.shape[:2], 5.0)
    assert np.array_equal(clip[49], cat_photo)
    assert clip._array.base is not None and clip._array.strides[0] == 0  # one buffer, not 50 copies


def test_clip_is_immutable():
    clip = Clip.from_array(np.zeros((2, 4, 4, 3), np.uint8))
    with pytest.raises(AttributeError, match="immutable"):
        clip.fps = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        next(clip.iter_frames())[0, 0, 0] = 1  # frames handed out are read-only views
    frame = clip[0]
    frame[0, 0, 0] = 9  # ... while frame(i) / clip[i] are the caller's own copies
    assert clip[0][0, 0, 0] == 0


# -- access ------------------------------------------------------------------------------


def test_indexing_follows_numpy():
    frames = np.arange(5, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 3, 3), np.uint8)
    clip = Clip.from_array(frames, fps=10)
    assert isinstance(clip[1], np.ndarray) and clip[1][0, 0, 0] == 1
    assert clip[-1][0, 0, 0] == 4
    sub = clip[1:5:2]
    assert isinstance(sub, Clip) and [f[0, 0, 0] for f in sub] == [1, 3] and sub.fps == 10
    assert [f[0, 0, 0] for f in clip[::-1]] == [4, 3, 2, 1, 0]
    with pytest.raises(IndexError):
        clip[5]
    with pytest.raises(InvalidInputError, match="empty"):
        clip[3:3]


def test_to_tensor_windows_are_float_in_unit_range():
    frames = np.random.randint(0, 256, (6, 4, 5, 3), np.uint8)
    clip = Clip.from_array(frames)
    t = clip.to_tensor()
    assert t.dtype == torch.float32 and t.shape == (6, 3, 4, 5)
    assert torch.allclose(t * 255, torch.from_numpy(frames).permute(0, 3, 1, 2).float(), atol=1e-4)
    assert torch.equal(clip.to_tensor(2, 4), t[2:4])
    assert torch.equal(clip.to_tensor(-1), t[-1:])


# -- lazy clips ------------------------------------------------------------------------------


def test_lazy_clip_reads_its_source_only_when_iterated():
    source = CountingSource(10)
    clip = Clip.from_frames(source, count=10, size=(24, 32), fps=5)
    edited = clip.resized(scale=0.5).cropped(1, 1)[2:8].with_fps(10)
    assert (len(edited), edited.size, edited.fps) == (6, (11, 15), 10.0)
    assert edited.is_lazy and source.opened == 0
    frames = list(edited.iter_frames())
    assert source.opened == 1 and len(frames) == 6
    assert source.yielded == 8  # stops reading once the slice is complete
    assert clip.frame(3)[0, 0, 0] == 3 and source.opened == 2


def test_materialize_and_to_numpy_of_a_lazy_clip():
    source = CountingSource(4)
    clip = Clip.from_frames(source, 4, (24, 32))
    held = clip.materialize()
    assert not held.is_lazy and held.materialize() is held and source.opened == 1
    assert [f[0, 0, 0] for f in held] == [0, 1, 2, 3]
    assert np.array_equal(clip.to_numpy(), held.to_numpy())


def test_lazy_source_that_breaks_its_promise_is_reported():
    short = Clip.from_frames(CountingSource(3), count=5, size=(24, 32))
    with pytest.raises(InvalidInputError, match="yielded 3 frames but promised 5"):
        short.to_numpy()
    wrong = Clip.from_frames(CountingSource(3, size=(10, 10)), count=3, size=(24, 32))
    with pytest.raises(ShapeMismatchError, match="frame 0 is 10x10"):
        list(wrong)
    with pytest.raises(InvalidInputError, match="materialize"):
        short[::-1]


def test_long_lazy_clip_is_written_without_holding_its_frames(tmp_path):
    count, size = 150, (240, 320)  # 35 MB of frames if they were ever held together
    source = CountingSource(count, size)
    clip = Clip.from_frames(source, count, size, fps=25)
    tracemalloc.start()
    try:
        clip.write(tmp_path / "long.mp4")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert source.opened == 1 and source.yielded == count
    assert peak < 8 * 2**20, f"peak Python memory {peak / 2**20:.1f} MiB while streaming"
    back = Clip.read(tmp_path / "long.mp4")
    assert (len(back), back.size, back.fps) == (count, size, 25.0)


def test_video_to_video_streams_with_bounded_memory(tmp_path):
    count, size = 120, (240, 320)
    Clip.from_frames(CountingSource(count, size), count, size, fps=25).write(tmp_path / "long.mp4")
    tracemalloc.start()
    try:
        Clip.read(tmp_path / "long.mp4").resized(scale=0.5).write(tmp_path / "small.mp4")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"peak Python memory {peak / 2**20:.1f} MiB while streaming"
    small = Clip.read(tmp_path / "small.mp4")
    assert (len(small), small.size) == (count, (120, 160))
    assert abs(int(small[77].mean()) - 77) <= 2  # frame t is grey level t: order kept


# -- files -----------------------------------------------------------------------------------


def test_mp4_round_trip_through_clip(tmp_path, cat_photo):
    frames = moving_crops(cat_photo)
    Clip.from_array(frames, fps=12).write(tmp_path / "cat.mp4")
    clip = Clip.read(tmp_path / "cat.mp4")
    assert clip.is_lazy and (len(clip), clip.size, clip.fps) == (8, (96, 128), 12.0)
    assert psnr(clip.to_numpy(), frames) > 30.0
    assert psnr(clip.frame(5), frames[5]) > 30.0
    assert psnr(clip[6:].to_numpy(), frames[6:]) > 30.0
    assert Clip.read(tmp_path / "cat.mp4", fps=24).duration == pytest.approx(8 / 24)


def test_gif_and_png_folder_round_trips_through_clip(tmp_path, cat_photo):
    frames = moving_crops(cat_photo, frames=5)
    clip = Clip.from_array(frames, fps=10)
    clip.write(tmp_path / "cat.gif")
    gif = Clip.read(tmp_path / "cat.gif")
    assert (len(gif), gif.size, gif.fps) == (5, (96, 128), 10.0)
    assert psnr(gif.to_numpy(), frames) > 25.0
    clip.write(tmp_path / "frames")
    folder = Clip.read(tmp_path / "frames", fps=10)
    assert np.array_equal(folder.to_numpy(), frames) and folder.fps == 10.0
    assert Clip.read(tmp_path / "frames").fps == 8.0  # folders store no rate


def test_image_files_read_and_write_as_one_frame(tmp_path, cat_photo):
    save_image(tmp_path / "cat.png", cat_photo)
    clip = Clip.read(tmp_path / "cat.png")
    assert len(clip) == 1 and np.array_equal(clip[0], cat_photo)
    clip.write(tmp_path / "copy.png")
    assert np.array_equal(Clip.read(tmp_path / "copy.png")[0], cat_photo)
    with pytest.raises(MediaWriteError, match="3-frame clip"):
        Clip.from_image(cat_photo, frames=3).write(tmp_path / "many.png")


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(MediaReadError, match="gone.mp4"):
        Clip.read(tmp_path / "gone.mp4")
    (tmp_path / "bad.mp4").write_text("not a video")
    with pytest.raises(MediaReadError, match="bad.mp4"):
        Clip.read(tmp_path / "bad.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MediaReadError, match="empty"):
        Clip.read(tmp_path / "empty")


def test_failed_write_keeps_previous_file(tmp_path, cat_photo):
    target = tmp_path / "out.mp4"
    Clip.from_image(cat_photo[:64, :64], frames=3).write(target)
    before = target.read_bytes()

    def failing():
        yield np.zeros((64, 64, 3), np.uint8)
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        Clip.from_frames(failing, 5, (64, 64)).write(target)
    assert target.read_bytes() == before and os.listdir(tmp_path) == ["out.mp4"]
    with pytest.raises(MediaWriteError):
        Clip.from_image(cat_photo, frames=2).write(tmp_path / "missing" / "out.mp4")


def test_write_with_progress_and_fps_override(tmp_path, capsys):
    Clip.from_array(np.zeros((4, 16, 16, 3), np.uint8), fps=8).write(tmp_path / "p.mp4", fps=16, progress=True)
    assert Clip.read(tmp_path / "p.mp4").fps == 16.0
    assert "4/4" in capsys.readouterr().err


# -- edits ---------------------------------------------------------------------------------


def test_resized_and_cropped(cat_photo):
    clip = Clip.from_image(cat_photo, frames=2)
    half = clip.resized(scale=0.5)
    assert half.size == (150, 226)
    assert abs(half[0].astype(float).mean() - cat_photo.mean()) < 1.0
    assert clip.resized(size=(30, 40)).size == (30, 40)
    assert clip.resized(size=clip.size) is clip
    crop = clip.cropped(top=10, left=20, height=30, width=40)
    assert np.array_equal(crop[1], cat_photo[10:40, 20:60])
    with pytest.raises(InvalidInputError, match="does not fit"):
        clip.cropped(top=290, height=20)
    with pytest.raises(InvalidInputError, match="exactly one"):
        clip.resized()


def test_hstack_holds_the_last_frame_of_shorter_clips():
    a = Clip.from_array(np.arange(4, dtype=np.uint8)[:, None, None, None] * np.ones((1, 5, 3, 3), np.uint8), fps=6)
    b = Clip.from_image(np.full((5, 2, 3), 200, np.uint8), frames=2)
    lazy_b = Clip.from_frames(lambda: iter([np.full((5, 2, 3), 100, np.uint8)] * 2), 2, (5, 2))
    for other, lazy in ((b, False), (lazy_b, True)):
        both = Clip.hstack([a, other])
        assert (len(both), both.size, both.fps, both.is_lazy) == (4, (5, 5), 6.0, lazy)
        frames = both.to_numpy()
        assert [f[0, 0, 0] for f in frames] == [0, 1, 2, 3]
        assert (frames[3, :, 3:] == frames[1, :, 3:]).all()  # held
    tall = Clip.vstack([a, Clip.from_image(np.zeros((2, 3, 3), np.uint8))])
    assert tall.size == (7, 3)
    with pytest.raises(ShapeMismatchError, match="height"):
        Clip.hstack([a, Clip.from_image(np.zeros((6, 2, 3), np.uint8))])


def test_concatenate():
    a = Clip.from_image(np.zeros((4, 4, 3), np.uint8), frames=2, fps=5)
    b = Clip.from_frames(lambda: iter([np.full((4, 4, 3), 9, np.uint8)] * 3), 3, (4, 4))
    both = Clip.concatenate([a, b])
    assert (len(both), both.fps, both.is_lazy) == (5, 5.0, True)
    assert [f[0, 0, 0] for f in both] == [0, 0, 9, 9, 9]
    assert not Clip.concatenate([a, a]).is_lazy
    with pytest.raises(ShapeMismatchError, match="one size"):
        Clip.concatenate([a, Clip.from_image(np.zeros((5, 4, 3), np.uint8))])
    with pytest.raises(InvalidInputError, match="at least one clip"):
        Clip.concatenate([])


# -- interop and display ---------------------------------------------------------------------


def test_moviepy_round_trip(cat_photo):
    from moviepy import ColorClip, ImageSequenceClip

    frames = moving_crops(cat_photo, frames=7)
    clip = Clip.from_array(frames, fps=3)
    movie = clip.to_moviepy()
    assert (movie.duration, movie.fps, tuple(movie.size)) == (pytest.approx(7 / 3), 3, (128, 96))
    back = Clip.from_moviepy(movie)
    assert (len(back), back.fps) == (7, 3.0) and np.array_equal(back.to_numpy(), frames)
    lazy = Clip.from_moviepy(Clip.from_frames(lambda: iter(frames), 7, (96, 128), fps=3).to_moviepy())
    assert np.array_equal(lazy.to_numpy(), frames)
    seq = Clip.from_moviepy(ImageSequenceClip(list(frames), fps=3))
    assert np.array_equal(seq.to_numpy(), frames)
    red = Clip.from_moviepy(ColorClip((8, 4), color=(255, 0, 0), duration=1.0), fps=4)
    assert red.to_numpy()[..., 0].min() == 255 and red.size == (4, 8)
    with pytest.raises(InvalidInputError, match="fps"):
        Clip.from_moviepy(ColorClip((8, 4), color=(0, 0, 0), duration=1.0))


def test_notebook_display_embeds_the_clip(cat_photo):
    page = Clip.from_array(moving_crops(cat_photo, frames=4), fps=8)._repr_html_()
    assert "<video" in page and "data:video/mp4;base64," in page and "Clip(frames=4" in page
    big = Clip.from_image(np.zeros((1000, 1600, 3), np.uint8), frames=2)._repr_html_()
    assert 'width="480" height="300"' in big  # downscaled for the page
    assert "<img" in Clip.from_image(cat_photo)._repr_html_()
    assert repr(Clip.from_image(cat_photo, fps=12.5)) == "Clip(frames=1, size=(300, 451), fps=12.5, lazy=False)"


def test_from_array_without_copy_adopts_the_array_read_only():
    frames = np.zeros((3, 4, 4, 3), np.uint8)
    clip = Clip.from_array(frames, copy=False)
    assert np.shares_memory(clip._array, frames) and not frames.flags.writeable
    assert not np.shares_memory(Clip.from_array(frames[:, ::2], copy=False)._array, frames)  # not contiguous: copied


def test_clips_pickle_and_copy():
    import copy
    import pickle

    clip = Clip.from_array(np.random.randint(0, 256, (2, 3, 4, 3), np.uint8), fps=6)
    for twin in (pickle.loads(pickle.dumps(clip)), copy.deepcopy(clip), copy.copy(clip)):
        assert np.array_equal(twin.to_numpy(), clip.to_numpy()) and twin.fps == 6.0


def test_the_constructor_is_not_public():
    with pytest.raises(InvalidInputError, match="Clip.read"):
        Clip()


def test_a_clip_can_be_rewritten_onto_the_file_it_streams_from(tmp_path, cat_photo):
    path = tmp_path / "cat.mp4"
    Clip.from_array(moving_crops(cat_photo), fps=12).write(path)
    Clip.read(path).resized(scale=0.5).write(path)  # reads the old file while writing the new
    again = Clip.read(path)
    assert (len(again), again.size, again.fps) == (8, (48, 64), 12.0)
    assert os.listdir(tmp_path) == ["cat.mp4"]
