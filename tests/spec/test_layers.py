"""The spec's parametric layers: motion brushes (direction, proximity, ambient), static camera, 3D camera moves with depth."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

import motionkit as mk
from motionkit.spec import Brush, CameraKey, CameraPath, Region
from motionkit.spec.layers import ambient_motion, load_depth

#: Columns 20..59, rows 10..49 of an 80 x 60 (W x H) picture, edges on pixel borders.
BOX = Region(polygons=[[(20 / 80, 10 / 60), (60 / 80, 10 / 60), (60 / 80, 50 / 60), (20 / 80, 50 / 60)]])


@pytest.fixture(scope="module")
def coffee(coffee_photo) -> np.ndarray:
    return cv2.resize(coffee_photo, (80, 60), interpolation=cv2.INTER_AREA)


def spec_with(*brushes: Brush, frames: int = 5, **changes) -> mk.MotionSpec:
    return mk.MotionSpec(frames=frames, reference_size=(60, 80), brushes=brushes, **changes)


def test_a_brush_moves_the_texture_inside_it_by_its_direction_per_frame_and_nothing_outside(coffee):
    spec = spec_with(Brush(region=BOX, direction=(2.0, 1.0)))
    motion = spec.compile(coffee)
    for t in range(5):
        assert torch.equal(motion.flow[t, 0, 10:50, 20:60], torch.full((40, 40), 2.0 * t))
        assert torch.equal(motion.flow[t, 1, 10:50, 20:60], torch.full((40, 40), 1.0 * t))
    outside = torch.ones(60, 80, dtype=torch.bool)
    outside[10:50, 20:60] = False
    assert motion.flow[:, :, outside].abs().max() == 0
    # Rendered: the inside of the box at frame 4 is its frame-0 texture 8 px right, 4 px down.
    clip = mk.render(coffee, motion)
    last = clip.frame(4).astype(int)
    np.testing.assert_array_equal(last[18:50, 32:60], coffee[14:46, 24:52].astype(int))
    assert np.array_equal(last[:, :16], coffee[:, :16].astype(int))        # far outside: untouched


def test_brush_pixels_are_read_in_the_reference_size(coffee):
    spec = spec_with(Brush(region=BOX, direction=(2.0, 1.0)))
    big = cv2.resize(coffee, (160, 120), interpolation=cv2.INTER_CUBIC)
    assert spec.compile(big).flow[4, :, 60, 80].tolist() == [16.0, 8.0]    # twice the pixels


def test_proximity_enlarges_the_region_about_its_centre(coffee):
    spec = spec_with(Brush(region=BOX, proximity=0.05))
    motion = spec.compile(coffee)
    centre = (39.5, 29.5)                                                  # of columns 20..59, rows 10..49
    scale = 1.05**4 - 1
    for x, y in [(25, 15), (55, 45), (30, 40)]:
        assert motion.flow[4, :, y, x].tolist() == pytest.approx([scale * (x - centre[0]), scale * (y - centre[1])], abs=1e-4)
    # Rendered: the box's content at frame 4 is frame 0 scaled by 1.05 ** 4 about its centre.
    last = mk.render(coffee, motion).frame(4).astype(np.float64)
    grown = cv2.warpAffine(coffee, cv2.getRotationMatrix2D(centre, 0.0, 1.05**4), (80, 60), flags=cv2.INTER_LINEAR)
    assert np.abs(last[16:44, 26:54] - grown[16:44, 26:54]).mean() < 6
    assert np.abs(last[16:44, 26:54] - coffee[16:44, 26:54]).mean() > 3 * np.abs(last[16:44, 26:54] - grown[16:44, 26:54]).mean()


def test_ambient_motion_is_bounded_smooth_seeded_and_loops():
    brush = Brush(region=BOX, ambient=1.5, period=12, seed=7)
    field = ambient_motion(brush, 13, (60, 80), (60, 80))
    magnitude = field.norm(dim=1)
    assert magnitude.max() <= 1.5 and magnitude.max() > 0.5                # bounded by the amplitude, not tiny
    assert field[0].abs().max() == 0                                       # frame 0 is the reference
    assert field[12].abs().max() < 1e-9                                    # one period later it is back: it loops
    assert (field[1:] - field[:-1]).norm(dim=1).max() < 1.5                # smooth in time
    assert (field[:, :, :, 1:] - field[:, :, :, :-1]).abs().max() < 0.5    # and in space (px per px)
    assert torch.equal(field, ambient_motion(brush, 13, (60, 80), (60, 80)))
    other = ambient_motion(brush.model_copy(update={"seed": 8}), 13, (60, 80), (60, 80))
    assert (other - field).abs().max() > 0.3
    spec = spec_with(brush, frames=13)
    compiled = spec.compile(np.zeros((60, 80, 3), np.uint8)).flow
    assert compiled[:, :, :10].abs().max() == 0                            # only inside the painted region


def test_static_camera_is_exactly_still_outside_the_painted_regions_and_drags(coffee):
    drag = mk.MotionSpec.from_pixels((60, 80), frames=5, drags=[[(70, 10), (74, 12)]])
    free = drag.with_changes(brushes=[Brush(region=BOX, direction=(1.0, 0.0))])
    still = free.with_changes(static_camera=True)
    # The rubber sheet (elastic) spreads a drag's motion far: the case static_camera must cut.
    loose, tight = free.compile(coffee, mode="elastic").flow, still.compile(coffee, mode="elastic").flow
    dragged = tight.norm(dim=1).amax(dim=0) > 0
    painted = still.brushes[0].region
    outside = ~(dragged | (mk.MotionSpec(frames=2, reference_size=(60, 80), mask=painted).mask_at((60, 80)).values > 0))
    assert outside.float().mean() > 0.5
    assert tight[:, :, outside].abs().max() == 0
    assert loose[:, :, outside].abs().max() > 0                            # the rubber sheet's tail, which static cuts
    assert tight[-1, :, 10, 70].tolist() == pytest.approx([4.0, 2.0], abs=0.05)


def two_depths(size=(60, 80)) -> np.ndarray:
    """Near (depth 0.4) on the left third, the look-at depth 1 in the middle, far (4) on the right third."""
    depth = np.ones(size)
    depth[:, : size[1] // 3] = 0.4
    depth[:, 2 * size[1] // 3 :] = 4.0
    return depth


def test_an_orbit_with_a_depth_map_moves_near_pixels_more_than_far_ones():
    spec = spec_with(camera=CameraPath(keyframes=[CameraKey(t=4, orbit=6.0)]))
    motion = spec.camera_at((60, 80), depth=two_depths()).flow[-1]
    near, middle, far = (motion[0, :, :20].abs().median(), motion[0, :, 34:46].abs().median(), motion[0, :, 60:].abs().median())
    assert near > 1.2 * far and far > middle
    assert torch.sign(motion[0, 30, 10]) == -torch.sign(motion[0, 30, 70])  # the two sides of the pivot move apart
    flat = spec.camera_at((60, 80)).flow[-1]
    assert (flat - motion).abs().max() > 1                                  # the depth map matters


@pytest.mark.parametrize("move", ["truck", "pedestal", "dolly"])
def test_truck_pedestal_and_dolly_give_parallax(move):
    spec = spec_with(camera=CameraPath(keyframes=[CameraKey(t=4, **{move: 0.1})]))
    flat = spec.camera_at((60, 80)).flow[-1]
    deep = spec.camera_at((60, 80), depth=two_depths()).flow[-1]
    if move != "dolly":  # a flat plane slides as a whole
        axis = 0 if move == "truck" else 1
        assert torch.allclose(flat[axis], flat[axis, 0, 0].expand(60, 80), atol=1e-4) and flat[axis, 0, 0].abs() > 3
    near, far = deep.norm(dim=0)[:, 5:15].mean(), deep.norm(dim=0)[:, 65:75].mean()
    assert near > 2 * far


def test_the_camera_is_composed_over_the_object_motion(coffee):
    left = Region(polygons=[[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]])
    spec = mk.MotionSpec.from_pixels((60, 80), frames=5, drags=[[(20, 30), (26, 30)]], camera={"pan": (0, 5)})
    spec = spec.with_changes(mask=left)
    motion, objects = spec.compile(coffee).flow, spec.with_changes(camera=None).compile(coffee).flow
    assert motion[-1, :, 30, 20].tolist() == pytest.approx([6.0, 5.0], abs=0.05)   # the drag, then the camera
    assert objects[:, :, :, 40:].abs().max() == 0
    # The still right half moves with the camera alone, exactly.
    assert motion[-1, 0, :, 40:].abs().max() < 1e-4 and (motion[-1, 1, :, 40:] - 5).abs().max() < 1e-4


def test_depth_maps_load_from_npy_and_images(tmp_path):
    depth = two_depths()
    np.save(tmp_path / "d.npy", depth)
    picture = (255 / depth / 2.5).clip(0, 255).astype(np.uint8)            # white = near
    cv2.imwrite(str(tmp_path / "d.png"), picture)
    from_npy, from_png = load_depth(tmp_path / "d.npy", (60, 80)), load_depth(tmp_path / "d.png", (30, 40))
    assert np.array_equal(from_npy, depth) and from_png.shape == (30, 40)
    assert from_png[:, 2].mean() < from_png[:, 20].mean() < from_png[:, 37].mean()   # near < middle < far
