"""Streaming video IO through the ffmpeg that imageio-ffmpeg ships.

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

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from motionkit.errors import InvalidInputError, MediaReadError, MediaWriteError, ShapeMismatchError
from motionkit.io.atomic import atomic_dir, atomic_path
from motionkit.io.image import IMAGE_SUFFIXES, check_size, load_image, read_image_size

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

_PROBE_TIMEOUT_S = 120.0
_FRAME_NAME = re.compile(r"frame_\d{6,}\.png")


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary (imageio-ffmpeg's, or ``IMAGEIO_FFMPEG_EXE``).

    Example:
        >>> "ffmpeg" in ffmpeg_exe()
        True
    """
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` learns about a source without decoding it.

    Attributes:
        path: the source.
        fps: frames per second, or ``None`` for folders and still images (they carry none).
        size: ``(H, W)`` in pixels of the decoded frames.
        frames: exact number of frames.
        codec: ffmpeg's codec name (``"h264"``, ``"gif"``, ...), ``"frames"`` for a folder,
            ``"image"`` for a still image.
    """

    path: Path
    fps: float | None
    size: tuple[int, int]
    frames: int
    codec: str

    @property
    def duration(self) -> float | None:
        """Length in seconds (``frames / fps``), ``None`` without an fps."""
        return None if self.fps is None else self.frames / self.fps


def _natural_key(path: Path) -> list:
    # "frame_2.png" sorts before "frame_10.png", as people number frames.
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def frame_files(folder: str | os.PathLike) -> list[Path]:
    """The image files of a frame folder in natural order (hidden files skipped).

    Raises:
        MediaReadError: the folder is missing or holds no image files.

    Example:
        >>> [p.name for p in frame_files("frames")]  # doctest: +SKIP
        ['f1.png', 'f2.png', 'f10.png']
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MediaReadError(f"cannot read frames from {folder}: no such folder")
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()]
    if not files:
        raise MediaReadError(
            f"cannot read frames from {folder}: the folder holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    return sorted(files, key=_natural_key)


def _ffmpeg_reason(log: str) -> str:
    """The informative line of an ffmpeg error log (not the whole banner)."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    patterns = ("No space left on device", "Permission denied", "moov atom not found", "Invalid data found",
                "partial file", "does not contain any stream", "Error opening input")
    for pattern in patterns:
        for line in lines:
            if pattern.lower() in line.lower():
                return re.sub(r"^\[[^\]]*\]\s*", "", line)
    return lines[-1] if lines else "ffmpeg gave no reason"


_STREAM = re.compile(r"Stream #\d+:\d+.*?: Video: (\w+)(.*)")
_SIZE = re.compile(r"[ ,](\d{1,5})x(\d{1,5})[ ,\[]")
_RATE = re.compile(r"([\d.]+)(k?) (fps|tbr)\b")


def _parse_rate(match_value: str, kilo: str) -> float:
    return float(match_value) * (1000.0 if kilo else 1.0)


def _probe_video(path: Path) -> VideoInfo:
    # One demux pass with stream copy: the header gives codec, size and fps; the final
    # "frame=" counter gives the exact number of video packets, without decoding any.
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null", "-"]
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=_PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise MediaReadError(f"cannot read video {path}: ffmpeg did not finish probing it within {_PROBE_TIMEOUT_S:g} s") from None
    log = done.stderr.decode("utf-8", errors="replace")
    header = log.split("Stream mapping:")[0].split("Output #0")[0]
    stream = _STREAM.search(header)
    if stream is None:
        if "Stream #" in header:
            raise MediaReadError(f"cannot read video {path}: the file has no video stream")
        raise MediaReadError(f"cannot read video {path}: not a readable video ({_ffmpeg_reason(log)})")
    codec, rest = stream.group(1), stream.group(2)
    size = _SIZE.search(rest + " ")
    if size is None:
        raise MediaReadError(f"cannot read video {path}: ffmpeg reported no frame size ({_ffmpeg_reason(log)})")
    width, height = int(size.group(1)), int(size.group(2))
    # Decoding applies a phone's rotation metadata, so a quarter turn swaps the sides.
    rotation = re.search(r"rotation of (-?[\d.]+) degrees", header)
    if rotation and round(abs(float(rotation.group(1)))) % 180 == 90:
        width, height = height, width
    rates = {kind: _parse_rate(value, kilo) for value, kilo, kind in _RATE.findall(rest)}
    # GIF delays are whole centiseconds, so ffmpeg's "fps" is an average (8.33 for 8 fps);
    # its "tbr" is the intended rate there. Elsewhere "fps" is the stream's frame rate.
    fps = rates.get("tbr") if codec == "gif" else rates.get("fps", rates.get("tbr"))
    counts = re.findall(r"frame=\s*(\d+)", log)
    frames = int(counts[-1]) if counts else 0
    if "partial file" in log:
        raise MediaReadError(f"cannot read video {path}: the file is truncated ({_ffmpeg_reason(log)})")
    if frames == 0:
        raise MediaReadError(f"cannot read video {path}: it holds no video frames ({_ffmpeg_reason(log)})")
    if not fps or not math.isfinite(fps):
        duration = re.search(r"Duration: (\d+):(\d+):([\d.]+)", header)
        seconds = int(duration.group(1)) * 3600 + int(duration.group(2)) * 60 + float(duration.group(3)) if duration else 0.0
        fps = frames / seconds if seconds > 0 else None
    check_size(height, width, what=f"video {path}")
    return VideoInfo(path=path, fps=fps, size=(height, width), frames=frames, codec=codec)


def probe(path: str | os.PathLike) -> VideoInfo:
    """fps, size and exact frame count of a video file, frame folder or image file.

    Video files are demuxed once without decoding (fast even for long files). For a
    variable-frame-rate video ``fps`` is the average rate; every stored frame is still read
    exactly once.

    Raises:
        MediaReadError: missing, truncated, corrupt, zero-frame or not a video; the message
            names the file and what was wrong.

    Example:
        >>> probe("walk.mp4")  # doctest: +SKIP
        VideoInfo(path=PosixPath('walk.mp4'), fps=24.0, size=(720, 1280), frames=96, codec='h264')
    """
    path = Path(path)
    if path.is_dir():
        files = frame_files(path)
        height, width = read_image_size(files[0])
        return VideoInfo(path=path, fps=None, size=(height, width), frames=len(files), codec="frames")
    if not path.exists():
        raise MediaReadError(f"cannot read {path}: no such file or folder")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        height, width = read_image_size(path)
        return VideoInfo(path=path, fps=None, size=(height, width), frames=1, codec="image")
    return _probe_video(path)


class _RotationNoticeFilter(logging.Filter):
    """Drops imageio-ffmpeg's warning that a rotated video decodes with swapped sides:
    :func:`probe` already reports the decoded size, so the notice is noise for our users."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("The frame size for reading")


def _iter_video(info: VideoInfo) -> Iterator[np.ndarray]:
    import imageio_ffmpeg

    ffmpeg_logger = logging.getLogger("imageio_ffmpeg")
    if not any(isinstance(f, _RotationNoticeFilter) for f in ffmpeg_logger.filters):
        ffmpeg_logger.addFilter(_RotationNoticeFilter())

    path = info.path
    height, width = info.size
    # Passthrough: every decoded frame exactly once. The raw pipe muxer otherwise makes the
    # stream constant-rate, duplicating frames of variable-rate (phone) videos, so the count
    # would no longer match probe's. The map picks the stream probe counted (ffmpeg's own
    # choice is the largest one, which can be a cover picture).
    reader = imageio_ffmpeg.read_frames(str(path), output_params=["-map", "0:v:0", "-fps_mode", "passthrough"])
    try:
        try:
            meta = next(reader)
        except (OSError, RuntimeError, StopIteration) as exc:
            raise MediaReadError(f"cannot read video {path}: {_ffmpeg_reason(str(exc))}") from None
        if tuple(meta["size"]) != (width, height):
            decoded = f"{meta['size'][1]}x{meta['size'][0]}"
            raise MediaReadError(f"cannot read video {path}: decoder gives {decoded} frames, header said {height}x{width}")
        produced = 0
        while produced < info.frames:
            try:
                raw = next(reader)
            except StopIteration:
                raise MediaReadError(
                    f"cannot read video {path}: it ended after {produced} of {info.frames} frames; the file is truncated or corrupt"
                ) from None
            except (OSError, RuntimeError) as exc:
                raise MediaReadError(f"cannot read video {path}: frame {produced} is unreadable ({_ffmpeg_reason(str(exc))})") from None
            produced += 1
            yield np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
    finally:
        reader.close()  # stops ffmpeg even when the caller leaves early


def _iter_folder(info: VideoInfo) -> Iterator[np.ndarray]:
    files = frame_files(info.path)
    if len(files) != info.frames:
        raise MediaReadError(f"cannot read frames from {info.path}: it held {info.frames} frames when opened, now {len(files)}")
    for file in files:
        frame = load_image(file)
        if frame.shape[:2] != info.size:
            raise ShapeMismatchError(
                f"frame {file} is {frame.shape[0]}x{frame.shape[1]} but the first frame of {info.path} is "
                f"{info.size[0]}x{info.size[1]} (HxW); all frames of a clip must have one size"
            )
        yield frame


def iter_frames(path: str | os.PathLike, info: VideoInfo | None = None) -> Iterator[np.ndarray]:
    """Yield the frames of a video file, frame folder or image as ``uint8 (H, W, 3)``, one at a time.

    Exactly ``info.frames`` frames are yielded (``info`` defaults to :func:`probe`'s); a
    source that ends early raises instead of silently giving a shorter clip. Closing the
    iterator early stops ffmpeg.

    Raises:
        MediaReadError: unreadable, truncated or corrupt source (names the file).
        ShapeMismatchError: a frame folder mixes image sizes.

    Example:
        >>> for frame in iter_frames("walk.mp4"):  # doctest: +SKIP
        ...     print(frame.shape, frame.dtype)
    """
    info = info if info is not None else probe(path)
    if info.codec == "frames":
        return _iter_folder(info)
    if info.codec == "image":
        return iter([load_image(info.path)])
    return _iter_video(info)


def is_folder_target(path: str | os.PathLike) -> bool:
    """True when ``path`` names a PNG frame folder output: no suffix, a trailing ``/``, or an existing folder.

    Example:
        >>> is_folder_target("out/"), is_folder_target("out"), is_folder_target("out.mp4")
        (True, True, False)
    """
    text = os.fspath(path)
    return text.endswith(("/", os.sep)) or Path(text).suffix == "" or Path(text).is_dir()


def _even_sides(frame: np.ndarray) -> np.ndarray:
    """Drop the last row/column of an odd side (pad a 1 px side to 2) for yuv420p encoders."""
    height, width = frame.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return frame
    if height == 1 or width == 1:
        frame = np.pad(frame, ((0, int(height == 1)), (0, int(width == 1)), (0, 0)), mode="edge")
        height, width = frame.shape[:2]
    return frame[: height - height % 2, : width - width % 2]


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
    **cropped by one pixel** (its last row/column) before encoding, so a 451 px wide clip
    reads back 450 px wide; the pixels kept are the original ones, none is invented. (A side
    of 1 px is padded to 2 instead.) GIF and PNG folders keep odd sizes. GIF stores frame
    delays in 1/100 s, so fps that do not divide 100 are approximated by players.

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
                    raise MediaWriteError(f"cannot write {self.path}: ffmpeg failed ({_ffmpeg_reason(self._read_log())})")
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
            raise MediaWriteError(f"cannot write {self.path}: ffmpeg stopped ({_ffmpeg_reason(self._read_log())})") from None

    def _start(self, height: int, width: int) -> None:
        fmt, default_codec = VIDEO_FORMATS[self.path.suffix.lower()]
        codec = self.codec or default_codec
        rate = str(Fraction(self.fps).limit_denominator(1001))
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", rate, "-i", "-", "-an"]
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



def html_preview(
    frames: Iterable[np.ndarray],
    count: int,
    size: tuple[int, int],
    fps: float,
    *,
    title: str = "",
    max_side: int = 480,
    max_frames: int = 240,
) -> str:
    """An HTML snippet showing frames inline: ``<img>`` (PNG) for one frame, else a looping
    ``<video>`` with a base64 H.264 mp4. Frames are downscaled so the longer side is at most
    ``max_side`` and only the first ``max_frames`` are encoded, so the page stays small.

    Example:
        >>> import numpy as np
        >>> "<video" in html_preview([np.zeros((8, 8, 3), np.uint8)] * 2, 2, (8, 8), 8.0)
        True
    """
    import base64
    import html
    import io

    import cv2

    height, width = size
    scale = min(1.0, max_side / max(height, width))
    # Even sides so that the preview needs no padding for yuv420p.
    out_h, out_w = max(2, int(height * scale) // 2 * 2), max(2, int(width * scale) // 2 * 2)
    shown = min(count, max_frames)

    def small(frame: np.ndarray) -> np.ndarray:
        return frame if (out_h, out_w) == frame.shape[:2] else cv2.resize(frame, (out_w, out_h), interpolation=cv2.INTER_AREA)

    note = html.escape(title) + (f" (preview of the first {shown} frames)" if shown < count else "")
    caption = f'<div style="font-family:monospace;font-size:small">{note}</div>' if note else ""
    if shown == 1:
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(small(next(iter(frames)))).save(buffer, format="PNG")
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        return f'<div><img src="data:image/png;base64,{data}" width="{out_w}" height="{out_h}"/>{caption}</div>'
    with tempfile.TemporaryDirectory(prefix="motionkit-preview-") as folder:
        target = Path(folder) / "preview.mp4"
        with VideoWriter(target, fps=fps, size=(out_h, out_w), quality=6) as writer:
            for frame in itertools.islice(frames, shown):
                writer.write(small(frame))
        data = base64.b64encode(target.read_bytes()).decode("ascii")
    return (
        f'<div><video width="{out_w}" height="{out_h}" autoplay loop muted playsinline controls '
        f'src="data:video/mp4;base64,{data}"></video>{caption}</div>'
    )
