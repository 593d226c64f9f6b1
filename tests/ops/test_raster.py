"""Rasterising: coverage is the exact area inside, strokes are solid within their radius."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionkit.errors import InvalidInputError, NonFiniteError
from motionkit.ops.raster import as_points, polygon_coverage, stroke_coverage


def test_a_pixel_aligned_square_covers_exactly_its_pixels():
    square = np.array([[0.5, 0.5], [3.5, 0.5], [3.5, 2.5], [0.5, 2.5]])
    cover = polygon_coverage([square], (4, 5))
    assert cover.dtype == np.float32
    expected = np.zeros((4, 5), np.float32)
    expected[1:3, 1:4] = 1.0
    assert np.array_equal(cover, expected)


def test_a_half_covered_pixel_holds_one_half_and_coverage_sums_to_the_area():
    half = np.array([[-0.5, -0.5], [0.0, -0.5], [0.0, 0.5], [-0.5, 0.5]])  # left half of pixel (0, 0)
    assert polygon_coverage([half], (1, 2))[0].tolist() == [0.5, 0.0]
    triangle = np.array([[-0.5, -0.5], [7.5, -0.5], [-0.5, 7.4]])  # area 8 * 7.9 / 2 = 31.6 px
    cover = polygon_coverage([triangle], (8, 8))
    assert cover[0, 0] == 1.0 and cover[7, 7] == 0.0 and cover.sum() == pytest.approx(31.6, abs=1.0)  # 16 samples a pixel: within a pixel of the area


def test_strokes_are_solid_within_the_radius_and_fade_over_one_pixel():
    m = stroke_coverage([np.array([[2.0, 2.0], [6.0, 2.0]])], 1.0, (5, 9))
    assert m[2, 1:8].tolist() == [1.0] * 7 and m[0, 4] == 0.0 and m[2, 0] == 0.0
    dot = stroke_coverage([np.array([[4.0, 4.0]])], 1.5, (9, 9))
    assert dot[4, 4] == 1.0 and 0.0 < dot[4, 6] < 1.0 and dot[4, 7] == 0.0


def test_points_may_be_tensors_on_any_device(device):
    pts = as_points(torch.tensor([[1.0, 2.0], [3.0, 4.0]], device=device))
    assert pts.dtype == np.float64 and pts.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(InvalidInputError):
        as_points([1.0, 2.0])
    with pytest.raises(NonFiniteError):
        as_points([[np.nan, 0.0]])
