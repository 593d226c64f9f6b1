"""Videos longer than the networks were trained for (16 frames).

Stage 2 is anchored on frame 0: its temporal attention warps frame 0's features by the flow
from frame 0 to each frame. A long video is therefore denoised as overlapping *windows*
that each hold frame 0 followed by a run of later frames; at every step the windows' noise
predictions are averaged with weights that ramp across each overlap, and one DDIM step is
taken on the whole video (a MultiDiffusion-style blend), so neighbouring windows agree.
The windows are :func:`motionkit.components.plan_windows`' (the renderer protocol's, so the
streaming :class:`~motionkit.WindowRenderer` path cuts a field the same way).

Stage 1 cannot do the same (its flows are relative to the reference image and its strides
are tied to the window), so long flows are *chained*: see :func:`chain_segments`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from motionkit.components import plan_windows
from motionkit.errors import InvalidInputError
from motionkit.pipelines.motion_i2v.loops import EpsFn

#: Frames the official networks were trained with (frame 0 included).
MODEL_FRAMES = 16


def window_weights(windows: Sequence[Sequence[int]], overlap: int) -> list[torch.Tensor]:
    """Blend weight of every frame of every window: 1 inside, ramping linearly towards a shared edge.

    A window's body ramps up over its first ``overlap`` frames unless it is the first window,
    and down over its last ``overlap`` frames unless it is the last; frame 0 (in every window)
    weighs 1. All weights are > 0, so every frame is covered.

    Example:
        >>> [w.tolist() for w in window_weights([[0, 1, 2, 3], [0, 3, 4, 5]], overlap=1)]
        [[1.0, 1.0, 1.0, 0.5], [1.0, 0.5, 1.0, 1.0]]
    """
    weights = []
    ramp = float(overlap + 1)
    for k, idx in enumerate(windows):
        n = len(idx) - 1
        j = torch.arange(n, dtype=torch.float32)
        w = torch.ones(n)
        if k > 0:
            w = torch.minimum(w, (j + 1) / ramp)
        if k < len(windows) - 1:
            w = torch.minimum(w, (n - j) / ramp)
        weights.append(torch.cat([torch.ones(1), w]))
    return weights


def windowed_eps(make_eps: Callable[[list[int]], EpsFn], frames: int, window: int = MODEL_FRAMES, overlap: int = 4) -> EpsFn:
    """Wrap a per-window noise predictor into one over all ``frames``.

    Args:
        make_eps: ``make_eps(indices)`` returns the predictor for the frames ``indices``
            (it must slice its flow accordingly).

    Returns:
        ``eps(x (B, C, frames, h, w), t)``; with a single window it is ``make_eps`` of all frames
        unchanged, so the official loop is reproduced exactly.

    Example:
        >>> eps = windowed_eps(lambda idx: (lambda x, t: x * 2), frames=12, window=4, overlap=1)
        >>> bool((eps(torch.ones(2, 4, 12, 3, 3), 0) == 2).all())
        True
    """
    windows = plan_windows(frames, window, overlap)
    if len(windows) == 1:
        return make_eps(windows[0])
    weights = window_weights(windows, overlap)
    fns = [make_eps(idx) for idx in windows]

    def eps(x: torch.Tensor, t) -> torch.Tensor:
        total = torch.zeros_like(x, dtype=torch.float32)
        norm = torch.zeros(frames, device=x.device)
        for idx, w, fn in zip(windows, weights, fns):
            w = w.to(x.device)
            total[:, :, idx] += fn(x[:, :, idx], t) * w.view(1, 1, -1, 1, 1)
            norm[idx] += w
        return total / norm.view(1, 1, -1, 1, 1)

    return eps


def chain_segments(frames: int, window: int = MODEL_FRAMES) -> list[tuple[int, int]]:
    """Stage-1 segments ``(start, end)`` (inclusive) covering frames 0..frames-1, chained end to start.

    Each segment is predicted from the (warped) frame ``start`` and spans at most ``window``
    frames; the next segment starts at the previous segment's last frame.

    Example:
        >>> chain_segments(20, window=8)
        [(0, 7), (7, 14), (14, 19)]
    """
    if window < 2:
        raise InvalidInputError(f"a stage-1 window needs at least 2 frames, got {window}")
    segments, start = [], 0
    while True:
        end = min(start + window - 1, frames - 1)
        segments.append((start, end))
        if end == frames - 1:
            return segments
        start = end
