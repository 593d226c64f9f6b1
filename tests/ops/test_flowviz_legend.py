"""The colour coding's legend: the wheel in a corner that tells a reader direction and magnitude."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import motionkit as mk
from motionkit.ops.flowviz import draw_legend, flow_to_color


def find_disc(before: np.ndarray, after: np.ndarray) -> tuple[tuple[int, int, int, int], float, float, float]:
    """The legend's box (x0, y0, x1, y1) and its disc's centre and radius, found from the pixels alone."""
    changed = np.argwhere((before != after).any(-1))
    (y0, x0), (y1, x1) = changed.min(0), changed.max(0)
    box = after[y0 : y1 + 1, x0 : x1 + 1].astype(int)
    saturation = box.max(-1) - box.min(-1)
    ys, xs = np.nonzero(saturation > 120)  # the disc's outer, strongly coloured ring (symmetric about its centre)
    cy, cx = ys.mean(), xs.mean()
    radius = np.hypot(ys - cy, xs - cx).max()
    return (x0, y0, x1, y1), x0 + cx, y0 + cy, radius


@pytest.fixture
def coded_zoom(cat_photo):
    h, w = cat_photo.shape[:2]
    field = mk.MotionField.camera(zoom=1.2, rotate=8, frames=3, size=(h, w))
    largest = float(torch.linalg.vector_norm(field.flow[-1], dim=0).max())
    return field, flow_to_color(field.flow[-1].numpy(), largest), largest


def test_the_wheel_is_in_the_bottom_right_corner_and_reads_like_the_coding(coded_zoom):
    _, coded, largest = coded_zoom
    legend = draw_legend(coded, largest)
    (x0, y0, x1, y1), cx, cy, radius = find_disc(coded, legend)
    h, w = coded.shape[:2]
    assert x1 > w - 12 and y1 > h - 12 and x0 > w / 2 and y0 > h / 2  # a corner, not the middle
    assert radius > 10
    assert legend[int(round(cy)), int(round(cx))].tolist() == pytest.approx([255, 255, 255], abs=40)  # no motion: white
    for angle in (0, 90, 180, 270):  # right, down, left, up (image coordinates)
        dx, dy = np.cos(np.radians(angle)), np.sin(np.radians(angle))
        r = 0.6 * radius
        pixel = legend[int(round(cy + r * dy)), int(round(cx + r * dx))].astype(int)
        vector = np.array([dx, dy], np.float32).reshape(2, 1, 1) * (largest * r / radius)
        expected = flow_to_color(vector, largest)[0, 0].astype(int)
        assert np.abs(pixel - expected).max() <= 40, (angle, pixel, expected)
    # the scale is written under the disc: dark text pixels below it, inside the box
    below = legend[int(cy + radius) + 2 : y1, x0 : x1 + 1]
    assert (below.max(-1) < 100).sum() > 15


def test_outside_its_box_the_picture_is_untouched_and_the_input_is_not_modified(coded_zoom):
    _, coded, largest = coded_zoom
    original = coded.copy()
    legend = draw_legend(coded, largest)
    (x0, y0, x1, y1), *_ = find_disc(coded, legend)
    mask = np.ones(coded.shape[:2], bool)
    mask[y0 : y1 + 1, x0 : x1 + 1] = False
    assert (legend[mask] == coded[mask]).all() and (coded == original).all()
    as_tensor = draw_legend(torch.from_numpy(coded), largest)
    assert isinstance(as_tensor, torch.Tensor) and (as_tensor.numpy() == legend).all()


def test_visualize_draws_the_legend_by_default_and_not_when_asked(coded_zoom):
    field, coded, largest = coded_zoom
    shown = field.visualize().frame(2)
    plain = field.visualize(legend=False).frame(2)
    assert np.abs(plain.astype(int) - coded.astype(int)).max() <= 1
    (x0, y0, x1, y1), *_ = find_disc(plain, shown)
    assert (x0, y0) > (field.width // 2, field.height // 2)
    assert (shown == draw_legend(plain, largest)).all()


def test_tiny_pictures_and_bad_scales(coded_zoom):
    tiny = flow_to_color(np.ones((2, 8, 8), np.float32))
    assert (draw_legend(tiny, 1.0) == tiny).all()  # no room: unchanged
    with pytest.raises(mk.errors.InvalidInputError, match="max_magnitude"):
        draw_legend(coded_zoom[1], 0.0)
