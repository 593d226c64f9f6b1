"""Trajectory: constructors, PCHIP paths, retiming, JSON files, drawing, validation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from motionkit import Trajectory
from motionkit.errors import InvalidInputError, MotionFileError, NonFiniteError, OutOfBoundsError, TooLargeError
from motionkit.trajectory import load_trajectories, save_trajectories


def test_line_goes_from_start_to_end_with_easing():
    lin = Trajectory.line((10, 20), (50, 0), frames=5)
    assert lin.start == (10.0, 20.0) and lin.end == (50.0, 0.0) and lin.frames == 5
    assert lin.points[2] == (30.0, 10.0)
    eased = Trajectory.line((0, 0), (8, 0), frames=3, easing="ease-in")
    assert eased.points[1] == (1.0, 0.0)  # 8 * 0.5 ** 3
    with pytest.raises(InvalidInputError):
        Trajectory.line((0, 0), (1, 1), easing="springy")


def test_pin_and_one_point_from_points():
    pin = Trajectory.pin((3, 4), frames=6)
    assert pin.is_pinned and pin.frames == 6 and set(pin.points) == {(3.0, 4.0)}
    assert Trajectory.from_points([(3, 4)], frames=6) == pin
    assert not Trajectory.line((0, 0), (1, 0)).is_pinned


def test_pchip_hits_controls_and_stays_monotone():
    controls = [(0, 0), (10, 40), (30, 45), (90, 100)]
    frames = 3 * 10 + 1  # controls at frames 0, 10, 20, 30
    path = np.array(Trajectory.from_points(controls, frames=frames).points)
    np.testing.assert_allclose(path[::10], controls, atol=1e-9)
    # x and y both increase between every pair of controls: the path never doubles back
    assert (np.diff(path[:, 0]) >= 0).all() and (np.diff(path[:, 1]) >= 0).all()
    # no overshoot above a plateau (40 -> 45 is nearly flat; a plain cubic would overshoot)
    assert path[10:21, 1].max() <= 45 + 1e-9
    # smoother than linear: the step sizes change gradually at an interior control
    lin = np.array(Trajectory.from_points(controls, frames=frames, interpolation="linear").points)
    np.testing.assert_allclose(lin[::10], controls)
    assert abs(np.diff(path[:, 0])[9] - np.diff(path[:, 0])[10]) < abs(np.diff(lin[:, 0])[9] - np.diff(lin[:, 0])[10])


def test_absurd_frame_counts_are_refused_before_allocating():
    for make in (
        lambda: Trajectory.line((0, 0), (1, 1), frames=10**12),
        lambda: Trajectory.pin((0, 0), frames=10**9),
        lambda: Trajectory.from_points([(0, 0), (1, 1)], frames=10**12),
        lambda: Trajectory.line((0, 0), (1, 1)).resample(10**12),
    ):
        with pytest.raises(TooLargeError):
            make()


def test_from_points_validation():
    with pytest.raises(InvalidInputError):
        Trajectory.from_points([(0, 0), (1, 1)], interpolation="cubic")
    with pytest.raises(InvalidInputError):
        Trajectory.from_points([], frames=4)
    with pytest.raises(InvalidInputError):
        Trajectory.from_points([(0, 0), (1, 1)], frames=0)


def test_resample_keeps_ends_and_retimes():
    t = Trajectory.line((0, 0), (12, 6), frames=4)
    r = t.resample(7)
    assert r.frames == 7 and r.start == t.start and r.end == t.end
    np.testing.assert_allclose(np.array(r.points)[3], (6, 3))
    slow = t.resample(5, easing="ease-in")
    assert slow.points[2][0] < 6 and slow.end == (12.0, 6.0)
    assert t.resample(1).points == ((0.0, 0.0),)


def test_tensors_and_displacements():
    t = Trajectory([(5, 5), (6, 7), (8, 4)])
    assert t.as_tensor().dtype == torch.float32 and t.as_tensor().shape == (3, 2)
    assert t.displacements().tolist() == [[0, 0], [1, 2], [3, -1]]


def test_translated_and_scaled_follow_image_resize():
    t = Trajectory([(0, 0), (4, 2)])
    assert t.translated(1, -1).points == ((1.0, -1.0), (5.0, 1.0))
    s = t.scaled(2, 2)
    assert s.points == ((0.5, 0.5), (8.5, 4.5))  # pixel centres at integers: x' = (x + .5) * s - .5
    assert s.displacements()[-1].tolist() == [8.0, 4.0]
    with pytest.raises(InvalidInputError):
        t.scaled(0, 1)


def test_values_are_immutable():
    t = Trajectory([(0, 0), (1, 1)])
    with pytest.raises(Exception):
        t.points = ((2, 2),)
    pts = [(0.0, 0.0), (1.0, 1.0)]
    u = Trajectory(pts)
    pts[0] = (9.0, 9.0)
    assert u.start == (0.0, 0.0)


@pytest.mark.parametrize(
    "points, error",
    [
        ([], InvalidInputError),
        ([(1, 2, 3)], InvalidInputError),
        ("abc", InvalidInputError),
        ([(1, float("nan"))], NonFiniteError),
        ([(float("inf"), 0)], NonFiniteError),
        ([("1", 2)], InvalidInputError),  # strings are not parsed into coordinates
        ([(None, 2)], InvalidInputError),
    ],
)
def test_bad_points_raise_motionkit_errors(points, error):
    with pytest.raises(error):
        Trajectory(points)


def test_json_round_trip_is_exact():
    t = Trajectory.from_points([(0.1, 1 / 3), (123.456789, 2e-7), (300.0, 2 / 7)], frames=9)
    text = t.to_json()
    back = Trajectory.from_json(text)
    assert back == t and back.points == t.points
    assert json.loads(text)["points"][0] == [0.1, 1 / 3]


@pytest.mark.parametrize(
    "text, match",
    [
        ("{not json", "not valid JSON"),
        ('{"points": []}', "non-empty"),
        ('{"points": [[1, "a"]]}', "number"),
        ('{"pts": [[1, 2]]}', "points"),
        ("[1, 2]", "points"),
        ('{"points": [[true, 2]]}', "number"),
        ('{"points": [["1", 2]]}', "number"),
        ('{"points": [[1' + "0" * 400 + ', 2]]}', "too large"),
        ('{"points": [[1' + "0" * 5000 + ', 2]]}', "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_malformed_json_names_the_problem(text, match):
    with pytest.raises(MotionFileError, match=match):
        Trajectory.from_json(text)


def test_trajectory_files(tmp_path):
    items = [Trajectory.line((1.5, 2.25), (7, 9), frames=4), Trajectory.pin((3, 3), frames=4)]
    path = tmp_path / "drags.json"
    save_trajectories(path, items)
    assert load_trajectories(path) == items
    assert [p.name for p in tmp_path.iterdir()] == ["drags.json"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps([t.model_dump() for t in items]))
    assert load_trajectories(bare) == items
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "motionkit.trajectories", "version": 1, "trajectories": [{"points": [[1, null]]}]}')
    with pytest.raises(MotionFileError, match="trajectory 0"):
        load_trajectories(bad)
    bad.write_text('{"format": "something-else"}')
    with pytest.raises(MotionFileError, match="format"):
        load_trajectories(bad)
    bad.write_text("[{")
    with pytest.raises(MotionFileError, match="not valid JSON"):
        load_trajectories(bad)
    with pytest.raises(MotionFileError):
        load_trajectories(tmp_path / "missing.json")
    with pytest.raises(InvalidInputError):
        save_trajectories(tmp_path / "x.json", [[(1, 2)]])


def test_check_inside():
    Trajectory.pin((0, 0), 2).check_inside((10, 20))
    Trajectory.pin((19.4, 9.4), 2).check_inside((10, 20))
    for start in [(-1, 5), (5, -0.6), (19.5, 5), (5, 10)]:
        with pytest.raises(OutOfBoundsError, match="outside"):
            Trajectory.pin(start, 2).check_inside((10, 20))


def test_draw_marks_the_path_on_a_copy(cat_photo):
    image = cat_photo.copy()
    t = Trajectory.line((100, 100), (200, 100), frames=8)
    out = t.draw(image, color=(0, 255, 0), thickness=2)
    assert np.array_equal(image, cat_photo)  # input untouched
    assert out.shape == cat_photo.shape and out.dtype == np.uint8
    assert (out[100, 105:190] == [0, 255, 0]).all()  # along the path
    assert np.array_equal(out[150:, :], cat_photo[150:, :])  # far away untouched
    # arrowhead: pixels beside the line near the end are painted, not near the start
    head = np.any(out[92:97, 190:199] != cat_photo[92:97, 190:199])
    tail = np.any(out[92:97, 101:110] != cat_photo[92:97, 101:110])
    assert head and not tail
    tensor = torch.from_numpy(cat_photo).permute(2, 0, 1).float() / 255
    assert np.array_equal(t.draw(tensor, color=(0, 255, 0)), out)
    ring = Trajectory.pin((50, 50), 3).draw(cat_photo)
    assert np.any(ring[50, 53:56] != cat_photo[50, 53:56]) and np.array_equal(ring[50, 50], cat_photo[50, 50])
