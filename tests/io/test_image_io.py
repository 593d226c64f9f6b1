"""Image coercion: every common image layout becomes uint8 (H, W, 3) RGB; bad ones are refused clearly."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from motionkit.errors import InvalidInputError, MediaReadError, MediaWriteError, NonFiniteError, TooLargeError
from motionkit.io.image import image_to_tensor, load_image, read_image_size, save_image, tensor_to_image


def test_uint8_rgb_passes_through_as_a_copy(cat_photo):
    out = load_image(cat_photo)
    assert out.dtype == np.uint8 and out.shape == cat_photo.shape
    assert np.array_equal(out, cat_photo)
    out[0, 0] = 0
    assert not np.shares_memory(out, cat_photo)


def test_caller_array_is_never_modified(cat_photo):
    rgba = np.dstack([cat_photo, np.full(cat_photo.shape[:2], 100, np.uint8)])
    before = rgba.copy()
    load_image(rgba)
    image_to_tensor(rgba)
    assert np.array_equal(rgba, before)


def test_alpha_is_composited_over_white():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 0] = 200  # red 200 ...
    rgba[0, 0, 3] = 255  # opaque
    rgba[0, 1, 3] = 0  # transparent
    rgba[1, 0, 3] = 128  # half
    out = load_image(rgba)
    assert out[0, 0].tolist() == [200, 0, 0]
    assert out[0, 1].tolist() == [255, 255, 255]
    a = 128 / 255
    assert out[1, 0].tolist() == [round(200 * a + 255 * (1 - a)), round(255 * (1 - a)), round(255 * (1 - a))]


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1)])
def test_grayscale_is_expanded_to_rgb(shape):
    gray = np.arange(35, dtype=np.uint8).reshape(shape)
    out = load_image(gray)
    assert out.shape == (5, 7, 3)
    assert np.array_equal(out[..., 0], gray.reshape(5, 7)) and np.array_equal(out[..., 0], out[..., 2])


def test_sixteen_bit_is_scaled_to_eight_bit():
    levels = np.array([[0, 257 * 128, 65535]], np.uint16)
    assert load_image(levels)[0, :, 0].tolist() == [0, 128, 255]
    # The float path keeps 16-bit precision instead of rounding through 8 bits.
    assert image_to_tensor(np.array([[1000]], np.uint16))[0, 0, 0].item() == pytest.approx(1000 / 65535, abs=1e-7)


def test_float_in_unit_range_is_accepted_and_rounded():
    img = np.array([[[0.0, 0.5, 1.0]]], np.float64)
    assert load_image(img)[0, 0].tolist() == [0, 128, 255]


def test_float_in_0_255_is_refused_with_a_hint():
    with pytest.raises(InvalidInputError, match="divide by 255"):
        load_image(np.full((4, 4, 3), 200.0))


def test_nan_is_refused():
    img = np.zeros((4, 4, 3), np.float32)
    img[1, 1, 1] = np.nan
    with pytest.raises(NonFiniteError):
        load_image(img)


@pytest.mark.parametrize("shape", [(4, 4, 5), (2, 4, 4, 3), (7,)])
def test_wrong_layouts_say_what_was_expected(shape):
    with pytest.raises(InvalidInputError, match=r"\(H, W, 3\)"):
        load_image(np.zeros(shape, np.uint8))


def test_channel_first_numpy_gets_a_hint():
    with pytest.raises(InvalidInputError, match="channel-first"):
        load_image(np.zeros((3, 32, 32), np.uint8))


def test_torch_tensors_channel_first(cat_photo):
    chw = torch.from_numpy(cat_photo).permute(2, 0, 1).float() / 255
    assert np.array_equal(load_image(chw), cat_photo)
    assert np.array_equal(load_image(chw[None]), cat_photo)  # a batch of one
    gray = torch.full((1, 3, 4), 0.5)
    assert load_image(gray).shape == (3, 4, 3)
    assert load_image(torch.zeros(3, 4, dtype=torch.uint8)).shape == (3, 4, 3)
    with pytest.raises(InvalidInputError, match=r"\(3, H, W\)"):
        load_image(torch.zeros(2, 3, 4, 5))


def test_pil_images_in_any_mode(cat_photo):
    pil = Image.fromarray(cat_photo)
    assert np.array_equal(load_image(pil), cat_photo)
    assert load_image(pil.convert("L")).shape == cat_photo.shape
    assert load_image(pil.convert("P")).shape == cat_photo.shape
    transparent = Image.new("RGBA", (3, 2), (0, 0, 0, 0))
    assert load_image(transparent)[0, 0].tolist() == [255, 255, 255]


def test_image_to_tensor_and_back_round_trips(cat_photo):
    tensor = image_to_tensor(cat_photo)
    assert tensor.dtype == torch.float32 and tensor.shape == (3, *cat_photo.shape[:2])
    assert 0.0 <= tensor.min() and tensor.max() <= 1.0
    assert np.array_equal(tensor_to_image(tensor), cat_photo)


def test_image_to_tensor_keeps_float_precision():
    t = torch.rand(3, 5, 6)
    out = image_to_tensor(t)
    assert torch.equal(out, t) and out.data_ptr() != t.data_ptr()


def test_tensor_to_image_clamps_and_rounds():
    t = torch.tensor([[[-0.2, 0.2, 0.501 / 255 * 255, 1.3]]])
    assert tensor_to_image(t)[0, :, 0].tolist() == [0, 51, 128, 255]
    with pytest.raises(NonFiniteError):
        tensor_to_image(torch.full((3, 2, 2), float("inf")))


def test_absurd_sizes_are_refused_before_allocating():
    huge = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (20000, 10, 3))  # no memory behind it
    with pytest.raises(TooLargeError, match="16384"):
        load_image(huge)
    with pytest.raises(TooLargeError):
        load_image(np.broadcast_to(np.zeros((1, 1), np.uint8), (16384, 16384 + 1)))


def test_file_formats_round_trip(tmp_path, cat_photo):
    for suffix in (".png", ".bmp", ".tiff", ".webp"):
        path = tmp_path / f"cat{suffix}"
        save_image(path, cat_photo, quality=100)
        back = load_image(path)
        assert back.shape == cat_photo.shape
        assert np.abs(back.astype(int) - cat_photo).mean() < 2.0, suffix
        assert read_image_size(path) == cat_photo.shape[:2]
    jpg = tmp_path / "cat.jpg"
    save_image(jpg, cat_photo)
    assert np.abs(load_image(jpg).astype(int) - cat_photo).mean() < 4.0


def test_sixteen_bit_and_alpha_files_are_converted(tmp_path):
    Image.fromarray(np.full((4, 5), 257 * 128, np.uint16)).save(tmp_path / "deep.png")
    assert load_image(tmp_path / "deep.png")[0, 0].tolist() == [128, 128, 128]
    Image.new("LA", (5, 4), (0, 0)).save(tmp_path / "clear.png")
    assert load_image(tmp_path / "clear.png")[0, 0].tolist() == [255, 255, 255]


def test_missing_and_corrupt_files_name_the_path(tmp_path, cat_photo):
    with pytest.raises(MediaReadError, match="nope.png.*no such file"):
        load_image(tmp_path / "nope.png")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(MediaReadError, match="notes.png"):
        load_image(text)
    good = tmp_path / "cut.png"
    save_image(good, cat_photo)
    good.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(MediaReadError, match="cut.png"):
        load_image(good)


def test_unsupported_objects_are_refused():
    with pytest.raises(InvalidInputError, match="cannot use a dict"):
        load_image({"pixels": 1})


def test_save_image_is_atomic_and_checks_the_folder(tmp_path, cat_photo):
    with pytest.raises(MediaWriteError, match="does not exist"):
        save_image(tmp_path / "missing" / "a.png", cat_photo)
    with pytest.raises(MediaWriteError, match="unknown suffix"):
        save_image(tmp_path / "a.xyz", cat_photo)
    target = tmp_path / "a.png"
    save_image(target, cat_photo)
    assert os.listdir(tmp_path) == ["a.png"]


@settings(max_examples=40, deadline=None)
@given(
    pixels=arrays(np.uint8, st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([1, 3, 4]))),
)
def test_every_accepted_layout_gives_rgb_of_the_same_size(pixels):
    out = load_image(pixels)
    assert out.shape == (*pixels.shape[:2], 3) and out.dtype == np.uint8
    if pixels.shape[2] == 3:
        # uint8 RGB survives the float round trip exactly.
        assert np.array_equal(tensor_to_image(image_to_tensor(pixels)), pixels)
    if pixels.shape[2] == 4:
        opaque = pixels.copy()
        opaque[..., 3] = 255
        assert np.array_equal(load_image(opaque), pixels[..., :3])


def test_image_to_tensor_divides_every_byte_as_torch_does():
    """The uint8 conversion runs in numpy; its quotients are torch's ``div_(255.0)`` bit for bit, on every byte value."""
    rgb = np.random.default_rng(0).permutation(np.tile(np.arange(256, dtype=np.uint8), 3 * 64)).reshape(64, 256, 3)
    before = rgb.copy()
    tensor = image_to_tensor(rgb)
    expected = torch.from_numpy(rgb).permute(2, 0, 1).contiguous().float().div_(255.0)
    assert tensor.dtype == torch.float32 and tensor.is_contiguous() and tuple(tensor.shape) == (3, 64, 256)
    assert torch.equal(tensor.view(torch.int32), expected.view(torch.int32))
    tensor.fill_(0.5)  # a tensor of its own: writing it leaves the caller's array as it was
    assert np.array_equal(rgb, before)
