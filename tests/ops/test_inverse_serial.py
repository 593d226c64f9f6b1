"""The inversion's pieces shared over the kernel threads give the serial code's results bit for bit.

``_source_map_numpy`` runs the tear test beside the softmax weights (one hand-over) and lets
push-pull clip the coverage itself. Compared here with the serial pipeline it replaced, written
out below, on the benchmark's field, a photo's drags (torn sources), non-finite values and the
averaging splat, at one and two threads. :func:`motionkit.ops._kernel_threads.run_jobs` now lets
its threads claim the jobs one at a time: every job runs once, whoever runs it, and a helper
that never starts is not waited for.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from motionkit.ops import _kernel_threads, forward_warp

pytestmark = pytest.mark.skipif(forward_warp._kernels is None, reason="numba is not installed")


def reference_source_map(flow, splat="softmax", sharpness=1.0):
    """The compiled factor-2 path as it was: downscale, then tear test, exp, splat, np.clip, push-pull, refine, in turn."""
    from motionkit.ops.inpaint import push_pull_numpy
    from motionkit.ops.plate import torn

    kernels = forward_warp._kernels
    small, metric = kernels.box_downscale(flow, 2, None if splat == "avg" else float(sharpness))
    if metric is None:
        importance = None
    else:
        importance = metric.ravel() - metric.max()
        importance = np.exp(np.maximum(importance, -60.0, out=importance), out=importance).astype(np.float32, copy=False)
    skip = torn(small)
    inv, cover = kernels.splat_inverse(small, importance, skip if skip.any() else None)
    return forward_warp._refine_fused(flow, push_pull_numpy(inv.transpose(1, 2, 0), np.clip(cover, 0.0, 1.0)), cover)


@pytest.fixture(scope="module")
def fields(coffee_photo):
    """512x512 fields: the benchmark's last frame, a photo's drags (it tears), and that field with NaN/inf and -0.0 in it."""
    import cv2

    import motionkit as mk
    from benchmarks.common import smooth_flows

    bench = np.ascontiguousarray(smooth_flows(16, 512, 512)[15], np.float32)
    image = cv2.resize(coffee_photo, (512, 512), interpolation=cv2.INTER_AREA)
    drags = [mk.Trajectory.line((240, 220), (300, 192), frames=16), mk.Trajectory.line((140, 360), (124, 400), frames=16),
             mk.Trajectory([(400, 120)] * 16)]
    motion = mk.predict_motion(image, drags, frames=16, predictor=mk.registry.create("predictor", "sparse", mode="object"))
    dragged = np.ascontiguousarray(motion.flow[15].numpy(), np.float32)
    broken = dragged.copy()
    broken[0, 100:104, 200:260] = np.nan
    broken[1, 300, 10:20] = np.inf
    broken[0, 400:410, 400:410] = -0.0
    return {"benchmark": bench, "dragged": dragged, "non-finite": broken}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("splat", ["softmax", "avg"])
@pytest.mark.parametrize("name", ["benchmark", "dragged", "non-finite"])
def test_source_map_is_the_serial_pipelines_bit_for_bit(fields, name, splat, threads):
    flow = fields[name]
    if name == "dragged":
        from motionkit.ops.plate import torn

        assert torn(forward_warp._kernels.box_downscale(flow, 2, 1.0)[0]).any()  # the torn sources are exercised
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        want_src, want_unseen = reference_source_map(flow, splat, 1.5)
        got_src, got_unseen = forward_warp._source_map_numpy(flow, splat=splat, sharpness=1.5, work_size=256)
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(got_src.view(np.uint32), want_src.view(np.uint32))
    np.testing.assert_array_equal(got_unseen, want_unseen)


def _two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    return before


def test_every_job_runs_once_whoever_claims_it():
    before = _two_threads()
    try:
        if _kernel_threads.thread_count() < 2:
            pytest.skip("one usable core")
        ran = []
        lock = threading.Lock()

        def job(k):
            with lock:
                ran.append(k)

        for n in (1, 2, 3, 7, 40):
            ran.clear()
            _kernel_threads.run_jobs([lambda k=k: job(k) for k in range(n)])
            assert sorted(ran) == list(range(n))
    finally:
        torch.set_num_threads(before)


def test_a_helper_that_never_starts_is_not_waited_for():
    """With the pool's threads all busy, the caller runs every job itself and returns."""
    before = _two_threads()
    release = threading.Event()
    try:
        if _kernel_threads.thread_count() < 2:
            pytest.skip("one usable core")
        pool = _kernel_threads._executor()
        busy = [pool.submit(release.wait, 5) for _ in range(pool._max_workers)]
        me = threading.get_ident()
        who = []
        _kernel_threads.run_jobs([lambda: who.append(threading.get_ident()) for _ in range(4)])
        assert who == [me] * 4
        assert not any(b.done() for b in busy)  # it returned without waiting behind them
        release.set()
        for b in busy:
            b.result()
    finally:
        release.set()
        torch.set_num_threads(before)


def test_a_failure_is_raised_once_no_job_runs_any_more():
    """The failing job's exception comes out, no job of the call runs after it returns, and the threads are free again."""
    import time

    before = _two_threads()
    try:
        done = []

        def fail():
            raise ValueError("job failed")

        def slow(k):
            time.sleep(0.01)
            done.append(k)

        for jobs in ([fail] + [lambda k=k: slow(k) for k in range(5)], [lambda k=k: slow(k) for k in range(5)] + [fail]):
            done.clear()
            with pytest.raises(ValueError, match="job failed"):
                _kernel_threads.run_jobs(jobs)
            count = len(done)
            time.sleep(0.05)
            assert len(done) == count
        done.clear()
        _kernel_threads.run_jobs([lambda: done.append(9)] * 2)  # the sharing lock was released
        assert done == [9, 9]
    finally:
        torch.set_num_threads(before)


def test_row_bands_cover_the_rows_one_per_thread_and_one_while_the_threads_are_taken(monkeypatch):
    monkeypatch.setattr(_kernel_threads, "thread_count", lambda: 2)
    for rows, min_rows in ((256, 32), (512, 16), (100, 32), (7, 32), (1, 1)):
        bands = _kernel_threads.row_bands(rows, min_rows)
        assert bands[0][0] == 0 and bands[-1][1] == rows
        assert all(b == c for (_, b), (c, _) in zip(bands, bands[1:]))
        assert len(bands) == min(2, max(1, rows // min_rows))
    assert len(_kernel_threads.row_bands(512, 16, per_thread=4)) == 8
    with _kernel_threads._sharing:  # another call shares its jobs out: this one runs in turn, in one band
        assert _kernel_threads.row_bands(256, 32) == [(0, 256)]
    monkeypatch.setattr(_kernel_threads, "thread_count", lambda: 1)
    assert _kernel_threads.row_bands(256, 32, per_thread=4) == [(0, 256)]
