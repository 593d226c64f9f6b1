"""The streaming loop of :func:`motionkit.clip.translation.translate`: keyframes carried forwards and backwards.

A *carry* moves one keyframe's edit over a run of frames: forwards over ``k+1..hi`` along a
field estimated over frames ``k..hi`` (reference frame 0 of that run, the keyframe), or
backwards over ``lo..k-1`` along a field estimated over ``k, lo, ..., k-1`` (the source is
read again from ``lo``; the keyframe comes first so the estimator measures from it) and
handed to the renderer in time order with the keyframe last as its reference. A carry ends
at the next keyframe or at a scene cut; every frame is blended from the (at most two) carries
that reach it, by ``1 / distance in time`` times the trust in each carry's motion there.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from motionkit.clip.translation import (
    Keyframe, SharedPass, blend, carried, colour_mapped, rotate_to_reference, warn_cuts,
)
from motionkit.errors import ShapeMismatchError
from motionkit.io.image import image_to_tensor
from motionkit.ops.edit_model import apply_edit_model_numpy
from motionkit.ops.scene_cuts import SceneCutDetector

if TYPE_CHECKING:
    from motionkit.clip import Clip
    from motionkit.components import FlowEstimator, Renderer


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
    return [s for s, e in zip(bounds, bounds[1:]) if not any(s <= k < e for k in keys)]


def stream(
    carry: Carry, key: Keyframe, source: Clip, estimator: FlowEstimator, renderer: Renderer
) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """``(rendered uint8 (H, W, 3), flow (2, H, W))`` for each frame ``carry.lo..carry.hi`` in order."""
    count = carry.hi - carry.lo + 2  # the run and the keyframe
    size, fps = source.size, source.fps
    if carry.backward:
        run = type(source).from_frames(
            lambda: itertools.chain([key.source_uint8], itertools.islice(source.iter_frames(), carry.lo, carry.key)), count, size, fps
        )
    else:
        run = type(source).from_frames(lambda: itertools.islice(source.iter_frames(), carry.key, carry.hi + 1), count, size, fps)
    estimated = estimator.estimate(run)
    if carry.backward:
        estimated = type(estimated).from_frames(rotate_to_reference(estimated.iter_frames), count, size, reference=count - 1)
    shared = SharedPass(estimated)
    motion = type(estimated).from_frames(shared.for_renderer, count, size, reference=estimated.reference)
    rendered = renderer.render(image_to_tensor(key.edited_uint8), motion, fps=fps)
    if tuple(rendered.size) != tuple(size) or len(rendered) != count:
        raise ShapeMismatchError(f"the renderer returned {len(rendered)} frames of {rendered.size}, expected {count} of {size}")
    with contextlib.closing(rendered.iter_frames()) as out, contextlib.closing(shared.for_blend()) as flows:
        if not carry.backward:  # the keyframe itself comes first
            next(out)
            next(flows)
        for _ in range(count - 1):
            yield next(out), next(flows)
    shared.close()


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
    """The translated frames, ``uint8 (H, W, 3)``, one at a time."""
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
    detector = SceneCutDetector(threshold)
    try:
        with contextlib.closing(source.iter_frames()) as originals:
            for t, frame in enumerate(originals):
                if online:
                    if t == 0:
                        keys[0] = Keyframe(0, np.array(frame), edits[0])
                    if detect and detector.is_cut(frame):
                        cuts.append(t)
                        for carry in active:  # nothing is carried across the cut
                            carry.stream.close()
                        active, pending = [], []
                while pending and pending[0].lo == t:
                    carry = pending.pop(0)
                    carry.stream = stream(carry, keys[carry.key], source, estimator, renderer)
                    active.append(carry)
                if t in edits:
                    yield edits[t]
                    continue
                current = frame.astype(np.float32) / 255.0
                if not active:
                    nearest = max((k for k in keys if k <= t), default=min(keys))
                    yield colour_mapped(keys[nearest], current)
                    continue
                predicted = apply_edit_model_numpy([keys[c.key].model for c in active], current)
                estimates = []
                for carry, prediction in zip(active, predicted):
                    rendered, flow = next(carry.stream)
                    estimate, trust = carried(keys[carry.key], rendered, flow, current, prediction, tolerance)
                    estimates.append((estimate, trust, 1.0 / abs(t - carry.key)))
                yield blend(estimates)
                for carry in [c for c in active if c.hi == t]:
                    carry.stream.close()
                    active.remove(carry)
    finally:
        for carry in active:
            carry.stream.close()
        if online and cuts:
            warn_cuts(cuts, cuts)
