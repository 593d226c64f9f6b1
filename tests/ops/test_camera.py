"""Camera fields: a pan moves every pixel by it, a zoom scales about the centre, any device."""

from __future__ import annotations

import math

import pytest
import torch

from motionkit.errors import InvalidInputError
from motionkit.ops.camera import camera_field


def test_pan_is_exact_and_eased_in_time(device):
    field = camera_field(pan=(8.0, -4.0), frames=3, size=(5, 7), device=device)
    assert field.shape == (3, 2, 5, 7) and field.dtype == torch.float32 and field.device.type == device.type
    assert field[0].abs().max() == 0
    assert field[1, 0].eq(4.0).all() and field[1, 1].eq(-2.0).all() and field[2, 0].eq(8.0).all()


def test_zoom_and_rotation_about_the_centre(device):
    zoom = camera_field(zoom=2.0, frames=2, size=(5, 5), device=device)
    assert zoom[1, :, 2, 2].tolist() == [0.0, 0.0]  # the centre stays
    assert zoom[1, :, 2, 4].tolist() == [2.0, 0.0]  # two right of it ends four right
    roll = camera_field(rotate=90.0, frames=2, size=(5, 5), device=device)
    # Counter-clockwise on screen (y down): the pixel right of the centre goes up.
    torch.testing.assert_close(roll[1, :, 2, 3].cpu(), torch.tensor([-1.0, -1.0]), atol=1e-5, rtol=0)


def test_bad_parameters_are_refused():
    with pytest.raises(InvalidInputError):
        camera_field(zoom=0.0, size=(4, 4))
    with pytest.raises(InvalidInputError):
        camera_field(pan=(math.nan, 0.0), size=(4, 4))
    with pytest.raises(InvalidInputError):
        camera_field(size=(0, 4))
