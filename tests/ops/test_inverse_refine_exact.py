"""The compiled refinement's row-at-a-time loops give the per-pixel pass's results bit for bit.

``_refine_kernels._refine`` runs each row through loops of one step each (upsampling, the
source cell, the residual, Newton, the stores) so the arithmetic vectorises; the reference
below is the pass it replaced, one pixel at a time through all steps. Both are compiled with
the same flags (fastmath: contracted multiply-adds), so the results must agree in every bit:
on the benchmark's field, on a photo's drags (Newton on many pixels), on the animate
benchmark's brushed drags (still outside the brush), at a reduced resolution that is no
factor of 2, and with sources far outside the image (clamped cells).
"""

from __future__ import annotations

import numpy as np
import pytest

from motionkit.ops import forward_warp

pytestmark = pytest.mark.skipif(forward_warp._kernels is None, reason="numba is not installed")

if forward_warp._kernels is not None:
    from numba import njit

    from motionkit.ops._refine_kernels import _cell, _lookup_cell, _resize_coordinate

    @njit(cache=False, nogil=True, error_model="numpy", fastmath=True)
    def reference_refine(flow, inv, cover, accuracy, hole_weight, unresolved, steps, row0, row1, src, unseen):
        """The per-pixel pass the row loops replaced, kept as the readable reference."""
        _, h, w = flow.shape
        sh, sw = cover.shape
        scale_x, scale_y = sw / w, sh / h
        look = np.empty(6)
        # The columns' upsampling taps are the same on every row: computed once.
        col_i = np.empty(w, np.int64)
        col_j = np.empty(w, np.int64)
        col_a = np.empty(w)
        for x in range(w):
            col_i[x], col_a[x] = _resize_coordinate(x, scale_x, sw)
            col_j[x] = min(col_i[x] + 1, sw - 1)
        # One row of the reduced-resolution inverse and coverage, already blended between its two
        # source rows (upsampling is separable: per pixel only the horizontal blend is left).
        row_gx = np.empty(sw)
        row_gy = np.empty(sw)
        row_c = np.empty(sw)
        fx_plane = flow[0]
        fy_plane = flow[1]
        accuracy2 = accuracy * accuracy
        miss2 = unresolved * unresolved
        test_miss = unresolved >= 0.0
        for y in range(row0, row1):
            iy, ay = _resize_coordinate(y, scale_y, sh)
            iy1 = min(iy + 1, sh - 1)
            by = 1.0 - ay
            for i in range(sw):
                row_gx[i] = (by * inv[iy, i, 0] + ay * inv[iy1, i, 0]) / scale_x
                row_gy[i] = (by * inv[iy, i, 1] + ay * inv[iy1, i, 1]) / scale_y
                row_c[i] = by * cover[iy, i] + ay * cover[iy1, i]
            yf = np.float64(y)
            for x in range(w):
                # The reduced-resolution inverse and coverage, upsampled as cv2.resize does.
                ix = col_i[x]
                jx = col_j[x]
                ax = col_a[x]
                bx = 1.0 - ax
                gx = bx * row_gx[ix] + ax * row_gx[jx]
                gy = bx * row_gy[ix] + ax * row_gy[jx]
                cov = bx * row_c[ix] + ax * row_c[jx]
                px = x + gx
                py = yf + gy
                # The field at the source, bilinear with the border replicated (no Jacobian: the cheap test).
                x0f = np.floor(px)
                y0f = np.floor(py)
                fax = px - x0f
                fay = py - y0f
                xa, xb, ya, yb = _cell(x0f, y0f, w, h)
                fbx = 1.0 - fax
                fby = 1.0 - fay
                rx = gx + (fby * (fbx * fx_plane[ya, xa] + fax * fx_plane[ya, xb]) + fay * (fbx * fx_plane[yb, xa] + fax * fx_plane[yb, xb]))
                ry = gy + (fby * (fbx * fy_plane[ya, xa] + fax * fy_plane[ya, xb]) + fay * (fbx * fy_plane[yb, xa] + fax * fy_plane[yb, xb]))
                r2 = rx * rx + ry * ry
                if r2 > accuracy2:
                    _lookup_cell(flow, px, py, look)
                    for _ in range(steps):
                        a = 1.0 + look[2]
                        b = look[3]
                        c = look[4]
                        d = 1.0 + look[5]
                        det = a * d - b * c
                        if not det > 0.05:
                            break  # a fold: no exact inverse, and no later step would change that
                        sx = gx - (d * rx - b * ry) / det
                        sy = gy - (a * ry - c * rx) / det
                        _lookup_cell(flow, x + sx, yf + sy, look)
                        nx = sx + look[0]
                        ny = sy + look[1]
                        n2 = nx * nx + ny * ny
                        if not n2 < r2:
                            break  # not kept: the next step would start from the same point again
                        gx, gy, rx, ry, r2 = sx, sy, nx, ny, n2
                    px = x + gx
                    py = yf + gy
                src[y, x, 0] = px
                src[y, x, 1] = py
                # (rx, ry) is the residual at the kept inverse: where q + g lands, minus q.
                # Bitwise ors: no branch per test.
                unseen[y, x] = ((cov <= hole_weight) | (px < -0.5) | (px > w - 0.5) | (py < -0.5) | (py > h - 0.5)
                                | (test_miss & (r2 > miss2)))


def _inputs(flow, factor_shape=None):
    """The refinement's inputs for ``flow``: the splat at reduced resolution (``factor_shape`` or half), push-pulled."""
    import cv2

    from motionkit.ops.plate import torn

    _, h, w = flow.shape
    sh, sw = factor_shape or (h // 2, w // 2)
    small = cv2.resize(flow.transpose(1, 2, 0), (sw, sh), interpolation=cv2.INTER_AREA) * np.array([sw / w, sh / h], np.float32)
    small = np.ascontiguousarray(small.transpose(2, 0, 1))
    inv, cover = forward_warp.splat_inverse_numpy(small, np.hypot(small[0], small[1]), skip=torn(small))
    inv = forward_warp.push_pull_numpy(inv.transpose(1, 2, 0), np.clip(cover, 0.0, 1.0))
    return [np.ascontiguousarray(a, np.float32) for a in (flow, inv, cover)]


def _run(kernel, flow, inv, cover, unresolved=1.0, steps=2):
    _, h, w = flow.shape
    src, unseen = np.empty((h, w, 2), np.float32), np.empty((h, w), np.bool_)
    kernel(flow, inv, cover, 0.05, 0.05, unresolved, steps, 0, h, src, unseen)
    return src, unseen


@pytest.fixture(scope="module")
def fields(coffee_photo):
    import cv2

    import motionkit as mk
    from benchmarks.common import smooth_flows

    image = cv2.resize(coffee_photo, (512, 384), interpolation=cv2.INTER_AREA)
    drags = [mk.Trajectory.line((240, 170), (300, 150), frames=16), mk.Trajectory.line((140, 280), (124, 320), frames=16),
             mk.Trajectory([(400, 90)] * 16)]
    motion = mk.predict_motion(image, drags, frames=16, predictor=mk.registry.create("predictor", "sparse", mode="object"))
    falling = np.zeros((2, 200, 300), np.float32)
    falling[1] = 150.0 * np.linspace(0, 1, 300, dtype=np.float32)  # the right side falls out of the image
    falling[0] = -40.0
    from benchmarks.bench_pipeline import brush_and_drags, photo

    brush, brushed = brush_and_drags(512, 16)  # the animate benchmark's: still outside the brush
    animated = mk.predict_motion(photo(512, 512), brushed, brush=brush, frames=16)
    return {"benchmark": np.ascontiguousarray(smooth_flows(16, 512, 512)[15], np.float32),
            "drags": np.ascontiguousarray(motion.flow[15].numpy()), "leaving": falling,
            "brushed": np.ascontiguousarray(animated.flow[15].numpy())}


@pytest.mark.parametrize("field, reduced", [("benchmark", None), ("drags", None), ("drags", (77, 103)), ("brushed", None),
                                            ("leaving", None), ("leaving", (40, 60))])
@pytest.mark.parametrize("unresolved", [1.0, -1.0])
def test_row_loops_are_the_per_pixel_refinement_bit_for_bit(fields, field, reduced, unresolved):
    from motionkit.ops import _refine_kernels

    inputs = _inputs(fields[field], reduced)
    src, unseen = _run(_refine_kernels._refine, *inputs, unresolved=unresolved)
    ref_src, ref_unseen = _run(reference_refine, *inputs, unresolved=unresolved)
    np.testing.assert_array_equal(src.view(np.uint32), ref_src.view(np.uint32))
    np.testing.assert_array_equal(unseen, ref_unseen)
    if field in ("drags", "brushed"):  # Newton moved a share of the pixels: the coarse inverse misses along the drags
        assert (_run(_refine_kernels._refine, *inputs, steps=0)[0] != src).any(-1).mean() > 0.005
    if field == "brushed":  # and much of the image is still: pixels that are their own source (the cell-free test)
        assert (src == forward_warp.remap_grid(*src.shape[:2])).all(-1).mean() > 0.2
    if field == "leaving":
        w = fields[field].shape[2]  # sources beyond the borders: the clamped cells were read
        assert unseen.mean() > 0.1 and ((src[..., 0] > w) | (src[..., 1] < -1)).mean() > 0.05


def test_refinement_in_bands_is_one_pass_bit_for_bit(fields):
    from motionkit.ops import _refine_kernels

    flow, inv, cover = _inputs(fields["drags"])
    whole = _run(_refine_kernels._refine, flow, inv, cover)
    banded = _refine_kernels.refine_inverse(flow, inv, cover, accuracy=0.05, hole_weight=0.05, unresolved=1.0)
    np.testing.assert_array_equal(banded[0].view(np.uint32), whole[0].view(np.uint32))
    np.testing.assert_array_equal(banded[1], whole[1])


@pytest.mark.parametrize("shape, reduced", [((6, 6), (3, 3)), ((9, 14), (4, 7)), ((64, 6), (32, 3)), ((5, 40), (5, 40)),
                                            ((33, 31), (11, 10))])
def test_small_and_odd_sizes_refine_like_the_per_pixel_pass(shape, reduced):
    """Sizes at the edges of the factor-2 loops (3 reduced columns, odd widths, no reduction at all)."""
    from motionkit.ops import _refine_kernels

    rng = np.random.default_rng(sum(shape))
    h, w = shape
    flow = (rng.normal(0, 1.5, (2, h, w)) + np.array([2.0, -1.0])[:, None, None]).astype(np.float32)
    flow[:, : h // 3] = 0.0  # a still band
    inputs = _inputs(flow, reduced)
    src, unseen = _run(_refine_kernels._refine, *inputs)
    ref_src, ref_unseen = _run(reference_refine, *inputs)
    np.testing.assert_array_equal(src.view(np.uint32), ref_src.view(np.uint32))
    np.testing.assert_array_equal(unseen, ref_unseen)
