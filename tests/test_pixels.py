"""The quantiser's compiled pass gives numpy's bytes (motionkit.pixels.to_uint8)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from motionkit import pixels


def _numpy_bytes(values: np.ndarray) -> np.ndarray:
    """The numpy quantiser, written out: ``clip(nan_to_num(x * 255 + 0.5), 0, 255)`` in float32, truncated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # inf * 255 and NaN
        return np.clip(np.nan_to_num(values * 255.0 + 0.5, nan=0.0), 0, 255).astype(np.uint8)


def test_the_compiled_quantiser_gives_numpys_bytes_at_every_rounding_edge_and_odd_value():
    if pixels._compiled() is None:
        pytest.skip("numba is not installed")
    # every float32 within 300 ulps of each rounding boundary (k + 0.5) / 255, of 0 and of 1 ...
    edges = np.array([(k + 0.5) / 255 for k in range(-1, 257)] + [0.0, 1.0], np.float32)
    near = (edges.view(np.int32)[:, None] + np.arange(-300, 301, dtype=np.int32)).view(np.float32).ravel()
    # ... a stride through all 2**32 bit patterns (NaNs, infinities, denormals, huge values) and random pixels
    patterns = np.arange(0, 2**32, 65_537, dtype=np.uint64).astype(np.uint32).view(np.float32)
    rng = np.random.default_rng(0)
    special = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 1e-45, -1e-45, 3.4e38, -3.4e38], np.float32)
    for values in (near, patterns, special, rng.uniform(-0.5, 1.5, (64, 48, 3)).astype(np.float32)):
        out = pixels.to_uint8(values)
        assert out.dtype == np.uint8 and out.shape == values.shape
        assert np.array_equal(out, _numpy_bytes(values))
    assert pixels.to_uint8(special).tolist() == [0, 0, 255, 0, 0, 0, 0, 255, 0]


def test_other_layouts_and_dtypes_take_the_numpy_path_with_the_same_bytes():
    rng = np.random.default_rng(1)
    frame = rng.uniform(-0.2, 1.2, (40, 30, 3)).astype(np.float32)
    strided = frame[:, ::2]  # not contiguous
    assert np.array_equal(pixels.to_uint8(strided), _numpy_bytes(strided))
    wide = frame.astype(np.float64)
    assert np.array_equal(pixels.to_uint8(wide), _numpy_bytes(wide.astype(np.float32)))
    assert pixels.to_uint8(np.zeros((0, 3), np.float32)).shape == (0, 3)
