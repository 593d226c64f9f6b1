"""``check_output``: refuse an output path before any work is spent on what would go there.

``translate`` streams, so its writer opens (and fails) before the first frame is computed;
``animate`` predicts and renders in memory first. A script or the command line calls
:func:`check_output` on every path it will write, before the slow part, so a typo in a suffix
or a missing folder costs nothing.

Example:
    >>> check_output("out.txt", fps=8)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    motionkit.errors.MediaWriteError: cannot write video out.txt: unknown suffix '.txt'; ...
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Literal

from motionkit.errors import MediaWriteError

#: What :func:`check_output` checks a path for: a video (or frame folder, or a one-frame image),
#: or a saved motion field.
OutputKind = Literal["video", "motion"]


class _Probe(Exception):
    """Raised inside an atomic output to drop its temporary file without renaming it."""


def check_output(path: str | os.PathLike, *, kind: OutputKind = "video", fps: float | None = None,
                 frames: int | None = None) -> Path:
    """Check that ``path`` can be written as ``kind``, writing nothing (the target is untouched).

    Args:
        path: the output path. A video: ``.mp4``/``.webm``/``.gif``/..., a path without suffix
            (or ending in ``/``) for a folder of PNG frames, or an image suffix for one frame.
            A motion field: ``.npz``.
        kind: ``"video"`` or ``"motion"``.
        fps: the video's frame rate, checked as the writer will (finite, > 0).
        frames: the clip's frame count; an image path takes one frame only.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        MediaWriteError: an unknown suffix, a missing or unwritable folder, a folder where a
            file should go (the same messages the writer gives).
        InvalidInputError: a bad ``fps``.
    """
    from motionkit.io.atomic import atomic_path
    from motionkit.io.image import IMAGE_SUFFIXES
    from motionkit.io.video import VideoWriter, is_folder_target

    target = Path(path)
    suffix = target.suffix.lower()
    if kind == "motion":
        if suffix != ".npz":
            raise MediaWriteError(f"cannot save a motion field to {target}: unknown suffix {target.suffix!r}; use .npz")
    elif kind != "video":
        raise MediaWriteError(f"unknown output kind {kind!r}; expected 'video' or 'motion'")
    elif suffix in IMAGE_SUFFIXES and not is_folder_target(target):
        if frames is not None and frames != 1:
            raise MediaWriteError(
                f"cannot write a {frames}-frame clip to the image {target}; use a video suffix "
                "(.mp4, .gif, ...) or a path without suffix for a folder of frames"
            )
    else:
        writer = VideoWriter(target, fps=8.0 if fps is None else fps)  # checks the suffix and fps
        writer.open()  # claims a temporary beside the target: the folder exists and is writable
        writer.abort()
        return target
    with contextlib.suppress(_Probe), atomic_path(target):
        raise _Probe
    return target
