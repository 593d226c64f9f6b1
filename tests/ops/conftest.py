"""Every op is tested on the CPU and, where the machine has one, on CUDA (skipped otherwise)."""

from __future__ import annotations

import pytest
import torch

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")),
]


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    """The device a test's input tensors live on; the op's output must come back there."""
    return torch.device(request.param)


def same_device(tensor: torch.Tensor, device: torch.device) -> bool:
    """``tensor`` lives on ``device`` (``cuda`` and ``cuda:0`` count as one)."""
    return tensor.device.type == device.type
