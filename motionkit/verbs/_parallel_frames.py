"""Rendering a field's frames on several threads, in order: the previews' and ``render``'s frame loop.

A frame of the classical ``warp`` renderer depends only on its field frame (and on the
background plate, which a numbered frame function reads in frame order, so the frames do
not depend on which thread ran first), and the renderer's numeric cores release the GIL
(OpenCV, numpy, the compiled kernels). So the frames of one field render side by side on
:func:`frame_pool`'s threads, as many as the kernels may use (:func:`thread_count`); previews
and other renders have a pool each. Frames are queued in order, so a frame waiting for the
plate's turn waits for a frame already running or done, never for one still queued.

- :func:`parallel_frames` yields them in order as they are done (a preview streams them to
  its encoder).
- :class:`FramesInFlight` renders them all at once into one ``uint8 (T, H, W, 3)`` buffer and
  is a :class:`~motionkit.Clip`'s frame source: reading frame ``t`` waits for frame ``t`` only,
  so ``render(...).write(path)`` encodes the first frames while the last ones render
  (:func:`clip_in_flight`, what ``render`` and ``animate`` return for the ``warp`` renderer).

Example:
    >>> import numpy as np, torch
    >>> from motionkit.classical.render import WarpRenderer
    >>> one = WarpRenderer().frame_function(torch.rand(3, 16, 16))
    >>> flows = [torch.zeros(2, 16, 16), torch.ones(2, 16, 16)]
    >>> [frame.shape for frame in parallel_frames(one, flows)]
    [(16, 16, 3), (16, 16, 3)]
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from motionkit.errors import InvalidInputError
from motionkit.ops._kernel_threads import thread_count

if TYPE_CHECKING:
    import torch

    from motionkit.clip import Clip
    from motionkit.mask import RegionMask
    from motionkit.motion import MotionField

_pools: dict[str, ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()
#: The pools: previews have their own, so an editor's preview never queues behind the frames of
#: a long render (a job of the service) and the other way round.
POOLS = ("preview", "render")


def frame_pool(kind: str = "render") -> ThreadPoolExecutor:
    """The threads that render frames of ``kind`` (``"preview"`` or ``"render"``), as many as the kernels may use."""
    if kind not in POOLS:
        raise InvalidInputError(f"kind must be one of {POOLS}, got {kind!r}")
    with _pool_lock:
        if kind not in _pools:
            _pools[kind] = ThreadPoolExecutor(max_workers=thread_count(), thread_name_prefix=f"motionkit-{kind}")
        return _pools[kind]


def _submit(one: Callable[..., np.ndarray], flows: Iterable, run: Callable[..., None] | None = None,
            kind: str = "render") -> list[Future]:
    """``one(flow, t)`` (or ``one(flow)`` for a function without ``abandon``) of every flow, queued in order."""
    pool, numbered = frame_pool(kind), hasattr(one, "abandon")
    task = one if run is None else run
    return [pool.submit(task, flow, t) if (numbered or run is not None) else pool.submit(task, flow)
            for t, flow in enumerate(flows)]


def parallel_frames(one: Callable[..., np.ndarray], flows: Iterable, *, kind: str = "render") -> Iterator[np.ndarray]:
    """``one(flow)`` of every flow, rendered on :func:`frame_pool` ``(kind)``'s threads and yielded in order.

    ``one`` is a frame function (``one(flow, turn) -> uint8 (H, W, 3)`` with ``abandon()``, e.g.
    :meth:`WarpRenderer.frame_function <motionkit.classical.render.WarpRenderer.frame_function>`),
    or any ``one(flow) -> frame`` safe to call from several threads. Frames not yet read when
    the caller stops are cancelled.
    """
    pending = _submit(one, flows, kind=kind)
    try:
        for future in pending:
            yield future.result()
    finally:
        for future in pending:
            future.cancel()
        if hasattr(one, "abandon"):
            one.abandon()  # frames cancelled above never take their turn; running ones must not wait for them


class FramesInFlight:
    """Every frame of a field being rendered into one ``uint8 (T, H, W, 3)`` buffer; a clip's frame source.

    Rendering starts at construction, on :func:`frame_pool`'s threads. Calling the object
    starts a pass over the frames: frame ``t`` is yielded (a read-only view of the buffer) as
    soon as it is done, so a consumer (an encoder) works beside the rendering; later passes
    read the finished buffer. An error of a frame is raised when that frame is read.

    Args:
        one: a numbered frame function (``one(flow, turn) -> uint8 (H, W, 3)`` with ``abandon()``).
        flows: the field's frames, ``(2, H, W)`` each.
        count, size: the number of flows (a :class:`~motionkit.MotionField`'s frames) and their ``(H, W)``.
    """

    def __init__(self, one: Callable[..., np.ndarray], flows: Iterable, count: int, size: tuple[int, int]) -> None:
        self._one = one
        self.frames = np.empty((int(count), int(size[0]), int(size[1]), 3), np.uint8)
        self._pending = _submit(one, flows, run=self._render)

    def _render(self, flow, t: int) -> None:
        try:
            self.frames[t] = self._one(flow, t)
        except BaseException:
            self._one.abandon()  # the clip is failing: later frames must not wait for this one's turn
            raise

    def wait(self) -> None:
        """Block until every frame is rendered (the first frame's error is raised)."""
        for future in self._pending:
            future.result()

    def __call__(self) -> Iterator[np.ndarray]:
        for t, future in enumerate(self._pending):
            future.result()
            frame = self.frames[t]
            frame.flags.writeable = False
            yield frame


def clip_in_flight(component: Any, image: torch.Tensor, motion: MotionField, mask: RegionMask | None,
                   fps: float) -> Clip | None:
    """The renderer's clip of an in-memory field with its frames rendered side by side; None where that does not apply.

    For a renderer with a ``frame_function`` whose ``render`` is the one beside it (the
    classical ``warp``, no seamless loop): the frames render on several threads straight
    away (:class:`FramesInFlight`, the plate read in frame
    order, so the frames are the serial render's bytes), and the returned clip reads each
    frame as soon as it is done, so ``render(...).write(path)`` encodes while it renders. The
    clip is lazy only in that sense: its frames are rendered once, and every pass reads them.
    A lazy field keeps the renderer's own streaming render (one frame in memory).
    """
    import torch

    from motionkit.clip import Clip

    kind = type(component)
    owner = next((k for k in kind.__mro__ if "frame_function" in vars(k)), None)
    if (owner is None or kind.render is not vars(owner).get("render") or getattr(component, "loop", None) is not None
            or motion.is_lazy or thread_count() < 2):
        return None
    one = component.frame_function(image.to(torch.float32), None if mask is None else mask.values.to(torch.float32))
    frames = FramesInFlight(one, motion.iter_frames(), motion.frames, motion.size)
    return Clip.from_frames(frames, motion.frames, motion.size, fps)
