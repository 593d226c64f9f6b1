"""Video-to-video translation: estimate -> (edit) -> render, through the public protocols only.

``translate(source, edited, estimator, renderer)`` estimates the source's motion
(``estimator.estimate(source)``, a lazy field for streaming estimators), lets the caller edit
it (``motion_edit``), and renders the edited frame 0 along it (``renderer.render``). Any
estimator and any renderer work; none is special-cased.

When the motion is the source's own (no ``motion_edit``), one more streaming step makes the
result follow the video where the edited frame 0 cannot: pixels of frame ``t`` that frame 0
does not show (disocclusions, content entering the frame) or where the motion is wrong come
from the source frame ``t`` passed through a colour map fitted from source frame 0 to the
edited frame 0 (least squares, quadratic in RGB, so global grades, channel swaps and gamma
curves carry over). "Wrong motion" is found by forward-warping the *source* frame 0 along the
same field and comparing it with the real frame ``t``: where they differ by more than
``tolerance`` (mean RGB difference after a small blur) the flow is not trusted. The switch
is feathered over a few pixels so no seam shows. With an edited motion the source frames no
longer line up with the output, so the step is skipped.

Only frame 0 (source and edited), the current frames and what the estimator and renderer
hold are in memory, so memory does not grow with the video's length.

This module sits inside :mod:`motionkit.clip`, below the class that uses it: it builds
clips and fields through the classes of the objects it is given, so it imports neither.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch

from motionkit.errors import ShapeMismatchError
from motionkit.io.image import image_to_tensor, load_image
from motionkit.ops.colour import apply_colour_map_numpy, fit_colour_map_numpy, to_uint8
from motionkit.ops.forward_warp import warp_frame_numpy

if TYPE_CHECKING:
    from motionkit.clip import Clip
    from motionkit.components import FlowEstimator, Renderer
    from motionkit.io.image import ImageLike
    from motionkit.motion import MotionField

#: Mean RGB difference (in [0, 1]) between the warped source frame 0 and the real frame above
#: which the flow is not trusted.
TOLERANCE = 0.08


def translate(
    source: Clip,
    edited_first_frame: ImageLike,
    estimator: FlowEstimator,
    renderer: Renderer,
    *,
    motion_edit: Callable[[MotionField], MotionField] | None = None,
) -> Clip:
    """Render ``edited_first_frame`` along the motion of ``source``; see the module docstring.

    Args:
        source: the video.
        edited_first_frame: the edited frame 0 (any image-like input), the video's size.
        estimator: a flow estimator (anything with ``estimate(clip) -> MotionField``).
        renderer: a renderer (anything with ``render(image, motion, mask, *, fps) -> Clip``).
        motion_edit: ``field -> field``, applied to the estimated motion before rendering.

    Returns:
        A :class:`~motionkit.Clip` at the source's fps: with ``motion_edit``, the renderer's
        clip; without, a lazy clip of the source-guided frames (each pass renders anew).

    Raises:
        ShapeMismatchError: the edited frame's size differs from the video's.
    """
    edited = load_image(edited_first_frame)
    if edited.shape[:2] != tuple(source.size):
        raise ShapeMismatchError(
            f"edited first frame is {edited.shape[1]}x{edited.shape[0]} but the video is "
            f"{source.size[1]}x{source.size[0]} (W x H); edit the video's own frame 0 without resizing it"
        )
    image = image_to_tensor(edited)
    field = estimator.estimate(source)
    if motion_edit is not None:
        return renderer.render(image, motion_edit(field), fps=source.fps)

    def frames() -> Iterator[np.ndarray]:
        shared = _SharedPass(field)
        rendered = renderer.render(image, type(field).from_frames(shared.for_renderer, field.frames, field.size), fps=source.fps)
        if tuple(rendered.size) != tuple(source.size) or len(rendered) != len(source):
            raise ShapeMismatchError(
                f"the renderer returned {len(rendered)} frames of {rendered.size}, expected {len(source)} of {source.size}"
            )
        with contextlib.closing(rendered.iter_frames()) as out, contextlib.closing(source.iter_frames()) as originals:
            yield next(out)
            flows = shared.for_fill()
            next(flows)  # frame 0
            yield from source_guided(out, originals, flows, next(originals), edited)

    return type(source).from_frames(frames, len(source), source.size, source.fps)


class _SharedPass:
    """One pass over a field's frames, read by the renderer and, a frame behind it, by the fill step.

    A lazy field would otherwise be estimated twice. The renderer's first pass taps the frames
    into a queue that the fill step empties; a renderer that reads no frames (it ignores the
    motion or has not started) leaves the pass to the fill step, and a second pass it asks
    for is a fresh one.
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

    def for_fill(self) -> Iterator[torch.Tensor]:
        self._handed = True  # from here on the renderer gets fresh passes
        while True:
            if self._queue:
                yield self._queue.popleft()
                continue
            frame = next(self._frames, None)
            if frame is None:
                return
            yield frame


def source_guided(
    rendered: Iterator[np.ndarray],
    source_frames: Iterator[np.ndarray],
    flows: Iterator[torch.Tensor],
    source0: np.ndarray,
    edited0: np.ndarray,
    *,
    tolerance: float = TOLERANCE,
) -> Iterator[np.ndarray]:
    """Fill rendered frames from the colour-mapped source where frame 0 cannot explain them.

    Args:
        rendered: the rendered frames ``uint8 (H, W, 3)`` (frame 1 onwards).
        source_frames: the source frames ``uint8 (H, W, 3)``, matching ``rendered``.
        flows: the field's frames ``(2, H, W)`` pixels, matching ``rendered``.
        source0, edited0: source and edited frame 0, ``uint8 (H, W, 3)``.
        tolerance: mean RGB difference (in [0, 1]) above which the motion is not trusted.

    Yields:
        ``uint8 (H, W, 3)`` frames.
    """
    original = source0.astype(np.float32) / 255.0
    colour_map = fit_colour_map_numpy(original, edited0.astype(np.float32) / 255.0)
    for out, frame, flow in zip(rendered, source_frames, flows):
        current = frame.astype(np.float32) / 255.0
        # Only the trusted pixels of the moved source are compared; holes count as unseen
        # whatever colour they get, so the cheaper rubber-sheet fill does.
        moved_source, unseen = warp_frame_numpy(original, flow.detach().cpu().numpy(), fill="stretch")
        difference = cv2.GaussianBlur(np.abs(moved_source - current).mean(axis=2), (0, 0), 1.5)
        distrust = (unseen | (difference > tolerance)).astype(np.float32)
        if not distrust.any():
            yield out
            continue
        # Grow by 2 px and feather, so the seam between the two sources falls on trusted pixels.
        alpha = cv2.GaussianBlur(cv2.dilate(distrust, np.ones((5, 5), np.uint8)), (0, 0), 1.5)[..., None]
        mapped = apply_colour_map_numpy(colour_map, current)
        yield to_uint8(out.astype(np.float32) / 255.0 * (1.0 - alpha) + mapped * alpha)
