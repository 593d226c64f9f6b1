"""The one quantiser every floor shares: float ``[0, 1]`` to ``uint8``.

``to_uint8`` rounds half up and clips (``floor(x * 255 + 0.5)``), for torch tensors (any
device) and numpy arrays alike, so a frame gets the same bytes whether a renderer, a writer
or an image reader rounds it. It sits on the bottom floor with :mod:`motionkit.limits`
because both ``io`` and ``ops`` need it and neither may import the other;
:func:`motionkit.ops.colour.to_uint8` is the same function.

Example:
    >>> import torch
    >>> to_uint8(torch.tensor([0.0, 0.5, 1.0, 1.2])).tolist()
    [0, 128, 255, 255]
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

Pixels = TypeVar("Pixels", torch.Tensor, np.ndarray)
_quantiser = None  # the compiled module once imported; False where numba is missing


def _compiled():
    """The compiled quantiser (:mod:`motionkit.pixels._kernels`), imported at the first numpy call.

    (``import motionkit`` does not import numba; the first frame quantised does. ``None``
    where numba is missing: the numpy code below.)
    """
    global _quantiser
    if _quantiser is None:
        try:
            from motionkit.pixels import _kernels as compiled
        except ImportError:  # pragma: no cover - numba is a dependency; this keeps the numpy path importable
            compiled = False
        _quantiser = compiled
    return _quantiser or None


def to_uint8(image: Pixels) -> Pixels:
    """Float values in [0, 1] (any shape) -> ``uint8`` 0..255: ``floor(x * 255 + 0.5)``, clipped.

    A torch tensor stays a tensor on its device; a numpy array stays an array; a ``uint8``
    input is returned as it is. NaN maps to 0. A C-contiguous float32 array is quantised in
    one compiled pass (:mod:`motionkit.pixels._kernels`, the same bytes as the numpy code).
    """
    if isinstance(image, torch.Tensor):
        if image.dtype == torch.uint8:
            return image
        return torch.nan_to_num(image.float() * 255.0 + 0.5, nan=0.0).clamp_(0, 255).to(torch.uint8)
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array
    kernels = _compiled()
    if kernels is not None and array.dtype == np.float32 and array.flags.c_contiguous:
        out = np.empty(array.shape, np.uint8)
        kernels.quantise(array.reshape(-1), out.reshape(-1))
        return out
    return np.clip(np.nan_to_num(array.astype(np.float32, copy=False) * 255.0 + 0.5, nan=0.0), 0, 255).astype(np.uint8)
