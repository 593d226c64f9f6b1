"""Streaming video-to-video translation: carry an edit of frame 0 through a whole video.

For every source frame ``t``: the flow estimator gives ``F_0t`` (where each pixel of frame 0
is in frame ``t``), and the renderer moves the *edited* frame 0 along it. Pixels of frame ``t``
that frame 0 does not show (disocclusions, content entering the frame) or where the motion is
wrong cannot come from the edited frame; there the output shows the source frame ``t``
passed through a colour map fitted from source frame 0 to the edited frame 0 (least squares,
quadratic in RGB, so global colour grades, channel swaps and gamma curves carry over).

"Wrong motion" is detected by rendering the *source* frame 0 along the same field and
comparing it with the real frame ``t``: where they disagree by more than ``tolerance`` (mean
RGB difference after a small blur), the flow is not trusted. The switch between the two is
feathered over a few pixels so no seam shows.

Only frame 0 (source and edited), the current frame and the estimator's own state are held,
so memory does not grow with the video's length.

Example:
    >>> import numpy as np
    >>> from motionkit.classical.flow import DISFlowEstimator
    >>> from motionkit.classical.render import WarpRenderer
    >>> video = [np.full((32, 32, 3), 100, np.uint8)] * 3
    >>> edited = video[0][..., ::-1] // 2
    >>> out = list(translate_frames(iter(video), edited, DISFlowEstimator(), WarpRenderer()))
    >>> len(out), out[0].dtype, int(out[2][16, 16, 0])
    (3, dtype('uint8'), 50)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import cv2
import numpy as np
import torch

from motionkit.classical.render import WarpRenderer
from motionkit.components import FlowEstimator, Renderer
from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops.colour import apply_colour_map_numpy, fit_colour_map_numpy, to_uint8
from motionkit.ops.forward_warp import source_map_numpy

# The colour map moved to motionkit.ops.colour; these names stay while tests/classical/test_translate.py imports them here.
fit_colour_map, apply_colour_map = fit_colour_map_numpy, apply_colour_map_numpy


def translate_frames(
    source_frames: Iterable[np.ndarray],
    edited_first_frame: np.ndarray | torch.Tensor,
    estimator: FlowEstimator,
    renderer: Renderer,
    *,
    tolerance: float = 0.08,
) -> Iterator[np.ndarray]:
    """Render ``edited_first_frame`` along the motion of ``source_frames``, one frame at a time.

    Args:
        source_frames: the video, ``uint8 (H, W, 3)`` RGB frames (any iterable; consumed lazily).
        edited_first_frame: the edited frame 0: ``uint8 (H, W, 3)``, float ``(H, W, 3)`` in
            [0, 1], or a ``(3, H, W)`` tensor in [0, 1]; same size as the video.
        estimator: a flow estimator with ``iter_flows`` (``dis``, ``farneback``); it must
            yield flow ``t`` without reading far ahead (frames wait in a queue until used).
        renderer: a renderer with ``render_frame`` (``warp``).
        tolerance: mean RGB difference (in [0, 1]) above which the motion is not trusted.

    Yields:
        ``uint8 (H, W, 3)`` frames; the first is the edited frame itself.

    Raises:
        ShapeMismatchError: the edited frame's size differs from the video's (resize it to
            the video's size first; motionkit does not guess a crop or a scale).
    """
    frames = iter(source_frames)
    first = next(frames, None)
    if first is None:
        return
    first = _check_frame(first, None)
    size = first.shape[:2]
    edited = _edited_frame(edited_first_frame, size)
    source0 = first.astype(np.float32) / 255.0
    colour_map = fit_colour_map_numpy(source0, edited)

    waiting: deque[np.ndarray] = deque()

    def tap() -> Iterator[np.ndarray]:
        waiting.append(first)
        yield first
        for frame in frames:
            frame = _check_frame(frame, size)
            waiting.append(frame)
            yield frame

    for index, flow in enumerate(estimator.iter_flows(tap())):
        frame = waiting.popleft()
        if index == 0:
            yield _edited_uint8(edited_first_frame, edited)
            continue
        current = frame.astype(np.float32) / 255.0
        moved_edit, moved_source, unseen = _render_pair(renderer, edited, source0, np.asarray(flow, np.float32))
        difference = cv2.GaussianBlur(np.abs(moved_source - current).mean(axis=2), (0, 0), 1.5)
        distrust = (unseen | (difference > tolerance)).astype(np.float32)
        # Grow by 2 px and feather, so the seam between the two sources falls on trusted pixels.
        distrust = cv2.GaussianBlur(cv2.dilate(distrust, np.ones((5, 5), np.uint8)), (0, 0), 1.5)
        if distrust.max() > 0:
            mapped = apply_colour_map_numpy(colour_map, current)
            alpha = distrust[..., None]
            moved_edit = moved_edit * (1.0 - alpha) + mapped * alpha
        yield to_uint8(moved_edit)


def _render_pair(
    renderer: Renderer, edited: np.ndarray, source0: np.ndarray, flow: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move the edited and the source frame 0 along ``flow``; also return the unseen pixels."""
    if isinstance(renderer, WarpRenderer):
        # One inverse map serves both images (6 channels in one remap).
        both, unseen = renderer.warp(np.concatenate([edited, source0], axis=2), flow)
        return both[..., :3], both[..., 3:], unseen
    flow_t = torch.from_numpy(flow)
    moved = [renderer.render_frame(torch.from_numpy(img.transpose(2, 0, 1).copy()), flow_t) for img in (edited, source0)]
    _, unseen = source_map_numpy(flow)
    return moved[0].numpy().transpose(1, 2, 0), moved[1].numpy().transpose(1, 2, 0), unseen


def _check_frame(frame: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise InvalidInputError(f"video frames must be uint8 (H, W, 3) RGB, got {frame.dtype} {frame.shape}")
    if size is not None and frame.shape[:2] != size:
        raise ShapeMismatchError(f"every frame must be {size[1]}x{size[0]} (W x H) like frame 0, got {frame.shape[1]}x{frame.shape[0]}")
    return frame


def _edited_frame(edited: np.ndarray | torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """The edited frame as ``float32 (H, W, 3)`` in [0, 1], checked against the video's size."""
    if isinstance(edited, torch.Tensor):
        if edited.dim() != 3 or edited.shape[0] != 3:
            raise ShapeMismatchError(f"an edited frame tensor must be (3, H, W), got {tuple(edited.shape)}")
        array = edited.detach().cpu().to(torch.float32).numpy().transpose(1, 2, 0)
        if edited.dtype == torch.uint8:
            array = array / 255.0
    else:
        array = np.asarray(edited)
        if array.ndim != 3 or array.shape[2] != 3:
            raise ShapeMismatchError(f"the edited frame must be (H, W, 3) RGB, got shape {array.shape}")
        array = array.astype(np.float32) / 255.0 if array.dtype == np.uint8 else array.astype(np.float32)
    if array.shape[:2] != size:
        raise ShapeMismatchError(
            f"the edited first frame is {array.shape[1]}x{array.shape[0]} but the video is {size[1]}x{size[0]} (W x H); "
            "edit frame 0 at the video's size (or resize the edit to it) and try again"
        )
    if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
        raise InvalidInputError("a float edited frame must hold finite values in [0, 1]; pass uint8 for 0..255 values")
    return np.ascontiguousarray(array)


def _edited_uint8(original: np.ndarray | torch.Tensor, edited: np.ndarray) -> np.ndarray:
    """Frame 0 of the output: the user's uint8 edit untouched, else the float edit rounded."""
    if isinstance(original, np.ndarray) and original.dtype == np.uint8:
        return original.copy()
    return to_uint8(edited)
