"""The motion document as a file: exact JSON round trips, versions, the schema, errors that say where."""

from __future__ import annotations

import json

import numpy as np
import pytest

import motionkit as mk
from motionkit.errors import InvalidInputError, MotionFileError
from motionkit.spec import CameraKey, CameraPath, Keyframe, ObjectSpec, Region, Track, to_pixels, to_uv


def full_spec() -> mk.MotionSpec:
    """A spec using every part: eased, fractional, hidden keyframes, both kinds of region, a camera path."""
    painted = mk.RegionMask.from_strokes([(3, 3), (12, 5)], radius=2.5, size=(10, 16))
    tracks = [
        Track(keyframes=[Keyframe(t=0, u=0.1, v=0.2), Keyframe(t=3.5, u=0.3, v=0.25, easing="ease-in"),
                         Keyframe(t=7, u=1.2, v=0.3, visible=False)], name="hand"),
        Track(keyframes=[Keyframe(t=0, u=1 / 3, v=2 / 3)], interpolation="linear"),
    ]
    return mk.MotionSpec(
        frames=12, fps=23.976, reference_size=(300, 451), trajectories=tracks,
        objects=[ObjectSpec(region=Region(polygons=[[(0.05, 0.1), (0.4, 0.1), (0.4, 0.5)]]), tracks=[0])],
        mask=Region.from_mask(painted),
        camera=CameraPath(keyframes=[CameraKey(t=0, easing="ease-in-out"), CameraKey(t=11, pan=(0.1, -0.05), zoom=1.2, rotate=3)],
                          center=(0.5, 0.4)),
        prompt="a cat turns its head",
        hints={"backend": "motion-i2v", "predictor_options": {"steps": 25, "guidance": 7.5}},
    )


def test_json_round_trip_is_exact():
    spec = full_spec()
    text = spec.to_json()
    again = mk.MotionSpec.from_json(text)
    assert again == spec
    assert again.to_json() == text                                  # byte for byte
    assert again.trajectories[1].keyframes[0].u == 1 / 3            # floats in their exact shortest form
    assert again.mask_at((10, 16)) == spec.mask_at((10, 16))        # the painted mask bit for bit


def test_save_and_load(tmp_path):
    spec = full_spec()
    path = spec.save(tmp_path / "shot.json")
    assert mk.MotionSpec.load(path) == spec


@pytest.mark.parametrize("version", [99, 0, "1", True, None])
def test_an_unknown_spec_version_fails_naming_it(version):
    doc = json.loads(full_spec().to_json())
    doc["spec_version"] = version
    with pytest.raises(MotionFileError, match=f"spec_version {version!r} is not one this motionkit reads.*reads 1"):
        mk.MotionSpec.from_json(json.dumps(doc))


def test_a_newer_version_says_to_upgrade():
    doc = {**json.loads(full_spec().to_json()), "spec_version": 2}
    with pytest.raises(MotionFileError, match="newer motionkit"):
        mk.MotionSpec.from_json(json.dumps(doc))


def test_not_a_spec():
    with pytest.raises(MotionFileError, match="spec_version"):
        mk.MotionSpec.from_json('{"frames": 4}')
    with pytest.raises(MotionFileError, match="must be JSON"):
        mk.MotionSpec.from_json("{frames")


@pytest.mark.parametrize(("edit", "place"), [
    (lambda d: d["trajectories"][0]["keyframes"][1].update(t=9.0), "trajectories.0.keyframes"),
    (lambda d: d["trajectories"][1]["keyframes"][0].update(t=1.0), "trajectories.1.keyframes"),
    (lambda d: d["trajectories"][0]["keyframes"][0].update(easing="bounce"), "trajectories.0.keyframes.0.easing"),
    (lambda d: d["objects"][0].update(tracks=[5]), "objects.0.tracks"),
    (lambda d: d.update(static_camera=True), "static_camera"),
    (lambda d: d["camera"]["keyframes"][1].update(t=30.0), "camera"),
    (lambda d: d["trajectories"][0].update(colour="red"), "trajectories.0.colour"),
    (lambda d: d.update(frames=1), "frames"),
])
def test_an_invalid_document_names_the_place(edit, place):
    doc = json.loads(full_spec().to_json())
    edit(doc)
    with pytest.raises(MotionFileError) as caught:
        mk.MotionSpec.from_json(json.dumps(doc))
    assert place in str(caught.value)


def test_python_construction_errors_are_motionkit_errors():
    with pytest.raises(InvalidInputError, match="first keyframe must be at t = 0"):
        Track(keyframes=[Keyframe(t=2, u=0.5, v=0.5)])
    with pytest.raises(InvalidInputError, match="camera key at t = 0 must be the identity"):
        CameraPath(keyframes=[CameraKey(t=0, zoom=2)])
    with pytest.raises(InvalidInputError, match="exactly one"):
        Region()


def test_the_schema_describes_the_document():
    schema = mk.MotionSpec.json_schema()
    assert {"spec_version", "frames", "trajectories", "camera", "mask", "objects"} <= set(schema["properties"])
    assert set(schema["required"]) == {"frames", "reference_size"}
    assert schema["$defs"]["Keyframe"]["properties"]["easing"]["enum"] == ["linear", "ease-in", "ease-out", "ease-in-out"]


def test_coordinates_use_pixel_centres():
    assert to_uv(0, 0, (4, 8)) == (1 / 16, 1 / 8)                   # the first pixel's centre
    assert to_uv(-0.5, -0.5, (4, 8)) == (0.0, 0.0)                  # the picture's corner
    assert to_pixels(1.0, 1.0, (4, 8)) == (7.5, 3.5)                # the opposite corner
    x, y = to_pixels(*to_uv(265, 240, (300, 451)), (600, 902))
    assert (x, y) == pytest.approx((265.5 * 2 - 0.5, 240.5 * 2 - 0.5))   # as Trajectory.scaled


def test_from_pixels_orders_drags_before_pins_and_times_control_points_evenly():
    spec = mk.MotionSpec.from_pixels((100, 200), frames=9, drags=[[(10, 10), (30, 20), (50, 10)]], pins=[(5, 5)])
    assert [t.is_pin for t in spec.trajectories] == [False, True]
    assert [k.t for k in spec.trajectories[0].keyframes] == [0.0, 4.0, 8.0]
    drag = spec.trajectories_at((100, 200))[0]
    reference = mk.Trajectory.from_points([(10, 10), (30, 20), (50, 10)], frames=9)
    np.testing.assert_allclose(np.array(drag.points), np.array(reference.points), atol=1e-9)


def test_with_frames_rescales_times_and_extended_reindexes_objects():
    spec = full_spec()
    longer = spec.with_frames(23)
    assert longer.trajectories[0].keyframes[1].t == 7.0 and longer.camera.keyframes[1].t == 22.0
    extra = mk.MotionSpec(frames=12, reference_size=(300, 451), trajectories=[Track(keyframes=[Keyframe(t=0, u=0.5, v=0.5)])],
                          objects=[ObjectSpec(region=Region(polygons=[[(0, 0), (1, 0), (1, 1)]]), tracks=[0])])
    both = spec.extended(extra)
    assert len(both.trajectories) == 3 and both.objects[1].tracks == (2,)
    with pytest.raises(InvalidInputError, match="both specs have a camera path"):
        spec.extended(spec)
