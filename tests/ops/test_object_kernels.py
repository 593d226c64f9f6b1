"""The compiled moving-least-squares path of the object field against numpy's (tolerance 1e-3 px).

``layout_field`` moves an object of three or more handles with :mod:`motionkit.ops._object_kernels`
(the lattice in double precision, laid onto the field in one pass); numpy's path (complex
single-precision products, ``torch`` bilinear upsampling, a multiply-add) is what it replaced.
They must agree to 1e-3 px everywhere, and both be exactly zero where the object's alpha is.
"""

from __future__ import annotations

import numpy as np
import pytest

from motionkit.ops.objects import _Plan, layout_field, object_layout


@pytest.mark.parametrize("frames", [2, 8])
def test_the_compiled_mls_path_matches_numpys_within_a_thousandth_of_a_pixel(cat_photo, frames):
    h, w = 150, 220
    yy, xx = np.mgrid[0:h, 0:w]
    body = ((xx - 110) / 80.0) ** 2 + ((yy - 75) / 55.0) ** 2 < 1.0  # an ellipse
    arm = (np.abs(yy - 40) < 8) & (xx > 150) & (xx < 215)  # and an arm reaching to the right
    mask = body | arm
    starts = np.array([[110.0, 75.0], [70.0, 100.0], [205.0, 40.0], [150.0, 60.0]])
    rng = np.random.default_rng(int(cat_photo[10, 10, 0]))
    displacements = np.cumsum(rng.normal(0.0, 3.0, (4, frames, 2)), axis=1)
    displacements -= displacements[:, :1]
    displacements[3] = 0.0  # a pin
    moving = np.abs(displacements).max(axis=(1, 2)) > 0
    layout = object_layout([(mask, (0, 1, 2, 3))], starts, moving, (h, w), feather=3.0)
    [(weight, tracks, box, plan)] = layout.rigid
    assert plan.plan is not None  # four distinct handles: the compiled path
    compiled = layout_field(layout, starts, displacements)
    layout.rigid = [(weight, tracks, box, _Plan(None, plan.alpha, 0))]  # numpy's path
    reference = layout_field(layout, starts, displacements)
    assert np.abs(compiled - reference).max() <= 1e-3
    assert np.abs(reference).max() > 2.0  # the drags did move it
    assert (compiled[:, :, weight == 0] == 0).all() and (compiled[0] == 0).all()
    for k in range(3):  # each drag's start follows it (to the 2 px lattice's interpolation)
        x, y = starts[k].astype(int)
        assert compiled[-1, :, y, x] == pytest.approx(displacements[k, -1], abs=0.05)


def numpy_add_box(lattice, weight, box, field):
    """``add_box`` written out in numpy, operation for operation (float32 lattice steps, float64 blends)."""
    y0, y1, x0, x1 = box
    my, mx = lattice.shape[2:]
    ny, nx = y1 - y0, x1 - x0
    sy = (my - 1) / (ny - 1) if ny > 1 else 0.0
    sx = (mx - 1) / (nx - 1) if nx > 1 else 0.0
    f = np.arange(nx) * sx
    k = np.minimum(f.astype(np.int64), max(mx - 2, 0))
    k1, tx = np.minimum(k + 1, mx - 1), f - k
    for y in range(ny):
        fy = y * sy
        r = min(int(fy), max(my - 2, 0))
        ty, below = fy - r, min(r + 1, my - 1)
        top, bottom = lattice[:, :, r], lattice[:, :, below]
        upper = top[..., k] + (top[..., k1] - top[..., k]) * tx  # float32 step, then float64
        lower = bottom[..., k] + (bottom[..., k1] - bottom[..., k]) * tx
        a = weight[y0 + y, x0:x1].astype(np.float64)
        field[:, :, y0 + y, x0:x1] += ((upper + (lower - upper) * ty) * a).astype(np.float32)


@pytest.mark.parametrize("lattice_shape, box", [
    ((173, 156), (77, 422, 89, 399)),  # the benchmark's brush at 512 px
    ((3, 5), (4, 9, 2, 11)), ((1, 1), (0, 1, 3, 4)), ((1, 4), (2, 3, 0, 7)), ((6, 2), (0, 11, 5, 6)),
    ((40, 40), (0, 40, 0, 40)),  # a lattice as fine as its box
])
def test_add_box_lays_the_lattice_on_the_field_bit_for_bit_as_numpy(lattice_shape, box):
    from motionkit.ops._object_kernels import add_box

    rng = np.random.default_rng(sum(box))
    frames, (h, w) = 5, (430, 410)
    lattice = rng.normal(0.0, 20.0, (frames, 2) + lattice_shape).astype(np.float32)
    weight = rng.random((h, w)).astype(np.float32)
    weight[rng.random((h, w)) < 0.2] = 0.0
    start = rng.normal(0.0, 1.0, (frames, 2, h, w)).astype(np.float32)  # adds onto what is there
    expected = start.copy()
    numpy_add_box(lattice, weight, box, expected)
    y0, y1, x0, x1 = box
    for bands in ([(0, y1 - y0)], [(0, (y1 - y0) // 3), ((y1 - y0) // 3, y1 - y0)]):  # one share or two
        field = start.copy()
        for r0, r1 in bands:
            add_box(lattice, weight, y0, y1, x0, x1, field, r0, r1)
        assert np.array_equal(field, expected)


def numpy_rigid_lattice(q, w, c, csum, relative, points, still):
    """``rigid_lattice`` written out in numpy over all points at once, operation for operation (float64)."""
    frames, groups = q.shape
    out = np.zeros((frames, 2, w.shape[1]), np.float32)
    f64 = lambda z: (z.real.astype(np.float64), z.imag.astype(np.float64))  # noqa: E731
    (wr, wi), (cr, ci) = f64(w), f64(c)
    (sr, si), (rr, ri), (pr, pi) = f64(csum[0]), f64(relative[0]), f64(points[0])
    for t in range(frames):
        if still[t]:
            continue
        ar = ai = mr = mi = np.zeros(w.shape[1])
        for g in range(groups):
            xr, xi = q[t, g].real, q[t, g].imag
            ar = ar + (xr * wr[g] - xi * wi[g])
            ai = ai + (xr * wi[g] + xi * wr[g])
            mr = mr + (xr * cr[g] - xi * ci[g])
            mi = mi + (xr * ci[g] + xi * cr[g])
        mr, mi = mr - (ar * sr - ai * si), mi - (ar * si + ai * sr)
        norm = np.sqrt(mr * mr + mi * mi)
        tiny = ~(norm > 1e-12)
        mr, mi = np.where(tiny, 1.0, mr / np.where(tiny, 1.0, norm)), np.where(tiny, 0.0, mi / np.where(tiny, 1.0, norm))
        out[t, 0] = ar + mr * rr - mi * ri - pr
        out[t, 1] = ai + mr * ri + mi * rr - pi
    return out


@pytest.mark.parametrize("groups, n", [(5, 26988), (3, 1), (4, 129), (7, 300)])
def test_rigid_lattice_is_numpys_double_precision_bit_for_bit(groups, n):
    from motionkit.ops._object_kernels import rigid_lattice

    rng = np.random.default_rng(groups * 1000 + n)
    frames = 6
    z = lambda *shape: (rng.normal(0, 30, shape) + 1j * rng.normal(0, 30, shape))  # noqa: E731
    q = z(frames, groups)
    q[3] = 0.0  # not still, but no handle anywhere: the rotation falls back to 1
    w, c = z(groups, n).astype(np.complex64), z(groups, n).astype(np.complex64)
    csum, relative, points = (z(1, n).astype(np.complex64) for _ in range(3))
    still = np.array([True, False, False, False, True, False])
    expected = numpy_rigid_lattice(q, w, c, csum, relative, points, still)
    for cuts in ([0, n], [0, n // 3, n // 3 + 1, n]):  # one share, or three of uneven length
        out = np.full((frames, 2, n), np.nan, np.float32)
        for a, b in zip(cuts[:-1], cuts[1:]):
            rigid_lattice(q, w, c, csum, relative, points, still, out, a, b)
        assert np.array_equal(out.view(np.uint32), expected.view(np.uint32))
