"""The previewers kept between edits (one LRU shared by motionkit.preview and the service)."""

from __future__ import annotations

import threading

from motionkit.verbs._kept_previewers import KeptPreviewers


class Fake:
    """Stands in for a Previewer: what the LRU calls is ``close()``."""

    def __init__(self, name: str) -> None:
        self.name, self.closed = name, 0

    def close(self) -> None:
        self.closed += 1


def test_the_least_recently_used_previewer_is_closed_and_a_kept_one_comes_back():
    kept = KeptPreviewers(2)
    a = kept.get(("a",), lambda: Fake("a"))
    b = kept.get(("b",), lambda: Fake("b"))
    assert kept.get(("a",), lambda: Fake("a again")) is a  # a is now the most recently used
    c = kept.get(("c",), lambda: Fake("c"))
    assert (a.closed, b.closed, c.closed) == (0, 1, 0) and kept.values() == [a, c] and len(kept) == 2
    kept.close_all()
    assert (a.closed, c.closed) == (1, 1) and len(kept) == 0


def test_of_two_previewers_made_at_once_for_one_key_the_first_kept_stays_and_the_other_is_closed():
    kept = KeptPreviewers(4)
    first_made, second_may_finish = threading.Event(), threading.Event()
    made: list[Fake] = []

    def slow() -> Fake:
        first_made.set()
        second_may_finish.wait(5)
        made.append(Fake("slow"))
        return made[-1]

    got: list[Fake] = []
    worker = threading.Thread(target=lambda: got.append(kept.get(("k",), slow)))
    worker.start()
    first_made.wait(5)
    fast = kept.get(("k",), lambda: Fake("fast"))  # made and kept while the slow one is still being made
    second_may_finish.set()
    worker.join(5)
    assert got == [fast] and made[0].closed == 1 and fast.closed == 0
    assert kept.values() == [fast]
