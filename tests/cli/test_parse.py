"""The CLI's option-string parsers accept the documented forms and refuse the rest clearly."""

from __future__ import annotations

import pytest

from motionkit.cli.parse import parse_camera, parse_drag, parse_point
from motionkit.errors import InvalidInputError


def test_drag_points_in_order():
    assert parse_drag("1,2:3.5,-4:5,6") == [(1.0, 2.0), (3.5, -4.0), (5.0, 6.0)]


@pytest.mark.parametrize("text", ["1,2", "1,2:", "1:2", "a,b:1,2", "1,2,3:4,5", "nan,1:2,3", "", "1,2:inf,3"])
def test_bad_drags_are_refused(text):
    with pytest.raises(InvalidInputError, match="--drag"):
        parse_drag(text)


def test_point():
    assert parse_point(" 3 , 4 ") == (3.0, 4.0)
    with pytest.raises(InvalidInputError, match="--pin"):
        parse_point("3")


def test_camera_forms():
    assert parse_camera(["pan=10,-2", "ZOOM=1.2", "rotate=-5"]) == {"pan": (10.0, -2.0), "zoom": 1.2, "rotate": -5.0}
    assert parse_camera([]) == {}


@pytest.mark.parametrize("spec", ["pan=1", "zoom=0", "zoom=-1", "zoom=x", "tilt=3", "rotate", "rotate=nan"])
def test_bad_camera_is_refused(spec):
    with pytest.raises(InvalidInputError, match="--camera"):
        parse_camera([spec])


def test_camera_key_twice_is_refused():
    with pytest.raises(InvalidInputError, match="twice"):
        parse_camera(["zoom=1.1", "zoom=1.2"])
