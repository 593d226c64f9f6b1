"""Mask images are read upright (EXIF orientation, like photos), a channel at a time."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from motionkit.errors import InvalidInputError, MediaReadError
from motionkit.io.image import load_image
from motionkit.io.mask_image import load_mask, mask_values
from motionkit.mask import RegionMask


def _sideways(tmp_path, orientation: int):
    """A 4 x 6 (H x W) mask stored with only its top-left 2 x 3 block white, tagged ``orientation``."""
    stored = np.zeros((4, 6), np.uint8)
    stored[:2, :3] = 255
    path = tmp_path / f"mask_{orientation}.png"
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(path, exif=exif)
    return path, stored


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_an_exif_rotated_mask_lines_up_with_the_photo_read_from_the_same_file(tmp_path, orientation):
    path, stored = _sideways(tmp_path, orientation)
    mask = load_mask(path)
    photo = load_image(path)  # what motionkit shows as the image: turned upright
    assert mask.dtype == np.float32 and mask.shape == photo.shape[:2]
    assert np.array_equal(mask, photo[..., 0] / np.float32(255.0))
    expected = {3: np.rot90(stored, 2), 6: np.rot90(stored, -1), 8: np.rot90(stored, 1)}[orientation]
    assert np.array_equal(mask > 0.5, expected > 0)
    assert RegionMask.from_image(path).size == mask.shape
    with Image.open(path) as img:  # a PIL image is turned the same way
        assert np.array_equal(load_mask(img), mask)


def test_an_upright_mask_is_read_as_stored(tmp_path):
    path, stored = _sideways(tmp_path, 1)
    assert np.array_equal(load_mask(path), stored / np.float32(255.0))


def test_colours_alpha_and_bit_depths():
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, 0] = [255, 255, 255, 255]  # white, opaque
    rgba[0, 1] = [255, 255, 255, 0]  # white, transparent: not painted
    rgba[0, 2] = [255, 0, 0, 255]  # red reads as its luminance
    values = load_mask(rgba)
    assert values[0, 0] == 1.0 and values[0, 1] == 0.0 and values[0, 2] == pytest.approx(0.299, abs=1e-6)
    assert load_mask(np.array([[0, 65535]], np.uint16)).tolist() == [[0.0, 1.0]]
    assert load_mask(torch.tensor([[True, False]])).tolist() == [[1.0, 0.0]]
    assert mask_values(np.array([1.00005], np.float32)).tolist() == [1.0]  # rounding error clamped
    with pytest.raises(InvalidInputError, match="255"):
        mask_values(np.array([2.0], np.float32))
    with pytest.raises(InvalidInputError):
        load_mask(np.zeros((2, 2, 5), np.uint8))


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(MediaReadError, match="no such file"):
        load_mask(tmp_path / "absent.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(MediaReadError):
        load_mask(bad)
