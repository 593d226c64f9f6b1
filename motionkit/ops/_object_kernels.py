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


#: Lattice points a kernel call takes at a time: their weights, split into real and imaginary
#: double-precision rows, and their sums stay in the first-level cache while every frame reads them.
CHUNK = 128


@njit(cache=True, nogil=True, error_model="numpy")
def rigid_lattice(q, w, c, csum, relative, points, still, out, i0, i1):  # pragma: no cover - compiled
    """MLS-rigid displacement of ``N`` lattice points for ``T`` frames into ``out (T, 2, N)`` float32.

    ``q``: complex128 ``(T, G)`` handle targets about the plan's origin; ``w``, ``c``: complex64
    ``(G, N)`` weights; ``csum``, ``relative``, ``points``: complex64 ``(1, N)``; ``still``: bool
    ``(T,)``, frames where no handle moved (exactly zero). Points ``i0:i1`` only (a thread's
    share). Real arithmetic in double precision. The points go :data:`CHUNK` at a time, and
    within a chunk each handle's contribution is added across the points in one loop (which
    the compiler vectorises): per point the same operations in the same order as one point
    at a time, so the same bits.
    """
    frames, groups = q.shape
    i1 = min(i1, w.shape[1])
    qr = np.empty((frames, groups))
    qi = np.empty((frames, groups))
    for t in range(frames):
        for g in range(groups):
            qr[t, g] = q[t, g].real
            qi[t, g] = q[t, g].imag
    wr = np.empty((groups, CHUNK))
    wi = np.empty((groups, CHUNK))
    cr = np.empty((groups, CHUNK))
    ci = np.empty((groups, CHUNK))
    fixed = np.empty((6, CHUNK))  # csum, relative, points: real and imaginary parts
    acc = np.empty((4, CHUNK))  # the weighted target (a) and the rotation (m), real and imaginary
    for s in range(i0, i1, CHUNK):
        m = min(s + CHUNK, i1) - s
        for g in range(groups):
            for k in range(m):
                wr[g, k] = w[g, s + k].real
                wi[g, k] = w[g, s + k].imag
                cr[g, k] = c[g, s + k].real
                ci[g, k] = c[g, s + k].imag
        for k in range(m):
            fixed[0, k] = csum[0, s + k].real
            fixed[1, k] = csum[0, s + k].imag
            fixed[2, k] = relative[0, s + k].real
            fixed[3, k] = relative[0, s + k].imag
            fixed[4, k] = points[0, s + k].real
            fixed[5, k] = points[0, s + k].imag
        ar, ai, mr, mi = acc[0], acc[1], acc[2], acc[3]
        for t in range(frames):
            dx, dy = out[t, 0], out[t, 1]
            if still[t]:
                for k in range(m):
                    dx[s + k] = 0.0
                    dy[s + k] = 0.0
                continue
            for k in range(m):
                ar[k] = 0.0
                ai[k] = 0.0
                mr[k] = 0.0
                mi[k] = 0.0
            for g in range(groups):
                xr = qr[t, g]
                xi = qi[t, g]
                gwr, gwi, gcr, gci = wr[g], wi[g], cr[g], ci[g]
                for k in range(m):
                    ar[k] += xr * gwr[k] - xi * gwi[k]
                    ai[k] += xr * gwi[k] + xi * gwr[k]
                    mr[k] += xr * gcr[k] - xi * gci[k]
                    mi[k] += xr * gci[k] + xi * gcr[k]
            for k in range(m):
                a_r = ar[k]
                a_i = ai[k]
                m_r = mr[k] - (a_r * fixed[0, k] - a_i * fixed[1, k])
                m_i = mi[k] - (a_r * fixed[1, k] + a_i * fixed[0, k])
                norm = np.sqrt(m_r * m_r + m_i * m_i)
                if norm > 1e-12:
                    m_r /= norm
                    m_i /= norm
                else:
                    m_r = 1.0
                    m_i = 0.0
                dx[s + k] = a_r + m_r * fixed[2, k] - m_i * fixed[3, k] - fixed[4, k]
                dy[s + k] = a_i + m_r * fixed[3, k] + m_i * fixed[2, k] - fixed[5, k]


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
        alpha = weight[y0 + y, x0:x1]
        for t in range(frames):
            for ch in range(2):
                top = across[upper, t, ch]
                bottom = across[lower, t, ch]
                row = field[t, ch, y0 + y, x0:x1]  # slices of one stride: the loop below vectorises
                for j in range(nx):
                    row[j] += np.float32((top[j] + (bottom[j] - top[j]) * ty) * alpha[j])


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
