"""``MotionSpec.compile``: one document, any size of the photo; tracks, regions, objects and camera land where they should."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

import motionkit as mk
from motionkit.errors import InvalidInputError
from motionkit.spec import CameraKey, CameraPath, Keyframe, ObjectSpec, Region, Track


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def test_trajectory_displacements_scale_exactly_with_the_size():
    spec = mk.MotionSpec.from_pixels((256, 256), frames=6, drags=[[(130, 60), (142, 52), (150, 40)]], pins=[(200, 200)])
    small = [t.displacements().double() for t in spec.trajectories_at((256, 256))]
    big = [t.displacements().double() for t in spec.trajectories_at((1024, 1024))]
    for a, b in zip(small, big):
        torch.testing.assert_close(b, 4 * a, atol=1e-4, rtol=0)
    assert spec.trajectories_at((256, 256))[0].start == (130.0, 60.0)
    assert spec.trajectories_at((1024, 1024))[0].start == (130.5 * 4 - 0.5, 60.5 * 4 - 0.5)


@pytest.mark.slow
def test_a_spec_compiled_at_two_sizes_of_one_photo_agrees(astronaut):
    small = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    big = cv2.resize(astronaut, (1024, 1024), interpolation=cv2.INTER_CUBIC)
    region = Region(polygons=[[(0.05, 0.05), (0.95, 0.05), (0.95, 0.6), (0.05, 0.95)]])
    spec = mk.MotionSpec.from_pixels((256, 256), frames=6, drags=[[(130, 60), (142, 52)], [(60, 200), (52, 210)]],
                                     pins=[(200, 200)]).with_changes(mask=region)
    # The spec's scaling, measured on the smooth (elastic) densifier: the object mode's GrabCut
    # regions are found afresh at each size and do not agree to the pixel between 256 and 1024 px.
    a, b = spec.compile(small, mode="elastic"), spec.compile(big, mode="elastic")
    assert b.size == (1024, 1024) and b.frames == 6
    # At the dragged pixel the field is the drag, at both sizes (x4 at 1024 px).
    assert a.flow[-1, :, 60, 130].tolist() == pytest.approx([12.0, -8.0], abs=0.01)
    x, y = spec.trajectories_at((1024, 1024))[0].start
    np.testing.assert_allclose(b.flow[-1, :, int(y), int(x)].numpy(), [48.0, -32.0], atol=0.2)
    # Elsewhere the big field is the small one upsampled, away from the region's outline (its
    # feathered edge is radius / 4 = 64 px wide at 1024 px) and from the photo's strong edges.
    error = (a.resize((1024, 1024)).flow[-1] - b.flow[-1]).norm(dim=0).numpy()
    outline = cv2.Canny((spec.mask_at((1024, 1024)).to_image() > 127).astype(np.uint8) * 255, 50, 100) > 0
    edges = cv2.Canny(cv2.cvtColor(big, cv2.COLOR_RGB2GRAY), 100, 200) > 0
    near = cv2.dilate(outline.astype(np.uint8), np.ones((145, 145), np.uint8)) > 0
    near |= cv2.dilate(edges.astype(np.uint8), np.ones((33, 33), np.uint8)) > 0
    assert (~near).mean() > 0.2 and b.flow[-1].norm(dim=0).max() > 50
    assert error[~near].max() < 0.75 and error[~near].mean() < 0.05


def test_the_region_mask_gates_the_motion(astronaut):
    image = cv2.resize(astronaut, (96, 96), interpolation=cv2.INTER_AREA)
    left = Region(polygons=[[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]])
    spec = mk.MotionSpec.from_pixels((96, 96), frames=4, drags=[[(30, 48), (40, 48)]]).with_changes(mask=left)
    motion = spec.compile(image)
    assert motion.flow[:, :, :, 48:].abs().max() == 0            # the right half may not move
    assert motion.flow[-1, 0, 48, 30] > 5


def test_a_painted_mask_is_resampled_to_the_image():
    painted = mk.RegionMask.from_polygon([(-0.5, -0.5), (15.5, -0.5), (15.5, 31.5), (-0.5, 31.5)], size=(32, 32))
    spec = mk.MotionSpec(frames=2, reference_size=(32, 32), mask=Region.from_mask(painted))
    assert spec.mask_at((32, 32)) == painted
    assert spec.mask_at((64, 64)).area() == pytest.approx(0.5, abs=1e-6)


def test_the_camera_path_matches_the_camera_field_and_follows_its_keys():
    size = (40, 60)
    spec = mk.MotionSpec.from_pixels(size, frames=5, camera={"pan": (12, -4), "zoom": 1.2, "rotate": 5})
    expected = mk.MotionField.camera(pan=(12, -4), zoom=1.2, rotate=5, frames=5, size=size)
    assert spec.compile(np.zeros((*size, 3), np.uint8)).allclose(expected, atol=1e-4)
    # Keys at fractional times, an eased segment, then a hold after the last key.
    path = CameraPath(keyframes=[CameraKey(t=0, easing="ease-in"), CameraKey(t=2.5, pan=(0.5, 0.0)), CameraKey(t=4, pan=(0.25, 0.0))])
    pans = mk.MotionSpec(frames=6, reference_size=size, camera=path).camera_at(size).flow[:, 0, 20, 30].tolist()
    ease_in = [(f / 2.5) ** 3 * 30 for f in (1, 2)]
    assert pans == pytest.approx([0.0, *ease_in, 30 - 15 * (0.5 / 1.5), 15.0, 15.0], abs=1e-4)


def test_static_camera_cannot_have_a_camera_path():
    with pytest.raises(InvalidInputError, match="static_camera"):
        mk.MotionSpec(frames=4, reference_size=(8, 8), static_camera=True,
                      camera=CameraPath(keyframes=[CameraKey(t=3, zoom=1.1)]))


def test_tracks_follow_eased_fractional_keyframes():
    track = Track(keyframes=[Keyframe(t=0, u=0.05, v=0.5, easing="ease-out"), Keyframe(t=2.5, u=0.55, v=0.5),
                             Keyframe(t=4, u=0.55, v=0.5, visible=False)], interpolation="linear")
    spec = mk.MotionSpec(frames=6, reference_size=(10, 10), trajectories=[track])
    xs = [p[0] for p in spec.trajectories_at((10, 10))[0].points]
    ease_out = [(1 - (1 - f / 2.5) ** 3) * 5 for f in (1, 2)]
    assert xs == pytest.approx([0.0, *ease_out, 5.0, 5.0, 5.0])
    assert spec.visibility().tolist() == [[True] * 4 + [False] * 2]


class _TakesObjects:
    """A predictor that records the object regions it is given."""

    seen: list = []

    def predict(self, image, trajectories, mask=None, *, frames=None, size=None, prompt=None, objects=None):
        type(self).seen = list(objects or [])
        return mk.MotionField.zeros(frames, size)


class _NoObjects:
    def predict(self, image, trajectories, mask=None, *, frames=None, size=None, prompt=None):
        return mk.MotionField.zeros(frames, size)


def test_objects_reach_a_predictor_that_takes_them_at_the_image_size(fresh_registry):
    fresh_registry.register("predictor", "records", _TakesObjects)
    fresh_registry.register("predictor", "plain", _NoObjects)
    top = Region(polygons=[[(0.0, 0.0), (1.0, 0.0), (1.0, 0.5), (0.0, 0.5)]])
    spec = mk.MotionSpec.from_pixels((20, 20), frames=3, drags=[[(5, 5), (8, 5)]], pins=[(5, 15)]).with_changes(
        objects=[ObjectSpec(region=top, tracks=[0])])
    spec.compile(np.zeros((40, 60, 3), np.uint8), predictor="records")
    (region,) = _TakesObjects.seen
    assert region.tracks == (0,) and region.mask.size == (40, 60) and region.mask.area() == pytest.approx(0.5)
    with pytest.raises(InvalidInputError, match="object region"):
        spec.compile(np.zeros((40, 60, 3), np.uint8), predictor="plain")
    # Without objects, nothing is passed: any predictor works.
    assert spec.with_changes(objects=[]).compile(np.zeros((40, 60, 3), np.uint8), predictor="plain").frames == 3
