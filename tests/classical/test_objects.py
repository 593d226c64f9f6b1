"""Object mode of the sparse predictor: a drag moves the object under it as a whole.

The scenes are real photos with a silhouette known by construction: the cup of scikit-image's
``coffee`` (the pixels inside an ellipse around its rim) pasted on the real ``grass`` texture,
and a jointed figure (a body and an arm) cut out of the astronaut's orange suit and pasted on
``gravel``. Errors are measured on the field and on where the ``warp`` renderer puts the pixels.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from motionkit.classical.densify import SparsePredictor
from motionkit.classical.render import WarpRenderer
from motionkit.errors import InvalidInputError
from motionkit.mask import ObjectRegion, RegionMask
from motionkit.trajectory import Trajectory

CENTRE = (240.0, 180.0)  # the cup's centre in the (360, 480) scene


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1).float() / 255.0


def _textured(name: str, size: tuple[int, int], tint: tuple[float, float, float]) -> np.ndarray:
    from skimage import data

    grey = getattr(data, name)()[: size[0], : size[1]].astype(np.float32)
    return grey[..., None] * np.array(tint, np.float32)


@pytest.fixture(scope="module")
def cup(coffee_photo) -> tuple[torch.Tensor, np.ndarray]:
    """``(3, 360, 480)`` scene and its ``bool`` silhouette: coffee's cup (an ellipse) on grass."""
    coffee = cv2.resize(coffee_photo, (450, 300), interpolation=cv2.INTER_AREA)
    canvas = _textured("grass", (360, 480), (0.85, 1.0, 0.7))
    silhouette = np.zeros((360, 480), np.uint8)
    cv2.ellipse(silhouette, (240, 180), (87, 72), 0, 0, 360, 1, -1)
    ys, xs = np.nonzero(silhouette)
    canvas[ys, xs] = coffee[ys - 180 + 86, xs - 240 + 217]  # the rim's ellipse is centred at (217, 86) there
    return _tensor(np.clip(canvas, 0, 255).astype(np.uint8)), silhouette.astype(bool)


@pytest.fixture(scope="module")
def figure() -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """A jointed figure: body ``(60..160) x (60..200)`` and arm ``(160..270) x (90..120)``, joint at (160, 105)."""
    from skimage import data

    suit = cv2.resize(data.astronaut()[290:450, 35:125], (320, 240))  # orange suit fabric, folds and all
    canvas = _textured("gravel", (240, 320), (1.0, 0.95, 0.85))
    yy, xx = np.mgrid[0:240, 0:320]
    body = (xx >= 60) & (xx < 160) & (yy >= 60) & (yy < 200)
    arm = (xx >= 160) & (xx < 270) & (yy >= 90) & (yy < 120)
    canvas[body | arm] = suit[body | arm]
    return _tensor(np.clip(canvas, 0, 255).astype(np.uint8)), body, arm


def _errors(flow: np.ndarray, where: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Per-pixel distance between the field ``(2, H, W)`` and ``expected`` ``(N, 2)`` on ``where``."""
    return np.linalg.norm(flow[:, where].T - expected, axis=1)


def _landing_errors(flow: np.ndarray, where: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Render a coordinate image with ``warp``; how far from ``p`` is what lands at ``p + expected(p)``."""
    h, w = where.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    coords = torch.from_numpy(np.stack([xx / (w - 1), yy / (h - 1), np.zeros_like(xx)]))
    out = WarpRenderer().render_frame(coords, torch.from_numpy(flow)).numpy()
    ys, xs = np.nonzero(where)
    tx, ty = np.rint(xs + expected[:, 0]).astype(int), np.rint(ys + expected[:, 1]).astype(int)
    keep = (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h)
    got_x = out[0, ty[keep], tx[keep]] * (w - 1) + (xs[keep] + expected[keep, 0] - tx[keep])
    got_y = out[1, ty[keep], tx[keep]] * (h - 1) + (ys[keep] + expected[keep, 1] - ty[keep])
    return np.hypot(got_x - xs[keep], got_y - ys[keep])


def _rigid_fit(points: np.ndarray, moved: np.ndarray) -> tuple[float, np.ndarray]:
    """Best rotation (degrees, image axes: positive turns x towards y) and residuals of ``points -> moved``."""
    pc, qc = points.mean(0), moved.mean(0)
    u, _, vt = np.linalg.svd((points - pc).T @ (moved - qc))
    rot = vt.T @ u.T
    residual = np.linalg.norm((points - pc) @ rot.T + qc - moved, axis=1)
    return float(np.degrees(np.arctan2(rot[1, 0], rot[0, 0]))), residual


@pytest.mark.parametrize("brush", ["none", "loose"])
def test_one_drag_moves_every_pixel_of_the_cup_and_nothing_else(cup, brush):
    image, silhouette = cup
    mask = None
    if brush == "loose":  # painted 25 px wide of the cup all round
        loose = cv2.dilate(silhouette.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (51, 51)))
        mask = RegionMask(loose.astype(np.float32))
    drag = Trajectory.line((225.0, 195.0), (250.0, 180.0), frames=4)
    flow = SparsePredictor(mode="object").predict(image, [drag], mask).flow[-1].numpy()
    expected = np.tile([25.0, -15.0], (int(silhouette.sum()), 1))

    for errors in (_errors(flow, silhouette, expected), _landing_errors(flow, silhouette, expected)):
        assert np.median(errors) <= 2.0 and np.percentile(errors, 90) <= 4.0, (np.median(errors), np.percentile(errors, 90))
    far = cv2.distanceTransform((~silhouette).astype(np.uint8), cv2.DIST_L2, 5) > 12
    assert np.abs(flow[:, far]).max() <= 1.0


def test_the_elastic_mode_is_the_rubber_sheet_that_misses_the_test_above(cup):
    image, silhouette = cup
    drag = Trajectory.line((225.0, 195.0), (250.0, 180.0), frames=4)
    flow = SparsePredictor(mode="elastic").predict(image, [drag]).flow[-1].numpy()
    errors = _errors(flow, silhouette, np.tile([25.0, -15.0], (int(silhouette.sum()), 1)))
    assert np.median(errors) > 4.0  # the rubber sheet fades inside the object


def test_two_drags_turn_the_cup_about_its_centre(cup):
    image, silhouette = cup
    angle = np.radians(20.0)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = np.array(CENTRE)
    handles = [np.array([188.0, 180.0]), np.array([292.0, 180.0])]
    drags = [Trajectory.line(tuple(p), tuple(centre + rot @ (p - centre)), frames=3) for p in handles]
    flow = SparsePredictor(mode="object").predict(image, drags).flow[-1].numpy()
    ys, xs = np.nonzero(silhouette)
    points = np.stack([xs, ys], 1).astype(np.float64)
    expected = (points - centre) @ rot.T + centre - points
    got_angle, residual = _rigid_fit(points, points + flow[:, silhouette].T)
    assert got_angle == pytest.approx(20.0, abs=1.0) and np.percentile(residual, 90) <= 2.0
    for errors in (_errors(flow, silhouette, expected), _landing_errors(flow, silhouette, expected)):
        assert np.median(errors) <= 2.0 and np.percentile(errors, 90) <= 4.0


def _bend(figure, objects):
    image, body, arm = figure
    joint, shift, angle = np.array([160.0, 105.0]), np.array([5.0, 0.0]), np.radians(-30.0)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])

    def target(p, on_arm):
        return joint + shift + rot @ (p - joint) if on_arm else p + shift

    # Drags on the body, at the joint and at the hand: the figure steps right and raises its arm.
    handles = [(np.array([110.0, 130.0]), False), (joint, True), (np.array([260.0, 105.0]), True)]
    drags = [Trajectory.line(tuple(p), tuple(target(p, on_arm)), frames=3) for p, on_arm in handles]
    regions = [ObjectRegion(RegionMask((body | arm).astype(np.float32)), [0, 1, 2])] if objects else None
    flow = SparsePredictor(mode="object").predict(image, drags, objects=regions).flow[-1].numpy()
    results = {}
    xx = np.arange(320)[None]
    for name, part, on_arm in (("body", body & (xx < 145), False), ("arm", arm & (xx > 175), True)):
        ys, xs = np.nonzero(part)
        points = np.stack([xs, ys], 1).astype(np.float64)
        expected = np.array([target(p, on_arm) for p in points]) - points
        got_angle, residual = _rigid_fit(points, points + flow[:, part].T)
        results[name] = got_angle, residual, _errors(flow, part, expected)
    return results


@pytest.mark.parametrize("objects", [False, True], ids=["found", "given"])
def test_three_drags_bend_a_jointed_figure_at_the_joint_keeping_each_part_rigid(figure, objects):
    results = _bend(figure, objects)
    body_angle, body_residual, body_errors = results["body"]
    arm_angle, arm_residual, arm_errors = results["arm"]
    assert abs(body_angle) <= 1.5 and np.percentile(body_residual, 90) <= 1.0
    assert arm_angle == pytest.approx(-30.0, abs=2.5) and np.percentile(arm_residual, 90) <= 1.5
    assert np.median(body_errors) <= 1.0 and np.median(arm_errors) <= 1.0


def test_regions_show_what_predict_moves_and_corrected_regions_are_used(cup):
    image, silhouette = cup
    drags = [Trajectory.line((225.0, 195.0), (250.0, 180.0), frames=3), Trajectory([(40.0, 40.0)]),
             Trajectory([(300.0, 165.0)])]  # a pin on the grass (in no object) and one on the cup
    predictor = SparsePredictor(mode="object")
    [region] = predictor.regions(image, drags)
    found = region.mask.values.numpy() > 0.5
    assert region.tracks == (0, 2)
    assert (found & silhouette).sum() / (found | silhouette).sum() > 0.9
    # The pin on the cup turns it about the pin: the drag's point still goes where asked.
    flow = predictor.predict(image, drags).flow[-1].numpy()
    assert np.allclose(flow[:, 195, 225], [25.0, -15.0], atol=0.5) and np.abs(flow[:, 165, 300]).max() < 0.5
    # A user-corrected region (only the cup's left half) is moved as given.
    half = silhouette & (np.arange(480)[None] < 240)
    corrected = [ObjectRegion(RegionMask(half.astype(np.float32)), [0])]
    flow = predictor.predict(image, drags[:1], objects=corrected).flow[-1].numpy()
    assert np.allclose(flow[:, half].T, [25.0, -15.0]) and np.abs(flow[:, silhouette & (np.arange(480)[None] >= 245)]).max() <= 1.0
    assert predictor.regions(image, drags[:1], objects=corrected) == corrected


def test_two_objects_move_each_with_its_own_drag_the_front_one_wins_where_they_overlap(cup):
    image, silhouette = cup
    left = np.zeros_like(silhouette)
    left[90:270, 60:255] = True  # overlaps the cup's left part
    drags = [Trajectory.line((225.0, 195.0), (225.0, 175.0), frames=3), Trajectory.line((90.0, 150.0), (80.0, 150.0), frames=3)]
    regions = [ObjectRegion(RegionMask(silhouette.astype(np.float32)), [0]), ObjectRegion(RegionMask(left.astype(np.float32)), [1])]
    flow = SparsePredictor(mode="object").predict(image, drags, objects=regions).flow[-1].numpy()
    assert np.allclose(flow[:, 180, 195], [0.0, -20.0])  # in both: the cup (front) moves it
    assert np.allclose(flow[:, 150, 90], [-10.0, 0.0])
    flow = SparsePredictor(mode="object").predict(image, drags, objects=regions[::-1]).flow[-1].numpy()
    assert np.allclose(flow[:, 180, 195], [-10.0, 0.0])


def test_the_brush_still_bounds_the_motion_exactly(cup):
    image, silhouette = cup
    brush = np.zeros((360, 480), np.float32)
    brush[:, :240] = 1.0  # only the cup's left half may move
    flow = SparsePredictor(mode="object").predict(image, [Trajectory.line((225.0, 195.0), (245.0, 195.0), frames=3)], RegionMask(brush)).flow
    assert flow[:, :, brush == 0].abs().max() == 0.0
    assert np.allclose(flow[-1, 0].numpy()[silhouette & (brush > 0)], 20.0)


def test_elastic_mode_reproduces_the_densifier_of_before_exactly(cat_photo):
    from pathlib import Path

    reference = np.load(Path(__file__).parent / "data" / "elastic_reference.npz")  # saved from the densifier of before
    cat = cv2.resize(cat_photo, (240, 160), interpolation=cv2.INTER_AREA)
    image = torch.from_numpy(cat).permute(2, 0, 1).float() / 255
    drags = [Trajectory.line((120, 110), (130, 100), frames=3), Trajectory.line((60, 50), (55, 60), frames=3), Trajectory([(200, 40)])]
    brush = np.zeros((160, 240), np.float32)
    brush[30:150, 30:200] = 1
    plain = SparsePredictor(mode="elastic").predict(image, drags).flow
    brushed = SparsePredictor("elastic", radius=50, feather=6).predict(image, drags, RegionMask(brush)).flow
    np.testing.assert_allclose(plain[:, :, ::3, ::3].numpy(), reference["plain"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(brushed[:, :, ::3, ::3].numpy(), reference["brushed"], rtol=0, atol=1e-5)


def test_changing_one_drag_redoes_only_that_drags_region(cup, monkeypatch):
    from motionkit.ops import objects as ops_objects
    from motionkit.ops.memo import clear

    image = torch.nn.functional.interpolate(cup[0][None], scale_factor=0.5, mode="area")[0]  # (3, 180, 240)
    calls = []
    real, real_search = ops_objects.object_region, ops_objects.find_object
    monkeypatch.setattr(ops_objects, "object_region", lambda *a, **k: calls.append(a[1].tolist()) or real(*a, **k))
    monkeypatch.setattr(ops_objects, "find_object", lambda *a, **k: calls.append([list(a[1])]) or real_search(*a, **k))
    clear()
    predictor = SparsePredictor(mode="object")
    cup_drag = Trajectory.line((112.0, 97.0), (125.0, 90.0), frames=3)
    predictor.predict(image, [cup_drag])
    predictor.predict(image, [Trajectory.line((112.0, 97.0), (130.0, 80.0), frames=3)])  # only the end moved
    assert calls == [[[112.0, 97.0]]]
    # Two painted objects: moving one drag's start redoes that object's cut only.
    brush = np.zeros((180, 240), np.float32)
    brush[45:150, 60:180] = 1.0
    brush[5:40, 5:60] = 1.0
    brush = RegionMask(brush)
    drags = [cup_drag, Trajectory.line((20.0, 20.0), (25.0, 20.0), frames=3)]
    predictor.predict(image, drags, brush)
    assert len(calls) == 3
    moved_start = [cup_drag, Trajectory.line((22.0, 20.0), (30.0, 25.0), frames=3)]
    predictor.predict(image, moved_start, brush)
    assert calls[3:] == [[[22.0, 20.0]]]
    image.mul_(0.99)  # edited in place: nothing is reused
    predictor.predict(image, moved_start, brush)
    assert len(calls) == 6
    # A new tensor holding the same photo (what each mk.animate call makes) finds the regions again.
    predictor.predict(image.clone(), moved_start, brush)
    assert len(calls) == 6


def test_bad_object_inputs_are_refused(cup):
    image, silhouette = cup
    region = ObjectRegion(RegionMask(silhouette.astype(np.float32)), [3])
    drag = Trajectory.line((225.0, 195.0), (245.0, 195.0), frames=3)
    with pytest.raises(InvalidInputError, match="tracks \\[3\\]"):
        SparsePredictor(mode="object").predict(image, [drag], objects=[region])
    with pytest.raises(InvalidInputError, match="mode='object'"):
        SparsePredictor(mode="elastic").predict(image, [drag], objects=[region])
    with pytest.raises(InvalidInputError, match="needs the image"):
        SparsePredictor(mode="object").predict(None, [drag], size=(360, 480))
    with pytest.raises(InvalidInputError, match="mode must be"):
        SparsePredictor(mode="rubber")


def test_auto_mode_moves_objects_where_a_brush_or_regions_say_what_they_are(cup):
    image, silhouette = cup[0], cup[1]
    drag = Trajectory.line((240.0, 180.0), (270.0, 180.0), frames=3)
    brush = RegionMask(silhouette.astype(np.float32)).dilate(10)
    auto, obj, elastic = SparsePredictor(mode="auto"), SparsePredictor(), SparsePredictor(mode="elastic")  # object is the default
    assert torch.equal(auto.predict(image, [drag]).flow, elastic.predict(image, [drag]).flow)
    assert torch.equal(auto.predict(image, [drag], brush).flow, obj.predict(image, [drag], brush).flow)
    region = [ObjectRegion(RegionMask(silhouette.astype(np.float32)), [0])]
    assert torch.equal(auto.predict(image, [drag], objects=region).flow, obj.predict(image, [drag], objects=region).flow)
    assert auto.regions(image, [drag]) == [] and len(auto.regions(image, [drag], brush)) == 1
