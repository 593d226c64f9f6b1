"""Warnings for inputs the engine accepts but that are more often a slip than a wish.

A track that leaves the frame and a run that moves nothing both render fine; the verbs and
the motion document's compiler say so once, as a :class:`~motionkit.errors.MotionkitWarning`,
which the command line prints as one line.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from motionkit.errors import MotionkitWarning

if TYPE_CHECKING:
    from motionkit.motion import MotionField


def warn_if_leaving(trajectories: Iterable[Any], size: tuple[int, int]) -> None:
    """Warn (:class:`~motionkit.errors.MotionkitWarning`) for each track that leaves the ``(H, W)`` frame, saying how far.

    Tracks may leave the frame: what leaves simply leaves (it is no longer seen). The warning
    is there because a drag far outside the image is more often a slip than a wish.
    """
    h, w = size
    for index, track in enumerate(trajectories):
        points = (track.as_tensor() if hasattr(track, "as_tensor") else torch.as_tensor(track)).detach().cpu().numpy()
        points = np.asarray(points, np.float64).reshape(-1, 2)
        beyond = np.stack([-0.5 - points[:, 0], points[:, 0] - (w - 0.5), -0.5 - points[:, 1], points[:, 1] - (h - 0.5)], 1)
        frame, side = np.unravel_index(int(np.argmax(beyond)), beyond.shape)
        distance = float(beyond[frame, side])
        if distance > 0.5 and beyond[0].max() <= 0:  # a start outside is the predictor's error, not a warning
            edge = ("left", "right", "top", "bottom")[side]
            x, y = points[frame]
            warnings.warn(MotionkitWarning(
                f"track {index} leaves the {w} x {h} (W x H) image: at frame {frame} it is {distance:.0f} px beyond "
                f"the {edge} edge, at ({x:g}, {y:g}); what it drags leaves the frame (check the point if that is not meant)"
            ), stacklevel=3)


def warn_if_still(motion: MotionField) -> None:
    """Warn (:class:`~motionkit.errors.MotionkitWarning`) when an in-memory ``motion`` moves nothing (a still video)."""
    if not motion.is_lazy and not _moves(motion.flow):
        warnings.warn(MotionkitWarning(
            "nothing moves: the motion is zero everywhere (no drag, brush or camera move moved a pixel), so the video "
            "is the still image; give a trajectory that moves (a drag) or a camera move"
        ), stacklevel=3)


def _moves(flow: torch.Tensor) -> bool:
    """Whether a ``(T, 2, H, W)`` field holds a non-zero (or NaN) value anywhere.

    A drag or camera move has moved by its last frame almost always, so that frame (1/T of
    the field) is tested first and the rest only when it is still; numpy's test of a CPU
    tensor's memory stops at the first non-zero value (torch's reads every value: ~10 ms for
    a 16-frame 512 px field).
    """
    def any_nonzero(values: torch.Tensor) -> bool:
        if values.device.type == "cpu" and values.dtype in (torch.float32, torch.float64):
            return bool(values.detach().numpy().any())
        return bool(values.any())

    return flow.shape[0] > 0 and (any_nonzero(flow[-1]) or any_nonzero(flow))
