"""Optical flow of a video from its frame 0, by OpenCV's DIS and Farneback (no weights).

A :class:`~motionkit.MotionField` holds, for each frame ``t``, where every pixel of frame 0
is in frame ``t`` (``F_0t``). Pairwise optical flow gives that in three ways, all offered as
``strategy``:

- ``"direct"``: ``F_0t = flow(I_0, I_t)``. No drift, but the motion between frame 0 and a
  late frame can be too large, and appearance changes accumulate.
- ``"chained"``: compose frame-to-frame flows,
  ``F_0t(p) = F_0,t-1(p) + f_t-1,t(p + F_0,t-1(p))``. Each step is small and easy, but errors
  (and the interpolation of each composition) add up: the field drifts.
- ``"hybrid"`` (default): direct ``flow(I_0, I_t)`` started from the previous frame's
  ``F_0,t-1`` as the initial flow, so the large motion is already explained and the solver
  only refines the small remainder against frame 0: no drift, no large-motion failure.

Measured on a real photo moved by known sub-pixel warps (scikit-image's coffee photo,
320x240, 24 frames unless noted; median end-point error in pixels of ``F_0t`` over all
frames, 16 px from the borders; defaults otherwise; ``benchmarks/measure_flow.py``):

=============================  ======  ======  =======  ======  ======  =======
motion                         DIS                      Farneback
-----------------------------  -----------------------  -----------------------
strategy                       hybrid  direct  chained  hybrid  direct  chained
=============================  ======  ======  =======  ======  ======  =======
pan 0.3, -0.2 px/frame         0.088   0.082   0.581    0.032   0.032   0.266
pan 3, 1.5 px/frame            0.080   0.101   0.985    0.248   44.98   0.236
pan 1, 0.5 px/frame, 48 fr.    0.070   0.068   1.818    0.079   24.56   0.315
zoom 1 %/frame + pan 1 px/fr.  0.278   0.277   0.631    1.092   1.344   1.016
=============================  ======  ======  =======  ======  ======  =======

Hybrid is the default for both: it matches direct where direct works, and keeps working
where direct loses track of large motions (Farneback's direct fails beyond its pyramid's
reach); chained drifts (errors grow with the clip's length). DIS "medium" costs about
10 ms per 320x240 frame on one core, Farneback about 20 ms.

Example:
    >>> import numpy as np
    >>> frames = [np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)] * 3
    >>> flows = list(DISFlowEstimator().iter_flows(iter(frames)))
    >>> len(flows), tuple(flows[0].shape), flows[0].abs().max().item()
    (3, (2, 64, 64), 0.0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Literal

import cv2
import numpy as np
import torch

from motionkit.components import FlowEstimator
from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops.grid import remap_grid

Strategy = Literal["hybrid", "direct", "chained"]
#: ``(gray_a, gray_b, initial (H, W, 2) float32 or None) -> (H, W, 2)`` flow from a to b.
PairFlow = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], np.ndarray]

_DIS_PRESETS = {"ultrafast": 0, "fast": 1, "medium": 2}


def to_gray(frame: np.ndarray) -> np.ndarray:
    """``uint8 (H, W, 3)`` RGB (or ``(H, W)``) -> ``uint8 (H, W)`` luma, the input OpenCV flow wants."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise InvalidInputError(f"video frames must be uint8 (H, W, 3), got dtype {frame.dtype}")
    if frame.ndim == 2:
        return frame
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ShapeMismatchError(f"video frames must be (H, W, 3) RGB, got shape {frame.shape}")
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def compose(accumulated: np.ndarray, step: np.ndarray) -> np.ndarray:
    """``F_0t(p) = F_0,t-1(p) + f_t-1,t(p + F_0,t-1(p))`` for ``(H, W, 2)`` flows in pixels."""
    h, w = accumulated.shape[:2]
    src = remap_grid(h, w) + accumulated
    return accumulated + cv2.remap(step, src[..., 0], src[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def iter_frame0_flows(frames: Iterable[np.ndarray], pair_flow: PairFlow, strategy: Strategy = "hybrid") -> Iterator[np.ndarray]:
    """Stream ``F_0t`` for each frame of ``frames`` (``uint8 (H, W, 3)``), holding two frames.

    Yields ``float32 (2, H, W)`` in pixels; the first item (frame 0) is zeros.
    """
    for flow in _iter_channels_last(frames, pair_flow, strategy):
        yield np.ascontiguousarray(flow.transpose(2, 0, 1), dtype=np.float32)


def _iter_channels_last(frames: Iterable[np.ndarray], pair_flow: PairFlow, strategy: Strategy) -> Iterator[np.ndarray]:
    """:func:`iter_frame0_flows` as the solver gives it, ``float32 (H, W, 2)`` (read-only use: the next step starts from it)."""
    if strategy not in ("hybrid", "direct", "chained"):
        raise InvalidInputError(f"strategy must be 'hybrid', 'direct' or 'chained', got {strategy!r}")
    first = prev = None
    accumulated = None
    for frame in frames:
        gray = to_gray(frame)
        if first is None:
            first = prev = gray
            accumulated = np.zeros((*gray.shape, 2), np.float32)
            yield accumulated
            continue
        if gray.shape != first.shape:
            raise ShapeMismatchError(f"all frames must be {first.shape[::-1]} (W, H) like frame 0, got {gray.shape[::-1]}")
        if strategy == "direct":
            accumulated = pair_flow(first, gray, None)
        elif strategy == "hybrid":
            accumulated = pair_flow(first, gray, accumulated)
        else:
            accumulated = compose(accumulated, pair_flow(prev, gray, None))
        prev = gray
        yield accumulated


def _downscaled(frames: Iterable[np.ndarray], work_side: int | None) -> Iterator[tuple[np.ndarray, tuple[int, int]]]:
    """``(uint8 (h, w) luma at the working size, (H, W) of the frame)`` for each frame.

    A frame whose long side exceeds ``work_side`` is shrunk (area average, once, on the luma)
    so that its long side is ``work_side``; ``None`` keeps every frame's own size.
    """
    for frame in frames:
        gray = to_gray(frame)
        height, width = gray.shape
        if work_side is not None and max(height, width) > work_side:
            scale = work_side / max(height, width)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            yield cv2.resize(gray, size, interpolation=cv2.INTER_AREA), (height, width)
        else:
            yield gray, (height, width)


def _upscaled(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A ``float32 (h, w, 2)`` flow at the working size -> ``float32 (2, H, W)`` at ``size=(H, W)``, in that size's pixels.

    One bilinear resize of the solver's channels-last flow, then each plane scaled into its
    place in the output: numpy's broadcast over a 2-long last axis cost ~8 ms a 720p frame and
    the strided transposes around it ~10 ms more (~20 ms in all, now ~4; the same values).
    """
    h, w = flow.shape[:2]
    height, width = size
    out = np.empty((2, height, width), np.float32)
    if (h, w) == (height, width):
        out[0], out[1] = flow[..., 0], flow[..., 1]
        return out
    channels_last = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
    np.multiply(channels_last[..., 0], np.float32(width / w), out=out[0])
    np.multiply(channels_last[..., 1], np.float32(height / h), out=out[1])
    return out


def _check_work_side(work_side: int | None) -> int | None:
    if work_side is None:
        return None
    if isinstance(work_side, bool) or not isinstance(work_side, (int, np.integer)) or work_side < 16:
        raise InvalidInputError(f"work_side must be None (the frames' own size) or a long side in pixels >= 16, got {work_side!r}")
    return int(work_side)


class _OpenCVFlow(FlowEstimator):
    """Shared streaming logic; subclasses provide ``_pair_flow()`` (a fresh :data:`PairFlow`) and ``strategy``."""

    strategy: Strategy
    work_side: int | None = None

    def _pair_flow(self) -> PairFlow:
        raise NotImplementedError

    def iter_flows(self, frames: Iterable[np.ndarray]) -> Iterator[torch.Tensor]:
        """``uint8 (H, W, 3)`` frames in, ``float32 (2, H, W)`` tensors of ``F_0t`` in pixels out.

        The first item is zeros (frame 0); frame ``t`` is read only when flow ``t`` is asked
        for, so memory stays constant however long the stream is. The inherited
        :meth:`~motionkit.FlowEstimator.estimate` wraps this in a lazy field. Each pass has
        its own solver, so passes may interleave (video-to-video runs two at once) and one
        estimator may serve videos of different sizes.
        """
        if self.work_side is None:
            return (torch.from_numpy(flow) for flow in iter_frame0_flows(frames, self._pair_flow(), self.strategy))
        return self._iter_at_work_size(frames)

    def _iter_at_work_size(self, frames: Iterable[np.ndarray]) -> Iterator[torch.Tensor]:
        # The solver sees the shrunk luma; the hybrid's initial flow stays at that size, and
        # only what is handed out is resampled to the frames' own size.
        sizes: list[tuple[int, int]] = []

        def lumas() -> Iterator[np.ndarray]:
            for gray, size in _downscaled(frames, self.work_side):
                sizes.append(size)
                yield gray

        for flow in _iter_channels_last(lumas(), self._pair_flow(), self.strategy):
            yield torch.from_numpy(_upscaled(flow, sizes.pop(0)))


class DISFlowEstimator(_OpenCVFlow):
    """Dense Inverse Search optical flow (Kroeger et al. 2016, ``cv2.DISOpticalFlow``).

    Args:
        preset: ``"ultrafast"``, ``"fast"`` or ``"medium"`` (slower, more accurate).
        strategy: how ``F_0t`` is built from pairwise flows (see the module docstring).
        work_side: ``None`` (default): the flow is measured at the frames' own size. An
            integer: frames whose long side is larger are shrunk to that long side first, and
            the flow is resampled back (in the frames' pixels); DIS costs about the square of
            the scale. :meth:`Clip.translate` uses 960 (``motionkit.clip.translation.FLOW_WORK_SIDE``, with what it costs in accuracy).
        patch_stride: pixels between the centres of DIS's patches; ``None`` (default) keeps the
            preset's (3 for medium, 4 for fast). Fewer patches cost less: medium with stride 4
            takes ~60 % of the time (:meth:`Clip.translate` uses it, ``motionkit.clip.translation.FLOW_PATCH_STRIDE``).
        refinement_iterations: iterations of DIS's variational refinement at each scale;
            ``None`` (default) keeps the preset's (5 for medium). :meth:`Clip.translate` uses 3
            (``motionkit.clip.translation.FLOW_REFINEMENT``).

    Example:
        >>> DISFlowEstimator(preset="fast", strategy="direct")
        DISFlowEstimator(preset='fast', strategy='direct')
        >>> DISFlowEstimator(work_side=640).work_side
        640
    """

    def __init__(self, preset: str = "medium", strategy: Strategy = "hybrid", work_side: int | None = None,
                 patch_stride: int | None = None, refinement_iterations: int | None = None) -> None:
        if preset not in _DIS_PRESETS:
            raise InvalidInputError(f"DIS preset must be one of {', '.join(_DIS_PRESETS)}, got {preset!r}")
        if strategy not in ("hybrid", "direct", "chained"):
            raise InvalidInputError(f"strategy must be 'hybrid', 'direct' or 'chained', got {strategy!r}")
        if patch_stride is not None and (isinstance(patch_stride, bool) or not isinstance(patch_stride, (int, np.integer))
                                         or not 1 <= patch_stride <= 8):
            raise InvalidInputError(f"patch_stride must be None (the preset's) or pixels between patches, 1..8, got {patch_stride!r}")
        self.preset, self.strategy, self.work_side = preset, strategy, _check_work_side(work_side)
        if refinement_iterations is not None and (isinstance(refinement_iterations, bool)
                                                  or not isinstance(refinement_iterations, (int, np.integer))
                                                  or not 0 <= refinement_iterations <= 50):
            raise InvalidInputError(f"refinement_iterations must be None (the preset's) or 0..50, got {refinement_iterations!r}")
        self.patch_stride = None if patch_stride is None else int(patch_stride)
        self.refinement_iterations = None if refinement_iterations is None else int(refinement_iterations)

    def __repr__(self) -> str:
        side = "" if self.work_side is None else f", work_side={self.work_side}"
        stride = "" if self.patch_stride is None else f", patch_stride={self.patch_stride}"
        refine = "" if self.refinement_iterations is None else f", refinement_iterations={self.refinement_iterations}"
        return f"DISFlowEstimator(preset={self.preset!r}, strategy={self.strategy!r}{side}{stride}{refine})"

    def _pair_flow(self) -> PairFlow:
        # One solver per pass: OpenCV's DIS keeps buffers of the last size it saw, and a solver
        # given an initial flow at one size and then frames of another size crashes (OpenCV 5.0).
        dis = cv2.DISOpticalFlow_create(_DIS_PRESETS[self.preset])
        if self.patch_stride is not None:
            dis.setPatchStride(self.patch_stride)
        if self.refinement_iterations is not None:
            dis.setVariationalRefinementIterations(self.refinement_iterations)

        def pair(a: np.ndarray, b: np.ndarray, init: np.ndarray | None) -> np.ndarray:
            # DIS starts from the flow passed in when it is float32 (H, W, 2), else from zero.
            return dis.calc(a, b, init.copy() if init is not None else None)

        return pair


class FarnebackFlowEstimator(_OpenCVFlow):
    """Farneback polynomial-expansion optical flow (``cv2.calcOpticalFlowFarneback``).

    Smoother and less accurate on fine texture than DIS; useful as a second opinion.

    Args:
        levels, winsize, iterations, poly_n, poly_sigma: OpenCV's parameters (pyramid depth,
            averaging window in pixels, iterations per level, expansion neighbourhood).
        strategy: see the module docstring.

    Example:
        >>> FarnebackFlowEstimator(winsize=21).winsize
        21
    """

    def __init__(
        self,
        levels: int = 5,
        winsize: int = 25,
        iterations: int = 5,
        poly_n: int = 5,
        poly_sigma: float = 1.1,
        strategy: Strategy = "hybrid",
    ) -> None:
        if strategy not in ("hybrid", "direct", "chained"):
            raise InvalidInputError(f"strategy must be 'hybrid', 'direct' or 'chained', got {strategy!r}")
        if poly_n not in (5, 7) or levels < 1 or winsize < 3 or iterations < 1:
            raise InvalidInputError("Farneback needs poly_n in (5, 7), levels >= 1, winsize >= 3, iterations >= 1")
        self.levels, self.winsize, self.iterations = int(levels), int(winsize), int(iterations)
        self.poly_n, self.poly_sigma, self.strategy = int(poly_n), float(poly_sigma), strategy

    def __repr__(self) -> str:
        return f"FarnebackFlowEstimator(winsize={self.winsize}, levels={self.levels}, strategy={self.strategy!r})"

    def _pair_flow(self) -> PairFlow:
        return self._pair

    def _pair(self, a: np.ndarray, b: np.ndarray, init: np.ndarray | None) -> np.ndarray:
        flags = cv2.OPTFLOW_USE_INITIAL_FLOW if init is not None else 0
        flow = init.copy() if init is not None else None
        return cv2.calcOpticalFlowFarneback(
            a, b, flow, 0.5, self.levels, self.winsize, self.iterations, self.poly_n, self.poly_sigma, flags
        )
