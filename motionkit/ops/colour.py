"""Colour conversions every motionkit path shares.

:func:`to_uint8` is *the* quantiser: float ``[0, 1]`` to ``uint8`` by rounding half up and
clipping, for torch tensors (any device) and numpy arrays alike, so a frame rendered by any
backend and written by any writer gets the same bytes.

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


def to_uint8(image: Pixels) -> Pixels:
    """Float values in [0, 1] (any shape) -> ``uint8`` 0..255: ``floor(x * 255 + 0.5)``, clipped.

    A torch tensor stays a tensor on its device; a numpy array stays an array. NaN maps to 0.
    """
    if isinstance(image, torch.Tensor):
        return torch.nan_to_num(image.float() * 255.0 + 0.5, nan=0.0).clamp_(0, 255).to(torch.uint8)
    return np.clip(np.nan_to_num(np.asarray(image, np.float32) * 255.0 + 0.5, nan=0.0), 0, 255).astype(np.uint8)
