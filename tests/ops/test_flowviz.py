"""Flow pictures (Middlebury colour wheel, arrows) and the easing curves the objects share."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops.easing import EASINGS, ease, progress
from motionkit.ops.flowviz import color_wheel, draw_arrows, flow_to_color


def one_vector(dx: float, dy: float) -> np.ndarray:
    f = np.zeros((2, 1, 1), np.float32)
    f[:, 0, 0] = (dx, dy)
    return f


@pytest.mark.parametrize(
    "direction, dominant",
    [((1, 0), "red"), ((0, 1), "yellow"), ((-1, 0), "cyan"), ((0, -1), "blue")],
)
def test_direction_sets_hue(direction, dominant):
    rgb = flow_to_color(one_vector(*direction), max_magnitude=1.0)[0, 0].astype(int)
    r, g, b = rgb
    checks = {
        "red": r == 255 and g < 30 and b < 30,
        "yellow": r > 200 and g > 120 and b < 30,
        "cyan": r < 30 and g > 200 and b > 200,
        "blue": b == 255 and r < 200 and g < 30,
    }
    assert checks[dominant], rgb


def test_length_sets_saturation_with_one_scale_for_all_frames():
    flow = np.zeros((3, 2, 1, 1), np.float32)
    flow[1, 0] = 1.0
    flow[2, 0] = 4.0
    rgb = flow_to_color(flow).astype(int)[:, 0, 0]
    assert rgb[0].tolist() == [255, 255, 255]
    # saturation (distance from white) grows with length, against the longest vector of all frames
    assert 0 < 255 - rgb[1, 1] < 255 - rgb[2, 1]
    longer = flow_to_color(one_vector(8, 0), max_magnitude=4.0)[0, 0]
    assert longer.tolist() == [191, 0, 0]  # beyond the scale: darker


def test_wheel_is_a_smooth_closed_loop():
    wheel = color_wheel()
    assert wheel.shape == (55, 3)
    steps = np.abs(np.diff(np.vstack([wheel, wheel[:1]]), axis=0)).max(axis=1)
    assert steps.max() <= 255 / 4 + 1  # the coarsest segment (green-cyan) has 4 steps
    assert (wheel.max(axis=1) == 255).all()  # every hue is fully bright


def test_flow_to_color_validation():
    with pytest.raises(ShapeMismatchError):
        flow_to_color(np.zeros((3, 4, 4)))
    with pytest.raises(InvalidInputError):
        flow_to_color(np.zeros((2, 4, 4)), max_magnitude=0)


def test_arrows_point_along_the_flow():
    image = np.zeros((40, 40, 3), np.uint8)
    flow = np.zeros((2, 40, 40))
    flow[1] = 12.0  # straight down
    out = draw_arrows(image, flow, step=20, color=(0, 255, 0))
    assert image.max() == 0  # input untouched
    assert out[10:21, 10, 1].min() > 100  # the shaft from (10, 10) down to (10, 22)
    assert out[10, 14:19, 1].max() == 0 and out[2:8, 10, 1].max() == 0  # nothing sideways or above
    with pytest.raises(ShapeMismatchError):
        draw_arrows(image, flow[:, :30])
    with pytest.raises(InvalidInputError):
        draw_arrows(image.astype(np.float32), flow)


def test_easings_are_monotone_and_hit_the_ends():
    u = np.linspace(0, 1, 101)
    for name in EASINGS:
        e = ease(u, name)
        assert e[0] == 0 and e[-1] == 1 and (np.diff(e) >= 0).all()
    assert (ease(u[1:-1], "ease-in") < u[1:-1]).all() and (ease(u[1:-1], "ease-out") > u[1:-1]).all()
    assert progress(1).tolist() == [0.0] and progress(5).tolist() == [0, 0.25, 0.5, 0.75, 1]
    with pytest.raises(InvalidInputError):
        ease(u, "elastic")
    with pytest.raises(InvalidInputError):
        progress(0)


def test_tensors_answer_with_tensors_on_their_device(device):
    flow = torch.zeros(2, 8, 8, device=device)
    flow[0] = 3.0
    picture = flow_to_color(flow)
    assert isinstance(picture, torch.Tensor) and picture.dtype == torch.uint8 and picture.device.type == device.type
    assert picture[0, 0].tolist() == [255, 0, 0]  # motion to the right is red
    assert np.array_equal(picture.cpu().numpy(), flow_to_color(flow.cpu().numpy()))
    arrows = draw_arrows(torch.zeros(8, 8, 3, dtype=torch.uint8, device=device), flow, step=4)
    assert isinstance(arrows, torch.Tensor) and arrows.device.type == device.type and arrows.max() > 0
