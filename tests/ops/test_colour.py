"""The one quantiser and the colour map, on every device, agreeing with their numpy twins."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionkit.io.image import load_image
from motionkit.ops.colour import (
    apply_colour_map,
    apply_colour_map_numpy,
    colour_features,
    fit_colour_map,
    fit_colour_map_numpy,
    to_uint8,
)
from motionkit.errors import ShapeMismatchError


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_to_uint8_rounds_half_up_and_clips_on_any_device(device, dtype):
    values = torch.tensor([-0.5, 0.0, 0.5 / 255, 1.5 / 255, 0.5, 1.0, 1.2, float("nan")], device=device, dtype=dtype)
    out = to_uint8(values)
    assert out.dtype == torch.uint8 and out.device.type == device.type
    expected = [0, 0, 1, 2, 128, 255, 255, 0]
    if dtype == torch.float16:  # 0.5 / 255 is not exact in half precision; the others are
        assert out[[0, 1, 4, 5, 6, 7]].tolist() == [0, 0, 128, 255, 255, 0]
    else:
        assert out.tolist() == expected
        assert to_uint8(values.cpu().numpy()).tolist() == expected


def test_io_rounds_floats_like_the_quantiser():
    # io and ops share motionkit.pixels.to_uint8: an image read from floats gets the same bytes.
    levels = (np.arange(256 * 4, dtype=np.float32) / (255 * 4)).clip(0, 1)
    image = np.repeat(levels[None, :, None], 3, axis=2)
    assert np.array_equal(load_image(image), to_uint8(image))
    halves = np.array([[[0.5 / 255] * 3, [2.5 / 255] * 3]], np.float32)
    assert np.array_equal(load_image(halves), to_uint8(halves))


def test_colour_features_are_the_quadratic_terms(device):
    rgb = torch.tensor([0.2, 0.5, 0.8], device=device).view(3, 1, 1)
    feats = colour_features(rgb)[:, 0, 0].cpu()
    torch.testing.assert_close(feats, torch.tensor([1, 0.2, 0.5, 0.8, 0.04, 0.25, 0.64, 0.1, 0.16, 0.4]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_fitted_gamma_and_channel_swap_carry_over_and_match_the_numpy_twin(device, dtype):
    source = torch.rand(3, 24, 24, generator=torch.Generator().manual_seed(0), dtype=dtype).to(device)
    edited = source.flip(0) ** 0.8
    coef = fit_colour_map(source, edited)
    assert coef.shape == (10, 3) and coef.dtype == torch.float32 and coef.device.type == device.type
    mapped = apply_colour_map(coef, source)
    assert mapped.device.type == device.type and mapped.shape == source.shape
    assert (mapped - edited).abs().mean() < 0.01
    src_np = source.cpu().float().numpy().transpose(1, 2, 0)
    coef_np = fit_colour_map_numpy(src_np, edited.cpu().float().numpy().transpose(1, 2, 0))
    np.testing.assert_array_equal(coef.cpu().numpy(), coef_np)
    np.testing.assert_allclose(mapped.cpu().numpy().transpose(1, 2, 0), apply_colour_map_numpy(coef_np, src_np), atol=1e-5)


def test_colour_map_output_is_clipped_and_shapes_are_checked():
    coef = torch.zeros(10, 3)
    coef[0] = 2.0  # constant 2: clipped to 1
    assert apply_colour_map(coef, torch.rand(3, 2, 2)).max() == 1.0
    with pytest.raises(ShapeMismatchError):
        fit_colour_map(torch.rand(3, 4, 4), torch.rand(3, 4, 5))
