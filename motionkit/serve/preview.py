"""The previews the editor plays: the classical render, the motion's colours, the object regions.

:func:`preview_mp4` and :func:`motion_preview_mp4` are the places the service makes a preview.
Both go through :class:`motionkit.Previewer` (:meth:`~motionkit.Previewer.render_spec`,
:meth:`~motionkit.Previewer.motion_spec`), one per (asset, long side), the last
:data:`KEEP_PREVIEWERS` kept: the downscaled image, the components, the last compiled spec,
the renderer's per-image memos and an H.264 encoder started ahead survive between the edits
of a drag, so an edit pays only for what it changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motionkit.errors import InvalidInputError
from motionkit.spec import MotionSpec
from motionkit.verbs._kept_previewers import KeptPreviewers

#: The preview sizes the service accepts (long side, pixels) and the most frames it renders.
LONG_SIDE_RANGE = (32, 1024)
MAX_PREVIEW_FRAMES = 64
#: Previewers kept (one per asset file and long side), least recently used closed first.
KEEP_PREVIEWERS = 4
_previewers = KeptPreviewers(KEEP_PREVIEWERS)



def _check_frames(spec: MotionSpec) -> None:
    if spec.frames > MAX_PREVIEW_FRAMES:
        raise InvalidInputError(f"a preview renders at most {MAX_PREVIEW_FRAMES} frames; the spec has {spec.frames}")


def _check_long_side(long_side: int) -> int:
    low, high = LONG_SIDE_RANGE
    if not low <= int(long_side) <= high:
        raise InvalidInputError(f"long_side must be in [{low}, {high}] pixels, got {long_side}")
    return int(long_side)


def previewer(path: Path, long_side: int = 256) -> Any:
    """The :class:`motionkit.Previewer` of the image at ``path`` at ``long_side`` px (kept, LRU).

    A file changed on disk (another size or modification time) gets a new previewer.
    """
    from motionkit.verbs.preview import Previewer

    path = Path(path)
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, _check_long_side(long_side))
    return _previewers.get(key, lambda: Previewer(path, long_side=key[-1]))


def close_previewers() -> None:
    """Stop every kept previewer's standby encoders (a service shutting down)."""
    _previewers.close_all()


def preview_mp4(path: Path, spec: MotionSpec, long_side: int = 256) -> bytes:
    """An mp4 of ``spec`` rendered on the image at ``path`` with its long side ``long_side`` px (both sides even).

    Raises:
        InvalidInputError: ``long_side`` out of range, too many frames, or a spec the image
            cannot take (the message of the compiler or renderer).
    """
    _check_frames(spec)
    return previewer(path, long_side).render_spec(spec)


def motion_preview_mp4(path: Path, spec: MotionSpec, long_side: int = 256) -> bytes:
    """An mp4 of the spec's motion colour-coded (hue = direction, saturation = length), one scale for all frames."""
    _check_frames(spec)
    return previewer(path, long_side).motion_spec(spec)


def object_regions(path: Path, spec: MotionSpec, long_side: int = 256) -> tuple[tuple[int, int], list[dict[str, Any]]]:
    """``((h, w), regions)``: the object regions the densifier groups the spec's tracks into, at preview size.

    Found by the image's kept :func:`previewer` (the predictor and downscaled image its
    previews use), so an edit that moved only a drag's end reuses the regions, and the masks
    lie on the very pixels the preview shows. ``regions`` is ``[{"tracks": [...], "region":
    Region JSON}]``, front first.
    """
    from motionkit.spec import Region

    kept = previewer(path, long_side)
    found = kept.regions(spec)
    return tuple(kept.size), [{"tracks": list(region.tracks), "region": Region.from_mask(region.mask).model_dump(mode="json")}
                              for region in found]
