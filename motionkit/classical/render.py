"""The ``warp`` renderer: move the reference image along a motion field, without weights.

The maths is :mod:`motionkit.ops.forward_warp` (invert the field by splatting it, refine the
inverse by Newton steps, fill holes from the background, backward-warp with ``cv2.remap``);
this module holds the component that applies it frame by frame with fixed settings. A frame
whose field is all zero is the input, bit for bit; a 16-frame drag at 512x512 renders in
~0.4 s of CPU.

Example:
    >>> import torch
    >>> image = torch.rand(3, 32, 32)
    >>> flow = torch.zeros(2, 32, 32); flow[0] = 3.0          # three pixels to the right
    >>> out = WarpRenderer().render_frame(image, flow)
    >>> torch.allclose(out[:, :, 3:], image[:, :, :-3], atol=1e-5)
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch

from motionkit.components import FlowEstimator, Renderer
from motionkit.errors import InvalidInputError, NonFiniteError, ShapeMismatchError
from motionkit.ops.colour import to_uint8
from motionkit.ops.forward_warp import warp_frame_numpy

if TYPE_CHECKING:
    from motionkit.clip import Clip
    from motionkit.mask import RegionMask
    from motionkit.motion import MotionField


class WarpRenderer(Renderer):
    """Render an image along a motion field by forward warping (no weights, CPU).

    Args:
        splat: ``"softmax"`` (where pixels collide, the one that moved more wins) or ``"avg"``.
        sharpness: softmax metric per pixel of motion; higher makes occlusions harder.
        fill: colour of disoccluded holes inside the image: ``"background"`` fills them from
            the surrounding pixels that moved least (the uncovered background, not the object
            that left); ``"stretch"`` continues the surrounding motion (rubber sheet: a moved
            object's edge is stretched into its old place). Content entering across the
            border is read mirrored in both cases.
        work_size: long side above which the field is inverted at reduced resolution and refined.

    Example:
        >>> import torch
        >>> renderer = WarpRenderer(splat="softmax", fill="background")
        >>> frame = renderer.render_frame(torch.rand(3, 16, 16), torch.zeros(2, 16, 16))
        >>> frame.shape
        torch.Size([3, 16, 16])
    """

    def __init__(
        self,
        splat: Literal["softmax", "avg"] = "softmax",
        fill: Literal["background", "stretch"] = "background",
        sharpness: float = 1.0,
        work_size: int = 256,
    ) -> None:
        if splat not in ("softmax", "avg"):
            raise InvalidInputError(f"splat must be 'softmax' or 'avg', got {splat!r}")
        if fill not in ("background", "stretch"):
            raise InvalidInputError(f"fill must be 'background' or 'stretch', got {fill!r}")
        if not sharpness > 0 or not work_size >= 16:
            raise InvalidInputError(f"sharpness must be > 0 and work_size >= 16, got {sharpness}, {work_size}")
        self.splat, self.fill, self.sharpness, self.work_size = splat, fill, float(sharpness), int(work_size)

    def __repr__(self) -> str:
        return f"WarpRenderer(splat={self.splat!r}, fill={self.fill!r}, sharpness={self.sharpness}, work_size={self.work_size})"

    def warp(self, image: np.ndarray, flow: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:func:`~motionkit.ops.forward_warp.warp_frame_numpy` with this renderer's settings.

        ``image`` is ``float32 (H, W, C)`` in [0, 1], ``flow`` ``(2, H, W)`` pixels, ``mask``
        ``(H, W)``; returns ``(frame (H, W, C) float32, unseen (H, W) bool)``.
        """
        return warp_frame_numpy(image, flow, mask, splat=self.splat, sharpness=self.sharpness, fill=self.fill, work_size=self.work_size)

    def render_frame(self, image: torch.Tensor, flow: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """One frame: ``image (3, H, W)`` in [0, 1] moved by ``flow (2, H, W)`` px -> ``(3, H, W)`` float32.

        ``mask`` (``(H, W)`` in [0, 1]): where it is 0 nothing moves and the output equals ``image``.
        Any other image-like input (``uint8 (H, W, 3)``, a path) is converted first.
        """
        image_np, mask_np = _check_inputs(image, flow.shape[-2:], mask)
        flow_np = _flow_numpy(flow)
        out, _ = self.warp(image_np, flow_np, mask_np)
        return torch.from_numpy(np.ascontiguousarray(out.transpose(2, 0, 1)))

    def render(self, image: torch.Tensor, motion: MotionField, mask: RegionMask | None = None, *, fps: float = 8.0) -> Clip:
        """Render ``image (3, H, W)`` in [0, 1] along ``motion`` into a ``uint8`` :class:`Clip` at ``fps``.

        Frame ``t`` is the image moved by ``motion.flow[t]``; frame 0 (zero motion) is the input.
        Where ``mask`` is 0, every frame keeps the input's pixels. ``image`` may also be any
        image-like input (``uint8 (H, W, 3)`` array, path).
        """
        from motionkit.clip import Clip

        flow = motion.flow if hasattr(motion, "flow") else torch.as_tensor(motion)
        if flow.dim() != 4 or flow.shape[1] != 2:
            raise ShapeMismatchError(f"motion must be a (T, 2, H, W) field, got {tuple(flow.shape)}")
        values = getattr(mask, "values", mask)
        image_np, mask_np = _check_inputs(image, flow.shape[-2:], values)
        frames = np.empty((flow.shape[0], *image_np.shape), np.uint8)
        for t in range(flow.shape[0]):
            out, _ = self.warp(image_np, _flow_numpy(flow[t]), mask_np)
            frames[t] = to_uint8(out)
        return Clip.from_array(frames, fps=fps, copy=False)

    def translate_frames(
        self, source_frames: Iterable[np.ndarray], edited_first_frame: np.ndarray | torch.Tensor, estimator: FlowEstimator
    ) -> Iterator[np.ndarray]:
        """Video-to-video with this renderer, streamed: ``uint8 (H, W, 3)`` frames in and out.

        See :func:`motionkit.classical.translate.translate_frames` (frame 0 out is the edit).
        """
        from motionkit.classical.translate import translate_frames

        return translate_frames(source_frames, edited_first_frame, estimator, self)


def _flow_numpy(flow: torch.Tensor) -> np.ndarray:
    flow_np = torch.as_tensor(flow, dtype=torch.float32).detach().cpu().numpy()
    if not np.isfinite(flow_np).all():
        raise NonFiniteError("motion field holds NaN or infinite values; fix or mask them before rendering")
    return flow_np


def _check_inputs(image: torch.Tensor, size, mask) -> tuple[np.ndarray, np.ndarray | None]:
    if not (isinstance(image, torch.Tensor) and image.dim() == 3 and image.shape[0] == 3):
        from motionkit.io.image import image_to_tensor

        image = image_to_tensor(image)  # a uint8 (H, W, 3) array, a path, a PIL image, ...
    h, w = int(size[0]), int(size[1])
    if image.shape != (3, h, w):
        raise ShapeMismatchError(f"image must be (3, {h}, {w}) to match the motion field, got {tuple(image.shape)}")
    image_np = np.ascontiguousarray(image.detach().cpu().to(torch.float32).numpy().transpose(1, 2, 0))
    if mask is None:
        return image_np, None
    mask_np = torch.as_tensor(mask, dtype=torch.float32).detach().cpu().numpy()
    if mask_np.shape != (h, w):
        raise ShapeMismatchError(f"mask must be ({h}, {w}) like the image, got {tuple(mask_np.shape)}")
    return image_np, mask_np
