"""The streaming pieces under previews and video jobs: read-ahead, write-behind, the H.264 stream."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from motionkit.errors import InvalidInputError
from motionkit.io.h264_stream import StandbyEncoders
from motionkit.io.prefetch import prefetch, write_behind


def test_prefetch_keeps_order_and_reads_ahead_in_another_thread():
    threads = []

    def source():
        for i in range(6):
            threads.append(threading.current_thread().name)
            yield i

    it = prefetch(source(), depth=2)
    time.sleep(0.2)
    assert len(threads) == 2  # made ahead, and no more, while nobody takes them
    assert list(it) == list(range(6))
    assert set(threads) == {"motionkit-prefetch"}


def test_prefetch_raises_the_source_error_where_the_item_would_come():
    def source():
        yield 1
        raise ValueError("frame 1 is unreadable")

    it = prefetch(source())
    assert next(it) == 1
    with pytest.raises(ValueError, match="unreadable"):
        next(it)


def test_closing_a_prefetch_early_closes_its_source():
    closed = threading.Event()

    def source():
        try:
            yield from range(1000)
        finally:
            closed.set()

    it = prefetch(source(), depth=2)
    assert next(it) == 0
    it.close()
    assert closed.wait(2.0)
    with pytest.raises(StopIteration):
        next(it)


def test_write_behind_consumes_in_order_in_the_background_and_reports_errors():
    seen, where = [], set()

    def consume(item):
        where.add(threading.current_thread().name)
        seen.append(item)

    with write_behind(consume) as put:
        for i in range(5):
            put(i)
    assert seen == list(range(5)) and where == {"motionkit-write-behind"}

    def fails(item):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), write_behind(fails, depth=1) as put:
        for i in range(10):
            put(i)
            time.sleep(0.01)


def test_depths_must_be_positive():
    with pytest.raises(InvalidInputError):
        prefetch(iter([]), depth=0)
    with pytest.raises(InvalidInputError), write_behind(print, depth=0):
        pass


def test_standby_hands_over_a_started_encoder_and_starts_the_next_after_it():
    standby = StandbyEncoders()
    try:
        first = standby.take((32, 48), fps=8, tune="zerolatency")  # none ready: started now
        assert not standby._ready  # no second ffmpeg beside the one encoding
        for t in range(3):
            first.write(np.full((32, 48, 3), 40 * t, np.uint8))
        assert first.finish()[4:8] == b"ftyp"
        standby.refill((32, 48), fps=8, tune="zerolatency")
        for thread in list(standby._starting):
            thread.join(10)
        spare = next(iter(standby._ready.values()))
        assert spare._proc.poll() is None  # started, waiting for frames
        standby.refill((32, 48), fps=8, tune="zerolatency")  # one is ready: nothing more started
        assert not [t for t in standby._starting if t.is_alive()] and len(standby._ready) == 1
        other = standby.take((32, 48), fps=8)  # other settings: a new encoder
        assert other is not spare
        other.close()
        assert standby.take((32, 48), fps=8, tune="zerolatency") is spare
    finally:
        standby.close()
    assert not standby._ready
    standby.refill((32, 48), fps=8)  # closed: starts nothing
    assert not standby._starting and not standby._ready


def test_a_dropped_prefetch_stops_its_thread_and_closes_its_source():
    import gc

    closed = threading.Event()

    def source():
        try:
            yield from range(1000)
        finally:
            closed.set()

    it = prefetch(source(), depth=2)
    assert next(it) == 0
    thread = it._thread
    del it
    gc.collect()
    assert closed.wait(2.0)
    thread.join(2.0)
    assert not thread.is_alive()
