"""Image conversions the tests share."""

from __future__ import annotations

import numpy as np
import torch


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """``uint8 (H, W, 3)`` -> ``float32 (3, H, W)`` in [0, 1], or ``(T, H, W, 3)`` -> ``(T, 3, H, W)``."""
    tensor = torch.from_numpy(np.asarray(image))
    return tensor.movedim(-1, -3).float() / 255.0
