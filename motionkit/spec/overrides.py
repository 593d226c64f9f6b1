"""A motion document changed the way ``animate``'s flags change a ``--spec``.

``motionkit animate IMAGE --spec SPEC.json --frames 24 --drag ...`` and
``motionkit.animate(image, spec=..., frames=24, trajectories=[...])`` change the document the
same way: :func:`spec_with_overrides`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.spec.model import MotionSpec

if TYPE_CHECKING:
    from motionkit.mask import RegionMask
    from motionkit.trajectory import Trajectory


def as_spec(spec: MotionSpec | str | os.PathLike) -> MotionSpec:
    """A :class:`MotionSpec`, or the one a spec file holds (loaded now)."""
    return spec if isinstance(spec, MotionSpec) else MotionSpec.load(spec)


def spec_with_overrides(
    spec: MotionSpec,
    size: tuple[int, int],
    *,
    frames: int | None = None,
    fps: float | None = None,
    prompt: str | None = None,
    trajectories: Iterable[Trajectory] = (),
    brush: RegionMask | None = None,
    camera: Mapping[str, Any] | None = None,
) -> MotionSpec:
    """``spec`` changed the way ``animate``'s flags change a ``--spec``, for a picture of ``size = (H, W)``.

    ``frames`` rescales its times, ``fps`` and ``prompt`` replace its own; ``trajectories``
    (pixel paths of ``frames`` positions, or one position for a pin) are appended after its
    tracks, ``brush`` is united with its region mask, and ``camera`` (moves in pixels, see
    :func:`~motionkit.spec.camera_moves.camera_from_pixels`) becomes its camera path.

    Raises:
        InvalidInputError: a camera move on a spec that has a camera path, or a camera given
            as a field (a spec holds moves, not fields).
        ShapeMismatchError: a trajectory of another frame count than the shot's.
    """
    import numpy as np

    from motionkit.spec.document import Keyframe, Track, to_uv

    trajectories = list(trajectories)
    if not trajectories and brush is None and camera is None and frames is None and fps is None and prompt is None:
        return spec
    if frames is not None:
        spec = spec.with_frames(frames)
    if camera is not None and not isinstance(camera, Mapping):
        raise InvalidInputError("with spec=, give camera as moves ({'orbit': 8, 'zoom': 1.1} ...) or put the path in the spec; "
                                "a MotionField camera has no place in a spec")
    tracks = []
    for i, trajectory in enumerate(trajectories):
        points = trajectory.as_tensor().numpy().astype(np.float64)
        if len(points) not in (1, spec.frames):
            raise ShapeMismatchError(f"trajectory {i} has {len(points)} positions but the shot has {spec.frames} frames")
        tracks.append(Track(keyframes=[Keyframe(t=float(t), u=to_uv(x, y, size)[0], v=to_uv(x, y, size)[1])
                                       for t, (x, y) in enumerate(points)], interpolation="linear"))
    added = MotionSpec.from_pixels(size, frames=spec.frames, fps=spec.fps, mask=brush, camera=camera or None)
    added = added.with_changes(trajectories=tracks)
    spec = spec.extended(added)
    changes = {k: v for k, v in {"fps": fps, "prompt": prompt}.items() if v is not None}
    return spec.with_changes(**changes) if changes else spec
