"""RegionMask: shapes, images, morphology, set operations, exact JSON, validation."""

from __future__ import annotations

import base64
import json
import math
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from motionkit import RegionMask
from motionkit.errors import InvalidInputError, MediaReadError, MotionFileError, NonFiniteError, ShapeMismatchError


def polygon_area(points) -> float:
    x, y = np.asarray(points, dtype=float).T
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def test_full_empty_and_area():
    assert RegionMask.full((4, 5)).area() == 1.0
    assert RegionMask.empty((4, 5)).area() == 0.0
    assert RegionMask.full((4, 5)).size == (4, 5)


def test_constructor_copies_and_validates():
    src = np.zeros((3, 4), np.float32)
    m = RegionMask(src)
    src[:] = 1
    assert m.area() == 0.0
    assert RegionMask(np.full((2, 2), 255, np.uint8)).area() == 1.0
    assert RegionMask(np.ones((2, 2), bool)).area() == 1.0
    with pytest.raises(ShapeMismatchError):
        RegionMask(np.zeros((2, 2, 3)))
    with pytest.raises(InvalidInputError, match=r"\[0, 1\]"):
        RegionMask(np.full((2, 2), 3.0))
    with pytest.raises(NonFiniteError):
        RegionMask(np.full((2, 2), np.nan))
    with pytest.raises(InvalidInputError):
        RegionMask(np.zeros((2, 2), np.int32))


@pytest.mark.parametrize(
    "points",
    [
        [(10.2, 10.1), (80.6, 12.3), (30.3, 70.9)],  # triangle
        [(20, 20), (100, 20), (100, 60), (60, 75), (20, 60)],  # convex pentagon
        [(10, 10), (110, 10), (110, 70), (60, 30), (10, 70)],  # concave
    ],
)
def test_polygon_area_matches_analytic_area(points):
    m = RegionMask.from_polygon(points, size=(90, 120))
    assert math.isclose(m.area() * 90 * 120, polygon_area(points), rel_tol=0.01)


def test_polygon_circle_area_and_union():
    theta = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    circle = np.stack([60 + 25 * np.cos(theta), 45 + 25 * np.sin(theta)], 1)
    m = RegionMask.from_polygon(circle, (90, 120))
    assert math.isclose(m.area() * 90 * 120, polygon_area(circle), rel_tol=0.005)
    assert m.values[45, 60] == 1.0 and m.values[5, 5] == 0.0
    squares = [[(0, 0), (9, 0), (9, 9), (0, 9)], [(30, 30), (39, 30), (39, 39), (30, 39)]]
    both = RegionMask.from_polygon(squares, (50, 50))
    assert math.isclose(both.area() * 2500, 2 * 9 * 9, rel_tol=1e-6)  # vertices on pixel centres: 9 x 9 each
    with pytest.raises(InvalidInputError):
        RegionMask.from_polygon([(0, 0), (5, 5)], (10, 10))
    # shapes reaching beyond the image are clipped to it
    assert RegionMask.from_polygon([(-50, -50), (200, -40), (150, 300)], (10, 10)) == RegionMask.full((10, 10))
    half_out = RegionMask.from_polygon([(-20.5, -0.5), (4.5, -0.5), (4.5, 9.5), (-20.5, 9.5)], (10, 10))
    assert half_out.area() == 0.5
    assert RegionMask.from_polygon([(20, 20), (30, 20), (30, 30)], (10, 10)).area() == 0.0


def test_strokes_cover_points_within_radius():
    line = [(10, 10), (50, 30), (70, 30)]
    radius = 4.0
    m = RegionMask.from_strokes(line, radius=radius, size=(50, 80)).values.numpy()
    ys, xs = np.mgrid[:50, :80]

    def dist_to_polyline(x, y):
        best = np.inf
        for (ax, ay), (bx, by) in zip(line, line[1:]):
            d = np.array([bx - ax, by - ay], float)
            t = np.clip(((x - ax) * d[0] + (y - ay) * d[1]) / d.dot(d), 0, 1)
            best = np.minimum(best, np.hypot(x - ax - t * d[0], y - ay - t * d[1]))
        return best

    dist = dist_to_polyline(xs, ys)
    assert (m[dist <= radius] == 1.0).all()
    assert (m[dist >= radius + 1] == 0.0).all()
    several = RegionMask.from_strokes([[(5, 5)], [(30, 40), (40, 40)]], radius=2, size=(50, 80))
    assert several.values[5, 5] == 1 and several.values[40, 35] == 1 and several.values[20, 20] == 0
    with pytest.raises(InvalidInputError):
        RegionMask.from_strokes(line, radius=-1, size=(50, 80))
    with pytest.raises(NonFiniteError):
        RegionMask.from_strokes([(1, np.nan)], radius=1, size=(5, 5))


def test_set_operations():
    a = RegionMask.from_polygon([(-0.5, -0.5), (9.5, -0.5), (9.5, 19.5), (-0.5, 19.5)], (20, 20))  # left half
    b = RegionMask.from_polygon([(-0.5, -0.5), (19.5, -0.5), (19.5, 9.5), (-0.5, 9.5)], (20, 20))  # top half
    union, inter = a | b, a & b
    assert torch.equal(union.values, torch.maximum(a.values, b.values))
    assert torch.equal(inter.values, torch.minimum(a.values, b.values))
    assert torch.equal((~a).values, 1 - a.values)
    assert union.values[5, 15] == 1 and inter.values[15, 5] == 0 and inter.values[5, 5] == 1
    assert math.isclose(union.area() + inter.area(), a.area() + b.area(), abs_tol=1e-6)
    with pytest.raises(ShapeMismatchError):
        a | RegionMask.full((20, 21))
    with pytest.raises(ShapeMismatchError):
        a & RegionMask.full((21, 20))


def test_feather_dilate_erode():
    # edges on pixel borders, so pixels 10..29 are fully inside
    square = RegionMask.from_polygon([(9.5, 9.5), (29.5, 9.5), (29.5, 29.5), (9.5, 29.5)], (40, 40))
    assert square.values[20, 10] == 1 and square.values[20, 9] == 0
    soft = square.feather(2.0)
    assert 0 < soft.values[20, 10].item() < 1 and soft.values[20, 20] > 0.99
    assert math.isclose(soft.area(), square.area(), rel_tol=0.01)  # blurring keeps the mass
    grown, shrunk = square.dilate(3), square.erode(3)
    assert grown.values[20, 7] == 1 and grown.values[20, 5] == 0
    assert shrunk.values[20, 13] == 1 and shrunk.values[20, 12] == 0
    assert square.dilate(0) == square
    with pytest.raises(InvalidInputError):
        square.feather(-1)
    with pytest.raises(InvalidInputError):
        square.dilate(float("nan"))


def test_resize_and_to_image():
    m = RegionMask.from_polygon([(-0.5, -0.5), (9.5, -0.5), (9.5, 19.5), (-0.5, 19.5)], (20, 20))  # left half
    big = m.resize((40, 40))
    assert big.size == (40, 40) and math.isclose(big.area(), m.area(), rel_tol=0.02)
    img = m.to_image()
    assert img.dtype == np.uint8 and img[0, 0] == 255 and img[0, 9] == 255 and img[0, 10] == 0


def test_from_image_formats(tmp_path):
    soft = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    gray8 = np.round(soft * 255).astype(np.uint8)
    assert torch.allclose(RegionMask.from_image(gray8).values, torch.from_numpy(gray8 / 255.0).float())
    rgb = np.repeat(gray8[..., None], 3, axis=2)
    assert RegionMask.from_image(rgb) == RegionMask.from_image(gray8)
    rgba = np.dstack([np.full((3, 4, 3), 255, np.uint8), gray8])  # white, alpha carries the mask
    assert torch.allclose(RegionMask.from_image(rgba).values, RegionMask.from_image(gray8).values, atol=1e-6)
    gray16 = np.round(soft * 65535).astype(np.uint16)
    path16 = tmp_path / "m16.png"
    Image.fromarray(gray16).save(path16)
    from16 = RegionMask.from_image(path16)
    assert torch.allclose(from16.values, torch.from_numpy(soft), atol=1e-5)
    path8 = tmp_path / "m8.png"
    Image.fromarray(rgba).save(path8)
    assert RegionMask.from_image(path8) == RegionMask.from_image(rgba)
    assert RegionMask.from_image(Image.fromarray(gray16)) == from16  # a PIL image keeps its 16 bits
    hard = RegionMask.from_image(gray8, threshold=0.5)
    assert set(hard.values.unique().tolist()) == {0.0, 1.0}
    assert hard.values[0, 0] == 0 and hard.values[2, 3] == 1
    assert RegionMask.from_image(torch.from_numpy(soft)[None]).size == (3, 4)
    with pytest.raises(MediaReadError):
        RegionMask.from_image(tmp_path / "missing.png")
    (tmp_path / "junk.png").write_bytes(b"no image")
    with pytest.raises(MediaReadError):
        RegionMask.from_image(tmp_path / "junk.png")
    with pytest.raises(InvalidInputError):
        RegionMask.from_image(gray8, threshold=2)
    with pytest.raises(InvalidInputError):
        RegionMask.from_image(42)


def test_json_round_trip_is_exact():
    g = torch.Generator().manual_seed(1)
    m = RegionMask(torch.rand(17, 23, generator=g))
    back = RegionMask.from_json(m.to_json())
    assert back == m
    shape = RegionMask.from_polygon([(1, 1), (20, 3), (9, 15)], (17, 23))
    assert RegionMask.from_json(shape.to_json()) == shape
    assert json.loads(m.to_json())["size"] == [17, 23]


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda d: "{nope", "document"),
        (lambda d: json.dumps(d | {"size": [0, 23]}), "size"),
        (lambda d: json.dumps(d | {"size": [17, 22]}), "holds"),
        (lambda d: json.dumps(d | {"data": "!!!"}), "base64"),
        (lambda d: json.dumps(d | {"format": "image"}), "format"),
        (lambda d: json.dumps({k: v for k, v in d.items() if k != "data"}), "data"),
        (lambda d: json.dumps(d | {"size": [20000, 20000]}), "too large"),
        # a 2 x 2 mask whose data inflates to 100 MB is refused without inflating it all
        (lambda d: json.dumps(d | {"size": [2, 2], "data": base64.b64encode(zlib.compress(bytes(10**8))).decode()}), "holds"),
    ],
)
def test_malformed_json_raises_motion_file_error(edit, match):
    doc = json.loads(RegionMask.full((17, 23)).to_json())
    with pytest.raises(MotionFileError, match=match):
        RegionMask.from_json(edit(doc))
