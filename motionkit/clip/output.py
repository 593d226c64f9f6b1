"""Output of a :class:`~motionkit.Clip`: encoding to files, moviepy (both ways), notebook previews.

Split from :mod:`motionkit.clip`; ``Clip`` inherits these.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from motionkit.clip.checks import check_fps
from motionkit.errors import InvalidInputError
from motionkit.io import video as _video
from motionkit.io.image import IMAGE_SUFFIXES, save_image
from motionkit.io.prefetch import write_behind

if TYPE_CHECKING:
    from motionkit.clip import Clip

#: Frames :meth:`ClipOutput.write` lets wait for the encoder (a few frames of memory).
WRITE_AHEAD = 2


class ClipOutput:
    """``Clip``'s writers and moviepy interop (mixed into :class:`~motionkit.Clip`)."""

    __slots__ = ()

    @classmethod
    def from_moviepy(cls, clip: Any, fps: float | None = None) -> Clip:
        """A lazy clip reading a moviepy (v2) ``VideoClip`` frame by frame at ``fps`` (default: the clip's).

        Example:
            >>> from moviepy import ColorClip
            >>> Clip.from_moviepy(ColorClip((32, 16), color=(255, 0, 0), duration=1), fps=4)
            Clip(frames=4, size=(16, 32), fps=4.0, lazy=True)
        """
        rate = fps if fps is not None else getattr(clip, "fps", None)
        if rate is None:
            raise InvalidInputError("the moviepy clip has no fps; pass fps=... to Clip.from_moviepy")
        rate = check_fps(rate)
        if clip.duration is None:
            raise InvalidInputError("the moviepy clip has no duration; set one with clip.with_duration(...)")
        # Frame i is the picture at t = i / fps; the epsilon keeps 7 / 3 * 3 from losing a frame.
        count = max(1, int(math.floor(clip.duration * rate + 1e-6)))
        width, height = clip.size
        is_mask = bool(getattr(clip, "is_mask", False))

        def frames() -> Iterator[np.ndarray]:
            for index in range(count):
                frame = clip.get_frame(index / rate)
                # moviepy colour frames are 0..255 (float after some effects); masks are 0..1.
                if not is_mask and frame.dtype != np.uint8:
                    frame = np.clip(frame, 0, 255).astype(np.uint8)
                yield frame

        return cls.from_frames(frames, count, (height, width), rate)

    def write(self, path: str | os.PathLike, *, fps: float | None = None, quality: float = 8,
              progress: bool | Callable[[int, int | None], None] = False) -> None:
        """Encode the clip, streaming frame by frame, atomically.

        Args:
            path: ``.mp4``/``.mov``/``.mkv``/``.avi`` (H.264), ``.webm`` (VP9), ``.gif``, a
                path without suffix or ending in ``/`` for a folder of PNG frames, or an
                image suffix (``.png``, ``.jpg``, ...) for a one-frame clip.
            fps: overrides the clip's rate in the file.
            quality: 1 (smallest file) .. 10 (best); see :class:`~motionkit.io.video.VideoWriter`
                (H.264/VP9 crop an odd side by one pixel: 451 px -> 450 px).
            progress: ``True`` shows a tqdm progress bar; a callable is called as
                ``progress(done, total)`` after each frame is handed to the encoder (``done``
                frames so far, ``total`` the clip's frame count, None when unknown), and once
                with ``(0, total)`` before the first frame.

        Raises:
            MediaWriteError: unwritable folder, unknown suffix, encoder failure; an existing
                file at ``path`` is left untouched.

        Example:
            >>> clip.write("out.mp4", progress=True)  # doctest: +SKIP
        """
        from pathlib import Path

        rate = check_fps(fps) if fps is not None else self._fps
        if Path(path).suffix.lower() in IMAGE_SUFFIXES and not _video.is_folder_target(path):
            if self._count != 1:
                from motionkit.errors import MediaWriteError

                raise MediaWriteError(
                    f"cannot write a {self._count}-frame clip to the image {path}; use a video suffix "
                    "(.mp4, .gif, ...) or a path without suffix for a folder of frames"
                )
            save_image(path, self.frame(0))
            if callable(progress):
                progress(1, 1)
            return
        from tqdm.auto import tqdm

        report = progress if callable(progress) else None
        total = self._count if self._count else None
        done = 0

        # The bar starts once the output is open, and closes (ending its line) however the
        # loop ends, so an error message never lands on the bar's line.
        def encode(frame: np.ndarray) -> None:
            nonlocal done
            writer.write(frame)
            bar.update()
            done += 1
            if report is not None:
                report(done, total)

        # The frames are made here while a background thread hands the previous ones to the
        # encoder (write_behind), so a lazy clip's chain never waits on the encoder's pipe.
        with _video.VideoWriter(path, fps=rate, size=self._size, quality=quality) as writer, tqdm(
            total=self._count, desc=f"writing {Path(path).name}", unit="frame", disable=progress is not True
        ) as bar, write_behind(encode, depth=WRITE_AHEAD) as put:
            if report is not None:
                report(0, total)
            for frame in self.iter_frames():
                put(frame)

    def to_moviepy(self) -> Any:
        """This clip as a moviepy (v2) ``VideoClip`` (frames fetched on demand; a lazy clip
        is decoded sequentially, restarting only when moviepy seeks backwards).

        Example:
            >>> import numpy as np
            >>> Clip.from_array(np.zeros((4, 8, 6, 3), np.uint8), fps=4).to_moviepy().duration
            1.0
        """
        from moviepy import VideoClip

        fetch = _SequentialFrames(self)
        count, rate = self._count, self._fps

        def frame_function(t: float) -> np.ndarray:
            # Frame i covers [i / fps, (i + 1) / fps); the epsilon absorbs t = i / fps rounding.
            return fetch(min(count - 1, max(0, int(math.floor(t * rate + 1e-6)))))

        return VideoClip(frame_function=frame_function, duration=count / rate).with_fps(rate)

    def _repr_html_(self) -> str:
        """Inline notebook preview: a looping ``<video>`` (base64 mp4) or an ``<img>`` for one frame."""
        import html

        from motionkit.errors import MotionkitError

        try:
            return _video.html_preview(self.iter_frames(), len(self), self._size, self._fps, title=repr(self))
        except (MotionkitError, OSError) as exc:  # a notebook display must never raise
            return f"<pre>{html.escape(repr(self))}\n(no preview: {html.escape(str(exc))})</pre>"


class _SequentialFrames:
    """Random access to a clip's frames that is cheap for forward access.

    In-memory clips index directly; a lazy clip keeps one open iterator and restarts it only
    when asked for a frame before the current one (moviepy asks in order when encoding).
    """

    def __init__(self, clip: Clip) -> None:
        self._clip = clip
        self._iterator: Iterator[np.ndarray] | None = None
        self._position = -1
        self._current: np.ndarray | None = None

    def __call__(self, index: int) -> np.ndarray:
        if not self._clip.is_lazy:
            return self._clip._array[index]
        if self._iterator is None or index < self._position:
            self._iterator, self._position = self._clip.iter_frames(), -1
        while self._position < index:
            self._current = next(self._iterator)
            self._position += 1
        return self._current
