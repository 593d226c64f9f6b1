"""Compiled CPU kernels of the patch fill (numba): the PatchMatch candidate test and patch distances.

:mod:`motionkit.ops.patch_inpaint` searches a nearest-neighbour field by testing candidate
source patches for every target patch at once. In numpy each test gathers an ``(N, taps,
C)`` block of source pixels and reduces it: most of a fill's time went into those gathers
and their temporaries. The kernels here walk the same taps in a loop, with nothing
allocated per pixel, and give the same sums up to float32 rounding order (the distances are
accumulated in float32 like ``numpy.einsum`` on float32 data; a tie between two candidates
can in principle break the other way).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def _ssd(estimate, image, taps, width, dy, dx, i, cy, cx):
    """Squared distance between target patch ``i`` (its taps ``taps[i]`` of ``estimate``) and the source patch at ``(cy, cx)``."""
    channels = image.shape[1]
    total = np.float32(0.0)
    for k in range(taps.shape[1]):
        t = taps[i, k]
        s = (cy + dy[k]) * width + (cx + dx[k])
        for c in range(channels):
            d = estimate[t, c] - image[s, c]
            total += d * d
    return total


@njit(cache=True, nogil=True, error_model="numpy")
def consider(estimate, image, taps, width, height, dy, dx, valid, cy, cx, sy, sx, cost, ty, tx, reach2):
    """Keep each target's candidate ``(cy[i], cx[i])`` (clamped into the image) where it is a valid source, within reach and closer.

    ``estimate``/``image``: ``float32 (H W, C)``; ``taps``: ``int64 (N, M)`` flat target taps;
    ``dy``/``dx``: ``int64 (M,)`` tap offsets; ``valid``: ``bool (H, W)``; ``ty``/``tx``: the
    targets' centres and ``reach2`` their squared reach (a candidate farther from its target is
    skipped); the rest ``(N,)``. ``sy``, ``sx`` and ``cost`` are updated in place (what
    :func:`_search`'s numpy ``consider`` returns).
    """
    for i in range(cy.shape[0]):
        y = min(max(cy[i], 0), height - 1)
        x = min(max(cx[i], 0), width - 1)
        if not valid[y, x]:
            continue
        if (y - ty[i]) * (y - ty[i]) + (x - tx[i]) * (x - tx[i]) > reach2[i]:
            continue
        d = _ssd(estimate, image, taps, width, dy, dx, i, y, x)
        if d < cost[i]:
            sy[i] = y
            sx[i] = x
            cost[i] = d


@njit(cache=True, nogil=True, error_model="numpy")
def distances(estimate, image, taps, width, dy, dx, sy, sx):
    """``float32 (N,)``: every target patch's distance to its current source patch."""
    out = np.empty(sy.shape[0], np.float32)
    for i in range(sy.shape[0]):
        out[i] = _ssd(estimate, image, taps, width, dy, dx, i, sy[i], sx[i])
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def vote(image, inside, taps, width, dy, dx, sy, sx, weight, total, acc):
    """Accumulate every target patch's weighted copy of its source patch: ``total (H W,)`` and ``acc (H W, C)`` in place.

    ``inside``/``taps``: ``(N, P)`` all taps of each target (whether inside the image, and their flat index).
    """
    channels = image.shape[1]
    for i in range(sy.shape[0]):
        w = weight[i]
        for k in range(taps.shape[1]):
            if not inside[i, k]:
                continue
            p = taps[i, k]
            s = (sy[i] + dy[k]) * width + (sx[i] + dx[k])
            total[p] += w
            for c in range(channels):
                acc[p, c] += w * image[s, c]


@njit(cache=True, nogil=True, error_model="numpy")
def best(inside, taps, width, dy, dx, sy, sx, score, lowest, chosen):
    """For every pixel, the source pixel of the lowest-``score`` target patch covering it: ``lowest``/``chosen`` in place."""
    for i in range(sy.shape[0]):
        for k in range(taps.shape[1]):
            if not inside[i, k]:
                continue
            p = taps[i, k]
            if score[i] < lowest[p]:
                lowest[p] = score[i]
                chosen[p] = (sy[i] + dy[k]) * width + (sx[i] + dx[k])
