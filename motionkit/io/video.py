"""Streaming video IO through the ffmpeg that imageio-ffmpeg ships (one import for all of it).

Reading: :func:`probe` tells a source's fps, size and exact frame count without decoding it;
:func:`iter_frames` yields its frames one at a time as ``uint8 (H, W, 3)``. A *source* is a
video file (mp4, webm, mov, mkv, avi, gif, ...), a folder of frames (png/jpg/... sorted by
name, numbers in natural order) or a single image file (one frame). Any failure surfaces as
:class:`~motionkit.errors.MediaReadError` naming the file and the reason, not as an ffmpeg log.

Writing: :class:`VideoWriter` is a context manager that encodes frames as they come (memory
does not grow with length) into a temporary file beside the target and renames it only when
the block ends without an exception.

Example:
    >>> import numpy as np, os, tempfile
    >>> out = os.path.join(tempfile.mkdtemp(), "grey.mp4")
    >>> with VideoWriter(out, fps=8) as writer:
    ...     for _ in range(4):
    ...         writer.write(np.full((32, 48, 3), 128, np.uint8))
    >>> info = probe(out); (info.frames, info.size, info.fps)
    (4, (32, 48), 8.0)
"""

from motionkit.io.preview import html_preview
from motionkit.io.video_damage import DamagedVideoWarning
from motionkit.io.video_reader import VideoInfo, ffmpeg_exe, frame_files, iter_frames, probe
from motionkit.io.video_writer import VIDEO_FORMATS, VideoWriter, is_folder_target

__all__ = [
    "VIDEO_FORMATS",
    "DamagedVideoWarning",
    "VideoInfo",
    "VideoWriter",
    "ffmpeg_exe",
    "frame_files",
    "html_preview",
    "is_folder_target",
    "iter_frames",
    "probe",
]
