"""Interface I1: a predictor remembers the objects it found, so moving a drag's end re-uses them.

The object search (GrabCut on the photo, ~0.1 s) and the objects' layout (alphas, anchors, MLS
weights) depend on the image, the brush and the drags' start points, not on where the drags
end. Counted here on real photos: an edit that moves only an end runs neither again, and its
field is the one a fresh predictor computes from scratch.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

import motionkit.classical.densify as densify_module
from motionkit.classical.densify import SparsePredictor
from motionkit.mask import RegionMask
from motionkit.ops import memo
from motionkit.trajectory import Trajectory


def _tensor(photo: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1).float() / 255.0


@pytest.fixture
def counted(monkeypatch):
    """Counts of the calls to the object search and to the layout, as the predictor makes them."""
    counts = {"search": 0, "layout": 0}

    def wrap(name, real):
        def call(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(densify_module, "find_objects", wrap("search", densify_module.find_objects))
    monkeypatch.setattr(densify_module, "object_layout", wrap("layout", densify_module.object_layout))
    memo.clear()
    yield counts
    memo.clear()


@pytest.fixture(scope="module")
def coffee(coffee_photo) -> torch.Tensor:
    return _tensor(cv2.resize(coffee_photo, (300, 200), interpolation=cv2.INTER_AREA))


def _fresh(image, drags, brush=None) -> np.ndarray:
    memo.clear()  # nothing remembered anywhere: the search and the layout run again
    return SparsePredictor().predict(image, drags, brush, frames=6).flow.numpy()


def test_moving_only_a_drags_end_does_not_search_again_and_gives_a_fresh_predictors_field(coffee, counted):
    predictor = SparsePredictor()
    first = [Trajectory.line((145, 75), (160, 70), frames=6)]  # the crema: the cup is found
    predictor.predict(coffee, first, frames=6)
    assert counted == {"search": 1, "layout": 1}
    moved = [Trajectory.line((145, 75), (168, 80), frames=6)]  # the same start, another end
    field = predictor.predict(coffee, moved, frames=6).flow.numpy()
    assert counted == {"search": 1, "layout": 1}
    assert field[-1, :, 75, 145] == pytest.approx((23.0, 5.0), abs=1e-4)  # the new end is followed
    np.testing.assert_array_equal(field, _fresh(coffee, moved))
    assert counted["search"] == 2  # (the fresh predictor did search)


def test_a_new_tensor_of_the_same_photo_hits_and_a_moved_start_or_another_photo_does_not(coffee, counted, cat_photo):
    predictor = SparsePredictor()
    drag = [Trajectory.line((145, 75), (160, 70), frames=6)]
    predictor.predict(coffee, drag, frames=6)
    predictor.predict(coffee.clone(), drag, frames=6)  # mk.animate makes a new tensor each call
    assert counted["search"] == 1
    predictor.predict(coffee, [Trajectory.line((150, 60), (160, 70), frames=6)], frames=6)  # another start
    assert counted["search"] == 2
    cat = _tensor(cv2.resize(cat_photo, (300, 200), interpolation=cv2.INTER_AREA))
    predictor.predict(cat, drag, frames=6)
    assert counted["search"] == 3


def test_under_a_brush_three_drags_ends_moved_reuse_the_refined_object(coffee, counted):
    brush = RegionMask.from_polygon([(60, 15), (245, 15), (245, 195), (60, 195)], size=(200, 300))
    starts = [(145, 75), (110, 130), (190, 140)]  # three handles: the MLS-rigid path
    ends = [(150, 72), (112, 140), (186, 150)]
    predictor = SparsePredictor()
    predictor.predict(coffee, [Trajectory.line(s, e, frames=6) for s, e in zip(starts, ends)], brush, frames=6)
    later = [(156, 70), (112, 146), (180, 152)]
    drags = [Trajectory.line(s, e, frames=6) for s, e in zip(starts, later)]
    field = predictor.predict(coffee, drags, brush, frames=6).flow.numpy()
    assert counted == {"search": 1, "layout": 1}
    for (x, y), (ex, ey) in zip(starts, later):
        assert field[-1, :, y, x] == pytest.approx((ex - x, ey - y), abs=0.01)
    np.testing.assert_array_equal(field, _fresh(coffee, drags, brush))
    assert np.abs(field[:, :, 5, 5]).max() == 0.0  # outside the brush: still


def test_a_predictor_copied_or_pickled_starts_with_an_empty_memory(coffee):
    import copy
    import pickle

    predictor = SparsePredictor(feather=3.0)
    predictor.predict(coffee, [Trajectory.line((145, 75), (160, 70), frames=4)], frames=4)
    for other in (copy.deepcopy(predictor), pickle.loads(pickle.dumps(predictor))):
        assert repr(other) == repr(predictor) and len(other._found) == 0
