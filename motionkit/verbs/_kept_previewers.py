"""The previewers kept between edits: one small LRU that :func:`motionkit.preview` and the service share.

Kept apart from :mod:`motionkit.verbs.preview` so that the service imports it without torch
and OpenCV (a :class:`~motionkit.Previewer` is only made, and those loaded, on a preview request).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from motionkit.verbs.preview import Previewer


class KeptPreviewers:
    """The last ``size`` :class:`Previewer` objects by key; the least recently used is closed first.

    What :func:`preview` and the editor's service keep between edits (a previewer holds standby
    encoders, so one dropped is closed). Safe to use from several threads; a previewer is made
    outside the lock (it downscales its image), and of two made at once for one key the one kept
    first stays and the other is closed.
    """

    def __init__(self, size: int) -> None:
        self.size = int(size)
        self._kept: OrderedDict[tuple, Previewer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, make: Callable[[], Previewer]) -> Previewer:
        """The previewer kept under ``key`` (now the most recently used), else ``make()``'s, kept."""
        with self._lock:
            found = self._kept.pop(key, None)
        made = None
        if found is None:
            found = made = make()
        with self._lock:
            other = self._kept.pop(key, None)  # another thread's, made meanwhile
            if other is not None:
                found, made = other, (made if made is not other else None)
            self._kept[key] = found
            dropped = [self._kept.popitem(last=False)[1] for _ in range(len(self._kept) - self.size)]
        for previewer in ([made] if made is not None and made is not found else []) + dropped:
            previewer.close()
        return found

    def close_all(self) -> None:
        """Close and drop every kept previewer (a service shutting down)."""
        with self._lock:
            kept, self._kept = list(self._kept.values()), OrderedDict()
        for previewer in kept:
            previewer.close()

    def values(self) -> list[Previewer]:
        """The kept previewers, least recently used first."""
        with self._lock:
            return list(self._kept.values())

    def __len__(self) -> int:
        return len(self._kept)
