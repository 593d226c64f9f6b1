"""One decode of a video read by two consumers in two threads, a few frames apart: :class:`FrameTee`.

Video-to-video reads the source for its own blend (:func:`motionkit.clip.carry.annotated`)
and for the estimator of a forward carry from frame 0, the same frames in the same order,
each in a thread of its own. Decoding twice costs a second ffmpeg process and a second copy
of every frame through a pipe. A tee decodes once: whichever branch is ahead takes the next
frame from the decoder (under a lock) and leaves it in the other branch's queue.

The queues stay short while both consumers keep pace (a few frames: the stages' read-ahead).
A branch that falls :data:`MAX_BEHIND` frames behind (a renderer that reads its whole field
before it yields a frame) is let go: it reads on from a fresh pass over the clip, starting
where it stood, so memory never grows with the video's length.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterator

import numpy as np

#: Frames a branch may lag behind the other before it is let go to a decode of its own.
MAX_BEHIND = 32


class FrameTee:
    """Two branches (:meth:`branch` 0 and 1) over one pass of ``frames``; ``reopen(start)`` a fresh pass from ``start``."""

    def __init__(self, frames: Iterator[np.ndarray], reopen: Callable[[int], Iterator[np.ndarray]]) -> None:
        self._frames, self._reopen = frames, reopen
        self._lock = threading.Lock()
        self._queues: list[deque[np.ndarray] | None] = [deque(), deque()]  # None: the branch left the tee
        self._done = False

    def branch(self, index: int) -> Iterator[np.ndarray]:
        """The frames for consumer ``index`` (0 or 1), in order; closing it leaves the other branch alone."""
        position = 0
        try:
            while True:
                with self._lock:
                    queue = self._queues[index]
                    if queue is None:  # let go: read on alone
                        break
                    if queue:
                        frame = queue.popleft()
                    elif self._done:
                        return
                    else:
                        frame = next(self._frames, None)
                        if frame is None:
                            self._done = True
                            return
                        other = self._queues[1 - index]
                        if other is not None:
                            other.append(frame)
                            if len(other) > MAX_BEHIND:
                                self._queues[1 - index] = None
                position += 1
                yield frame
            yield from itertools.islice(self._reopen(position), None)
        finally:
            self._leave(index)

    def _leave(self, index: int) -> None:
        with self._lock:
            self._queues[index] = None
            if all(q is None for q in self._queues):
                close = getattr(self._frames, "close", None)
                if close is not None:
                    close()
