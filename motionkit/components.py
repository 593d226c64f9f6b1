"""The three pluggable component kinds and their small protocols.

A component is any object with the one method its kind needs (``predict``, ``render``,
``estimate``); subclassing these bases is optional but gives ``Kind.get(name)`` and, for
renderers and flow estimators, the streaming form for free:

- :class:`FrameRenderer`: implement ``render_frame(image, flow, mask)``; ``render`` streams
  a lazy field frame by frame (one frame in memory) and returns a lazy :class:`~motionkit.Clip`.
- :class:`WindowRenderer`: implement ``render_window(image, flows, mask)`` over ``window``
  frames (frame 0 first); ``render`` streams the field window by window and cross-fades the
  ``overlap`` frames neighbouring windows share.
- :class:`FlowEstimator`: implement ``iter_flows(frames)``; ``estimate`` returns a lazy
  :class:`~motionkit.MotionField` at once. An estimator that implements only ``estimate``
  returns whatever field it builds (in memory: it materialises).

Backends (``classical``, ``pipelines``, plugins) implement them; the value objects find them
through :mod:`motionkit.registry` by name, never by import. This module imports the objects
only inside the base methods, so ``import motionkit`` stays free of torch.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from motionkit import registry
from motionkit.io.prefetch import prefetch

#: Flow frames a streaming estimator computes ahead of its consumer (see :mod:`motionkit.io.prefetch`).
FLOW_AHEAD = 1

_turns: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_turns_lock = threading.Lock()


def _taking_turns(owner: object, iterator: Iterator[Any]) -> Iterator[Any]:
    """``iterator``'s items, each produced while holding ``owner``'s lock (one per owner)."""
    with _turns_lock:
        try:
            lock = _turns.setdefault(owner, threading.Lock())
        except TypeError:  # not weakly referenceable: one shared lock
            lock = _turns_lock_shared
    try:
        while True:
            with lock:
                item = next(iterator, _NO_ITEM)
            if item is _NO_ITEM:
                return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            with lock:
                close()


_NO_ITEM = object()
_turns_lock_shared = threading.Lock()

if TYPE_CHECKING:
    import numpy as np
    import torch

    from motionkit.clip import Clip
    from motionkit.mask import RegionMask
    from motionkit.motion import MotionField
    from motionkit.trajectory import Trajectory


class _Component:
    kind: ClassVar[registry.Kind]

    @classmethod
    def get(cls, name: str, **options: Any):
        """The registered component of this kind called ``name``, built with ``options``.

        Example:
            >>> from motionkit import Renderer
            >>> Renderer.get("warp")  # doctest: +ELLIPSIS
            <...WarpRenderer...>
        """
        return registry.create(cls.kind, name, **options)

    @classmethod
    def available(cls) -> list[str]:
        """Names of every registered component of this kind (built-ins and plugins)."""
        return list(registry.available()[cls.kind])


class MotionPredictor(_Component):
    """image + sparse trajectories + motion-brush mask (+ prompt) -> dense :class:`MotionField`."""

    kind = "predictor"
    """The registry kind: components of this kind are found with ``MotionPredictor.get(name)``."""

    def predict(
        self,
        image: torch.Tensor | None,
        trajectories: Sequence[Trajectory] = (),
        mask: RegionMask | None = None,
        *,
        frames: int | None = None,
        size: tuple[int, int] | None = None,
        prompt: str | None = None,
    ) -> MotionField:
        """Predict the motion of every pixel of ``image`` (``(3, H, W)`` float in [0, 1]).

        ``mask`` is the motion brush: 1 where things may move. The returned field has
        ``frames`` frames (frame 0 is zero; default: the trajectories' length, else 16) at the
        image's size, in pixels. Predictors that do not need pixels (the classical ``sparse``
        densifier without edge guidance) accept ``image=None`` with ``size=(H, W)``.
        """
        raise NotImplementedError


class Renderer(_Component):
    """image + :class:`MotionField` (+ mask) -> :class:`Clip` of the rendered frames.

    ``render`` is the one required method. Subclass :class:`FrameRenderer` or
    :class:`WindowRenderer` to get a streaming ``render`` from a per-frame or per-window method.
    """

    kind = "renderer"
    """The registry kind: components of this kind are found with ``Renderer.get(name)``."""

    def render(self, image: torch.Tensor, motion: MotionField, mask: RegionMask | None = None, *, fps: float = 8.0) -> Clip:
        """Render ``image`` (``(3, H, W)`` in [0, 1]) along ``motion``; frame 0 is ``image``.

        ``image`` shows the field's reference frame: for a field measured from frame ``k``
        (``motion.reference == k``) output frame ``k`` is ``image`` and every frame moves it
        by that frame's displacements from frame ``k``. A renderer that cannot do this raises
        :class:`~motionkit.errors.InvalidInputError` naming the reference, rather than taking
        frame 0 as the image. Where ``mask`` is given, pixels outside it (mask 0) stay as in ``image``.
        """
        raise NotImplementedError


def _render_inputs(image: Any, motion: MotionField, mask: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``image`` as ``float32 (3, H, W)`` and ``mask`` as ``float32 (H, W)`` (or None), checked against ``motion``."""
    import torch

    from motionkit.errors import InvalidInputError, ShapeMismatchError
    from motionkit.io.image import image_to_tensor
    from motionkit.mask import RegionMask
    from motionkit.motion import MotionField

    if not isinstance(motion, MotionField):
        raise InvalidInputError(f"motion must be a MotionField, got {type(motion).__name__}; wrap a tensor with MotionField(flow)")
    if not (isinstance(image, torch.Tensor) and image.dim() == 3 and image.shape[0] == 3):
        image = image_to_tensor(image)  # a uint8 (H, W, 3) array, a path, a PIL image, ...
    if tuple(image.shape[-2:]) != motion.size:
        raise ShapeMismatchError(f"image must be (3, {motion.height}, {motion.width}) to match the motion field, got {tuple(image.shape)}")
    if mask is None:
        return image.to(torch.float32), None
    values = mask.values if isinstance(mask, RegionMask) else RegionMask(mask).values
    if tuple(values.shape) != motion.size:
        raise ShapeMismatchError(f"mask must be {motion.size} like the motion field, got {tuple(values.shape)}")
    return image.to(torch.float32), values.to(image.device)


def _as_clip(frames: Callable[[], Iterator[torch.Tensor]], motion: MotionField, fps: float) -> Clip:
    """A :class:`Clip` of rendered ``(3, H, W)`` float frames: lazy when ``motion`` is, in memory otherwise."""
    import numpy as np

    from motionkit.ops.colour import to_uint8

    def quantised(stream: Iterator[torch.Tensor]) -> Iterator[np.ndarray]:
        for frame in stream:
            frame = frame.detach()
            if frame.device.type == "cpu":  # numpy's rounding: torch's costs ~40 ms a 720p frame on a loaded machine
                yield to_uint8(np.ascontiguousarray(frame.permute(1, 2, 0).numpy()))
            else:
                yield to_uint8(frame).permute(1, 2, 0).cpu().numpy()

    return _uint8_clip(lambda: quantised(frames()), motion, fps)


def _uint8_clip(frames: Callable[[], Iterator[Any]], motion: MotionField, fps: float) -> Clip:
    """A :class:`Clip` of ``uint8 (H, W, 3)`` numpy frames: lazy when ``motion`` is, in memory otherwise."""
    import numpy as np

    from motionkit.clip import Clip

    if motion.is_lazy:
        return Clip.from_frames(frames, motion.frames, motion.size, fps)
    out = np.empty((motion.frames, *motion.size, 3), np.uint8)
    for index, frame in enumerate(frames()):
        out[index] = frame
    return Clip.from_array(out, fps=fps, copy=False)


class FrameRenderer(Renderer):
    """A renderer that renders each frame from its own field alone; ``render`` streams.

    Implement :meth:`render_frame`. Each frame is rendered from its own displacements, so
    a field measured from frame ``k`` needs nothing special: frame ``k`` is zero and renders
    as ``render_frame(image, zeros)``. The inherited :meth:`render` returns a lazy
    :class:`~motionkit.Clip` for a lazy field (one frame of the field and of the output in
    memory at a time) and an in-memory clip otherwise.

    Example:
        >>> import torch
        >>> import motionkit as mk
        >>> class Fade(mk.FrameRenderer):
        ...     def render_frame(self, image, flow, mask=None):
        ...         return image * (1 - flow.abs().amax() / 10).clamp(0, 1)
        >>> clip = Fade().render(torch.ones(3, 4, 4), mk.MotionField.camera(pan=(5, 0), frames=3, size=(4, 4)))
        >>> [int(clip.frame(t)[0, 0, 0]) for t in range(3)]
        [255, 204, 128]
    """

    def render_frame(self, image: torch.Tensor, flow: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Render one frame: ``image (3, H, W)`` in [0, 1] moved by ``flow (2, H, W)`` pixels -> ``(3, H, W)`` float32 in [0, 1].

        ``mask (H, W)`` in [0, 1] or None: where it is 0 the output keeps ``image``.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement render_frame(image, flow, mask)")

    def render(self, image: torch.Tensor, motion: MotionField, mask: RegionMask | None = None, *, fps: float = 8.0) -> Clip:
        """Render ``image`` along ``motion`` frame by frame into a ``uint8`` :class:`~motionkit.Clip` at ``fps``.

        Lazy in, lazy out: a lazy ``motion`` gives a lazy clip whose frames are rendered when
        read or written. ``image`` may be any image-like input (``uint8 (H, W, 3)``, a path).
        """
        pixels, values = _render_inputs(image, motion, mask)
        return _as_clip(lambda: (self.render_frame(pixels, flow, values) for flow in motion.iter_frames()), motion, fps)


def plan_windows(frames: int, window: int, overlap: int) -> list[list[int]]:
    """Frame indices of each window over ``frames`` frames: ``[0, s, s+1, ..., s+window-2]``.

    Every window holds frame 0 (the reference) and a run of ``window - 1`` later frames;
    consecutive runs share at least ``overlap`` frames (the last run is moved back to end at
    the last frame). A field that fits in one window gives ``[[0, 1, ..., frames-1]]``.

    Example:
        >>> plan_windows(8, window=4, overlap=1)
        [[0, 1, 2, 3], [0, 3, 4, 5], [0, 5, 6, 7]]
    """
    from motionkit.errors import InvalidInputError

    if window < 3:
        raise InvalidInputError(f"a window needs at least 3 frames (frame 0 and two more), got {window}")
    body = window - 1
    if not 0 <= overlap < body:
        raise InvalidInputError(f"overlap must be in [0, {body - 1}] for windows of {window} frames, got {overlap}")
    if frames <= window:
        return [list(range(frames))]
    starts = list(range(1, frames - body + 1, body - overlap))
    if starts[-1] + body < frames:
        starts.append(frames - body)
    return [[0, *range(s, s + body)] for s in starts]


def reference_first(motion: MotionField) -> MotionField:
    """``motion`` with its reference frame first (reference 0), the other frames after it in time order.

    A renderer that takes frame 0 as the image (the windows of :class:`WindowRenderer`, a
    learned model conditioned on its first frame) renders a field measured from frame ``k``
    (``motion.reference == k``) as this field, then puts the frames back with
    :func:`in_field_order`. A lazy field stays lazy: its reference frame is zero by
    definition, so nothing is read ahead.

    Example:
        >>> import torch
        >>> from motionkit import MotionField
        >>> flow = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 2, 2, 2) - 2   # frame 2 is the reference
        >>> [round(float(f[0, 0, 0]), 1) for f in reference_first(MotionField(flow, reference=2)).flow]
        [0.0, -2.0, -1.0, 1.0]
    """
    import torch

    from motionkit.motion import MotionField

    k = motion.reference
    if k == 0:
        return motion
    if not motion.is_lazy:
        flow = motion.flow
        return MotionField(torch.cat([flow[k : k + 1], flow[:k], flow[k + 1 :]]))

    def frames() -> Iterator[torch.Tensor]:
        yield torch.zeros(2, *motion.size)
        for t, frame in enumerate(motion.iter_frames()):
            if t != k:
                yield frame

    return MotionField.from_frames(frames, motion.frames, motion.size)


def in_field_order(clip: Clip, reference: int) -> Clip:
    """The frames of a clip rendered along :func:`reference_first`'s field, back in the field's order.

    Frame 0 of ``clip`` (the rendered reference) goes to ``reference``; the others keep
    their order. Lazy in, lazy out: only the rendered reference frame is held until its place.
    """
    import numpy as np

    from motionkit.clip import Clip

    if reference == 0:
        return clip
    if not clip.is_lazy:
        frames = clip.to_numpy()
        order = np.concatenate([frames[1 : reference + 1], frames[:1], frames[reference + 1 :]])
        return Clip.from_array(order, fps=clip.fps, copy=False)

    def frames() -> Iterator[np.ndarray]:
        stream = clip.iter_frames()
        try:
            first = next(stream)  # the reference frame, held until its place
            for t in range(len(clip)):
                yield first if t == reference else next(stream)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    return Clip.from_frames(frames, len(clip), clip.size, clip.fps)


class WindowRenderer(Renderer):
    """A renderer that renders a window of frames at once (frame 0 first); ``render`` streams windows.

    Implement :meth:`render_window` and set ``window`` (frames per window, frame 0 included)
    and ``overlap`` (later frames neighbouring windows share). The inherited :meth:`render`
    reads the field window by window (:func:`plan_windows`), holding at most a window and its
    overlap, and cross-fades shared frames linearly: over a shared run, the earlier window's
    weight falls and the later one's rises (``1 / (overlap + 1)`` steps). Frame 0 of the
    output is the first window's. A windowed renderer may override ``render`` for in-memory
    fields to do better (motion-i2v blends windows at every denoising step) and says so.

    A field measured from frame ``k`` (:attr:`~motionkit.MotionField.reference`) is rendered
    with frame ``k`` as every window's frame 0 (:func:`reference_first`) and the output put
    back in the field's order (:func:`in_field_order`): the image is frame ``k``.
    """

    window: int = 16
    """Frames per window, frame 0 included (at least 3)."""
    overlap: int = 4
    """Later frames that neighbouring windows share and cross-fade (less than ``window - 1``)."""

    def render_window(self, image: torch.Tensor, flows: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Render ``image (3, H, W)`` along ``flows (W, 2, H, W)`` (``flows[0]`` is frame 0, zero) -> ``(W, 3, H, W)`` in [0, 1]."""
        raise NotImplementedError(f"{type(self).__name__} must implement render_window(image, flows, mask)")

    def render(self, image: torch.Tensor, motion: MotionField, mask: RegionMask | None = None, *, fps: float = 8.0) -> Clip:
        """Render ``image`` along ``motion`` window by window into a ``uint8`` :class:`~motionkit.Clip`; lazy in, lazy out.

        ``image`` shows the field's reference frame; with ``motion.reference == k`` the
        windows start from frame ``k`` and output frame ``k`` is the windows' frame 0.
        """
        pixels, values = _render_inputs(image, motion, mask)
        if motion.reference != 0:
            first = reference_first(motion)
            return in_field_order(_as_clip(lambda: self._stream(pixels, first, values), first, fps), motion.reference)
        return _as_clip(lambda: self._stream(pixels, motion, values), motion, fps)

    def _stream(self, image: torch.Tensor, motion: MotionField, mask: torch.Tensor | None) -> Iterator[torch.Tensor]:
        import torch

        from motionkit.errors import ShapeMismatchError

        windows = plan_windows(motion.frames, int(self.window), int(self.overlap))
        ramp = float(self.overlap + 1)
        flows = motion.iter_frames()
        zero = next(flows)
        held: dict[int, torch.Tensor] = {}  # flows read but still needed by a window
        pending: dict[int, list] = {}  # frame -> [weighted sum, total weight] until every window that holds it is done
        for k, indices in enumerate(windows):
            body = indices[1:]
            for index in body:
                if index not in held:
                    held[index] = next(flows)
            out = self.render_window(image, torch.stack([zero, *(held[i] for i in body)]), mask)
            if tuple(out.shape) != (len(indices), 3, *motion.size):
                raise ShapeMismatchError(
                    f"{type(self).__name__}.render_window returned {tuple(out.shape)}, expected {(len(indices), 3, *motion.size)}"
                )
            if k == 0:
                yield out[0]
            later = windows[k + 1][1] if k + 1 < len(windows) else motion.frames
            for j, index in enumerate(body):
                # Linear ramps towards the edges this window shares (as the learned blend does).
                weight = min(1.0, (j + 1) / ramp if k > 0 else 1.0, (len(body) - j) / ramp if k + 1 < len(windows) else 1.0)
                total = pending.setdefault(index, [0.0, 0.0])
                total[0] = total[0] + out[j + 1] * weight
                total[1] += weight
            for index in [i for i in pending if i < later]:
                value, weight = pending.pop(index)
                held.pop(index, None)
                yield value / weight


class FlowEstimator(_Component):
    """a video :class:`Clip` -> the :class:`MotionField` from its frame 0 to every frame.

    ``estimate`` is the one required method. Streaming estimators implement
    :meth:`iter_flows` instead and inherit an ``estimate`` that returns a lazy field at once
    (the video is read and the flow computed when the field's frames are read). An estimator
    that implements only ``estimate`` returns the field it builds, usually in memory
    (``T * H * W * 8`` bytes: a 720p, 300-frame video needs 2.2 GB), so it does not stream.
    """

    kind = "flow_estimator"
    """The registry kind: components of this kind are found with ``FlowEstimator.get(name)``."""

    def estimate(self, clip: Clip) -> MotionField:
        """Frame-0-relative motion of ``clip`` in pixels, ``(T, 2, H, W)``, frame 0 zero; lazy over :meth:`iter_flows`."""
        from motionkit.motion import MotionField

        if type(self).iter_flows is FlowEstimator.iter_flows:
            raise NotImplementedError(f"{type(self).__name__} must implement estimate(clip) or iter_flows(frames)")
        # Flow t + 1 is estimated in a background thread while the caller uses flow t; passes
        # over one estimator take turns frame by frame (an OpenCV flow object is not thread-safe).
        return MotionField.from_frames(
            lambda: prefetch(_taking_turns(self, self.iter_flows(clip.iter_frames())), FLOW_AHEAD, name="motionkit-flow"), len(clip), clip.size
        )

    def iter_flows(self, frames: Iterator[np.ndarray]) -> Iterator[torch.Tensor]:
        """Stream version of :meth:`estimate`: ``uint8 (H, W, 3)`` frames in, ``float32 (2, H, W)`` tensors out, frame 0 (zero) first.

        Read frame ``t`` only when flow ``t`` is asked for, so memory stays flat.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot estimate frame by frame")
