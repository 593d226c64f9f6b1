"""Fixtures: tiny random pipelines per backbone (built once a session), a real photo, one torch thread."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from motionkit_ttm.tiny import tiny_cogvideox, tiny_ltx, tiny_svd, tiny_wan

sys.path.insert(0, str(Path(__file__).parent))  # the tests import conftest's helpers

#: Backbone case -> (registry name, builder, options that keep the run tiny and fast).
CASES = {
    "wan-i2v": ("ttm-wan", lambda: tiny_wan(), {"text_tokens": 16, "prompt": "a cat"}),
    "wan-a14b": ("ttm-wan", lambda: tiny_wan(two_experts=True), {"text_tokens": 16, "prompt": "a cat"}),
    "wan-ti2v": ("ttm-wan", lambda: tiny_wan(expanded=True), {"text_tokens": 16, "prompt": "a cat"}),
    "cogvideox": ("ttm-cogvideox", lambda: tiny_cogvideox(), {"text_tokens": 16, "prompt": "a cat"}),
    "ltx": ("ttm-ltx", lambda: tiny_ltx(), {"text_tokens": 16, "prompt": "a cat"}),
    "svd": ("ttm-svd", lambda: tiny_svd(), {}),
}
FAST = {"steps": 6, "outside_start": 1, "inside_start": 3, "device": "cpu", "seed": 0}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny networks gain nothing from threads, and on a busy machine torch's pool spin-waits (as tests/conftest.py)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


_built: dict[str, object] = {}


def pipeline_for(case: str):
    """The tiny pipeline of ``case``, built once."""
    if case not in _built:
        torch.manual_seed(0)
        _built[case] = CASES[case][1]()
    return _built[case]


def make(case: str, **options):
    """The case's renderer on its tiny pipeline, through ``Renderer.get``."""
    import motionkit as mk

    name, _, extra = CASES[case]
    return mk.Renderer.get(name, pipeline=pipeline_for(case), **{**FAST, **extra, **options})


@pytest.fixture
def photo() -> torch.Tensor:
    """A 32 x 32 crop of scikit-image's cat photo, ``float32 (3, 32, 32)`` in [0, 1]."""
    from skimage import data

    cat = torch.from_numpy(data.chelsea()[120:248:4, 180:308:4].copy())
    return cat.permute(2, 0, 1).float() / 255.0


@pytest.fixture(scope="session")
def saved_wan(tmp_path_factory) -> Path:
    """The tiny Wan pipeline saved as a user's local diffusers folder."""
    folder = tmp_path_factory.mktemp("wan-model")
    pipeline_for("wan-ti2v").save_pretrained(folder)
    return folder
