"""Compiled kernel of :meth:`motionkit.RegionMask.swept`: where the pixels inside a mask land.

For every frame of displacements, each pixel inside the mask (value > 0) marks the pixel its
content lands on (``(x + dx, y + dy)`` rounded half to even, as ``np.rint``). In numpy that
is a ``np.nonzero`` of the mask and, per frame, gathers of the flow at ~130k brush pixels,
float64 temporaries and a scatter (~50 ms for 16 frames at 512 px); here it is one pass per
frame over the mask and the flow in raster order, nothing allocated (~0.5 ms a frame). The
landings are the numpy code's, bit for bit: the sum is formed in double precision (numpy
promotes ``int64 + float32`` to float64), a landing that is not finite or falls outside the
image marks nothing (tested against the numpy code: ``tests/objects/test_mask_swept.py``).

Frames are shared out over :mod:`motionkit.ops._kernel_threads`, each share marking its own
buffer (two frames may land on the same pixel), and the buffers are ORed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from motionkit.ops._kernel_threads import run_jobs, thread_count


@njit(cache=True, nogil=True, error_model="numpy")
def mark_landings(values, flow, reached):  # pragma: no cover - compiled
    """``reached[round(y + dy), round(x + dx)] = 1`` for every pixel with ``values[y, x] > 0``.

    ``values``: float32 ``(H, W)`` mask; ``flow``: float32 or float64 ``(2, H, W)`` displacements
    (pixels, dx then dy); ``reached``: uint8 ``(H, W)``, only ever set to 1. Landings that are not
    finite or fall outside the image are skipped.
    """
    h, w = values.shape
    for y in range(h):
        for x in range(w):
            if values[y, x] > 0:
                rx = np.rint(np.float64(x) + np.float64(flow[0, y, x]))
                ry = np.rint(np.float64(y) + np.float64(flow[1, y, x]))
                # A NaN fails every comparison and an infinity one of them: neither lands.
                if rx >= 0 and rx < w and ry >= 0 and ry < h:
                    reached[int(ry), int(rx)] = 1


def landings(values: np.ndarray, flows: Sequence[np.ndarray]) -> np.ndarray:
    """``uint8 (H, W)``: 1 where a pixel inside ``values`` (> 0) lands in some frame of ``flows``.

    ``values``: float32 ``(H, W)``; ``flows``: ``(2, H, W)`` float32/float64 C-contiguous
    frames, checked by the caller. Two or more frames are shared out over the kernel threads.
    """
    shares = max(1, min(len(flows), thread_count()))  # one share runs on this thread (run_jobs)
    buffers = [np.zeros(values.shape, np.uint8) for _ in range(shares)]

    def share(k: int) -> None:
        for flow in flows[k::shares]:
            mark_landings(values, flow, buffers[k])

    run_jobs([lambda k=k: share(k) for k in range(shares)])
    for other in buffers[1:]:
        buffers[0] |= other
    return buffers[0]
