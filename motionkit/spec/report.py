"""``AdherenceReport``: how closely a video followed a :class:`~motionkit.MotionSpec`, in pixels of the video.

Written by :func:`motionkit.check`; a pydantic value, so it is saved and read as JSON and its
:meth:`~AdherenceReport.table` is what the terminal shows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import pydantic

Point = tuple[float, float]


class _Value(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")


class TrackAdherence(_Value):
    """One track of the spec against the video.

    Attributes:
        index: the track's place in the spec's ``trajectories``.
        kind: ``"drag"`` or ``"pin"``.
        name: the track's name in the spec, if any.
        mean_epe: mean end-point error over the visible frames after frame 0, pixels of the video.
        final_epe: the error at the last frame, or at the last visible keyframe of a track that leaves.
        final_frame: the frame ``final_epe`` is read at.
        max_epe: the largest error over the visible frames.
        requested: where the spec puts the point at ``final_frame``, ``(x, y)`` pixels.
        achieved: where the video's motion took it, ``(x, y)`` pixels.
    """

    index: int
    kind: Literal["drag", "pin"]
    name: str | None = None
    mean_epe: float
    final_epe: float
    final_frame: int
    max_epe: float
    requested: Point
    achieved: Point


class CameraAdherence(_Value):
    """The camera move the video made, fitted as pan / zoom / roll over the still background.

    Attributes:
        requested_pan, requested_zoom, requested_rotate: the spec's camera at the last frame
            (pan in pixels of the video, rotate in degrees).
        achieved_pan, achieved_zoom, achieved_rotate: the similarity transform fitted to the
            video's motion outside the region that may move (all of it when the spec has no mask).
        mean_epe: mean distance, pixels, between the requested camera's motion and the video's
            over those pixels and the frames after frame 0.
    """

    requested_pan: Point
    requested_zoom: float
    requested_rotate: float
    achieved_pan: Point
    achieved_zoom: float
    achieved_rotate: float
    mean_epe: float


class AdherenceReport(_Value):
    """Per-track end-point errors, the motion outside the region that may move, and the camera.

    Attributes:
        video: the checked video's path (None for an in-memory clip).
        size: ``(H, W)`` of the video; every error is in its pixels.
        frames: frames compared (the spec is retimed to the video's frame count).
        estimator: the flow estimator that re-tracked the video.
        tracks: one entry per track, in the spec's trajectory order (pins included).
        outside_motion: mean motion (pixels), beyond the camera's, of the pixels outside the
            spec's region mask, averaged over frames after 0; None when the spec has no mask.
        outside_motion_max: the largest of those per-frame means; None without a mask.
        camera: the fitted camera move against the spec's camera path (identity when it has none).
    """

    video: str | None = None
    size: tuple[int, int]
    frames: int
    estimator: str
    tracks: tuple[TrackAdherence, ...] = ()
    outside_motion: float | None = None
    outside_motion_max: float | None = None
    camera: CameraAdherence

    @property
    def worst_epe(self) -> float:
        """The largest mean or final error of any track (0 without tracks): what ``--max-epe`` is held against."""
        return max((max(t.mean_epe, t.final_epe) for t in self.tracks), default=0.0)

    def table(self) -> str:
        """A plain-text table for the terminal.

        Example:
            >>> report = AdherenceReport(size=(8, 8), frames=2, estimator="dis", camera=CameraAdherence(
            ...     requested_pan=(0, 0), requested_zoom=1, requested_rotate=0, achieved_pan=(0, 0),
            ...     achieved_zoom=1, achieved_rotate=0, mean_epe=0))
            >>> print(report.table().splitlines()[0])
            track  kind  mean EPE px  final EPE px  at frame  requested (x, y)  achieved (x, y)
        """
        head = ("track", "kind", "mean EPE px", "final EPE px", "at frame", "requested (x, y)", "achieved (x, y)")
        rows = [head]
        for t in self.tracks:
            label = f"{t.index}" + (f" {t.name}" if t.name else "")
            rows.append((label, t.kind, f"{t.mean_epe:.2f}", f"{t.final_epe:.2f}", str(t.final_frame),
                         f"{t.requested[0]:.1f}, {t.requested[1]:.1f}", f"{t.achieved[0]:.1f}, {t.achieved[1]:.1f}"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        if self.outside_motion is not None:
            lines.append(f"motion outside the mask: mean {self.outside_motion:.2f} px, worst frame {self.outside_motion_max:.2f} px")
        c = self.camera
        lines.append(
            f"camera: requested pan ({c.requested_pan[0]:.1f}, {c.requested_pan[1]:.1f}) px, zoom {c.requested_zoom:.3f}, "
            f"rotate {c.requested_rotate:.2f} deg; achieved pan ({c.achieved_pan[0]:.1f}, {c.achieved_pan[1]:.1f}) px, "
            f"zoom {c.achieved_zoom:.3f}, rotate {c.achieved_rotate:.2f} deg; mean EPE {c.mean_epe:.2f} px"
        )
        lines.append(f"({self.frames} frames at {self.size[1]}x{self.size[0]}, re-tracked with {self.estimator})")
        return "\n".join(lines)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the report as JSON, atomically."""
        from motionkit.io.atomic import atomic_path

        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(self.model_dump_json(indent=1) + "\n", encoding="utf-8")
        return path
