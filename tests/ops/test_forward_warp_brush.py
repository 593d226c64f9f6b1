"""The brush's compiled selects (motionkit.ops.brush) are OpenCV's masked copies, bit for bit, NaN and -0.0 included."""

from __future__ import annotations

import numpy as np
import pytest

from motionkit.errors import ShapeMismatchError
from motionkit.ops import brush
from motionkit.ops.forward_warp import warp_frame_numpy


def _awkward(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """A field and a mask with NaN, infinities, -0.0, negative and tiny weights where a select could slip."""
    flow = (rng.standard_normal((2, h, w)) * 5).astype(np.float32)
    flow[:, rng.random((h, w)) < 0.05] = -0.0
    flow[0, rng.random((h, w)) < 0.01] = np.nan
    mask = rng.uniform(-0.5, 1.0, (h, w)).astype(np.float32)
    mask[rng.random((h, w)) < 0.05] = np.nan
    mask[rng.random((h, w)) < 0.05] = 1e-45
    mask[rng.random((h, w)) < 0.05] = -0.0
    return flow, mask


def test_the_compiled_brush_selects_are_the_masked_copies(monkeypatch):
    rng = np.random.default_rng(4)
    for h, w in ((37, 53), (64, 64), (1, 9)):
        flow, mask = _awkward(rng, h, w)
        image = rng.random((h, w, 3), dtype=np.float32)
        unseen = rng.random((h, w)) < 0.3
        out = rng.random((h, w, 3), dtype=np.float32)
        kept, moves = brush.inside(flow, mask)
        strided = brush.inside(np.swapaxes(np.swapaxes(flow, 1, 2).copy(), 1, 2), mask)[0]  # a non-contiguous field
        framed = out.copy()
        still = brush.outside(image, mask, framed, unseen)
        with monkeypatch.context() as patch:
            patch.setattr(brush, "_kernels", None)
            kept_cv, moves_cv = brush.inside(flow, mask)
            framed_cv = out.copy()
            still_cv = brush.outside(image, mask, framed_cv, unseen)
        assert kept.view(np.uint32).tolist() == kept_cv.view(np.uint32).tolist()  # the bits, NaN and -0.0 too
        assert np.array_equal(strided.view(np.uint32), kept.view(np.uint32)) and moves == moves_cv
        assert framed.view(np.uint32).tolist() == framed_cv.view(np.uint32).tolist()
        assert still.dtype == bool and np.array_equal(still, still_cv) and still is not unseen
    zero = np.zeros((2, 8, 8), np.float32)
    zero[:, 2] = -0.0
    assert brush.inside(zero, np.ones((8, 8), np.float32))[1] is False


def test_a_frame_under_a_brush_with_nan_keeps_the_image_and_moves_only_inside(monkeypatch):
    rng = np.random.default_rng(5)
    image = rng.random((48, 64, 3), dtype=np.float32)
    flow = np.zeros((2, 48, 64), np.float32)
    flow[0, 10:30, 10:40] = 4.0
    mask = np.zeros((48, 64), np.float32)
    mask[5:35, 5:45] = 1.0
    mask[0:3] = np.nan
    out, unseen = warp_frame_numpy(image, flow, mask)
    with monkeypatch.context() as patch:
        patch.setattr(brush, "_kernels", None)
        out_cv, unseen_cv = warp_frame_numpy(image, flow, mask)
    assert np.array_equal(out, out_cv) and np.array_equal(unseen, unseen_cv)
    outside = ~(mask > 0)
    assert np.array_equal(out[outside], image[outside]) and not unseen[outside].any()
    assert not np.array_equal(out, image)


def test_a_mask_of_another_size_is_refused():
    with pytest.raises(ShapeMismatchError):
        brush.inside(np.zeros((2, 8, 8), np.float32), np.ones((8, 9), np.float32))


def test_whether_a_field_moves_is_ndarray_any_for_every_kind_of_zero():
    rng = np.random.default_rng(6)
    cases = [np.zeros((2, 70, 90), np.float32), np.full((2, 70, 90), -0.0, np.float32), rng.standard_normal((2, 70, 90)).astype(np.float32)]
    for value in (1e-45, -1e-45, np.nan, np.inf, -3.0):
        late = np.zeros((2, 70, 90), np.float32)
        late[1, 69, 89] = value  # the very last value, past every early block
        cases.append(late)
    cases += [np.zeros((2, 3, 0), np.float32), np.zeros((2, 70, 90), np.float64), cases[-1][:, :, ::2]]  # empty, other dtype, strided
    for flow in cases:
        assert brush.moves(flow) == bool(flow.any())
