"""The densifier's memo: per-image, per-point work kept between calls.

Changing one drag of a live preview should redo only that drag's work. The densifier's costly
steps depend on the image and on one control point each (an edge graph per image; a geodesic
distance map and an object region per start point), so they are kept here under keys built
from :func:`image_key` (the tensor's identity and in-place version: an edited tensor, or a new
one, never hits an old entry) plus the point and the settings. The memo is a byte-bounded LRU
shared by the process (``MEMO``); :func:`clear` empties it.

Example:
    >>> import torch
    >>> image = torch.rand(3, 8, 8)
    >>> key = image_key(image)
    >>> key == image_key(image)
    True
    >>> _ = image.mul_(0.5)                 # edited in place: a new key
    >>> key == image_key(image)
    False
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

#: Default byte budget of the process-wide memo.
BUDGET_BYTES = 256 * 2**20


class Memo:
    """A thread-safe LRU of computed arrays, bounded by their total bytes.

    ``get(None)`` and ``put(None, ...)`` do nothing, so callers may pass a None key to skip it.
    ``size`` measures a value against the budget (default: its bytes); the most recent value
    is always kept, however large.
    """

    def __init__(self, budget_bytes: int = BUDGET_BYTES, *, size: Callable[[Any], int] | None = None) -> None:
        self.budget = int(budget_bytes)
        self._size = _nbytes if size is None else size
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Any) -> Any:
        """The value stored under ``key`` (now most recently used), or None."""
        if key is None:
            return None
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: Any, value: Any) -> None:
        """Store ``value`` under ``key``, evicting the least recently used past the budget."""
        if key is None:
            return
        size = self._size(value)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self.budget and len(self._items) > 1:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        """Forget everything (and the hit counts)."""
        with self._lock:
            self._items.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


def _nbytes(value: Any) -> int:
    if hasattr(value, "nbytes"):
        return int(value.nbytes)
    graph = getattr(value, "graph", None)
    if graph is not None:  # an edge graph: its CSR arrays
        return int(graph.data.nbytes + graph.indices.nbytes + graph.indptr.nbytes)
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return 64


class Recent(Memo):
    """A small thread-safe LRU of the last ``capacity`` values (by count, not bytes), for per-instance memos.

    Example:
        >>> recent = Recent(2)
        >>> recent.put("a", 1); recent.put("b", 2); recent.put("c", 3)
        >>> recent.get("a"), recent.get("c")
        (None, 3)
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, int(capacity))
        super().__init__(self.capacity, size=_one)

    def __getstate__(self) -> dict[str, Any]:
        return {"capacity": self.capacity}  # a copy starts empty (a lock does not pickle)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["capacity"])


def _one(value: Any) -> int:
    """Every value counts once against a :class:`Recent`'s capacity."""
    return 1


MEMO = Memo()
_serials = itertools.count()
_seen: dict[int, tuple[weakref.ref, int]] = {}
_seen_lock = threading.Lock()


def image_key(tensor: Any) -> tuple[int, int] | None:
    """A memo key for a tensor: ``(serial, version)``; None for objects that cannot be tracked.

    The serial is unique per tensor object for the life of the process (a new tensor at a
    recycled ``id`` gets a new one); the version is torch's in-place-edit counter.
    """
    version = getattr(tensor, "_version", None)
    if version is None:
        return None
    with _seen_lock:
        found = _seen.get(id(tensor))
        if found is None or found[0]() is not tensor:
            ident = id(tensor)
            try:
                ref = weakref.ref(tensor, lambda _, ident=ident: _forget(ident))
            except TypeError:
                return None
            found = (ref, next(_serials))
            _seen[ident] = found
        return (found[1], int(version))


def content_key(array: Any, identity: Any = None) -> tuple[Any, ...]:
    """A memo key from an array's contents: ``(shape, dtype, digest)``; equal arrays share it.

    ``mk.animate`` turns the same photo into a new tensor on every call, so identity keys
    (:func:`image_key`) never meet again there; a content key does (for the per-image work that
    costs far more than hashing: object regions). ``identity`` (an :func:`image_key`) memoises
    the digest itself, so a live preview passing one tensor hashes it once.
    """
    if identity is not None:
        found = MEMO.get(("digest", identity))
        if found is not None:
            return found
    data = np.ascontiguousarray(array)
    # SHA-1 for speed, not security (a key of this process's memo): twice blake2b's rate here
    # (1.9 vs 3.9 ms for a 512 px float32 photo, hashed on every mk.animate call).
    digest = hashlib.sha1(data.view(np.uint8).reshape(-1), usedforsecurity=False).digest()
    key = (tuple(data.shape), str(data.dtype), digest)
    if identity is not None:
        MEMO.put(("digest", identity), key)
    return key


def _forget(ident: int) -> None:
    with _seen_lock:
        entry = _seen.get(ident)
        if entry is not None and entry[0]() is None:
            del _seen[ident]


def clear() -> None:
    """Empty the process-wide memo."""
    MEMO.clear()
