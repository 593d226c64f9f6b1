"""Pipelining for streams of frames: read ahead in a background thread, encode behind it.

A streamed video job is a chain (decode -> flow -> render -> encode) run one frame at a time.
Run in one thread, each stage waits for the others: ffmpeg's decoder cannot decode frame
``t + 1`` until frame ``t`` has been read out of its pipe (which holds 64 KiB, a fraction of
a frame), and the chain computes nothing while a frame is handed to the encoder. The two
helpers here let the stages overlap while the frame order and the memory bound stay as they
are (a few frames in flight, whatever the video's length):

- :func:`prefetch` runs an iterator in a background thread, ``depth`` items ahead;
- :func:`write_behind` hands items to a consumer (the encoder) in a background thread.

The work overlaps because what the stages run releases the GIL: ffmpeg is another process,
OpenCV, numpy's large-array loops and motionkit's compiled kernels run without it.

Example:
    >>> list(prefetch(iter(range(5)), depth=2))
    [0, 1, 2, 3, 4]
    >>> seen = []
    >>> with write_behind(seen.append) as put:
    ...     for i in range(3):
    ...         put(i)
    >>> seen
    [0, 1, 2]
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from motionkit.errors import InvalidInputError

T = TypeVar("T")

_END = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _produce(source: Iterable[T], items: queue.Queue, slots: threading.Semaphore, stop: threading.Event) -> None:
    """The background half of :class:`Prefetched`: make items while slots are free, until stopped."""

    def take_slot() -> bool:
        while not stop.is_set():
            if slots.acquire(timeout=0.05):
                return not stop.is_set()
        return False

    iterator = iter(source)
    try:
        while take_slot():
            try:
                item = next(iterator)
            except StopIteration:
                items.put(_END)
                return
            items.put(item)
    except BaseException as exc:  # handed to the consumer, raised there
        items.put(_Failure(exc))
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # in this thread, which runs the generator: releases decoders at once


class Prefetched(Iterator[T]):
    """The iterator :func:`prefetch` returns; :meth:`close` stops the background thread early."""

    def __init__(self, source: Iterable[T], depth: int, name: str) -> None:
        self._queue: queue.Queue = queue.Queue()
        # A slot is taken before an item is made, so at most ``depth`` items exist ahead of
        # the caller (made and waiting, or being made), never one more.
        self._slots = threading.Semaphore(depth)
        self._stop = threading.Event()
        self._done = False
        # The thread holds the queue, slots and flag but not this object, so a dropped
        # iterator is collected and its __del__ stops the thread.
        self._thread = threading.Thread(
            target=_produce, args=(source, self._queue, self._slots, self._stop), name=name, daemon=True
        )
        self._thread.start()

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        item = self._queue.get()
        self._slots.release()
        if item is _END:
            self._done = True
            self._thread.join()
            raise StopIteration
        if isinstance(item, _Failure):
            self._done = True
            self._thread.join()
            raise item.exc
        return item

    def close(self) -> None:
        """Stop reading ahead and release the source (its ``close`` runs in the background thread)."""
        if self._done:
            return
        self._done = True
        self._stop.set()
        self._thread.join()

    def __del__(self) -> None:
        if not self._done:
            self._stop.set()


def prefetch(source: Iterable[T], depth: int = 2, *, name: str = "motionkit-prefetch") -> Prefetched[T]:
    """Iterate ``source`` in a background thread, at most ``depth`` items ahead of the caller.

    Items come in order, and at most ``depth`` are made ahead of the caller (the next one is
    started only when the caller takes one); an exception raised by ``source`` is raised by
    ``next`` at the point where the item would have come. Closing the returned iterator (or dropping it) stops the
    thread and closes ``source``.

    Raises:
        InvalidInputError: ``depth < 1``.
    """
    if not isinstance(depth, int) or depth < 1:
        raise InvalidInputError(f"prefetch depth must be a positive integer, got {depth!r}")
    return Prefetched(source, depth, name)


@contextlib.contextmanager
def write_behind(consume: Callable[[T], None], depth: int = 2, *, name: str = "motionkit-write-behind") -> Iterator[Callable[[T], None]]:
    """A context giving ``put(item)``: ``consume(item)`` runs in a background thread, in order.

    At most ``depth`` items wait. An exception from ``consume`` is raised by the next
    ``put`` (or when the block ends); leaving the block waits until every item is consumed,
    unless the block raised, in which case waiting items are dropped.

    Raises:
        InvalidInputError: ``depth < 1``.
    """
    if not isinstance(depth, int) or depth < 1:
        raise InvalidInputError(f"write-behind depth must be a positive integer, got {depth!r}")
    items: queue.Queue = queue.Queue(maxsize=depth)
    failure: list[BaseException] = []

    def run() -> None:
        while True:
            item = items.get()
            if item is _END:
                return
            if failure:
                continue  # drain: the producer learns of the failure at its next put
            try:
                consume(item)
            except BaseException as exc:
                failure.append(exc)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()

    def put(item: T) -> None:
        if failure:
            raise failure[0]
        items.put(item)

    try:
        yield put
    except BaseException:
        failure.append(RuntimeError("abandoned"))  # drop what waits
        items.put(_END)
        thread.join()
        raise
    items.put(_END)
    thread.join()
    if failure:
        raise failure[0]
