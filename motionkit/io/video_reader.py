"""Reading video sources as a stream, through the ffmpeg that imageio-ffmpeg ships.

:func:`probe` tells a source's fps, size and exact frame count without decoding it;
:func:`iter_frames` yields its frames one at a time as ``uint8 (H, W, 3)``. A *source* is a
video file (mp4, webm, mov, mkv, avi, gif, ...), a folder of frames (png/jpg/... sorted by
name, numbers in natural order) or a single image file (one frame). Any failure surfaces as
:class:`~motionkit.errors.MediaReadError` naming the file and the reason, not as an ffmpeg log.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionkit.errors import MediaReadError, ShapeMismatchError
from motionkit.io.image import IMAGE_SUFFIXES, check_size, load_image, read_image_size
from motionkit.io.video_damage import DamagedVideoWarning, DecodeLog

_PROBE_TIMEOUT_S = 120.0


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
        coded_size: ``(H, W)`` the decoder gives when it differs from ``size``: a file
            motionkit padded to even sides, whose true size its comment tag records
            (the reader crops the padding off); ``None`` otherwise.
        stated_frames: the frame count the container's header states (Matroska's
            ``NUMBER_OF_FRAMES`` tag), ``None`` where it states none (mp4's count is its index,
            which ``frames`` already is).
    """

    path: Path
    fps: float | None
    size: tuple[int, int]
    frames: int
    codec: str
    coded_size: tuple[int, int] | None = None
    stated_frames: int | None = None

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


def ffmpeg_reason(log: str) -> str:
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
#: The comment tag :class:`~motionkit.io.video_writer.VideoWriter` writes on a padded video.
TRUE_SIZE_TAG = "motionkit frame {width}x{height}"
_TRUE_SIZE = re.compile(r"comment\s*:\s*motionkit frame (\d{1,5})x(\d{1,5})\b", re.IGNORECASE)
_STATED = re.compile(r"NUMBER_OF_FRAMES(?:-\w+)?\s*:\s*(\d+)")


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
        raise MediaReadError(f"cannot read video {path}: not a readable video ({ffmpeg_reason(log)})")
    codec, rest = stream.group(1), stream.group(2)
    size = _SIZE.search(rest + " ")
    if size is None:
        raise MediaReadError(f"cannot read video {path}: ffmpeg reported no frame size ({ffmpeg_reason(log)})")
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
        raise MediaReadError(f"cannot read video {path}: the file is truncated ({ffmpeg_reason(log)})")
    if frames == 0:
        raise MediaReadError(f"cannot read video {path}: it holds no video frames ({ffmpeg_reason(log)})")
    if not fps or not math.isfinite(fps):
        duration = re.search(r"Duration: (\d+):(\d+):([\d.]+)", header)
        seconds = int(duration.group(1)) * 3600 + int(duration.group(2)) * 60 + float(duration.group(3)) if duration else 0.0
        fps = frames / seconds if seconds > 0 else None
    check_size(height, width, what=f"video {path}")
    coded_size = None
    tagged = _TRUE_SIZE.search(header)
    if tagged:
        true_w, true_h = int(tagged.group(1)), int(tagged.group(2))
        # Only the padding we add (to even sides) is cropped; a file resized since keeps its size.
        if (true_h, true_w) != (height, width) and (height, width) == (true_h + true_h % 2, true_w + true_w % 2):
            coded_size, (height, width) = (height, width), (true_h, true_w)
    stated = _STATED.search(header)
    return VideoInfo(path=path, fps=fps, size=(height, width), frames=frames, codec=codec, coded_size=coded_size,
                     stated_frames=int(stated.group(1)) if stated else None)


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


def _decode_command(info: VideoInfo) -> list[str]:
    # Passthrough: every decoded frame exactly once. The raw pipe muxer otherwise makes the
    # stream constant-rate, duplicating frames of variable-rate (phone) videos, so the count
    # would no longer match probe's. The map picks the stream probe counted (ffmpeg's own
    # choice is the largest one, which can be a cover picture). -debug_ts and the level prefix
    # are what video_damage reads to tell which frames the decoder flagged. Slice threads, not
    # frame threads: with frame threading H.264 conceals damage without flagging the frame
    # (measured with the bundled ffmpeg 9), so damaged B-frames would pass unnamed.
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info", "-debug_ts",
            "-thread_type", "slice", "-i", str(info.path), "-map", "0:v:0", "-fps_mode", "passthrough", "-an", "-sn", "-dn",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]


def _drain(stream, log: DecodeLog) -> None:
    try:
        for raw in iter(stream.readline, b""):
            log.feed(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    finally:
        log.end()  # ffmpeg ended: nobody waits for a line any more


def _read_exact(stream, nbytes: int) -> bytes | None:
    """``nbytes`` from the pipe, or ``None`` at its end (a partial frame counts as the end)."""
    chunks, need = [], nbytes
    while need:
        chunk = stream.read(need)
        if not chunk:
            return None
        chunks.append(chunk)
        need -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _iter_video(info: VideoInfo, allow_damaged: bool = False) -> Iterator[np.ndarray]:
    path = info.path
    height, width = info.size
    coded = info.coded_size or info.size  # what the decoder gives: our odd-size files are padded
    if info.stated_frames is not None and info.stated_frames != info.frames:
        _damaged(path, f"its container states {info.stated_frames} frames but holds {info.frames}", allow_damaged)
    log = DecodeLog()
    try:
        proc = subprocess.Popen(_decode_command(info), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise MediaReadError(f"cannot read video {path}: could not start ffmpeg ({exc})") from None
    reader = threading.Thread(target=_drain, args=(proc.stderr, log), daemon=True)
    reader.start()

    def finish() -> None:
        # Read to the end (frames the caller does not need are dropped), so the log is whole.
        while proc.stdout.read(1 << 16):
            pass
        proc.wait()
        reader.join()

    def check_all() -> None:
        # Before the last frame is yielded: a consumer that stops at the count never asks again.
        finish()
        damage = log.damage(info.frames)
        if damage:
            _damaged(path, damage.describe(), allow_damaged)

    def frame_of(raw: bytes) -> np.ndarray:
        frame = np.frombuffer(raw, dtype=np.uint8).reshape(coded[0], coded[1], 3)
        return frame if coded == (height, width) else frame[:height, :width]

    try:
        size = log.wait_size(_PROBE_TIMEOUT_S)
        if size is None:
            finish()
            raise MediaReadError(f"cannot read video {path}: {ffmpeg_reason(chr(10).join(log.tail))}")
        if size != coded:
            raise MediaReadError(f"cannot read video {path}: decoder gives {size[0]}x{size[1]} frames, header said {coded[0]}x{coded[1]}")
        nbytes = coded[0] * coded[1] * 3
        stored, output, last, aligned = 0, 0, None, allow_damaged
        while stored < info.frames:
            raw = _read_exact(proc.stdout, nbytes)
            if not allow_damaged and log.flagged:
                # Damage seen: read on to where it ends (the next key frame), then say which frames.
                while not log.closed():
                    if _read_exact(proc.stdout, nbytes) is None:
                        finish()
                        break
                _damaged(path, log.damage().describe(), False)
            if raw is None:
                check_all()  # raises unless damage is allowed
                if last is None:
                    raise MediaReadError(f"cannot read video {path}: no frame of it could be decoded")
                for _ in range(info.frames - stored):  # stand-ins keep the clip's length
                    yield last
                return
            frame = frame_of(raw)
            if aligned:
                # A frame the decoder lost is stood in for by the one before, in its place. Its
                # log line precedes it on stderr; if it never comes (another ffmpeg's log
                # format), stop aligning rather than wait at every frame.
                target = log.stored_index(output, timeout=30.0)
                aligned = target is not None
                while target is not None and stored < min(target, info.frames - 1):
                    yield last if last is not None else frame
                    stored += 1
            output += 1
            if stored == info.frames - 1:
                check_all()
            yield frame
            last = frame
            stored += 1
    finally:
        if proc.poll() is None:
            proc.kill()  # the caller left early: stop ffmpeg
        proc.wait()
        reader.join(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            stream.close()


def _damaged(path: Path, what: str, allow: bool) -> None:
    """Raise for damage, or warn when the caller accepts damaged videos."""
    if allow:
        warnings.warn(f"video {path}: {what}; used as decoded (allow_damaged)", DamagedVideoWarning, stacklevel=4)
        return
    raise MediaReadError(
        f"cannot read video {path}: {what}. Re-encode or re-download it, or pass allow_damaged=True "
        "(--allow-damaged) to use it anyway"
    )


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


def iter_frames(path: str | os.PathLike, info: VideoInfo | None = None, *, allow_damaged: bool = False) -> Iterator[np.ndarray]:
    """Yield the frames of a video file, frame folder or image as ``uint8 (H, W, 3)``, one at a time.

    Exactly ``info.frames`` frames are yielded (``info`` defaults to :func:`probe`'s); a
    source that ends early raises instead of silently giving a shorter clip. Closing the
    iterator early stops ffmpeg.

    Damage: frames the decoder flags as corrupt (it conceals lost blocks and carries on), the
    frames predicted from them up to the next key frame, stored frames it cannot decode at
    all, and a count that differs from the one the container states raise a
    :class:`MediaReadError` naming the frames (``"frames 59-119 are damaged"``), at the latest
    before the last frame is yielded. With ``allow_damaged=True`` they are used as decoded and
    a :class:`~motionkit.io.video_damage.DamagedVideoWarning` names them instead; frames that
    could not be decoded at all are then stood in for by the last good one, so the clip keeps
    its length.

    Raises:
        MediaReadError: unreadable, truncated, corrupt or damaged source (names the file and,
            for damage, the frames).
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
    return _iter_video(info, allow_damaged)
