"""``MotionSpec.validate_for(backend)``: what may go wrong before anything is rendered, with its place in the document.

Problems are warnings (the render runs, but probably not as meant) unless the render is
impossible; those raise :class:`~motionkit.errors.InvalidInputError` naming their place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pydantic

from motionkit import registry
from motionkit.errors import InvalidInputError
from motionkit.spec import timing

if TYPE_CHECKING:
    from motionkit.spec.model import MotionSpec

#: Two drags whose starts are closer than this fraction of the short side probably hold one object.
NEIGHBOURS = 0.08
#: A drag longer than this fraction of the short side tears the classical warp.
CLASSICAL_REACH = 1 / 3
#: Frames the Motion-I2V networks see at once (``motionkit.pipelines.motion_i2v.windows.MODEL_FRAMES``).
MOTION_I2V_WINDOW = 16


class SpecWarning(pydantic.BaseModel):
    """One problem of a spec for a backend.

    Attributes:
        place: where in the document, as pydantic writes it (``trajectories.2.keyframes.1``).
        message: what is wrong and what to do.
        severity: ``"warning"`` (the render runs, probably not as meant).
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    place: str
    message: str
    severity: Literal["warning"] = "warning"

    def __str__(self) -> str:
        return f"{self.place}: {self.message}"


def validate_for(spec: MotionSpec, backend: str = "classical", size: tuple[int, int] | None = None) -> list[SpecWarning]:
    """The spec's problems for ``backend`` on a picture of ``size`` (default: the reference size).

    Raises:
        InvalidInputError: an unknown backend, or a render that cannot be made (a track that
            starts outside the picture), naming the place.
    """
    pair = registry.backend(backend)
    h, w = size or spec.reference_size
    found: list[SpecWarning] = []
    paths = [timing.track_positions(t, spec.frames, (h, w)) for t in spec.trajectories]
    visible = spec.visibility()
    for i, (track, path) in enumerate(zip(spec.trajectories, paths)):
        x, y = path[0]
        if not (-0.5 <= x < w - 0.5 and -0.5 <= y < h - 0.5):
            raise InvalidInputError(f"trajectories.{i}.keyframes.0: the track starts outside the picture (u, v = "
                                    f"{track.keyframes[0].u:g}, {track.keyframes[0].v:g}); a track must start on it")
        outside = (path[:, 0] < -0.5) | (path[:, 0] >= w - 0.5) | (path[:, 1] < -0.5) | (path[:, 1] >= h - 0.5)
        leaving = np.nonzero(outside & visible[i])[0]
        if len(leaving):
            key = max(k for k, kf in enumerate(track.keyframes) if kf.t <= leaving[0])
            found.append(SpecWarning(place=f"trajectories.{i}.keyframes.{key}", message=(
                f"the point leaves the picture at frame {leaving[0]} but is marked visible; set visible: false on the "
                "keyframe where it leaves, or keep it inside")))
    found += _pulled_apart(spec, paths, (h, w))
    short = min(h, w)
    for i, path in enumerate(paths):
        reach = float(np.abs(path - path[0]).max()) if len(path) else 0.0
        if pair.predictor == "sparse" and reach > CLASSICAL_REACH * short:
            found.append(SpecWarning(place=f"trajectories.{i}", message=(
                f"the point moves {reach:.0f} px, over a third of the picture's short side ({short} px): the "
                "classical warp will stretch and tear; shorten the drag")))
        if pair.predictor == "motion-i2v" and (np.abs(path[:, 0] - path[0, 0]).max() > w or np.abs(path[:, 1] - path[0, 1]).max() > h):
            found.append(SpecWarning(place=f"trajectories.{i}", message=(
                "the point moves further than the picture's size: Motion-I2V's flow VAE holds displacements "
                "of at most one width and one height, larger ones are clamped")))
    if pair.predictor == "motion-i2v" and spec.frames > MOTION_I2V_WINDOW:
        found.append(SpecWarning(place="frames", message=(
            f"{spec.frames} frames: Motion-I2V makes {MOTION_I2V_WINDOW} frames in one window; a longer shot is made "
            "window by window and joined (motion may drift between windows)")))
    if pair.predictor != "sparse" and spec.objects:
        found.append(SpecWarning(place="objects", message=(
            f"predictor {pair.predictor!r} takes no object regions; compile needs the object-aware 'sparse' "
            "predictor (backend 'classical') or a spec without objects")))
    if pair.predictor == "sparse" and spec.prompt is not None:
        found.append(SpecWarning(place="prompt", message="the classical backend reads no prompt; it is kept for learned backends"))
    return found


def _pulled_apart(spec: MotionSpec, paths: list[np.ndarray], size: tuple[int, int]) -> list[SpecWarning]:
    """Pairs of drags on one object (listed in one of the spec's objects, or starting close together) that pull apart."""
    drags = [i for i, t in enumerate(spec.trajectories) if not t.is_pin]
    groups = [[t for t in obj.tracks if t in drags] for obj in spec.objects]
    listed = {t for group in groups for t in group}
    close = NEIGHBOURS * min(size)
    loose = [i for i in drags if i not in listed]
    pairs = {(a, b, f"objects.{n}") for n, group in enumerate(groups) for a in group for b in group if a < b}
    pairs |= {(a, b, f"trajectories.{b}") for a in loose for b in loose
              if a < b and np.linalg.norm(paths[a][0] - paths[b][0]) < close}
    found = []
    for a, b, place in sorted(pairs):
        gap = float(np.linalg.norm(paths[a][0] - paths[b][0]))
        stretch = float(np.linalg.norm((paths[a][-1] - paths[a][0]) - (paths[b][-1] - paths[b][0])))
        if stretch > max(gap, 1.0):
            found.append(SpecWarning(place=place, message=(
                f"drags {a} and {b} start {gap:.0f} px apart and pull {stretch:.0f} px apart: one object would be torn; "
                "move them together, or give them separate objects")))
    return found
