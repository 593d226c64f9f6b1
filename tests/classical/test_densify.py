"""The sparse predictor: drags land where asked, pins stay, the brush confines motion.

The rubber-sheet properties (motion fading with distance, edges slowing it) are the elastic
mode's; the object mode (the default) has its own tests in ``test_objects.py``.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from helpers.images import to_tensor
from motionkit.classical.densify import SparsePredictor
from motionkit.classical.render import WarpRenderer
from motionkit.errors import OutOfBoundsError, ShapeMismatchError
from motionkit.mask import RegionMask
from motionkit.trajectory import Trajectory


@pytest.fixture(scope="module")
def cat(cat_photo) -> np.ndarray:
    """The cat at 2/3 size, ``uint8 (200, 300, 3)``."""
    return cv2.resize(cat_photo, (300, 200), interpolation=cv2.INTER_AREA)



def _match(frame: np.ndarray, patch: np.ndarray) -> tuple[float, float]:
    """Centre (x, y) of the best normalised-correlation match of ``patch`` in ``frame``."""
    scores = cv2.matchTemplate(frame, patch, cv2.TM_CCOEFF_NORMED)
    _, _, _, (x, y) = cv2.minMaxLoc(scores)
    return x + patch.shape[1] // 2, y + patch.shape[0] // 2


@pytest.mark.parametrize("mode", ["object", "elastic"])
def test_drag_on_a_photo_moves_the_patch_and_respects_brush_and_pins(cat, mode):
    h, w = cat.shape[:2]
    nose = (176.0, 160.0)
    drag = Trajectory.line(nose, (194.0, 148.0), frames=16)
    pin = Trajectory([(100.0, 66.0)])  # the left eye stays
    brush = np.zeros((h, w), np.float32)
    brush[90:, 110:260] = 1.0  # lower middle: nose, mouth, chin
    mask = RegionMask(brush)

    motion = SparsePredictor(mode).predict(to_tensor(cat), [drag, pin], mask)
    flow = motion.flow
    assert flow.shape == (16, 2, h, w)

    # The dragged pixel follows its trajectory in every frame, to within 1 px.
    expected = drag.as_tensor() - drag.as_tensor()[0]
    got = flow[:, :, int(nose[1]), int(nose[0])]
    assert (got - expected).abs().max() < 1.0
    # The pinned point and everything outside the brush do not move at all.
    assert flow[:, :, 66, 100].abs().max() < 1e-3
    assert flow[:, :, brush == 0].abs().max() == 0.0
    # Motion fades with distance: small far from the drag, inside the brush (the rubber sheet).
    if mode == "elastic":
        assert flow[-1, :, 195, 255].norm() < 0.3 * expected[-1].norm()

    clip = WarpRenderer().render(to_tensor(cat), motion, mask, fps=8.0)
    frames = np.stack(list(clip.iter_frames()))
    assert frames.shape == (16, h, w, 3) and clip.fps == 8.0
    assert np.array_equal(frames[0], cat)
    outside = brush == 0
    for frame in frames:
        assert np.array_equal(frame[outside], cat[outside])

    # The patch at the drag's start is found at the drag's end in the last frame.
    x0, y0 = int(nose[0]), int(nose[1])
    patch = cat[y0 - 10 : y0 + 11, x0 - 10 : x0 + 11]
    found = _match(frames[-1], patch)
    assert np.hypot(found[0] - drag.end[0], found[1] - drag.end[1]) <= 2.0


def test_elastic_edges_separate_an_object_from_its_background():
    # A grey disc on a textured light background; drag from inside the disc.
    rng = np.random.default_rng(1)
    image = (0.8 + 0.05 * rng.standard_normal((120, 160, 3))).clip(0, 1).astype(np.float32)
    yy, xx = np.mgrid[0:120, 0:160]
    disc = (xx - 60) ** 2 + (yy - 60) ** 2 < 30**2
    image[disc] = 0.25
    tensor = torch.from_numpy(image).permute(2, 0, 1)
    drag = Trajectory.line((60, 60), (72, 60), frames=4)
    # A radius larger than the disc: the edge, not the falloff, bounds the motion.
    aware = SparsePredictor("elastic", radius=80).predict(tensor, [drag]).flow[-1, 0]
    plain = SparsePredictor("elastic", radius=80, edge_aware=False).predict(tensor, [drag]).flow[-1, 0]
    # Inside the disc's rim (26 px from the handle) it moves almost fully, in every direction.
    for y, x in ((60, 34), (60, 86), (34, 60), (86, 60)):
        assert aware[y, x] > 0.85 * 12
    # Just outside the rim (37 px): without edges the background is dragged along; with them it stays.
    for y, x in ((60, 97), (97, 60)):
        assert plain[y, x] > 0.75 * 12
        assert aware[y, x] < 0.4 * plain[y, x]


def test_no_trajectories_give_a_zero_field_and_size_works_without_image():
    motion = SparsePredictor().predict(None, [], size=(20, 30), frames=5)
    assert motion.flow.shape == (5, 2, 20, 30) and motion.flow.abs().max() == 0
    only_pins = SparsePredictor().predict(None, [Trajectory([(3.0, 4.0)])], size=(20, 30), frames=5)
    assert only_pins.flow.abs().max() == 0


def test_trajectories_of_different_lengths_are_resampled_to_the_frame_count():
    short = Trajectory.line((10, 10), (20, 10), frames=3)
    long = Trajectory.line((40, 30), (40, 40), frames=9)
    flow = SparsePredictor("elastic", radius=8).predict(None, [short, long], size=(50, 60)).flow
    assert flow.shape[0] == 9
    assert torch.allclose(flow[:, :, 10, 10], torch.stack([torch.linspace(0, 10, 9), torch.zeros(9)], 1), atol=0.05)
    assert torch.allclose(flow[-1, :, 30, 40], torch.tensor([0.0, 10.0]), atol=0.05)


def test_bad_inputs_are_refused():
    with pytest.raises(OutOfBoundsError, match="outside"):
        SparsePredictor().predict(None, [Trajectory.line((35, 5), (40, 5))], size=(20, 30))
    with pytest.raises(ShapeMismatchError):
        SparsePredictor().predict(torch.rand(3, 20, 30), [], RegionMask(np.ones((10, 10), np.float32)))


def test_uint8_photo_guides_like_its_tensor(cat):
    drag = [Trajectory.line((150.0, 100.0), (160.0, 95.0), frames=4)]
    from_array = SparsePredictor().predict(cat, drag).flow
    assert torch.equal(from_array, SparsePredictor().predict(to_tensor(cat), drag).flow)
