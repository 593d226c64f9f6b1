"""Reading, coercing and saving single images.

Every part of motionkit that takes "an image" passes it through :func:`load_image` (for
``uint8 (H, W, 3)`` pixels) or :func:`image_to_tensor` (for ``float32 (3, H, W)`` in [0, 1]).
Both accept a path, a numpy array, a torch tensor or a PIL image, and *convert* the common
variants instead of refusing them: alpha is composited over white, grayscale is expanded to
RGB, 16-bit is scaled to 8-bit. Layouts that cannot be an image are refused with
:class:`~motionkit.errors.InvalidInputError` saying what was expected. The caller's object is
never modified.

Example:
    >>> import numpy as np
    >>> rgba = np.zeros((2, 3, 4), np.uint8)          # fully transparent black
    >>> load_image(rgba)[0, 0].tolist()               # composited over white
    [255, 255, 255]
    >>> image_to_tensor(np.zeros((2, 3), np.uint16)).shape
    torch.Size([3, 2, 3])
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Union

import numpy as np
import torch

from motionkit.errors import InvalidInputError, MediaReadError, MediaWriteError, NonFiniteError, TooLargeError
from motionkit.io.atomic import atomic_path
from motionkit.pixels import to_uint8

#: Largest accepted side, in pixels.
MAX_SIDE = 16384
#: Largest accepted number of pixels in one image.
MAX_PIXELS = 2**28

#: File suffixes read as still images (lower case).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})

ImageLike = Union[str, os.PathLike, np.ndarray, torch.Tensor, Any]

# Float inputs a hair outside [0, 1] (resampling overshoot, rounding) are clamped; anything
# further out is almost always a [0, 255] image passed as float and is refused.
_FLOAT_TOLERANCE = 1e-3


def check_size(height: int, width: int, what: str = "image") -> None:
    """Refuse sizes no image of this library can sensibly have, before anything is allocated.

    Raises:
        TooLargeError: a side exceeds :data:`MAX_SIDE` or the area exceeds :data:`MAX_PIXELS`.
        InvalidInputError: a side is zero or negative.

    Example:
        >>> check_size(20000, 10)
        Traceback (most recent call last):
        ...
        motionkit.errors.TooLargeError: image of 20000x10 pixels (HxW) is too large: ...
    """
    if height <= 0 or width <= 0:
        raise InvalidInputError(f"{what} of {height}x{width} pixels (HxW) is empty; expected at least 1x1")
    if height > MAX_SIDE or width > MAX_SIDE or height * width > MAX_PIXELS:
        raise TooLargeError(
            f"{what} of {height}x{width} pixels (HxW) is too large: at most {MAX_SIDE} px a side "
            f"and {MAX_PIXELS} pixels are accepted; downscale it first"
        )


def parse_size(size: Any, what: str = "image") -> tuple[int, int]:
    """``size`` as two ints ``(H, W)``, checked by :func:`check_size`.

    Raises:
        InvalidInputError: not two integers.
        TooLargeError: beyond the limits of :func:`check_size`.

    Example:
        >>> parse_size((120.0, 160))
        (120, 160)
    """
    try:
        h, w = size
        if int(h) != h or int(w) != w:
            raise ValueError
        h, w = int(h), int(w)
    except (TypeError, ValueError):
        raise InvalidInputError(f"size must be two integers (H, W), got {size!r}") from None
    check_size(h, w, what)
    return h, w


def _composite_over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``rgb (H, W, 3)`` and ``alpha (H, W, 1)`` as float32 in [0, 1] -> float32 RGB over white."""
    return rgb * alpha + (1.0 - alpha)


def _as_float01(array: np.ndarray) -> np.ndarray:
    """Any accepted dtype -> float32 in [0, 1] (a new array)."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        lo, hi = int(array.min()), int(array.max())
        if lo < 0 or hi > 255:
            raise InvalidInputError(
                f"integer image of dtype {array.dtype} has values in [{lo}, {hi}]; expected uint8 "
                "[0, 255], uint16 [0, 65535] or float in [0, 1]; convert it with .astype(np.uint8)"
            )
        return array.astype(np.float32) / 255.0
    if np.issubdtype(array.dtype, np.floating):
        out = array.astype(np.float32)
        if not np.isfinite(out).all():
            raise NonFiniteError("image holds NaN or infinite values; expected finite floats in [0, 1]")
        lo, hi = float(out.min()), float(out.max())
        if lo < -_FLOAT_TOLERANCE or hi > 1.0 + _FLOAT_TOLERANCE:
            hint = "; it looks like [0, 255]: divide by 255" if hi <= 255.0 and lo >= 0.0 else ""
            raise InvalidInputError(f"float image has values in [{lo:g}, {hi:g}]; expected [0, 1]{hint}")
        return np.clip(out, 0.0, 1.0, out=out)
    raise InvalidInputError(f"image of dtype {array.dtype} is not supported; expected uint8, uint16 or float in [0, 1]")


def _layout_error(shape: tuple[int, ...], kind: str = "array") -> InvalidInputError:
    hint = ""
    if len(shape) == 3 and shape[0] in (1, 3, 4) and shape[-1] not in (1, 2, 3, 4):
        hint = "; it looks channel-first: use np.moveaxis(a, 0, -1) or pass a torch tensor"
    if len(shape) == 4:
        hint = "; that is a batch or a video: pass one frame, or use Clip.from_array"
    return InvalidInputError(f"image {kind} of shape {shape} is not an image; expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4){hint}")


def _to_rgb(array: np.ndarray) -> np.ndarray:
    """Numpy image of any accepted layout -> ``(H, W, 3)`` uint8 or float32 in [0, 1] (new array).

    uint8 input stays uint8 (no rounding trip); everything else becomes float32 so that
    16-bit and float precision survive until the caller decides how to quantise.
    """
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise _layout_error(array.shape)
    check_size(array.shape[0], array.shape[1])
    channels = array.shape[2]
    if array.dtype == np.uint8 and channels in (1, 3):
        return np.repeat(array, 3, axis=2) if channels == 1 else array.copy()
    values = _as_float01(array)
    colour = values[:, :, :1] if channels <= 2 else values[:, :, :3]
    if channels in (2, 4):
        colour = _composite_over_white(colour, values[:, :, -1:])
    if colour.shape[2] == 1:
        colour = np.repeat(colour, 3, axis=2)
    return np.ascontiguousarray(colour)


def _tensor_to_hwc(tensor: torch.Tensor) -> np.ndarray:
    """``(C, H, W)`` / ``(1, C, H, W)`` / ``(H, W)`` tensor -> numpy ``(H, W, C)`` (a copy)."""
    shape = tuple(tensor.shape)
    if tensor.dim() == 4 and shape[0] == 1:
        tensor = tensor[0]
    if tensor.dim() == 2:
        tensor = tensor[None]
    if tensor.dim() != 3 or tensor.shape[0] not in (1, 2, 3, 4):
        raise InvalidInputError(
            f"image tensor of shape {shape} is not an image; expected (3, H, W), (1, H, W) or (H, W)"
            " (channels first, float in [0, 1] or uint8)"
        )
    tensor = tensor.detach().cpu()
    if tensor.dtype in (torch.float16, torch.bfloat16):
        tensor = tensor.float()
    return tensor.permute(1, 2, 0).numpy().copy()


def _pil_to_rgb(img: Any) -> np.ndarray:
    """A PIL image -> ``(H, W, 3)`` uint8 or float32 via :func:`_to_rgb`."""
    from PIL import ImageOps

    width, height = img.size
    check_size(height, width)
    # Phones store photos sideways plus an EXIF rotation; show them the way viewers do.
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit grayscale; "I" (32-bit) is what PIL makes of 16-bit PNGs on some versions.
        values = np.asarray(img).astype(np.int64)
        return _to_rgb(np.clip(values, 0, 65535).astype(np.uint16))
    if img.mode == "F":
        return _to_rgb(np.asarray(img, dtype=np.float32))
    has_alpha = img.mode in ("RGBA", "LA", "La", "RGBa", "PA") or "transparency" in img.info
    if img.mode in ("L", "RGB") and not has_alpha:
        return _to_rgb(np.asarray(img))
    return _to_rgb(np.asarray(img.convert("RGBA" if has_alpha else "RGB")))


def _read_file(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    if not path.exists():
        raise MediaReadError(f"cannot read image {path}: no such file")
    if path.is_dir():
        raise MediaReadError(f"cannot read image {path}: it is a folder (use Clip.read for a folder of frames)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                return _pil_to_rgb(img)
    except Image.DecompressionBombError as exc:
        raise TooLargeError(f"cannot read image {path}: {exc}") from None
    except UnidentifiedImageError:
        raise MediaReadError(f"cannot read image {path}: not an image file or an unsupported format") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise MediaReadError(f"cannot read image {path}: file is truncated or corrupt ({exc})") from None


def _is_pil(image: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # PIL is optional for callers; we only need it when handed one
        return False
    return isinstance(image, Image.Image)


def _to_rgb_any(image: ImageLike) -> np.ndarray:
    if isinstance(image, (str, os.PathLike)):
        return _read_file(Path(image))
    if isinstance(image, torch.Tensor):
        return _to_rgb(_tensor_to_hwc(image))
    if isinstance(image, np.ndarray):
        return _to_rgb(image)
    if _is_pil(image):
        return _pil_to_rgb(image)
    raise InvalidInputError(
        f"cannot use a {type(image).__name__} as an image; expected a file path, a numpy array "
        "(H, W[, C]), a torch tensor (C, H, W) or a PIL image"
    )


def load_image(image: ImageLike) -> np.ndarray:
    """Any image-like input -> ``uint8 (H, W, 3)`` RGB (always a new array).

    Args:
        image: a file path (png, jpg, webp, bmp, tiff, ...; the first frame of an animated
            file); a numpy array ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` of
            uint8, uint16, bool or float in [0, 1]; a torch tensor ``(3, H, W)``, ``(1, H, W)``
            or ``(H, W)`` (float in [0, 1] or uint8; a batch of one is accepted); a PIL image.

    Returns:
        ``uint8 (H, W, 3)``: alpha composited over white, gray expanded, 16-bit scaled.

    Raises:
        MediaReadError: the file is missing, not an image, or corrupt (the message names it).
        InvalidInputError: the array's shape or dtype cannot be an image.
        NonFiniteError: a float image holds NaN or inf.
        TooLargeError: the image is larger than :data:`MAX_SIDE` / :data:`MAX_PIXELS`.

    Example:
        >>> import torch
        >>> load_image(torch.ones(1, 4, 5)).shape
        (4, 5, 3)
    """
    return to_uint8(_to_rgb_any(image))


def image_to_tensor(image: ImageLike) -> torch.Tensor:
    """Any image-like input -> ``torch.float32 (3, H, W)`` in [0, 1] (always a new tensor).

    Accepts everything :func:`load_image` does. Float and 16-bit inputs keep their precision
    (they are not rounded through 8 bits).

    Example:
        >>> import numpy as np
        >>> image_to_tensor(np.full((2, 2, 3), 255, np.uint8)).max().item()
        1.0
    """
    rgb = _to_rgb_any(image)
    if rgb.dtype != np.uint8:
        return torch.from_numpy(rgb).permute(2, 0, 1).contiguous()
    # numpy's own division loop, not torch's: torch's intra-op threads wait for a core that a
    # busy machine has descheduled (0.5 ms quiet, 16-40 ms under load for a 512 px photo). The
    # same correctly rounded float32 quotients as torch's div_(255.0) (tested on every byte).
    planes = np.empty((3, *rgb.shape[:2]), np.float32)
    np.divide(rgb.transpose(2, 0, 1), np.float32(255.0), out=planes)
    return torch.from_numpy(planes)


def tensor_to_image(tensor: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` / ``(1, H, W)`` / ``(H, W)`` float tensor in [0, 1] -> ``uint8 (H, W, 3)``.

    Values are clamped to [0, 1] and rounded to the nearest level (unlike :func:`load_image`,
    which refuses floats far outside [0, 1]): this is the last step of a renderer, where
    overshoot is expected.

    Raises:
        NonFiniteError: the tensor holds NaN or inf.

    Example:
        >>> import torch
        >>> tensor_to_image(torch.tensor([[[0.5, 1.7]]])).tolist()
        [[[128, 128, 128], [255, 255, 255]]]
    """
    if not isinstance(tensor, torch.Tensor):
        raise InvalidInputError(f"expected a torch tensor (3, H, W), got {type(tensor).__name__}")
    if tensor.dtype == torch.uint8:
        return load_image(tensor)
    values = tensor.detach().float()
    if not torch.isfinite(values).all():
        raise NonFiniteError("image tensor holds NaN or infinite values; expected finite floats in [0, 1]")
    return load_image(values.clamp(0.0, 1.0))


def read_image_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(H, W)`` of an image file, read from its header without decoding the pixels.

    Raises:
        MediaReadError: the file is missing or not an image.

    Example:
        >>> read_image_size("cat.png")  # doctest: +SKIP
        (300, 451)
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
    except FileNotFoundError:
        raise MediaReadError(f"cannot read image {path}: no such file") from None
    except Image.DecompressionBombError as exc:
        raise TooLargeError(f"cannot read image {path}: {exc}") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise MediaReadError(f"cannot read image {path}: not an image file or corrupt ({exc})") from None
    return height, width


def save_image(path: str | os.PathLike, image: ImageLike, *, quality: int = 95) -> None:
    """Write ``image`` (anything :func:`load_image` accepts) to ``path``, atomically.

    The format follows the suffix (``.png``, ``.jpg``, ``.webp``, ``.bmp``, ``.tif``).
    ``quality`` (1-100) applies to JPEG and WebP.

    Raises:
        MediaWriteError: unknown suffix, missing or unwritable folder, or the encoder failed.

    Example:
        >>> import numpy as np, tempfile, os
        >>> out = os.path.join(tempfile.mkdtemp(), "grey.png")
        >>> save_image(out, np.full((4, 4), 128, np.uint8)); load_image(out)[0, 0].tolist()
        [128, 128, 128]
    """
    from PIL import Image

    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise MediaWriteError(
            f"cannot write image {path}: unknown suffix {path.suffix!r}; use one of {', '.join(sorted(IMAGE_SUFFIXES))}"
        )
    pixels = load_image(image)
    options = {"quality": quality} if path.suffix.lower() in (".jpg", ".jpeg", ".webp") else {}
    try:
        with atomic_path(path) as tmp:
            Image.fromarray(pixels).save(tmp, **options)
    except MediaWriteError:
        raise
    except (OSError, ValueError) as exc:  # encoder failure, or a "folder" that is a file
        raise MediaWriteError(f"cannot write image {path}: {exc}") from None
