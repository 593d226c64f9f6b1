"""``MotionSpec.validate_for``: problems found before rendering, each with its place in the document."""

from __future__ import annotations

import pytest

import motionkit as mk
from motionkit.errors import InvalidInputError
from motionkit.spec import Keyframe, ObjectSpec, Region, Track


def places(warnings) -> list[str]:
    return [w.place for w in warnings]


def test_a_clean_spec_has_no_warnings():
    spec = mk.MotionSpec.from_pixels((100, 160), frames=8, drags=[[(50, 50), (60, 45)]], pins=[(120, 80)])
    assert spec.validate_for("classical") == [] and spec.validate_for("motion-i2v") == []


def test_a_visible_track_that_leaves_the_picture_is_named_by_its_keyframe():
    leaves = Track(keyframes=[Keyframe(t=0, u=0.5, v=0.5), Keyframe(t=4, u=0.7, v=0.5), Keyframe(t=7, u=1.3, v=0.5)])
    spec = mk.MotionSpec(frames=8, reference_size=(100, 100), trajectories=[leaves])
    (warning,) = [w for w in spec.validate_for() if "leaves" in w.message]
    assert warning.place == "trajectories.0.keyframes.1" and "frame 6" in warning.message
    hidden = [k.model_copy(update={"visible": k.t == 0}) for k in leaves.keyframes]   # hidden from keyframe 1 on
    assert not [w for w in spec.with_changes(trajectories=[Track(keyframes=hidden)]).validate_for() if "leaves" in w.message]


def test_a_track_starting_outside_is_impossible():
    spec = mk.MotionSpec(frames=4, reference_size=(10, 10), trajectories=[Track(keyframes=[Keyframe(t=0, u=1.5, v=0.5)])])
    with pytest.raises(InvalidInputError, match="trajectories.0.keyframes.0: the track starts outside"):
        spec.validate_for()


def test_two_drags_pulling_one_object_apart():
    spec = mk.MotionSpec.from_pixels((100, 100), frames=8, drags=[[(40, 50), (30, 50)], [(60, 50), (75, 50)]])
    assert not [w for w in spec.validate_for() if "torn" in w.message]         # far apart, no shared object
    one = spec.with_changes(objects=[ObjectSpec(region=Region(polygons=[[(0.3, 0.4), (0.7, 0.4), (0.7, 0.6)]]), tracks=[0, 1])])
    (warning,) = [w for w in one.validate_for() if "torn" in w.message]
    assert warning.place == "objects.0" and "drags 0 and 1" in warning.message
    close = mk.MotionSpec.from_pixels((100, 100), frames=8, drags=[[(50, 50), (40, 50)], [(53, 50), (65, 50)]])
    assert places(w for w in close.validate_for() if "torn" in w.message) == ["trajectories.1"]


def test_backend_limits():
    long_drag = mk.MotionSpec.from_pixels((90, 120), frames=24, drags=[[(10, 40), (100, 40)]], prompt="a cat")
    classical = long_drag.validate_for("classical")
    assert set(places(classical)) == {"trajectories.0", "prompt"}
    learned = long_drag.validate_for("motion-i2v")
    assert places(learned) == ["frames"] and "16 frames in one window" in learned[0].message
    objects = long_drag.with_changes(objects=[ObjectSpec(region=Region(polygons=[[(0, 0), (1, 0), (1, 1)]]), tracks=[0])])
    assert "objects" in places(objects.validate_for("motion-i2v"))
    with pytest.raises(InvalidInputError, match="unknown backend"):
        long_drag.validate_for("nope")
