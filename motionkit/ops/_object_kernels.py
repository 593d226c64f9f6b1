"""Compiled kernels of the object field: moving-least-squares motion of a lattice, laid onto the field.

:func:`motionkit.ops.objects.layout_field` moves an object of three or more handles by MLS-rigid
(:mod:`motionkit.ops.mls`): evaluated on a lattice of about 2 px over the object's box, then
interpolated bilinearly (corners aligned) and weighted by the object's alpha. In numpy that is
complex matrix products, a ``(T, 2, box)`` upsampled copy and a multiply-add over it (about
three quarters of a warm 512 px field's time); here it is two passes that write the field
directly. The lattice is computed in double precision (numpy's products run in single
precision), so the two agree to about 1e-4 px (tested: ``tests/ops/test_object_kernels.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from motionkit.ops._kernel_threads import row_bands, run_jobs


def mls_into_field(q, plan, still, lattice_shape, weight, box, field) -> None:
    """The MLS lattice of one object (:func:`rigid_lattice`), then laid onto ``field`` (:func:`add_box`), on the kernel threads."""
    frames = q.shape[0]
    my, mx = lattice_shape
    n = my * mx
    lattice = np.empty((frames, 2, n), np.float32)
    run_jobs([
        (lambda a=a, b=b: rigid_lattice(q, plan.w, plan.c, plan.csum, plan.relative, plan.points, still, lattice, a, b))
        for a, b in row_bands(n, 1)
    ])
    grid = lattice.reshape(frames, 2, my, mx)
    y0, y1, x0, x1 = (int(v) for v in box)
    run_jobs([(lambda a=a, b=b: add_box(grid, weight, y0, y1, x0, x1, field, a, b)) for a, b in row_bands(y1 - y0, 1)])


@njit(cache=True, nogil=True, error_model="numpy")
def rigid_lattice(q, w, c, csum, relative, points, still, out, i0, i1):  # pragma: no cover - compiled
    """MLS-rigid displacement of ``N`` lattice points for ``T`` frames into ``out (T, 2, N)`` float32.

    ``q``: complex128 ``(T, G)`` handle targets about the plan's origin; ``w``, ``c``: complex64
    ``(G, N)`` weights; ``csum``, ``relative``, ``points``: complex64 ``(1, N)``; ``still``: bool
    ``(T,)``, frames where no handle moved (exactly zero). Points ``i0:i1`` only (a thread's
    share). Real arithmetic in double precision, each point's weights read once for all frames.
    """
    frames, groups = q.shape
    n = w.shape[1]
    qr = np.empty((frames, groups))
    qi = np.empty((frames, groups))
    for t in range(frames):
        for g in range(groups):
            qr[t, g] = q[t, g].real
            qi[t, g] = q[t, g].imag
    wr = np.empty(groups)
    wi = np.empty(groups)
    cr = np.empty(groups)
    ci = np.empty(groups)
    for i in range(i0, min(i1, n)):
        for g in range(groups):
            wr[g] = w[g, i].real
            wi[g] = w[g, i].imag
            cr[g] = c[g, i].real
            ci[g] = c[g, i].imag
        sr, si = np.float64(csum[0, i].real), np.float64(csum[0, i].imag)
        rr, ri = np.float64(relative[0, i].real), np.float64(relative[0, i].imag)
        pr, pi = np.float64(points[0, i].real), np.float64(points[0, i].imag)
        for t in range(frames):
            if still[t]:
                out[t, 0, i] = 0.0
                out[t, 1, i] = 0.0
                continue
            ar = 0.0
            ai = 0.0
            mr = 0.0
            mi = 0.0
            for g in range(groups):
                xr = qr[t, g]
                xi = qi[t, g]
                ar += xr * wr[g] - xi * wi[g]
                ai += xr * wi[g] + xi * wr[g]
                mr += xr * cr[g] - xi * ci[g]
                mi += xr * ci[g] + xi * cr[g]
            mr -= ar * sr - ai * si
            mi -= ar * si + ai * sr
            norm = np.sqrt(mr * mr + mi * mi)
            if norm > 1e-12:
                mr /= norm
                mi /= norm
            else:
                mr = 1.0
                mi = 0.0
            out[t, 0, i] = ar + mr * rr - mi * ri - pr
            out[t, 1, i] = ai + mr * ri + mi * rr - pi


@njit(cache=True, nogil=True, error_model="numpy")
def add_box(lattice, weight, y0, y1, x0, x1, field, r0, r1):  # pragma: no cover - compiled
    """``field[:, :, y0:y1, x0:x1] += bilinear(lattice) * weight`` with the lattice's corners on the box's corners.

    ``lattice``: float32 ``(T, 2, my, mx)``; ``weight``: float32 ``(H, W)``; ``field``: float32
    ``(T, 2, H, W)``. The interpolation is ``align_corners=True`` bilinear, as
    ``torch.nn.functional.interpolate``'s. Box rows ``r0:r1`` only (a thread's share).

    The lattice is about twice as coarse as the box, so each lattice row serves about two
    box rows: its interpolation across (double precision, per frame and channel) is kept in
    one of two slots while rows need it, and each box row only blends the two slots.
    """
    frames = lattice.shape[0]
    my, mx = lattice.shape[2], lattice.shape[3]
    ny, nx = y1 - y0, x1 - x0
    sy = (my - 1) / (ny - 1) if ny > 1 else 0.0
    sx = (mx - 1) / (nx - 1) if nx > 1 else 0.0
    cols = np.empty(nx, np.int64)
    fracs = np.empty(nx, np.float64)
    for j in range(nx):
        f = j * sx
        k = min(int(f), max(mx - 2, 0))
        cols[j] = k
        fracs[j] = f - k
    across = np.empty((2, frames, 2, nx))  # two lattice rows interpolated across the box
    held = np.full(2, -1, np.int64)  # the lattice row each slot holds
    for y in range(r0, min(r1, ny)):
        f = y * sy
        r = min(int(f), max(my - 2, 0))
        ty = f - r
        below = min(r + 1, my - 1)
        upper = 0 if held[0] == r else (1 if held[1] == r else (1 if held[0] == below else 0))
        lower = 1 - upper
        if held[upper] != r:
            _across(lattice, r, cols, fracs, across[upper])
            held[upper] = r
        if held[lower] != below:
            _across(lattice, below, cols, fracs, across[lower])
            held[lower] = below
        for t in range(frames):
            for ch in range(2):
                top = across[upper, t, ch]
                bottom = across[lower, t, ch]
                row = field[t, ch, y0 + y]
                for j in range(nx):
                    a = weight[y0 + y, x0 + j]
                    row[x0 + j] += np.float32((top[j] + (bottom[j] - top[j]) * ty) * a)


@njit(cache=True, nogil=True, error_model="numpy")
def _across(lattice, r, cols, fracs, out):  # pragma: no cover - compiled
    """``out[t, ch, j]``: lattice row ``r`` of every frame and channel interpolated at the box's columns (float64)."""
    mx = lattice.shape[3]
    for t in range(lattice.shape[0]):
        for ch in range(2):
            line = lattice[t, ch, r]
            for j in range(cols.shape[0]):
                k = cols[j]
                k1 = min(k + 1, mx - 1)
                out[t, ch, j] = line[k] + (line[k1] - line[k]) * fracs[j]
