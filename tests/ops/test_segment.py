"""ops.segment and ops.memo: the object under a seed on a real photo, the brush bounds it, results are memoised."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops.densify import default_radius
from motionkit.ops.memo import Memo, image_key
from motionkit.ops.object_search import find_object
from motionkit.ops.segment import guided_filter, object_region


@pytest.fixture(scope="module")
def disc_on_gravel() -> tuple[np.ndarray, np.ndarray]:
    """A disc of the astronaut's suit on scikit-image's gravel, ``float32 (160, 200, 3)`` and its mask."""
    from skimage import data

    suit = cv2.resize(data.astronaut()[290:450, 35:125], (200, 160)).astype(np.float32) / 255
    image = np.repeat(data.gravel()[:160, :200, None], 3, axis=2).astype(np.float32) / 255
    disc = np.zeros((160, 200), np.uint8)
    cv2.circle(disc, (100, 80), 45, 1, -1)
    image[disc > 0] = suit[disc > 0]
    return image, disc.astype(bool)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_the_object_is_found_from_the_edges_and_inside_a_loose_brush(disc_on_gravel):
    image, disc = disc_on_gravel
    seed = np.array([[100.0, 80.0]])
    assert _iou(find_object(image, (100.0, 80.0), contrast_cost=default_radius(disc.shape)), disc) > 0.93
    loose = cv2.dilate(disc.astype(np.uint8), np.ones((31, 31), np.uint8)).astype(np.float32)
    found = object_region(image, seed, brush=loose)
    assert _iou(found, disc) > 0.9 and not (found & (loose == 0)).any()


def test_a_brush_cutting_through_the_object_is_taken_as_painted(disc_on_gravel):
    image, disc = disc_on_gravel
    brush = np.zeros(disc.shape, np.float32)
    brush[:, :100] = 1.0
    found = object_region(image, np.array([[90.0, 80.0]]), brush=brush)
    assert found[80, 90] and not found[:, 100:].any()
    assert (found & disc).sum() >= 0.9 * (disc & (brush > 0)).sum()


def test_bad_inputs_are_refused(disc_on_gravel):
    image, disc = disc_on_gravel
    with pytest.raises(InvalidInputError):
        object_region(image, np.zeros((0, 2)), brush=disc.astype(np.float32))
    with pytest.raises(InvalidInputError):
        object_region(image, np.array([[5.0, 5.0]]))
    with pytest.raises(ShapeMismatchError):
        object_region(image, np.array([[5.0, 5.0]]), brush=np.ones((4, 4), np.float32))


def test_guided_filter_keeps_the_guides_edges():
    guide = np.zeros((20, 20), np.float32)
    guide[:, 10:] = 1.0
    blurry = cv2.GaussianBlur(guide, (0, 0), 2.0)
    sharper = guided_filter(guide, blurry, 3, 1e-4)
    assert np.array_equal(sharper > 0.5, guide > 0.5)
    jumps, blurry_jumps = np.diff(sharper, axis=1), np.diff(blurry, axis=1)
    assert (jumps.argmax(axis=1) == 9).all() and jumps.max() > 2 * blurry_jumps.max()  # a step, at the edge


def test_memo_keys_follow_tensor_identity_and_edits_and_the_budget_evicts():
    a, b = torch.zeros(3, 4, 4), torch.zeros(3, 4, 4)
    assert image_key(a) == image_key(a) != image_key(b)
    before = image_key(a)
    a.add_(1.0)
    assert image_key(a) != before and image_key(np.zeros(3)) is None
    memo = Memo(budget_bytes=100)
    memo.put("x", np.zeros(10, np.float32))  # 40 bytes
    memo.put("y", np.zeros(10, np.float32))
    assert memo.get("x") is not None  # x is now the most recent
    memo.put("z", np.zeros(10, np.float32))  # over budget: y (least recent) goes
    assert memo.get("y") is None and memo.get("x") is not None and len(memo) == 2
    memo.put(None, 1)
    assert memo.get(None) is None
