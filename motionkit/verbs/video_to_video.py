"""Video-to-video verbs: ``estimate_motion`` (the motion of a video) and ``translate``.

Example:
    >>> import motionkit as mk
    >>> out = mk.translate("walk.mp4", "walk_frame0_painted.png")  # doctest: +SKIP
    >>> out.write("walk_painted.mp4")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from motionkit import registry
from motionkit.verbs.image_to_video import ImageLike, _image_tensor

if TYPE_CHECKING:
    from motionkit.clip import Clip
    from motionkit.motion import MotionField


def estimate_motion(video: Clip | str, *, estimator: str = "dis", **options: Any) -> MotionField:
    """The motion of a video: a :class:`MotionField` from its frame 0 to every frame.

    Args:
        video: a :class:`Clip` or a path :meth:`Clip.read` accepts.
        estimator: registered flow estimator (``"dis"``, ``"farneback"``, plugins).
        **options: passed to the estimator's constructor.

    Note: the field is held in memory, ``T * H * W * 8`` bytes; for long videos prefer
    :func:`translate`, which streams.
    """
    from motionkit.clip import Clip

    clip = video if isinstance(video, Clip) else Clip.read(video)
    return registry.create("flow_estimator", estimator, **options).estimate(clip)


def translate(
    video: Clip | str,
    edited_first_frame: ImageLike,
    *,
    estimator: str = "dis",
    renderer: str = "warp",
    estimator_options: Mapping[str, Any] | None = None,
    renderer_options: Mapping[str, Any] | None = None,
) -> Clip:
    """Video-to-video: render ``edited_first_frame`` along the motion of ``video``.

    Edit frame 0 of a video in any tool, and this carries the edit through the whole video.
    With a renderer that renders frame by frame (``warp``), the result is a *lazy* clip:
    frames are read, flowed, rendered and encoded one at a time when the clip is iterated or
    written, so memory does not grow with the video's length. Other renderers (the learned
    ``motion-i2v``) receive the whole estimated field.

    Args:
        video: the source video (:class:`Clip` or path).
        edited_first_frame: the edited frame 0, same size as the video.
        estimator: flow estimator name; renderer: renderer name.
        estimator_options, renderer_options: constructor keyword arguments.

    Returns:
        A :class:`Clip` with the source's frame count and fps; frame 0 is the edited frame.

    Example:
        >>> out = translate("walk.mp4", "walk_frame0_painted.png")  # doctest: +SKIP
        >>> out.write("walk_painted.mp4")  # doctest: +SKIP
    """
    from motionkit.clip import Clip
    from motionkit.errors import ShapeMismatchError
    from motionkit.io.image import load_image

    source = video if isinstance(video, Clip) else Clip.read(video)
    edited = load_image(edited_first_frame)
    if edited.shape[:2] != tuple(source.size):
        raise ShapeMismatchError(
            f"edited first frame is {edited.shape[1]}x{edited.shape[0]} but the video is "
            f"{source.size[1]}x{source.size[0]} (W x H); edit the video's own frame 0 without resizing it"
        )
    flow = registry.create("flow_estimator", estimator, **dict(estimator_options or {}))
    paint = registry.create("renderer", renderer, **dict(renderer_options or {}))

    stream = getattr(paint, "translate_frames", None)
    if stream is not None and hasattr(flow, "iter_flows"):
        return Clip.from_frames(
            lambda: stream(source.iter_frames(), edited, flow),
            count=len(source),
            size=source.size,
            fps=source.fps,
        )
    motion = flow.estimate(source)
    return paint.render(_image_tensor(edited), motion, None, fps=source.fps)
