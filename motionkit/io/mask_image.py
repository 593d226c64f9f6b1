"""Reading a painted mask image: white = may move, black = stays, as ``float32 (H, W)`` in [0, 1].

A mask may be as large as a photo, so it is read with care: the declared size is checked
before any pixel is decoded, and channels are converted one at a time into a float32 result
(a few bytes a pixel, not a float copy of every channel; a 118-byte GIF declaring a huge
canvas once needed 5 GB this way). A phone's EXIF orientation is honoured as by
:func:`motionkit.io.image.load_image`, so a mask painted over a sideways-stored photo lines up
with the photo as motionkit loads it.

Example:
    >>> import numpy as np
    >>> load_mask(np.array([[0, 255]], np.uint8)).tolist()
    [[0.0, 1.0]]
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motionkit.errors import InvalidInputError, MediaReadError, MotionkitError, NonFiniteError, TooLargeError
from motionkit.io.image import check_size

_LUMA = np.array([0.299, 0.587, 0.114])  # Rec. 601: how bright a coloured brush stroke reads
_TOLERANCE = 1e-4  # float masks a rounding error outside [0, 1] are clamped, not refused
_ORIENTATION = 0x0112  # the EXIF tag; 1 (or absent) means "stored as shown"


def mask_values(array: np.ndarray) -> np.ndarray:
    """A new ``float32`` array in [0, 1] from bool, uint8 (/255), uint16 (/65535) or float values.

    Raises:
        NonFiniteError: a float array holds NaN or inf.
        InvalidInputError: float values outside [0, 1] (beyond rounding) or another dtype.
    """
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if array.dtype in (np.uint8, np.uint16):
        return np.multiply(array, np.float32(1.0 / np.iinfo(array.dtype).max), dtype=np.float32)
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise NonFiniteError("mask holds NaN or infinite values")
        if array.size and (array.min() < -_TOLERANCE or array.max() > 1 + _TOLERANCE):
            raise InvalidInputError(
                f"a float mask must lie in [0, 1], got [{array.min():.3g}, {array.max():.3g}]; "
                "divide 8-bit values by 255"
            )
        values = array.astype(np.float32, copy=True)
        return np.clip(values, 0.0, 1.0, out=values)
    raise InvalidInputError(f"a mask must be bool, uint8, uint16 or float in [0, 1], got {array.dtype}")


def load_mask(image: str | os.PathLike | np.ndarray | torch.Tensor | Any) -> np.ndarray:
    """A mask painted as an image -> ``float32 (H, W)`` in [0, 1] (always a new array).

    Args:
        image: a file path, a numpy array ``(H, W[, C])``, a tensor ``(C, H, W)`` or
            ``(H, W)`` (any device; a batch of one is accepted), or a PIL image; gray,
            gray+alpha, RGB (Rec. 601 luminance) or RGBA, 8 or 16 bit, bool or float in
            [0, 1]. Alpha multiplies (transparent = not painted). Files and PIL images are
            turned upright by their EXIF orientation.

    Raises:
        MediaReadError: the file is missing, not an image, or corrupt.
        TooLargeError: the declared size exceeds :func:`motionkit.io.image.check_size`'s limits.
        InvalidInputError: a layout or dtype that cannot be a mask.
    """
    if isinstance(image, (str, os.PathLike)):
        array = _read_mask_file(Path(image))
    elif isinstance(image, torch.Tensor):
        t = image.detach().cpu()
        if t.dim() == 4 and t.shape[0] == 1:
            t = t[0]
        array = t.permute(1, 2, 0).numpy() if t.dim() == 3 else t.numpy()
    elif isinstance(image, np.ndarray):
        array = image
    elif type(image).__module__.startswith("PIL."):
        width, height = image.size
        check_size(height, width, "mask image")
        array = _pil_to_array(_upright(image))
    else:
        raise InvalidInputError(f"cannot read a mask from a {type(image).__name__}; pass a path, array, tensor or PIL image")
    return _image_to_values(array)


def _image_to_values(array: np.ndarray) -> np.ndarray:
    """``(H, W)`` or ``(H, W, C)`` gray / gray+alpha / RGB / RGBA -> float32 (H, W), a channel at a time."""
    if array.ndim == 2:
        return mask_values(array)
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise InvalidInputError(f"a mask image is (H, W) or (H, W, 1|2|3|4), got {array.shape}")
    has_alpha = array.shape[2] in (2, 4)
    colours = array.shape[2] - has_alpha
    if colours == 1:
        gray = mask_values(array[..., 0])
    else:
        gray = mask_values(array[..., 0]) * np.float32(_LUMA[0])
        for k in (1, 2):
            gray += mask_values(array[..., k]) * np.float32(_LUMA[k])
        np.clip(gray, 0.0, 1.0, out=gray)  # rounding may step past 1 by an ulp
    if has_alpha:
        gray *= mask_values(array[..., -1])  # transparent means "not painted"
    return gray


def _upright(img: Any) -> Any:
    """``img`` turned by its EXIF orientation; the image itself (no copy) when it has none."""
    from PIL import ImageOps

    if img.getexif().get(_ORIENTATION, 1) == 1:
        return img
    return ImageOps.exif_transpose(img)


def _pil_to_array(img: Any) -> np.ndarray:
    """A PIL image -> its pixels, keeping 16-bit depth and alpha."""
    if img.mode.startswith("I"):  # 16-bit (or 32-bit integer) grayscale
        return np.clip(np.asarray(img, dtype=np.int64), 0, 65535).astype(np.uint16)
    if img.mode not in ("1", "L", "LA", "RGB", "RGBA", "F"):
        has_alpha = "transparency" in img.info or img.mode in ("PA", "RGBa", "La")
        img = img.convert("RGBA" if has_alpha else "RGB")
    return np.asarray(img)


def _read_mask_file(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise MediaReadError(f"cannot read mask image {path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
                check_size(height, width, f"mask image {path}")  # refused before decoding any pixel
                return _pil_to_array(_upright(img))
    except MotionkitError:
        raise
    except Image.DecompressionBombError as exc:
        raise TooLargeError(f"cannot read mask image {path}: {exc}") from None
    except UnidentifiedImageError:
        raise MediaReadError(f"cannot read mask image {path}: not an image file or an unsupported format") from None
    except Exception as exc:
        # Corrupt files fail inside Pillow's decoders in many ways; all mean "unreadable".
        raise MediaReadError(f"cannot read mask image {path}: file is truncated or corrupt ({type(exc).__name__}: {exc})") from None
