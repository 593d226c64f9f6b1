"""H.264 encoding of frames as they are made, into mp4 bytes for a browser (previews, streams).

:class:`H264Stream` starts ffmpeg when it is created, so the encoder loads while the caller
renders its first frame; frames go to ffmpeg's stdin as they come and ffmpeg encodes them in
its own process, in parallel with the rendering of the next one. :meth:`H264Stream.finish`
returns the mp4 (``yuv420p``, moov atom first, so a browser plays it before it has all of it).

:class:`StandbyEncoders` keeps one encoder of a given size and rate started ahead, so an
editor's next preview does not wait for ffmpeg to start at all. The next one is started once
the current one is done (:meth:`StandbyEncoders.refill`), on a thread of its own, so its
start-up neither delays the caller nor takes a core from the frames being rendered.

Example:
    >>> import numpy as np
    >>> stream = H264Stream((64, 96), fps=8)
    >>> for t in range(4):
    ...     stream.write(np.full((64, 96, 3), 60 * t, np.uint8))
    >>> data = stream.finish()
    >>> data[4:8], b"avc1" in data[:4096]
    (b'ftyp', True)
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import weakref
from pathlib import Path

import numpy as np

from motionkit.errors import InvalidInputError, MediaWriteError, ShapeMismatchError
from motionkit.io.video_reader import ffmpeg_exe


class H264Stream:
    """One mp4 being encoded by an ffmpeg process fed frame by frame.

    Args:
        size: ``(H, W)`` of every frame, both even (``yuv420p`` needs even sides).
        fps: frames per second of the file.
        crf: x264 constant rate factor (18 ~ visually lossless, 23 default, 28 small).
        preset: x264 speed preset; ``"ultrafast"``/``"veryfast"`` keep up with rendering.
        threads: encoder threads (1 leaves the other cores to the renderer).
        tune: x264 tuning, e.g. ``"zerolatency"`` (no look-ahead, no B-frames: each frame is
            encoded as it arrives, so :meth:`finish` does not wait for a backlog), or None.

    Raises:
        InvalidInputError: odd or non-positive sides, a bad rate.
        MediaWriteError: ffmpeg could not be started.
    """

    def __init__(self, size: tuple[int, int], fps: float, *, crf: int = 23, preset: str = "veryfast", threads: int = 1,
                 tune: str | None = None) -> None:
        height, width = int(size[0]), int(size[1])
        if height <= 0 or width <= 0 or height % 2 or width % 2:
            raise InvalidInputError(f"H.264 (yuv420p) needs even, positive sides, got {width}x{height} (W x H)")
        if not (fps > 0 and np.isfinite(fps)):
            raise InvalidInputError(f"fps must be a positive number, got {fps!r}")
        self.size, self.fps, self.frames = (height, width), float(fps), 0
        self._folder = tempfile.mkdtemp(prefix="motionkit-h264-")
        self._target = Path(self._folder) / "stream.mp4"
        self._log = open(Path(self._folder) / "ffmpeg.log", "wb")
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{self.fps:g}", "-i", "-", "-an",
            "-c:v", "libx264", "-preset", preset, *(["-tune", tune] if tune else []), "-crf", str(int(crf)), "-pix_fmt", "yuv420p",
            "-threads", str(int(threads)), "-movflags", "+faststart", "-f", "mp4", str(self._target),
        ]
        try:
            self._proc: subprocess.Popen | None = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log, start_new_session=True
            )
        except OSError as exc:
            self._cleanup()
            raise MediaWriteError(f"could not start ffmpeg to encode H.264: {exc}") from exc
        # Kill the process and remove the folder if the stream is dropped unfinished.
        self._finalizer = weakref.finalize(self, _discard, self._proc, self._log, self._folder)

    def write(self, frame: np.ndarray) -> None:
        """Send one ``uint8 (H, W, 3)`` RGB frame to the encoder."""
        if self._proc is None:
            raise MediaWriteError("this H.264 stream is finished; start a new one")
        if frame.shape != (*self.size, 3) or frame.dtype != np.uint8:
            raise ShapeMismatchError(f"frames must be uint8 {(*self.size, 3)}, got {frame.dtype} {tuple(frame.shape)}")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).data)
        except (BrokenPipeError, OSError) as exc:
            raise MediaWriteError(f"ffmpeg stopped while encoding frame {self.frames}: {self._error()}") from exc
        self.frames += 1

    def finish(self) -> bytes:
        """Close the input, wait for ffmpeg, and return the mp4's bytes (the stream is then done)."""
        if self._proc is None:
            raise MediaWriteError("this H.264 stream is already finished")
        if self.frames == 0:
            self.close()
            raise MediaWriteError("no frame was written; an mp4 needs at least one")
        proc, self._proc = self._proc, None
        try:
            proc.stdin.close()
            code = proc.wait()
            if code != 0:
                raise MediaWriteError(f"ffmpeg failed to encode the H.264 stream (exit {code}): {self._error()}")
            return self._target.read_bytes()
        finally:
            self._finalizer.detach()
            self._cleanup()

    def close(self) -> None:
        """Abandon the stream: stop ffmpeg and remove its temporary files."""
        if self._proc is not None:
            proc, self._proc = self._proc, None
            self._finalizer.detach()
            _discard(proc, self._log, self._folder)

    def _error(self) -> str:
        self._log.flush()
        text = (Path(self._folder) / "ffmpeg.log").read_text(errors="replace").strip()
        return text.splitlines()[-1] if text else "no message"

    def _cleanup(self) -> None:
        self._log.close()
        shutil.rmtree(self._folder, ignore_errors=True)


def _discard(proc: subprocess.Popen, log, folder: str) -> None:
    if proc.poll() is None:
        proc.kill()
    try:
        proc.stdin.close()
    except OSError:
        pass
    proc.wait()
    log.close()
    shutil.rmtree(folder, ignore_errors=True)


class StandbyEncoders:
    """Encoders started ahead, one per setting: :meth:`take` hands over a running one, :meth:`refill` starts the next.

    A caller takes an encoder, streams its frames, finishes it and then calls :meth:`refill`:
    the next encoder starts on a background thread while the caller goes on, so ffmpeg's
    start-up runs neither on the caller's time nor beside the caller's rendering. A
    :meth:`take` with none ready starts one at once.

    Example:
        >>> standby = StandbyEncoders()
        >>> stream = standby.take((64, 64), fps=8)     # none ready yet: started now
        >>> stream.write(np.zeros((64, 64, 3), np.uint8)); len(stream.finish()) > 0
        True
        >>> standby.refill((64, 64), fps=8)            # the next one starts in the background
        >>> standby.close()
    """

    def __init__(self, spare: bool = True) -> None:
        self.spare = bool(spare)
        self._ready: dict[tuple, H264Stream] = {}
        self._lock = threading.Lock()
        self._starting: list[threading.Thread] = []
        self._closed = False

    @staticmethod
    def _key(size: tuple[int, int], fps: float, settings: dict) -> tuple:
        return (tuple(int(s) for s in size), float(fps), tuple(sorted(settings.items())))

    def take(self, size: tuple[int, int], fps: float, **settings) -> H264Stream:
        """A started encoder for these settings: the one kept ready, else a new one."""
        with self._lock:
            stream = self._ready.pop(self._key(size, fps, settings), None)
        if stream is None or stream._proc is None or stream._proc.poll() is not None:
            if stream is not None:
                stream.close()
            stream = H264Stream(size, fps, **settings)
        return stream

    def refill(self, size: tuple[int, int], fps: float, **settings) -> None:
        """Start the next encoder for these settings on a background thread (none if one is ready)."""
        if not self.spare:
            return
        key = self._key(size, fps, settings)
        with self._lock:
            if self._closed or key in self._ready:
                return
            self._starting = [t for t in self._starting if t.is_alive()]
            thread = threading.Thread(target=self._start, args=(key, size, fps, settings), daemon=True,
                                      name="motionkit-encoder-standby")
            self._starting.append(thread)
        thread.start()

    def _start(self, key: tuple, size: tuple[int, int], fps: float, settings: dict) -> None:
        try:
            stream = H264Stream(size, fps, **settings)
        except MediaWriteError:
            return  # no spare: the next take() starts one itself and reports the failure
        with self._lock:
            if self._closed or key in self._ready:
                extra = stream
            else:
                self._ready[key], extra = stream, None
        if extra is not None:
            extra.close()

    def close(self) -> None:
        """Stop every encoder kept in standby (and those still starting)."""
        with self._lock:
            self._closed = True
            starting, self._starting = self._starting, []
        for thread in starting:
            thread.join()
        with self._lock:
            ready, self._ready = self._ready, {}
        for stream in ready.values():
            stream.close()
