"""The streaming loop of :func:`motionkit.clip.translation.translate`: keyframes carried forwards and backwards.

A *carry* moves one keyframe's edit over a run of frames: forwards over ``k+1..hi`` along a
field estimated over frames ``k..hi`` (reference frame 0 of that run, the keyframe), or
backwards over ``lo..k-1`` along a field estimated over ``k, lo, ..., k-1`` (the source is
read again from ``lo``; the keyframe comes first so the estimator measures from it). Both
are handed to the renderer as they were estimated, the keyframe first as the reference, so
a renderer that plans windows from frame 0 (the learned ones) carries from the keyframe. A carry ends
at the next keyframe or at a scene cut; every frame is blended from the (at most two) carries
that reach it, by ``1 / distance in time`` times the trust in each carry's motion there.
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch

from motionkit.clip.frame_tee import FrameTee
from motionkit.errors import MotionkitWarning, ShapeMismatchError
from motionkit.io.image import image_to_tensor
from motionkit.io.prefetch import prefetch
from motionkit.ops.colour import apply_colour_map_numpy, fit_colour_map_numpy, to_uint8
from motionkit.ops.edit_model import apply_edit_model_numpy, fit_edit_model_numpy
from motionkit.ops.forward_warp import source_map_numpy
from motionkit.ops.scene_cuts import SceneCutDetector

try:  # the per-pixel arithmetic of a carried edit in compiled passes; numpy where numba is missing
    from motionkit.ops import _edit_kernels as _kernels
except ImportError:  # pragma: no cover
    _kernels = None

if TYPE_CHECKING:
    from motionkit.clip import Clip
    from motionkit.components import FlowEstimator, Renderer
    from motionkit.motion import MotionField

#: Mean RGB difference (in [0, 1]) between the moved source keyframe and the real frame above
#: which the flow is not trusted.
TOLERANCE = 0.08
#: Weight a carry keeps where its motion is not trusted, so two untrusted carries still blend by time.
_FLOOR = 0.05
#: Source frames (with the edit models' predictions) made ahead of the blend.
_AHEAD = 2


class SceneCutWarning(MotionkitWarning):
    """A translated video has scene cuts; no keyframe's edit is carried across one.

    A :class:`~motionkit.errors.MotionkitWarning` (``motionkit translate`` says where the cuts are, once).

    ``cuts`` holds the frames that start a new shot (0-based); ``uncovered`` the first frame
    of each shot that has no keyframe (those shots are the source through the colour map).
    """

    def __init__(self, message: str, cuts: list[int], uncovered: list[int]) -> None:
        super().__init__(message)
        self.cuts, self.uncovered = list(cuts), list(uncovered)


class SharedPass:
    """One pass over a field's frames, read by the renderer and, a frame behind it, by the blend.

    A lazy field would otherwise be estimated twice. The renderer's first pass taps the frames
    into a queue that the blend empties; a renderer that reads no frames (it ignores the
    motion or has not started) leaves the pass to the blend, and a second pass it asks for
    is a fresh one.
    """

    def __init__(self, field: MotionField) -> None:
        self._field = field
        self._frames = field.iter_frames()
        self._queue: deque[torch.Tensor] = deque()
        self._handed = False

    def for_renderer(self) -> Iterator[torch.Tensor]:
        if self._handed:
            return self._field.iter_frames()
        self._handed = True
        return self._tap()

    def _tap(self) -> Iterator[torch.Tensor]:
        for frame in self._frames:
            self._queue.append(frame)
            yield frame

    def for_blend(self) -> Iterator[torch.Tensor]:
        self._handed = True  # from here on the renderer gets fresh passes
        while True:
            if self._queue:
                yield self._queue.popleft()
                continue
            frame = next(self._frames, None)
            if frame is None:
                return
            yield frame

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._frames.close()


class Keyframe:
    """A keyframe's source and edited frames (``float32 (H, W, 3)`` in [0, 1]) and the models fitted from them."""

    def __init__(self, index: int, source: np.ndarray, edited: np.ndarray) -> None:
        self.index = index
        self.edited_uint8, self.source_uint8 = edited, source
        self.source = source.astype(np.float32) / 255.0
        self.edited = edited.astype(np.float32) / 255.0
        self.colour_map = grade_of(self.source, self.edited)
        self.model = fit_edit_model_numpy(self.source, self.edited)
        # The source keyframe and the model's own prediction, moved together along each field frame.
        self.modelled = apply_edit_model_numpy(self.model, self.source)


def grade_of(source: np.ndarray, edited: np.ndarray, *, rounds: int = 2) -> np.ndarray:
    """The global colour grade in an edit: a colour map fitted without the pixels it explains worst.

    A local edit (a painted stroke, a pasted object) is no grade; fitted with all pixels it
    bends the map (skin painted green turns a later shot's greens magenta). Each round refits
    on the pixels whose residual is within the 80th percentile (at least 0.02), so strokes
    covering up to a fifth of the frame drop out. ``float32 (H, W, 3)`` in [0, 1] in,
    ``(10, 3)`` coefficients out.
    """
    coefficients = fit_colour_map_numpy(source, edited)
    for _ in range(rounds):
        residual = np.abs(apply_colour_map_numpy(coefficients, source) - edited).mean(axis=2)
        keep = residual <= max(float(np.quantile(residual, 0.8)), 0.02)
        coefficients = fit_colour_map_numpy(source[keep][:, None], edited[keep][:, None])
    return coefficients


def moved_guides(key: Keyframe, flow: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The keyframe's guides moved along ``flow``: ``(source, model of the source (float32 (H, W, 3) each), unseen (H, W) bool)``.

    Called right after the renderer moved its frame along the same field, in the same
    thread, so the warp's kept inverse map is reused (no second inversion). Holes count as
    unseen whatever colour they get, so the cheaper rubber-sheet fill does.
    """
    # Two 3-channel remaps: OpenCV's 6-channel remap takes 2.7x as long (34 vs 13 ms at 720p).
    # warp_frame_numpy(..., fill="stretch") for both, its inverse map looked up once and handed
    # to remap as one 2-channel map (no strided copies of its planes): the same pixels, ~7 ms less.
    values = flow.detach().cpu().numpy()
    if not values.any():
        return key.source.copy(), key.modelled.copy(), np.zeros(values.shape[1:], bool)
    src, unseen = source_map_numpy(values)

    def move(image: np.ndarray) -> np.ndarray:
        return cv2.remap(image, src, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)

    return move(key.source), move(key.modelled), unseen


def carried(
    rendered: np.ndarray, moved: np.ndarray, modelled: np.ndarray, unseen: np.ndarray, current: np.ndarray, predicted: np.ndarray,
    tolerance: float, *, alone: bool = False,
) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
    """One keyframe's estimate of frame ``t`` and the trust in it, ``(float32 (H, W, 3), float32 (H, W, 1))``.

    ``rendered`` is the renderer's frame (``uint8``), ``moved, modelled, unseen`` the keyframe's
    guides moved along the same field frame (:func:`moved_guides`), ``current`` the source frame
    ``t`` and ``predicted`` the keyframe model's prediction for it (both ``float32`` in [0, 1]).
    ``alone``: the only carry reaching frame ``t``; the frame itself is returned, ``uint8``
    (``blend([(estimate, trust, w)])``, the same bytes, without the float frame in between).
    """
    if _kernels is not None:
        difference = _kernels.difference(moved, current)
    else:
        difference = np.abs(moved - current).mean(axis=2)
    difference = cv2.GaussianBlur(difference, (0, 0), 1.5)
    distrust = (unseen | (difference > tolerance)).view(np.uint8)
    # Grow by 2 px and feather, so the seam between the two sources falls on trusted pixels.
    alpha = cv2.GaussianBlur(cv2.dilate(distrust, np.ones((5, 5), np.uint8)).astype(np.float32), (0, 0), 1.5)
    if _kernels is not None:
        if alone:
            return _kernels.residual_quantised(predicted, alpha, rendered, modelled)
        return _kernels.residual(predicted, alpha, rendered, modelled)
    trust = 1.0 - np.clip(alpha, 0.0, 1.0)[..., None]
    estimate = predicted + trust * (rendered.astype(np.float32) / 255.0 - modelled)
    return to_uint8(estimate) if alone else (estimate, trust)


def blend(estimates: list[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
    """Blend ``(estimate, trust, weight in time)`` of the carries reaching a frame into one ``uint8`` frame."""
    if len(estimates) == 1:
        return _kernels.quantise(estimates[0][0]) if _kernels is not None else to_uint8(estimates[0][0])
    total = np.zeros_like(estimates[0][0])
    weights = np.zeros_like(estimates[0][1])
    for estimate, trust, weight in estimates:
        w = weight * (trust + _FLOOR)
        total += w * estimate
        weights += w
    return to_uint8(total / np.maximum(weights, 1e-6))


def colour_mapped(key: Keyframe, current: np.ndarray) -> np.ndarray:
    """Frame ``t`` with no carried edit: the source through the keyframe's colour map, ``uint8``."""
    return to_uint8(apply_colour_map_numpy(key.colour_map, current))


def warn_cuts(cuts: list[int], uncovered: list[int]) -> None:
    """Issue the :class:`SceneCutWarning` naming the cuts, and the shots no keyframe reaches."""
    if not cuts:
        return
    named = ", ".join(str(c) for c in cuts)
    if uncovered:
        shots = ", ".join(str(c) for c in uncovered)
        message = (
            f"scene cuts at frames {named}: no keyframe in the shot(s) starting at frame(s) {shots}, so the edit is not "
            "carried there (those frames are the source through the edit's colour map); add a keyframe in each shot, "
            "or pass scene_cuts='carry' to carry the edit across cuts"
        )
    else:
        message = f"scene cuts at frames {named}: each shot has a keyframe; no edit is carried across a cut"
    warnings.warn(SceneCutWarning(message, cuts, uncovered), stacklevel=3)



@dataclass
class Carry:
    """Keyframe ``key`` carried over frames ``lo..hi`` (inclusive), ``backward`` or forward."""

    key: int
    lo: int
    hi: int
    backward: bool
    stream: Iterator[tuple[np.ndarray, torch.Tensor]] | None = field(default=None, repr=False)


def plan(keys: list[int], count: int, cuts: list[int]) -> list[Carry]:
    """The carries of ``keys`` over ``count`` frames when the shots start at frame 0 and at ``cuts``."""
    starts = [0, *cuts]
    carries = []
    for i, k in enumerate(keys):
        shot_start = max(s for s in starts if s <= k)
        shot_end = min([c - 1 for c in cuts if c > k] + [count - 1])
        after = keys[i + 1] - 1 if i + 1 < len(keys) else count - 1
        before = keys[i - 1] + 1 if i > 0 else 0
        if k + 1 <= min(after, shot_end):
            carries.append(Carry(k, k + 1, min(after, shot_end), backward=False))
        if max(before, shot_start) <= k - 1:
            carries.append(Carry(k, max(before, shot_start), k - 1, backward=True))
    return sorted(carries, key=lambda c: c.lo)


def survey(source: Clip, keys: list[int], detect: bool, threshold: float) -> tuple[list[int], dict[int, np.ndarray]]:
    """One pass over ``source``: the scene cuts (when ``detect``) and the source keyframes."""
    detector = SceneCutDetector(threshold)
    cuts, frames = [], {}
    wanted = set(keys)
    last = max(keys)
    with contextlib.closing(source.iter_frames()) as stream:
        for t, frame in enumerate(stream):
            if t in wanted:
                frames[t] = np.array(frame)
            if detect:
                if detector.is_cut(frame):
                    cuts.append(t)
            elif t >= last:
                break
    return cuts, frames


def uncovered_shots(keys: list[int], count: int, cuts: list[int]) -> list[int]:
    """The first frame of each shot that holds no keyframe."""
    bounds = [0, *cuts, count]
    return [s for s, e in itertools.pairwise(bounds) if not any(s <= k < e for k in keys)]


def stream(
    carry: Carry, key: Keyframe, source: Clip, estimator: FlowEstimator, renderer: Renderer,
    first_pass: Iterator[np.ndarray] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(rendered uint8 (H, W, 3), moved source and model (H, W, 3) x2, unseen (H, W))`` for each frame ``carry.lo..carry.hi``.

    Run in a thread of its own (:func:`carry_frames` prefetches it), so the renderer and the
    guides' warp share that thread's inverse map while the blend of the previous frame runs.
    ``first_pass``: the source frames of a forward carry from frame 0 for the estimator's
    first pass (a branch of the blend's own decode, :class:`~motionkit.clip.frame_tee.FrameTee`);
    a later pass decodes afresh.
    """
    count = carry.hi - carry.lo + 2  # the run and the keyframe
    size, fps = source.size, source.fps
    if carry.backward:
        run = type(source).from_frames(
            lambda: itertools.chain([key.source_uint8], itertools.islice(source.iter_frames(), carry.lo, carry.key)), count, size, fps
        )
    else:
        passes = [first_pass] if first_pass is not None and carry.key == 0 else []

        def frames() -> Iterator[np.ndarray]:
            with contextlib.closing(passes.pop() if passes else source.iter_frames()) as decoded:
                yield from itertools.islice(decoded, carry.key, carry.hi + 1)

        run = type(source).from_frames(frames, count, size, fps)
    # Either way the keyframe comes first: the field is measured from it (its reference, frame
    # 0 of the run) and every renderer, per-frame or windowed (learned renderers plan their
    # windows from frame 0), moves the edited keyframe along it; the frames after it are
    # in time order (lo..k-1 backwards, k+1..hi forwards).
    estimated = estimator.estimate(run)
    shared = SharedPass(estimated)
    motion = type(estimated).from_frames(shared.for_renderer, count, size, reference=estimated.reference)
    rendered = renderer.render(image_to_tensor(key.edited_uint8), motion, fps=fps)
    if tuple(rendered.size) != tuple(size) or len(rendered) != count:
        raise ShapeMismatchError(f"the renderer returned {len(rendered)} frames of {rendered.size}, expected {count} of {size}")
    with contextlib.closing(rendered.iter_frames()) as out, contextlib.closing(shared.for_blend()) as flows:
        next(out)  # the keyframe itself
        next(flows)
        for _ in range(count - 1):
            frame = next(out)
            yield (frame, *moved_guides(key, next(flows)))
    shared.close()


@dataclass
class SourceFrame:
    """Frame ``t`` of the source as the blend needs it, made one or two frames ahead in a thread."""

    t: int
    frame: np.ndarray  # uint8 (H, W, 3)
    current: np.ndarray | None  # float32 (H, W, 3) in [0, 1]; None at a keyframe
    predictions: dict[int, np.ndarray]  # keyframe -> its model's prediction of this frame
    cut: bool  # a scene cut found while streaming (one keyframe at frame 0 only)


def annotated(
    source: Iterator[np.ndarray], edits: dict[int, np.ndarray], keys: dict[int, Keyframe], carries: list[Carry], *,
    online: bool, detect: bool, threshold: float,
) -> Iterator[SourceFrame]:
    """The source frames with their float copy and the edit models' predictions, each made once.

    ``carries`` (the plan) says which keyframes' models a frame needs; with one keyframe at
    frame 0 (``online``), its :class:`Keyframe` is built here from the first frame and a
    scene cut ends the predictions (nothing is carried past it).
    """
    detector = SceneCutDetector(threshold)
    stopped = False
    with contextlib.closing(source) as frames:
        for t, frame in enumerate(frames):
            cut = False
            if online:
                if t == 0:
                    keys[0] = Keyframe(0, np.array(frame), edits[0])
                if detect and detector.is_cut(frame):
                    cut = stopped = True
            if t in edits:
                yield SourceFrame(t, frame, None, {}, cut)
                continue
            current = frame.astype(np.float32) / np.float32(255.0)
            wanted = [] if stopped else [c.key for c in carries if c.lo <= t <= c.hi]
            predicted = apply_edit_model_numpy([keys[k].model for k in wanted], current) if wanted else []
            yield SourceFrame(t, frame, current, dict(zip(wanted, predicted)), cut)


def carry_frames(
    source: Clip,
    edits: dict[int, np.ndarray],
    estimator: FlowEstimator,
    renderer: Renderer,
    *,
    detect: bool,
    threshold: float,
    tolerance: float,
) -> Iterator[np.ndarray]:
    """The translated frames, ``uint8 (H, W, 3)``, one at a time.

    Three stages overlap (their work releases the GIL): the source frames with the edit
    models' predictions (:func:`annotated`, a thread), each carry's flow, render and moved
    guides (:func:`stream`, a thread each, the flow one more), and the blend here.
    """
    count, indices = len(source), list(edits)
    online = indices == [0]  # one keyframe at frame 0: cuts are found while streaming
    cuts: list[int] = []
    keys: dict[int, Keyframe] = {}
    if not online:
        cuts, frames = survey(source, indices, detect, threshold)
        keys = {k: Keyframe(k, frames[k], edits[k]) for k in indices}
        warn_cuts(cuts, uncovered_shots(indices, count, cuts))
    pending = plan(indices, count, cuts)
    active: list[Carry] = []
    decoded, shared = source.iter_frames(), None
    if online and pending:  # the forward carry from frame 0 reads what the blend reads: decode once
        tee = FrameTee(decoded, lambda start: itertools.islice(source.iter_frames(), start, None))
        decoded, shared = tee.branch(0), tee.branch(1)
    try:
        with contextlib.closing(prefetch(annotated(decoded, edits, keys, list(pending), online=online, detect=detect,
                                                   threshold=threshold), _AHEAD, name="motionkit-annotate")) as originals:
            for item in originals:
                t = item.t
                if item.cut:
                    cuts.append(t)
                    for carry in active:  # nothing is carried across the cut
                        carry.stream.close()
                    active, pending = [], []
                while pending and pending[0].lo == t:
                    carry = pending.pop(0)
                    first, shared = (shared, None) if carry.key == 0 and not carry.backward else (None, shared)
                    carry.stream = prefetch(stream(carry, keys[carry.key], source, estimator, renderer, first), 1, name="motionkit-carry")
                    active.append(carry)
                if t in edits:
                    yield edits[t]
                    continue
                if not active:
                    nearest = max((k for k in keys if k <= t), default=min(keys))
                    yield colour_mapped(keys[nearest], item.current)
                    continue
                if len(active) == 1:  # one carry: its frame straight from the residual kernel
                    carry = active[0]
                    rendered, moved, modelled, unseen = next(carry.stream)
                    yield carried(rendered, moved, modelled, unseen, item.current, item.predictions[carry.key], tolerance, alone=True)
                    if carry.hi == t:
                        carry.stream.close()
                        active.remove(carry)
                    continue
                estimates = []
                for carry in active:
                    rendered, moved, modelled, unseen = next(carry.stream)
                    estimate, trust = carried(rendered, moved, modelled, unseen, item.current, item.predictions[carry.key], tolerance)
                    estimates.append((estimate, trust, 1.0 / abs(t - carry.key)))
                yield blend(estimates)
                for carry in [c for c in active if c.hi == t]:
                    carry.stream.close()
                    active.remove(carry)
    finally:
        for carry in active:
            carry.stream.close()
        if shared is not None:  # never handed to a carry (a cut at frame 1): let the tee go
            shared.close()
        if online and cuts:
            warn_cuts(cuts, list(cuts))
