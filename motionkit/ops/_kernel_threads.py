"""Running compiled kernels on several cores: a shared pool of Python threads.

The numba kernels of :mod:`motionkit.ops._splat_kernels` and :mod:`motionkit.ops._inverse_kernels`
release the GIL (``nogil``), so plain Python threads run them truly in parallel. This is
used instead of numba's own ``parallel=True`` threading layers on purpose: its OpenMP layer
is a second OpenMP runtime beside torch's, whose threads spin between calls and, on a busy
machine, took the cores OpenCV and torch were waiting for (a renderer frame ran 3x slower
after a parallel splat); its workqueue layer must not be entered from two threads at once,
which the pipelined video-to-video path does. A thread pool has neither problem.

The number of threads is torch's (``torch.set_num_threads``), so one setting governs every
numeric library motionkit drives.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
#: Held while a call shares its jobs out; a call made meanwhile (from another thread, e.g.
#: frames rendered in parallel) runs its jobs itself: the cores are busy already.
_sharing = threading.Lock()


def thread_count() -> int:
    """Threads a kernel call may use: torch's setting, at most the usable cores."""
    import torch

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(torch.get_num_threads(), cores))


def row_bands(rows: int, min_rows: int, *, per_thread: int = 1) -> list[tuple[int, int]]:
    """``[(start, stop), ...]``: ``rows`` cut into contiguous bands for :func:`run_jobs`.

    As many bands as threads (``per_thread`` times that, for jobs of uneven cost: a thread that
    is ahead claims one of the other's), but none shorter than about ``min_rows``, so a small
    image is not handed over in slivers. One band at one thread, or while another call is
    sharing its jobs out (this call's then run in turn on the calling thread, where more bands
    would only repeat each band's set-up, e.g. the splat's overlapping source rows).
    """
    threads = thread_count()
    if threads <= 1 or _sharing.locked():
        return [(0, rows)]
    bands = min(threads * per_thread, max(1, rows // min_rows))
    return [((rows * k) // bands, (rows * (k + 1)) // bands) for k in range(bands)]


def run_jobs(jobs: Sequence[Callable[[], None]]) -> None:
    """Run independent ``jobs`` (each writes its own output) on up to :func:`thread_count` threads.

    The threads claim the jobs in order, one at a time, the calling thread among them: a
    helper that starts late (its core busy with another process) finds fewer jobs left, and
    one that has not started by the time the caller has run them all is not waited for, so
    the call never takes much longer than running the jobs in turn. Which thread runs a job
    changes nothing in its output. While another thread's call is sharing its jobs out, a call
    runs its own jobs itself (the cores are taken). Returns when all are done; the first
    exception is raised.
    """
    threads = min(len(jobs), thread_count())
    if threads <= 1 or not _sharing.acquire(blocking=False):
        for job in jobs:
            job()
        return
    try:
        _share(jobs, threads)
    finally:
        _sharing.release()


def _share(jobs: Sequence[Callable[[], None]], threads: int) -> None:
    claim = threading.Lock()
    left = iter(jobs)

    def run() -> None:
        while True:
            with claim:
                job = next(left, None)
            if job is None:
                return
            job()

    helpers = [_executor().submit(run) for _ in range(threads - 1)]
    failure: BaseException | None = None
    try:
        run()
    except BaseException as exc:  # noqa: BLE001 - raised below, once the helpers are done
        failure = exc
    for helper in helpers:
        if helper.cancel():  # it never started: nothing of it to wait for
            continue
        try:
            helper.result()
        except BaseException as exc:  # noqa: BLE001
            failure = failure or exc
    if failure is not None:
        raise failure


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="motionkit-kernel")
        return _pool
