"""``RegionMask.swept``'s compiled landings against the numpy code they replaced: the same bits.

The kernel (:mod:`motionkit.ops._mask_kernels`) must mark exactly the pixels numpy's gathers
marked: rounding half to even in double precision, NaN and infinite displacements and
landings outside the image skipped, a NaN mask value counted as outside. It must not matter
whether the frames come as a list, a ``(T, 2, H, W)`` tensor or an iterator, nor on how many
threads they are shared out.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

import motionkit as mk


def numpy_swept(values: np.ndarray, flows) -> np.ndarray:
    """The numpy code ``RegionMask.swept`` ran before the kernel (one thread, every frame in turn)."""
    h, w = values.shape
    ys, xs = np.nonzero(values > 0)
    reached = np.zeros((h, w), dtype=np.uint8)
    for flow in flows:
        flow = torch.as_tensor(flow).numpy()
        x, y = xs + flow[0, ys, xs], ys + flow[1, ys, xs]
        ok = np.isfinite(x) & np.isfinite(y)
        with np.errstate(invalid="ignore"):  # huge landings cast to garbage integers, then fail the bounds
            x, y = np.rint(x[ok]).astype(np.int64), np.rint(y[ok]).astype(np.int64)
        keep = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        reached[y[keep], x[keep]] = 1
    reached = cv2.dilate(reached, np.ones((3, 3), np.uint8))
    return np.maximum(values, reached.astype(np.float32))


def awkward_flows(rng: np.random.Generator, frames: int, h: int, w: int, dtype=np.float32) -> np.ndarray:
    """Displacements with ties at .5, values just below a half, NaN, infinities, huge values and landings off every edge."""
    flows = rng.normal(0.0, 0.3 * max(h, w), (frames, 2, h, w))
    kind = rng.random((frames, 2, h, w))
    flows[kind < 0.2] = np.round(flows[kind < 0.2]) + 0.5  # exact halves: round half to even decides
    # One float32 step below a half: x + dx rounds down in double precision, but up in single.
    near = (kind >= 0.2) & (kind < 0.4)
    flows[near] = np.nextafter((np.round(flows[near]) + 0.5).astype(np.float32), np.float32(0))
    special = rng.choice(np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 3e9, -0.0]), size=(frames, 2, h, w))
    flows = np.where(rng.random((frames, 2, h, w)) < 0.05, special, flows)
    return flows.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_kernel_marks_what_numpy_marked_bit_for_bit(dtype):
    rng = np.random.default_rng(5)
    h, w = 61, 83
    # A sparse soft mask, so the marks (3x3 each) stay apart and one pixel off shows.
    values = (rng.random((h, w)) * (rng.random((h, w)) < 0.01)).astype(np.float32)
    flows = awkward_flows(rng, 4, h, w, dtype)
    mask = mk.RegionMask(torch.from_numpy(values))
    expected = numpy_swept(values, list(flows))
    assert 0.05 < (expected == 1).mean() < 0.5
    for given in (list(torch.from_numpy(flows)), torch.from_numpy(flows), iter(torch.from_numpy(flows))):
        assert np.array_equal(mask.swept(given).values.numpy(), expected)


def test_the_kernel_skips_a_nan_mask_value_as_numpy_did():
    from motionkit.ops._mask_kernels import landings

    rng = np.random.default_rng(9)
    values = rng.random((20, 30)).astype(np.float32)
    values[rng.random((20, 30)) < 0.3] = np.nan
    values[rng.random((20, 30)) < 0.6] = 0.0
    flows = awkward_flows(rng, 3, 20, 30)
    ys, xs = np.nonzero(values > 0)
    want = np.zeros((20, 30), np.uint8)
    for flow in flows:
        x, y = xs + flow[0, ys, xs], ys + flow[1, ys, xs]
        ok = np.isfinite(x) & np.isfinite(y)
        with np.errstate(invalid="ignore"):
            x, y = np.rint(x[ok]).astype(np.int64), np.rint(y[ok]).astype(np.int64)
        keep = (x >= 0) & (x < 30) & (y >= 0) & (y < 20)
        want[y[keep], x[keep]] = 1
    assert np.array_equal(landings(values, list(flows)), want)
    assert want.any() and not want.all()


@pytest.mark.parametrize("threads", [1, 2])
def test_the_benchmark_brush_sweeps_the_same_bits_on_any_thread_count(threads):
    # The field animate sweeps (5 drags under a brush), frames shared out or not.
    from benchmarks.bench_ops import brush_and_drags

    brush, drags = brush_and_drags(128, 8)
    image = np.random.default_rng(1).integers(0, 255, (128, 128, 3), np.uint8)
    motion = mk.predict_motion(image, drags, brush=brush, frames=8)
    frames = list(motion.iter_frames())
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        swept = brush.swept(frames).values.numpy()
    finally:
        torch.set_num_threads(before)
    assert np.array_equal(swept, numpy_swept(brush.values.numpy(), frames))
    assert (swept > brush.values.numpy()).any()  # the drags took content past the brush


def test_a_flow_frame_of_the_wrong_size_is_refused():
    mask = mk.RegionMask.full((8, 10))
    with pytest.raises(mk.errors.ShapeMismatchError, match=r"\(2, 8, 10\)"):
        mask.swept([torch.zeros(2, 8, 11)])
    with pytest.raises(mk.errors.ShapeMismatchError):
        mask.swept(iter([torch.zeros(2, 8, 10), torch.zeros(2, 9, 10)]))


def test_no_frames_sweep_nothing():
    mask = mk.RegionMask.from_polygon([(2, 2), (5, 2), (5, 5), (2, 5)], size=(10, 10))
    assert torch.equal(mask.swept([]).values, mask.values)
