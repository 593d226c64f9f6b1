"""The compiled inversion's faster formulations give the plain ones' results bit for bit.

The splat kernel cuts the targets into bands of rows, each band scanning the sources that can
reach it in raster order; if a band missed a source, or took it in another order, its targets'
float64 sums would change; and it adds a source on a pixel centre to its one corner only (the
other three weights are 0). Compared here against the serial per-source pass it replaced (every
corner added) on the benchmark's zoom-rotate-swirl field, on a real photo's drags, and on
fields whose targets cross many bands.
The block downscale's factor-2 loops are compared with its general loop likewise.
"""

from __future__ import annotations

import numpy as np
import pytest

from motionkit.ops import forward_warp

pytestmark = pytest.mark.skipif(forward_warp._kernels is None, reason="numba is not installed")

if forward_warp._kernels is not None:
    from numba import njit

    @njit(cache=False, nogil=True, error_model="numpy")
    def reference_sums(flow, importance, weighted, skip, skipping, sums):
        """The serial per-source splat the banded one replaced, kept as the readable reference.

        Accumulates into ``sums (H, W, 4)`` float64: coverage, softmax total, and the two weighted ``-flow`` sums.
        """
        _, h, w = flow.shape
        for y in range(h):
            for x in range(w):
                if skipping and skip[y, x]:
                    continue
                dx = flow[0, y, x]
                dy = flow[1, y, x]
                tx = np.float32(x) + dx
                ty = np.float32(y) + dy
                if not (tx > -1.0 and tx < w and ty > -1.0 and ty < h):
                    continue
                x0f = np.floor(tx)
                y0f = np.floor(ty)
                ax = np.float64(tx - x0f)
                ay = np.float64(ty - y0f)
                x0 = int(x0f)
                y0 = int(y0f)
                imp = np.float64(importance[y * w + x]) if weighted else 1.0
                for k in range(4):
                    cx = x0 + (k & 1)
                    cy = y0 + (k >> 1)
                    if cx < 0 or cx >= w or cy < 0 or cy >= h:
                        continue
                    # float32 weights, as the bincount version rounded them before summing
                    wk = np.float32((ax if k & 1 else 1.0 - ax) * (ay if k >> 1 else 1.0 - ay))
                    soft = np.float32(wk * np.float32(imp))
                    # the four sums of a target side by side: one cache line per corner
                    sums[cy, cx, 0] += wk
                    sums[cy, cx, 1] += soft
                    sums[cy, cx, 2] -= soft * dx
                    sums[cy, cx, 3] -= soft * dy


    @njit(cache=False, nogil=True, error_model="numpy")
    def reference_normalise(sums, inverse, coverage):
        """``inverse = sums / total`` where the total is positive (0 elsewhere), rounded to float32 as numpy's ``astype`` does."""
        h, w, _ = sums.shape
        for y in range(h):
            for x in range(w):
                total = sums[y, x, 1]
                if total > 0:
                    scale = max(total, 1e-30)
                    inverse[0, y, x] = sums[y, x, 2] / scale
                    inverse[1, y, x] = sums[y, x, 3] / scale
                else:
                    inverse[0, y, x] = 0.0
                    inverse[1, y, x] = 0.0
                coverage[y, x] = sums[y, x, 0]


def reference_splat(flow, importance, skip=None):
    """``(inverse, coverage)`` by the serial per-source splat, every corner of every source added."""
    _, h, w = flow.shape
    sums = np.zeros((h, w, 4))
    reference_sums(flow, np.empty(1, np.float32) if importance is None else importance, importance is not None,
                   np.zeros((1, 1), np.bool_) if skip is None else skip, skip is not None, sums)
    inverse, coverage = np.empty((2, h, w), np.float32), np.empty((h, w), np.float32)
    reference_normalise(sums, inverse, coverage)
    return inverse, coverage

SPLITS = {
    "halves": [(0, 128), (128, 256)],
    "uneven": [(0, 1), (1, 37), (37, 100), (100, 101), (101, 256)],
    "rows of 8": [(y, y + 8) for y in range(0, 256, 8)],
}


def _bits(arrays):
    return [np.ascontiguousarray(a).view(np.uint32) for a in arrays]


def _importance(metric):
    return np.exp(np.maximum(metric.ravel() - metric.max(), -60.0)).astype(np.float32)


@pytest.fixture(scope="module")
def benchmark_field():
    """The benchmark's 512x512 field (last frame) at the splat's 256x256, with its softmax importance."""
    from benchmarks.common import smooth_flows
    from motionkit.ops import _inverse_kernels

    flow = np.ascontiguousarray(smooth_flows(16, 512, 512)[15], np.float32)
    small, metric = _inverse_kernels.box_downscale(flow, 2, 1.0)
    return small, _importance(metric), None, flow


@pytest.fixture(scope="module")
def dragged_field(coffee_photo):
    """Two drags and a pin on the coffee photo at 512x512 (frame 15), at 256x256, with its torn sources."""
    import cv2

    import motionkit as mk
    from motionkit.ops import _inverse_kernels
    from motionkit.ops.plate import torn

    image = cv2.resize(coffee_photo, (512, 512), interpolation=cv2.INTER_AREA)
    drags = [mk.Trajectory.line((240, 220), (300, 192), frames=16), mk.Trajectory.line((140, 360), (124, 400), frames=16),
             mk.Trajectory([(400, 120)] * 16)]
    motion = mk.predict_motion(image, drags, frames=16, predictor=mk.registry.create("predictor", "sparse", mode="object"))
    flow = np.ascontiguousarray(motion.flow[15].numpy())
    small, metric = _inverse_kernels.box_downscale(flow, 2, 1.0)
    skip = torn(small)
    assert skip.any()
    return small, _importance(metric), skip, flow


def _crossing_field(seed: int = 0) -> np.ndarray:
    """``float32 (2, 256, 256)``: a 25 degree turn, a 30 px fall and noise: targets tens of rows from their sources."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:256, 0:256].astype(np.float32) - 127.5
    c, s = np.cos(np.radians(25)), np.sin(np.radians(25))
    flow = np.stack([c * xs - s * ys - xs, s * xs + c * ys - ys + 30.0]) + rng.normal(0, 2, (2, 256, 256))
    return flow.astype(np.float32)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("field", ["benchmark_field", "dragged_field"])
def test_splat_in_bands_is_the_serial_splat_bit_for_bit(request, field, split):
    from motionkit.ops import _inverse_kernels

    flow, importance, skip, _ = request.getfixturevalue(field)
    serial = reference_splat(flow, importance, skip)
    for got, want in zip(_bits(_inverse_kernels.splat_inverse(flow, importance, skip, bands=[(0, 256)])), _bits(serial)):
        np.testing.assert_array_equal(got, want)
    banded = _inverse_kernels.splat_inverse(flow, importance, skip, bands=SPLITS[split])
    for got, want in zip(_bits(banded), _bits(serial)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("weighted", [False, True])
def test_targets_far_from_their_sources_keep_their_sums_in_any_split(weighted):
    from motionkit.ops import _inverse_kernels

    flow = _crossing_field()
    importance = _importance(np.hypot(flow[0], flow[1])) if weighted else None
    skip = np.random.default_rng(1).random((256, 256)) < 0.1
    flow[:, 100:140, 50:90] = 0.0  # still sources, on pixel centres
    flow[0, 150:160] = np.round(flow[0, 150:160])  # on pixel centres, moved
    flow[1, 150:160] = np.round(flow[1, 150:160])
    serial = reference_splat(flow, importance, skip)
    assert (serial[1] > 0).mean() > 0.5  # most targets are reached (from rows far away)
    for split in SPLITS.values():
        for got, want in zip(_bits(_inverse_kernels.splat_inverse(flow, importance, skip, bands=split)), _bits(serial)):
            np.testing.assert_array_equal(got, want)


def test_a_non_finite_field_splats_the_same_in_bands():
    from motionkit.ops import _inverse_kernels

    flow = _crossing_field(2)
    flow[1, 40, 17] = np.nan
    flow[0, 200, 3] = np.inf
    serial = reference_splat(flow, None)
    banded = _inverse_kernels.splat_inverse(flow, None, bands=SPLITS["rows of 8"])
    for got, want in zip(_bits(banded), _bits(serial)):
        np.testing.assert_array_equal(got, want)


def test_each_band_scans_every_source_row_that_lands_in_it():
    """The rows a band reads hold every source whose bilinear corners reach the band (and margin for rounding)."""
    from motionkit.ops import _inverse_kernels

    flow = _crossing_field(3)
    ty = np.arange(256, dtype=np.float32)[:, None] + flow[1]
    bands = SPLITS["rows of 8"]
    for (row0, row1), (src0, src1) in zip(bands, _inverse_kernels._source_rows(flow[1], bands)):
        top = np.floor(ty)
        reaches = ((top >= row0 - 1) & (top < row1)).any(axis=1)
        rows = np.flatnonzero(reaches)
        assert rows.size and src0 <= rows.min() and rows.max() < src1
        assert src1 - src0 < 256  # a band does not scan the whole field


def _box_general(flow, sharpness):
    from motionkit.ops import _inverse_kernels

    _, h, w = flow.shape
    small = np.empty((2, h // 2, w // 2), np.float32)
    metric = np.empty((h // 2, w // 2), np.float32)
    _inverse_kernels._box(flow, 2, sharpness, True, 0, h // 2, small, metric)
    return small, metric


@pytest.mark.parametrize("field", ["benchmark_field", "dragged_field", "signed zeros and non-finite"])
def test_factor_two_downscale_is_the_general_block_sum_bit_for_bit(request, field):
    from motionkit.ops import _inverse_kernels

    if field == "signed zeros and non-finite":
        flow = np.full((2, 64, 96), -0.0, np.float32)  # a block of -0.0 sums to +0.0 from 0.0, as _box's does
        flow[:, 10:20, 30:50] = _crossing_field()[:, :10, :20]
        flow[0, 3, 5], flow[1, 40, 41], flow[0, 50, 60] = np.nan, np.inf, -np.inf
    else:
        flow = request.getfixturevalue(field)[3]
    small, metric = _inverse_kernels.box_downscale(flow, 2, 1.7)
    ref_small, ref_metric = _box_general(flow, 1.7)
    np.testing.assert_array_equal(small.view(np.uint32), ref_small.view(np.uint32))
    np.testing.assert_array_equal(metric.view(np.uint32), ref_metric.view(np.uint32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_weights_are_numpys_exp_of_the_metric(benchmark_field, dtype):
    """The splat weighs each source by numpy's ``exp(max(metric - max, -60))`` in float32, whatever the metric's dtype."""
    from motionkit.ops import _inverse_kernels

    flow = benchmark_field[3]
    small, metric = _inverse_kernels.box_downscale(flow, 2, 3.0)
    metric = metric.astype(dtype)
    want = _inverse_kernels.splat_inverse(small, np.exp(np.maximum(metric.ravel() - metric.max(), -60.0)).astype(np.float32))
    got = forward_warp.splat_inverse_numpy(small, metric)
    for a, b in zip(_bits(got), _bits(want)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", ["compiled downscale", "float64 field", "full resolution", "odd size"])
def test_the_cached_copy_of_the_field_is_the_field(benchmark_field, monkeypatch, case):
    """The inversion fills the cache's copy of the field as it reads it: value for value the field, so it is found again."""
    monkeypatch.setattr(forward_warp, "_last_map", forward_warp._LastMap())
    flow = benchmark_field[3]
    flow = {"compiled downscale": flow, "float64 field": flow.astype(np.float64), "full resolution": flow[:, :200, :240],
            "odd size": flow[:, :301, :449]}[case]
    first = forward_warp.source_map_numpy(flow)
    np.testing.assert_array_equal(forward_warp._last_map.flow.view(np.uint32), flow.astype(np.float32).view(np.uint32))
    assert forward_warp.source_map_numpy(np.array(flow))[0] is first[0]
