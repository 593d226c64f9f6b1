"""``check``: how closely any video followed a :class:`~motionkit.MotionSpec` (the adherence report).

The video is re-tracked with a registered flow estimator (default ``dis``, whose hybrid
strategy measures ``F_0t`` against frame 0 itself, started from the previous frame's flow, so
errors do not pile up along a chain), and every track's start point is carried along that
field: its achieved position in frame ``t`` is ``p_0 + F_0t(p_0)`` (bilinear). The error is
the distance to the spec's position at ``t`` (the track's point, moved by the camera path's
pan, zoom and roll: the camera films the moved scene), in pixels of the video. The spec is placed on
the video by its ``(u, v)`` coordinates; a video one pixel narrower or shorter than the spec's
reference size is taken as the encoder's crop (H.264 needs even sides), not as a resize.

Because only the video and the spec are read, it scores any video: motionkit's renders,
other projects' outputs, real footage.

Example:
    >>> import motionkit as mk
    >>> report = mk.check("cat.mp4", mk.MotionSpec.load("cat.json"))  # doctest: +SKIP
    >>> print(report.table())  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from motionkit import registry
from motionkit.errors import InvalidInputError
from motionkit.spec import timing
from motionkit.spec.document import to_pixels
from motionkit.spec.model import MotionSpec
from motionkit.spec.report import AdherenceReport, CameraAdherence, TrackAdherence

if TYPE_CHECKING:
    from motionkit.clip import Clip

#: Background sample points per side of the picture for the camera and outside-mask measures.
GRID = 64
ACHIEVED_COLOUR = (255, 64, 64)
REQUESTED_COLOUR = (64, 255, 96)


def placement_size(reference: tuple[int, int], video: tuple[int, int]) -> tuple[int, int]:
    """The size the spec's ``(u, v)`` are read at on a video of ``video = (H, W)``.

    The video's own size, except when it is the reference size cropped by at most one pixel a
    side (what an H.264 encoder does to an odd side): then the reference size, since the crop
    keeps pixel coordinates where they were.

    Example:
        >>> placement_size((300, 451), (300, 450)), placement_size((300, 451), (600, 902))
        ((300, 451), (600, 902))
    """
    if all(0 <= r - v <= 1 for r, v in zip(reference, video)):
        return tuple(int(r) for r in reference)
    return tuple(int(v) for v in video)


def _bilinear(flow: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``flow (2, H, W)`` read at ``points (N, 2)`` (x, y), bilinearly, borders clamped: ``(N, 2)``."""
    h, w = flow.shape[1:]
    x = np.clip(points[:, 0], 0, w - 1)
    y = np.clip(points[:, 1], 0, h - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    f = flow.transpose(1, 2, 0)
    top = f[y0, x0] * (1 - fx) + f[y0, x1] * fx
    bottom = f[y1, x0] * (1 - fx) + f[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def similarity_points(points: np.ndarray, pan: tuple[float, float], zoom: float, rotate: float,
                      center: tuple[float, float]) -> np.ndarray:
    """Where a camera move takes ``points (N, 2)``: ``c + zoom R(rotate) (p - c) + pan`` (as :mod:`motionkit.ops.camera`)."""
    theta = math.radians(rotate)
    cos, sin = zoom * math.cos(theta), zoom * math.sin(theta)
    rel = points - np.asarray(center, dtype=np.float64)
    x = center[0] + cos * rel[:, 0] + sin * rel[:, 1] + pan[0]
    y = center[1] - sin * rel[:, 0] + cos * rel[:, 1] + pan[1]
    return np.stack([x, y], axis=1)


#: When a Lucas-Kanade refinement stops: 30 iterations or a step under 0.01 px.
_LK_STOP = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 0.01)


def refine_points(first: np.ndarray, frame: np.ndarray, starts: np.ndarray, guess: np.ndarray, *,
                  window: int = 9, tolerance: float = 1.0, chained: np.ndarray | None = None) -> np.ndarray:
    """Where the content around ``starts`` (frame 0) is in ``frame``, refined from the flow's ``guess``.

    A dense estimator regularises its field over tens of pixels, so at the peak of a drag's
    motion it reports less than the content moved (2-3 px short over a 20 px drag on a
    150 px picture), and where a large part of a small picture moves far it can lose the
    motion altogether. Pyramidal Lucas-Kanade on a ``window`` px patch, started at ``guess``
    and compared with frame 0 itself (no chain, no drift), reads the motion locally. When
    ``chained`` is given (the points followed from the previous frame, a short step that a
    tracker rarely loses) it is refined against frame 0 too, and each point keeps whichever
    start ends on the patch most like its frame-0 patch. A point whose refinements all fail,
    or do not track back to within ``tolerance`` px of its start, keeps the estimator's ``guess``.

    Args:
        first, frame: ``uint8 (H, W)`` grey frames 0 and t.
        starts, guess: ``(N, 2)`` (x, y) pixels.
        chained: optional ``(N, 2)`` second starting guess.

    Returns:
        ``(N, 2)`` positions in ``frame``.
    """
    p0 = starts.astype(np.float32).reshape(-1, 1, 2)
    lk = {"winSize": (window, window), "maxLevel": 1, "flags": cv2.OPTFLOW_USE_INITIAL_FLOW, "criteria": _LK_STOP}
    out = guess.astype(np.float64).copy()
    best = np.full(len(out), np.inf)
    for start in (guess,) if chained is None else (guess, chained):
        ahead, ok, error = cv2.calcOpticalFlowPyrLK(first, frame, p0, start.astype(np.float32).reshape(-1, 1, 2), **lk)
        back, ok_back, _ = cv2.calcOpticalFlowPyrLK(frame, first, ahead, p0.copy(), **lk)
        good = (ok.ravel() == 1) & (ok_back.ravel() == 1) & (np.linalg.norm((back - p0).reshape(-1, 2), axis=1) <= tolerance)
        better = good & (error.ravel() < best)
        out[better] = ahead.reshape(-1, 2)[better]
        best[better] = error.ravel()[better]
    return out


def follow_points(previous: np.ndarray, frame: np.ndarray, points: np.ndarray, *, window: int = 15) -> np.ndarray:
    """``(N, 2)`` positions in ``frame`` of ``points`` in ``previous`` (pyramidal Lucas-Kanade, one step)."""
    p = points.astype(np.float32).reshape(-1, 1, 2)
    moved, ok, _ = cv2.calcOpticalFlowPyrLK(previous, frame, p, None, winSize=(window, window), maxLevel=3, criteria=_LK_STOP)
    out = points.astype(np.float64).copy()
    out[ok.ravel() == 1] = moved.reshape(-1, 2)[ok.ravel() == 1]
    return out


def _fit_similarity(src: np.ndarray, dst: np.ndarray, center: tuple[float, float]) -> tuple[tuple[float, float], float, float]:
    """Pan (pixels), zoom and roll (degrees) of the similarity ``dst = c + z R (src - c) + pan``, fitted robustly."""
    if len(src) < 3:
        return (0.0, 0.0), 1.0, 0.0
    matrix, _ = cv2.estimateAffinePartial2D(src.astype(np.float32), dst.astype(np.float32), method=cv2.LMEDS)
    if matrix is None:
        return (0.0, 0.0), 1.0, 0.0
    a, b = float(matrix[0, 0]), float(matrix[1, 0])  # [[a, -b], [b, a]]: zoom (cos, -sin; sin, cos) in OpenCV's sense
    c = np.asarray(center, dtype=np.float64)
    m = np.array([[a, -b], [b, a]])
    pan = matrix[:, 2] - c + m @ c
    return (float(pan[0]), float(pan[1])), math.hypot(a, b), math.degrees(math.atan2(-b, a))


def _camera_steps(spec: MotionSpec, size: tuple[int, int]) -> tuple[list, tuple[float, float]]:
    h, w = size
    if spec.camera is None:
        return [timing.CameraPose()] * spec.frames, ((w - 1) / 2.0, (h - 1) / 2.0)
    center = ((w - 1) / 2.0, (h - 1) / 2.0) if spec.camera.center is None else to_pixels(*spec.camera.center, size)
    return timing.camera_parameters(spec.camera, spec.frames, size), center


def _still_in_the_scene(spec: MotionSpec, first: np.ndarray, place: tuple[int, int]) -> tuple[np.ndarray, Any]:
    """``(still, objects)`` at ``place``: where the spec moves nothing but by the camera (its object
    motion < 0.5 px, ``bool (H, W)``), and the objects' own field without the camera (``None``
    when nothing but the camera moves)."""
    if not (spec.trajectories or spec.brushes):
        return np.ones(place, dtype=bool), None
    if tuple(first.shape[:2]) != tuple(place):
        first = cv2.resize(np.asarray(first), (place[1], place[0]), interpolation=cv2.INTER_AREA)
    objects = spec.with_changes(camera=None).compile(first)
    moving = np.zeros(place, dtype=bool)
    for frame in objects.iter_frames():
        moving |= frame.norm(dim=0).numpy() >= 0.5
    return ~moving, objects


def _covered(objects: Any, t: int, place: tuple[int, int]) -> np.ndarray:
    """``bool (H, W)`` at ``place``: where the moving objects are at frame ``t`` (2 px around them).

    A still scene point they pass over is hidden then: the video shows the object there, and
    the flow measured at it is the object's, not the camera's.
    """
    flow = objects.frame(t).numpy()
    moving = np.hypot(flow[0], flow[1]) >= 0.5
    ys, xs = np.nonzero(moving)
    tx = np.clip(np.rint(xs + flow[0][moving]), 0, place[1] - 1).astype(np.intp)
    ty = np.clip(np.rint(ys + flow[1][moving]), 0, place[0] - 1).astype(np.intp)
    covered = np.zeros(place, np.uint8)
    covered[ty, tx] = 1
    return cv2.dilate(covered, np.ones((5, 5), np.uint8)) > 0


class _CameraPlacer:
    """Where the spec's camera puts scene points at frame ``t``: its similarity, or its field when it moves in 3D."""

    def __init__(self, spec: MotionSpec, size: tuple[int, int], depth: Any):
        self.poses, self.center = _camera_steps(spec, size)
        moves_3d = spec.camera is not None and any(any(k.moves_3d) for k in spec.camera.keyframes)
        # 3D moves depend on each point's depth: read the camera's own field (parallax from ``depth``).
        self.field = spec.camera_at(size, depth).flow.numpy() if moves_3d else None

    def __call__(self, points: np.ndarray, t: int) -> np.ndarray:
        if self.field is not None:
            return points + _bilinear(self.field[t], points)
        pose = self.poses[t]
        if pose == timing.CameraPose():
            return points
        return similarity_points(points, pose.pan, pose.zoom, pose.rotate, self.center)


def check(video: str | os.PathLike | Clip, spec: MotionSpec | str | os.PathLike, *, estimator: str = "dis",
          overlay: str | os.PathLike | None = None, refine: bool = True, depth: Any = None,
          **options: Any) -> AdherenceReport:
    """Re-track ``video`` and measure how closely it followed ``spec``.

    Args:
        video: a video file (or frame folder) or a :class:`~motionkit.Clip`.
        spec: a :class:`~motionkit.MotionSpec` or the path of one; retimed to the video's frame count.
        estimator: a registered flow estimator (``dis``, ``farneback``, a plugin's).
        overlay: where to write a video of the requested (green) and achieved (red) tracks.
        refine: refine each track's position with :func:`refine_points` (a small-window
            Lucas-Kanade step against frame 0), since a dense estimator smooths a motion's peak.
        depth: the depth map the video was rendered with, for a camera path with 3D moves
            (orbit, dolly, truck, pedestal): where the camera takes each point then depends on
            its depth, and the requested positions and the camera's error are read from the
            camera's own field. Without one a 3D move is measured on a flat plane.
        **options: the estimator's constructor arguments.

    Returns:
        An :class:`~motionkit.spec.report.AdherenceReport`, errors in pixels of the video.

    Raises:
        InvalidInputError: a video of fewer than two frames.
    """
    from motionkit.clip import Clip

    clip = video if isinstance(video, Clip) else Clip.read(video)
    spec = spec if isinstance(spec, MotionSpec) else MotionSpec.load(spec)
    if len(clip) < 2:
        raise InvalidInputError(f"a video to check needs at least two frames, got {len(clip)}")
    spec = spec.with_frames(len(clip))
    h, w = clip.size
    place = placement_size(spec.reference_size, (h, w))
    requested = np.stack([timing.track_positions(t, spec.frames, place) for t in spec.trajectories]) \
        if spec.trajectories else np.zeros((0, spec.frames, 2))
    visible = spec.visibility()
    placer = _CameraPlacer(spec, place, depth)
    cameras, center = placer.poses, placer.center
    # A track says where the point is in the scene; the camera then films the scene.
    for t in range(spec.frames):
        if len(requested):
            requested[:, t] = placer(requested[:, t], t)
    achieved = np.repeat(requested[:, :1], spec.frames, axis=1)

    step = max(1, min(h, w) // GRID)
    gy, gx = np.mgrid[step // 2:h:step, step // 2:w:step]
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float64)
    mask = spec.mask_at(place)
    rows, cols = np.clip(gy, 0, place[0] - 1).ravel(), np.clip(gx, 0, place[1] - 1).ravel()
    outside = None if mask is None else (mask.values.numpy()[rows, cols] <= 0)
    # The camera is measured where only the camera moves things: not on the objects the drags move.
    still, objects = _still_in_the_scene(spec, clip.frame(0), place)
    still = still[rows, cols]
    camera_errors, outside_means, last = [], [], None
    flows = registry.create("flow_estimator", estimator, **options).estimate(clip)
    first = previous = None
    for t, (frame, frame_flow) in enumerate(zip(clip.iter_frames(), flows.iter_frames())):
        grey = cv2.cvtColor(np.asarray(frame), cv2.COLOR_RGB2GRAY)
        if t == 0:
            first = previous = grey
            continue
        flow = frame_flow.numpy()
        if len(requested):
            guess = requested[:, 0] + _bilinear(flow, requested[:, 0])
            if refine:
                chained = follow_points(previous, grey, achieved[:, t - 1])
                achieved[:, t] = refine_points(first, grey, requested[:, 0], guess, chained=chained)
            else:
                achieved[:, t] = guess
        previous = grey
        moved = grid + flow[:, grid[:, 1].astype(int), grid[:, 0].astype(int)].T
        expected = placer(grid, t)
        # Points the camera takes out of the picture cannot be seen: leave them out.
        seen = (expected[:, 0] >= 0) & (expected[:, 0] <= w - 1) & (expected[:, 1] >= 0) & (expected[:, 1] <= h - 1)
        background = (seen & still) if outside is None else (seen & still & outside)
        if objects is not None:  # not where a moving object hides the still scene at this frame
            at = np.clip(np.rint(expected), 0, [place[1] - 1, place[0] - 1]).astype(np.intp)
            background &= ~_covered(objects, t, place)[at[:, 1], at[:, 0]]
        error = np.linalg.norm(moved - expected, axis=1)
        if background.any():
            camera_errors.append(float(np.median(error[background])))
        if outside is not None and (seen & outside).any():
            outside_means.append(float(error[seen & outside].mean()))
        last = (grid[background], moved[background])

    tracks = []
    for k, track in enumerate(spec.trajectories):
        err = np.linalg.norm(achieved[k] - requested[k], axis=1)
        shown = visible[k].copy()
        shown[0] = False
        final = timing.last_visible_frame(track, spec.frames)
        tracks.append(TrackAdherence(
            index=k, kind="pin" if track.is_pin else "drag", name=track.name,
            mean_epe=float(err[shown].mean()) if shown.any() else 0.0, final_epe=float(err[final]), final_frame=final,
            max_epe=float(err[shown].max()) if shown.any() else 0.0,
            requested=tuple(float(v) for v in requested[k, final]), achieved=tuple(float(v) for v in achieved[k, final]),
        ))
    fitted = _fit_similarity(*last, center) if last is not None else ((0.0, 0.0), 1.0, 0.0)
    req_pan, req_zoom, req_rotate = cameras[-1][:3]
    camera = CameraAdherence(requested_pan=req_pan, requested_zoom=req_zoom, requested_rotate=req_rotate,
                             achieved_pan=fitted[0], achieved_zoom=fitted[1], achieved_rotate=fitted[2],
                             mean_epe=float(np.mean(camera_errors)) if camera_errors else 0.0)
    report = AdherenceReport(
        video=None if isinstance(video, Clip) else os.fspath(video), size=(h, w), frames=spec.frames, estimator=estimator,
        tracks=tuple(tracks), camera=camera,
        outside_motion=float(np.mean(outside_means)) if outside_means else (None if mask is None else 0.0),
        outside_motion_max=float(np.max(outside_means)) if outside_means else (None if mask is None else 0.0),
    )
    if overlay is not None:
        draw_overlay(clip, requested, achieved, visible).write(overlay)
    return report


def draw_overlay(clip: Clip, requested: np.ndarray, achieved: np.ndarray, visible: np.ndarray) -> Clip:
    """A lazy copy of ``clip`` with each track's requested (green, a ring at its end) and achieved (red, a dot) path drawn up to each frame."""
    from motionkit.clip import Clip

    shift = 4

    def frames():
        for t, frame in enumerate(clip.iter_frames()):
            canvas = np.array(frame)
            for k in range(len(requested)):
                # Achieved: a line ending in a dot; requested: a line ending in a ring around where the dot should be.
                for path, colour, ring in ((achieved[k, : t + 1], ACHIEVED_COLOUR, False), (requested[k, : t + 1], REQUESTED_COLOUR, True)):
                    pts = np.round(path * (1 << shift)).astype(np.int32).reshape(-1, 1, 2)
                    cv2.polylines(canvas, [pts], False, colour, 1, cv2.LINE_AA, shift)
                    radius, thickness = (6, 2 if visible[k, t] else 1) if ring else (3, -1)
                    cv2.circle(canvas, tuple(int(v) for v in pts[-1, 0]), radius << shift, colour, thickness, cv2.LINE_AA, shift)
            yield canvas

    return Clip.from_frames(frames, len(clip), clip.size, clip.fps)
