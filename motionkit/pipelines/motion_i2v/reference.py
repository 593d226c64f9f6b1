"""Fields measured from a later frame (``MotionField.reference = k``) through a renderer anchored on frame 0.

Stage 2 of Motion-I2V (and the windows it is streamed in, :func:`motionkit.components.plan_windows`)
takes the reference image as frame 0 and the flow from it to every later frame. A field whose
reference is frame ``k`` (a backward carry of video-to-video: frames ``0..k-1`` before the
edited keyframe ``k``) is rendered by putting frame ``k`` first, the others after it in time
order, and putting the rendered frame ``k`` back in its place: the networks see the order
they were trained on, the clip comes out in the field's order, and frame ``k`` is the image
(up to the VAE, as frame 0 of a reference-0 field is). A lazy field stays lazy: its
reference frame is zero by definition, so nothing has to be read ahead, and the rendered
reference frame is the only one held until its place comes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from motionkit.clip import Clip
from motionkit.motion import MotionField


def reference_first(motion: MotionField) -> MotionField:
    """``motion`` with its reference frame first (reference 0), the other frames after it in time order."""
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
    """The frames of a clip rendered along :func:`reference_first`'s field, back in the field's order."""
    if reference == 0:
        return clip
    if not clip.is_lazy:
        frames = clip.to_numpy()
        order = np.concatenate([frames[1 : reference + 1], frames[:1], frames[reference + 1 :]])
        return Clip.from_array(order, fps=clip.fps)

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
