"""Shared test fixtures: real photos, the official Motion-I2V reference data, temp outputs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MOTIONKIT_SHARED", REPO.parent / "shared"))
OFFICIAL = SHARED / "fixtures" / "motion_i2v_official"


@pytest.fixture
def one_torch_thread():
    """Run a test on one torch thread (the tiny networks' tensors are far too small to split
    across threads; on a loaded machine thread hand-offs make each op ~20x slower)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def fresh_registry(monkeypatch):
    """The component registry, with registrations and the (cached) plugin scan isolated from other tests."""
    from motionkit import registry

    monkeypatch.setattr(registry, "_components", {k: dict(v) for k, v in registry._components.items()})
    monkeypatch.setattr(registry, "_origin", dict(registry._origin))
    monkeypatch.setattr(registry, "_plugins", None)
    return registry


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
    np.random.seed(0)


@pytest.fixture(scope="session")
def official_fixtures() -> Path:
    """The official-implementation reference data (``../shared/fixtures/motion_i2v_official``)."""
    if not OFFICIAL.is_dir():
        pytest.skip(f"official fixtures not found at {OFFICIAL} (set MOTIONKIT_SHARED)")
    return OFFICIAL


def _skimage_photo(name: str) -> np.ndarray:
    from skimage import data

    return getattr(data, name)()


@pytest.fixture(scope="session")
def cat_photo() -> np.ndarray:
    """scikit-image's public-domain cat photo, ``uint8 (300, 451, 3)``."""
    return _skimage_photo("chelsea")


@pytest.fixture(scope="session")
def coffee_photo() -> np.ndarray:
    """scikit-image's public-domain coffee photo, ``uint8 (400, 600, 3)``."""
    return _skimage_photo("coffee")
