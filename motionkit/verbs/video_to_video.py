"""Video-to-video verbs: ``estimate_motion`` (the motion of a video) and ``translate``.

Both are thin: the logic is the objects' (:meth:`Clip.estimate_motion`, :meth:`Clip.translate`,
:mod:`motionkit.clip.translation`), which find their components through the registry.

Example:
    >>> import motionkit as mk
    >>> out = mk.translate("walk.mp4", "walk_frame0_painted.png")  # doctest: +SKIP
    >>> out.write("walk_painted.mp4")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from motionkit.clip import Clip
    from motionkit.io.image import ImageLike
    from motionkit.motion import MotionField


def estimate_motion(video: Clip | str, *, estimator: str = "dis", **options: Any) -> MotionField:
    """The motion of a video: a :class:`MotionField` from its frame 0 to every frame.

    Args:
        video: a :class:`Clip` or a path :meth:`Clip.read` accepts.
        estimator: registered flow estimator (``"dis"``, ``"farneback"``, plugins).
        **options: passed to the estimator's constructor.

    Returns:
        For a streaming estimator (``dis``, ``farneback``) a *lazy* field, at once: frames are
        estimated when read (``field.iter_frames()``, rendering), one at a time; edit it with
        the per-frame algebra (``field * 0.5``, ``masked``, ``+ MotionField.camera(...)``) and
        it stays lazy. ``field.flow`` reads it all into memory (``T * H * W * 8`` bytes; refused
        above 1 GiB, see :meth:`MotionField.materialize`). An estimator that implements only
        ``estimate`` returns an in-memory field.
    """
    return _clip(video).estimate_motion(estimator, **options)


def translate(
    video: Clip | str,
    edited_first_frame: ImageLike | Mapping[int, ImageLike],
    *,
    estimator: str = "dis",
    renderer: str = "warp",
    motion_edit: Callable[[MotionField], MotionField] | None = None,
    estimator_options: Mapping[str, Any] | None = None,
    renderer_options: Mapping[str, Any] | None = None,
    scene_cuts: str = "stop",
) -> Clip:
    """Video-to-video: carry an edit of frame 0, or of a few keyframes, through ``video`` along its motion.

    Edit frame 0 of a video in any tool (or several frames: ``{0: edited0, 60: edited60}``,
    0-based frame indices), and this carries the edit through the whole video: estimate the
    motion from each keyframe (``estimator``), optionally edit it (``motion_edit``, e.g.
    ``lambda f: f * 0.5`` for half the motion; one keyframe at frame 0 only), and render the
    edited keyframe along it (``renderer``), forwards and backwards; between two keyframes the
    two carries blend by distance in time. With a streaming estimator and renderer
    (``dis`` + ``warp``) the result is a *lazy* clip: frames are read, flowed, rendered and
    encoded one at a time when the clip is iterated or written, so memory does not grow with
    the video's length. Without ``motion_edit``, pixels the keyframes do not show (or where
    the flow is untrusted) come from the source frame through an edit model fitted on the
    keyframes (:mod:`motionkit.clip.translation`). An edit is not carried across a scene cut:
    a shot with no keyframe is the source through the edit's colour map, and a
    :class:`~motionkit.SceneCutWarning` names the cuts (``scene_cuts="carry"`` carries it on).

    Args:
        video: the source video (:class:`Clip` or path).
        edited_first_frame: the edited frame 0, same size as the video; or a mapping
            ``{frame index: edited frame}`` of keyframes.
        estimator: registered flow estimator name (``"dis"``, ``"farneback"``, plugins).
        renderer: registered renderer name (``"warp"``, ``"motion-i2v"``, plugins).
        motion_edit: ``MotionField -> MotionField`` applied before rendering.
        estimator_options, renderer_options: constructor keyword arguments.
        scene_cuts: ``"stop"`` (default) or ``"carry"``.

    Returns:
        A :class:`Clip` with the source's frame count and fps; the keyframes are the edited frames.

    Example:
        >>> out = translate("walk.mp4", "walk_frame0_painted.png", motion_edit=lambda f: f * 0.5)  # doctest: +SKIP
        >>> out.write("walk_painted_calmer.mp4")  # doctest: +SKIP
        >>> translate("walk.mp4", {0: "walk_0.png", 60: "walk_60.png"}).write("walk_painted.mp4")  # doctest: +SKIP
    """
    return _clip(video).translate(
        edited_first_frame,
        estimator=estimator,
        renderer=renderer,
        motion_edit=motion_edit,
        estimator_options=estimator_options,
        renderer_options=renderer_options,
        scene_cuts=scene_cuts,
    )


def _clip(video: Clip | str) -> Clip:
    from motionkit.clip import Clip

    return video if isinstance(video, Clip) else Clip.read(video)
