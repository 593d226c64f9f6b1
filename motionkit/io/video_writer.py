"""Writing videos and PNG frame folders as frames come: atomic, constant memory.

:class:`VideoWriter` is a context manager that encodes frames as they come (memory does not
grow with length) into a temporary file beside the target and renames it only when the block
ends without an exception.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from motionkit.errors import InvalidInputError, MediaWriteError, ShapeMismatchError
from motionkit.io.atomic import atomic_dir, atomic_path
from motionkit.io.image import IMAGE_SUFFIXES, check_size, load_image
from motionkit.io.video_reader import TRUE_SIZE_TAG, ffmpeg_exe, ffmpeg_reason

#: Suffixes written by :class:`VideoWriter` -> (ffmpeg muxer, default encoder).
VIDEO_FORMATS: dict[str, tuple[str, str]] = {
    ".mp4": ("mp4", "libx264"),
    ".m4v": ("mp4", "libx264"),
    ".mov": ("mov", "libx264"),
    ".mkv": ("matroska", "libx264"),
    ".avi": ("avi", "libx264"),
    ".webm": ("webm", "libvpx-vp9"),
    ".gif": ("gif", "gif"),
}


_FRAME_NAME = re.compile(r"frame_\d{6,}\.png")


def is_folder_target(path: str | os.PathLike) -> bool:
    """True when ``path`` names a PNG frame folder output: no suffix, a trailing ``/``, or an existing folder.

    Example:
        >>> is_folder_target("out/"), is_folder_target("out"), is_folder_target("out.mp4")
        (True, True, False)
    """
    text = os.fspath(path)
    return text.endswith(("/", os.sep)) or Path(text).suffix == "" or Path(text).is_dir()


def _even_sides(frame: np.ndarray) -> np.ndarray:
    """Pad an odd height or width by one row/column (a copy of the last) for yuv420p encoders."""
    height, width = frame.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return frame
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


def _quality_to_crf(quality: float, best: float, worst: float) -> int:
    # quality 1 (smallest file) .. 10 (best) mapped linearly onto the encoder's CRF range.
    return int(round(worst - (quality - 1.0) * (worst - best) / 9.0))


class VideoWriter:
    """Encode frames to a video file or PNG folder as they come; atomic; constant memory.

    The format follows the target: ``.mp4``/``.m4v``/``.mov``/``.mkv``/``.avi`` (H.264
    ``libx264``, ``yuv420p``), ``.webm`` (VP9), ``.gif`` (a palette per frame, looping), and
    a folder of ``frame_000000.png`` ... when the path has no suffix or ends with ``/`` (an
    existing folder is replaced only when it holds nothing but such frames).

    H.264 and VP9 in ``yuv420p`` need even sides: a frame with an odd height or width is
    **padded by one pixel** (a copy of its last row/column) and the true size is written in
    the file's comment tag (``motionkit frame 451x300``); motionkit's reader
    (:func:`~motionkit.io.video.probe`, :meth:`~motionkit.Clip.read`) crops the padding off,
    so a 451 px wide clip reads back 451 px wide. Other players show the extra column. GIF and
    PNG folders keep odd sizes as they are. GIF stores frame delays in 1/100 s, so fps that do
    not divide 100 are approximated by players.

    Frames go to a temporary file in the target's folder; the target is replaced only when
    the ``with`` block ends without an exception. An exception or ``KeyboardInterrupt``
    mid-write kills the encoder, removes the temporary file and leaves any previous file
    at the target untouched.

    Args:
        path: the target file or folder.
        fps: frames per second (> 0).
        size: ``(H, W)`` of every frame; taken from the first frame when ``None``.
        codec: an ffmpeg encoder overriding the format's default (e.g. ``"libx265"``).
        quality: 1 (smallest) .. 10 (best); maps to the encoder's CRF (8 -> x264 CRF 18).

    Raises:
        MediaWriteError: unknown suffix, missing/unwritable folder, or the encoder failed.
        ShapeMismatchError: a frame differs in size from the first.

    Example:
        >>> import numpy as np, os, tempfile
        >>> out = os.path.join(tempfile.mkdtemp(), "frames/")
        >>> with VideoWriter(out, fps=8) as writer:
        ...     writer.write(np.zeros((4, 4, 3), np.uint8))
        >>> sorted(os.listdir(out))
        ['frame_000000.png']
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float = 8.0,
        size: tuple[int, int] | None = None,
        *,
        codec: str | None = None,
        quality: float = 8,
    ) -> None:
        if not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0:
            raise InvalidInputError(f"fps must be a finite number > 0, got {fps!r}")
        if not 1 <= quality <= 10:
            raise InvalidInputError(f"quality must be between 1 (smallest) and 10 (best), got {quality!r}")
        self.path = Path(path)
        self.fps = float(fps)
        self.quality = quality
        self.codec = codec
        self.is_folder = is_folder_target(path)
        if not self.is_folder and self.path.suffix.lower() not in VIDEO_FORMATS:
            hint = "; to save a single frame use motionkit.io.image.save_image" if self.path.suffix.lower() in IMAGE_SUFFIXES else ""
            raise MediaWriteError(
                f"cannot write video {self.path}: unknown suffix {self.path.suffix!r}; use one of "
                f"{', '.join(VIDEO_FORMATS)} or a path without suffix for a PNG folder{hint}"
            )
        self.size = tuple(size) if size is not None else None
        if self.size is not None:
            check_size(*self.size, what="video frame")
        self.frames_written = 0
        self._stack: contextlib.ExitStack | None = None
        self._tmp: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._log = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> VideoWriter:
        self.open()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def open(self) -> None:
        """Claim the temporary output (called by ``with``)."""
        if self._stack is not None:
            return
        if self.is_folder and self.path.is_dir():
            # Replacing a folder deletes what is in it: only ever a previous set of our frames.
            others = [p.name for p in self.path.iterdir() if not _FRAME_NAME.fullmatch(p.name)]
            if others:
                raise MediaWriteError(
                    f"cannot write frames to {self.path}: the folder exists and holds other files "
                    f"({', '.join(sorted(others)[:3])}{', ...' if len(others) > 3 else ''}); choose a new or empty folder"
                )
        stack = contextlib.ExitStack()
        try:
            self._tmp = stack.enter_context(atomic_dir(self.path) if self.is_folder else atomic_path(self.path))
        except MediaWriteError:
            raise
        except OSError as exc:  # e.g. the "folder" is a file: the temporary cannot be made
            raise MediaWriteError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self._stack = stack

    def close(self) -> None:
        """Finish encoding and move the output onto the target (called by ``with``)."""
        if self._stack is None:
            return
        try:
            if self.frames_written == 0:
                raise MediaWriteError(f"cannot write {self.path}: no frames were written")
            if self._proc is not None:
                self._proc.stdin.close()
                if self._proc.wait() != 0:
                    raise MediaWriteError(f"cannot write {self.path}: ffmpeg failed ({ffmpeg_reason(self._read_log())})")
        except BaseException:
            self.abort()
            raise
        stack, self._stack = self._stack, None
        self._close_log()
        stack.close()  # the atomic rename

    def abort(self) -> None:
        """Stop without writing: kill the encoder, drop the temporary output, keep the target."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._close_log()
        stack, self._stack = self._stack, None
        if stack is not None:
            # Throwing into the atomic context runs its clean-up without the final rename.
            with contextlib.suppress(_Aborted):
                stack.__exit__(_Aborted, _Aborted(), None)

    # -- frames ----------------------------------------------------------------------------

    def write(self, frame: np.ndarray) -> None:
        """Append one ``uint8 (H, W, 3)`` frame (other image layouts are coerced by ``load_image``)."""
        if self._stack is None:
            self.open()
        if not (isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3):
            frame = load_image(frame)
        if self.size is None:
            self.size = frame.shape[:2]
            check_size(*self.size, what="video frame")
        if frame.shape[:2] != self.size:
            raise ShapeMismatchError(
                f"frame {self.frames_written} is {frame.shape[0]}x{frame.shape[1]} but the video is "
                f"{self.size[0]}x{self.size[1]} (HxW); resize the frames to one size"
            )
        if self.is_folder:
            from PIL import Image

            name = self._tmp / f"frame_{self.frames_written:06d}.png"
            try:
                Image.fromarray(frame).save(name, compress_level=3)
            except OSError as exc:  # a full disk, a folder removed under us
                raise MediaWriteError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        else:
            self._encode(frame)
        self.frames_written += 1

    def _encode(self, frame: np.ndarray) -> None:
        fmt, _ = VIDEO_FORMATS[self.path.suffix.lower()]
        if fmt != "gif":
            frame = _even_sides(frame)
        if self._proc is None:
            self._start(frame.shape[0], frame.shape[1])
        try:
            self._proc.stdin.write(memoryview(np.ascontiguousarray(frame)).cast("B"))
        except (BrokenPipeError, OSError):
            self._proc.wait()
            raise MediaWriteError(f"cannot write {self.path}: ffmpeg stopped ({ffmpeg_reason(self._read_log())})") from None

    def _start(self, height: int, width: int) -> None:
        fmt, default_codec = VIDEO_FORMATS[self.path.suffix.lower()]
        codec = self.codec or default_codec
        rate = str(Fraction(self.fps).limit_denominator(1001))
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", rate, "-i", "-", "-an"]
        if (height, width) != self.size:
            # Padded to even sides: record the true size so our reader crops the padding off.
            cmd += ["-metadata", "comment=" + TRUE_SIZE_TAG.format(width=self.size[1], height=self.size[0])]
        if fmt == "gif":
            # A palette per frame keeps memory flat (a global palette needs every frame first).
            cmd += ["-vf", "split[a][b];[a]palettegen=stats_mode=single[p];[b][p]paletteuse=new=1", "-loop", "0"]
        else:
            cmd += ["-c:v", codec, "-pix_fmt", "yuv420p"]
            if codec == "libx264":
                cmd += ["-crf", str(_quality_to_crf(self.quality, best=12, worst=40)), "-preset", "medium"]
            elif codec == "libvpx-vp9":
                cmd += ["-crf", str(_quality_to_crf(self.quality, best=15, worst=50)), "-b:v", "0",
                        "-deadline", "good", "-cpu-used", "4", "-row-mt", "1"]
        if fmt in ("mp4", "mov"):
            # Index at the front: browsers and players start before the whole file arrives.
            cmd += ["-movflags", "+faststart"]
        cmd += ["-f", fmt, str(self._tmp)]
        self._log = tempfile.TemporaryFile()
        try:
            # Own session: a terminal Ctrl-C reaches Python, which then kills ffmpeg in abort().
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log, start_new_session=True)
        except OSError as exc:
            raise MediaWriteError(f"cannot write {self.path}: could not start ffmpeg ({exc})") from None

    def _read_log(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", errors="replace")

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


class _Aborted(Exception):
    """Internal signal thrown into the atomic context to discard an unfinished output."""
