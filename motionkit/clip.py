"""`Clip`: frames plus a frame rate, as an immutable value.

A clip is either held in memory as ``uint8 (T, H, W, 3)`` or backed lazily by a *frame
source* — a zero-argument callable returning a fresh iterator of ``uint8 (H, W, 3)`` frames
whose count, size and fps are known up front — so a long video read from disk is streamed,
never materialised unless the caller asks (:meth:`Clip.to_numpy`, :meth:`Clip.to_tensor`,
:meth:`Clip.materialize`). Edits (``with_fps``, ``resized``, ``cropped``, slicing, stacking)
return new clips and stay lazy when their input is.

Example:
    >>> import numpy as np
    >>> clip = Clip.from_array(np.zeros((16, 64, 96, 3), np.uint8), fps=8)
    >>> clip
    Clip(frames=16, size=(64, 96), fps=8.0, lazy=False)
    >>> clip[2:6].duration, clip.resized(scale=0.5).size
    (0.5, (32, 48))
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.io import video as _video
from motionkit.io.image import IMAGE_SUFFIXES, ImageLike, check_size, load_image, save_image

if TYPE_CHECKING:
    from motionkit.motion import MotionField

#: A zero-argument callable returning a fresh iterator of ``uint8 (H, W, 3)`` frames.
FrameSource = Callable[[], Iterator[np.ndarray]]

#: Largest accepted frame count (about 3 hours at 24 fps); refused before anything is read.
MAX_FRAMES = 262_144


def _check_fps(fps: Any) -> float:
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) or not math.isfinite(fps) or fps <= 0:
        raise InvalidInputError(f"fps must be a finite number > 0, got {fps!r}")
    return float(fps)


def _check_count(count: Any) -> int:
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)):
        raise InvalidInputError(f"a frame count must be an integer, got {count!r}")
    if count <= 0:
        raise InvalidInputError(f"a clip needs at least one frame, got {count}")
    if count > MAX_FRAMES:
        from motionkit.errors import TooLargeError

        raise TooLargeError(f"a clip of {count} frames is too long; at most {MAX_FRAMES} frames are accepted")
    return int(count)


def _coerce_frame(frame: Any, size: tuple[int, int], index: int) -> np.ndarray:
    """A frame from a source -> ``uint8 (H, W, 3)`` of the clip's size, or a clear error."""
    if not (isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3):
        frame = load_image(frame)
    if frame.shape[:2] != tuple(size):
        raise ShapeMismatchError(
            f"frame {index} is {frame.shape[0]}x{frame.shape[1]} but the clip is {size[0]}x{size[1]} (HxW); "
            "all frames of a clip must have one size"
        )
    return frame


def _resize_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    height, width = size
    # Area averaging avoids aliasing when shrinking; bilinear is smoother when enlarging.
    shrinking = height * width < frame.shape[0] * frame.shape[1]
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


class Clip:
    """Frames (``uint8 (T, H, W, 3)`` RGB) plus ``fps``; immutable.

    Build one with :meth:`read`, :meth:`from_image`, :meth:`from_array`, :meth:`from_frames`
    or :meth:`from_moviepy`; never by calling the constructor.

    Indexing follows numpy: ``clip[i]`` is frame ``i`` as ``uint8 (H, W, 3)`` (negative ``i``
    counts from the end), ``clip[a:b:s]`` is a new :class:`Clip` (lazy when ``clip`` is; fps
    unchanged, so a step shortens the duration).

    Example:
        >>> import numpy as np
        >>> clip = Clip.from_image(np.zeros((48, 64, 3), np.uint8), frames=4, fps=2)
        >>> len(clip), clip.size, clip.duration, clip[0].shape
        (4, (48, 64), 2.0, (48, 64, 3))
    """

    __slots__ = ("_array", "_source", "_count", "_size", "_fps")

    def __init__(self, *, _array: np.ndarray | None = None, _source: FrameSource | None = None,
                 _count: int = 0, _size: tuple[int, int] = (0, 0), _fps: float = 8.0) -> None:
        if (_array is None) == (_source is None) or _count <= 0:
            raise InvalidInputError("make clips with Clip.read, Clip.from_image, Clip.from_array or Clip.from_frames")
        self._array = _array
        self._source = _source
        self._count = _count
        self._size = _size
        self._fps = _fps

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "_fps"):
            raise AttributeError(f"Clip is immutable; use with_fps(), resized(), ... to get a changed copy (tried to set {name!r})")
        object.__setattr__(self, name, value)

    def __reduce__(self) -> tuple:
        # The default slot-based pickling would trip the immutability guard; rebuild instead.
        return (_restore, (self._array, self._source, self._count, self._size, self._fps))

    @classmethod
    def _of_array(cls, array: np.ndarray, fps: float) -> Clip:
        """Wrap an array this module owns (no copy); it is made read-only."""
        if array.shape[0] == 0:
            raise InvalidInputError("a clip needs at least one frame, got an empty array (0 frames)")
        _check_count(array.shape[0])
        check_size(array.shape[1], array.shape[2], what="clip frame")
        array.flags.writeable = False
        return cls(_array=array, _count=array.shape[0], _size=(array.shape[1], array.shape[2]), _fps=_check_fps(fps))

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def read(cls, path: str | os.PathLike, *, fps: float | None = None) -> Clip:
        """Open a video file, a folder of frames or an image file as a clip.

        Videos and folders are read lazily: only :func:`motionkit.io.video.probe` runs now
        (fps, size, exact frame count); frames are decoded each time they are iterated.
        An image file gives a one-frame clip.

        Args:
            path: ``.mp4``/``.webm``/``.mov``/``.mkv``/``.avi``/``.gif``/..., a folder of
                ``png``/``jpg``/... frames (natural name order), or an image file.
            fps: overrides the file's rate (required for nothing; folders and images,
                which store none, default to 8.0).

        Raises:
            MediaReadError: missing, truncated, corrupt or empty source (names the file).

        Example:
            >>> clip = Clip.read("walk.mp4")  # doctest: +SKIP
            >>> clip.is_lazy, clip.fps  # doctest: +SKIP
            (True, 24.0)
        """
        info = _video.probe(path)
        rate = fps if fps is not None else (info.fps or 8.0)
        if info.codec == "image":
            return cls._of_array(load_image(info.path)[None], rate)
        return cls.from_frames(lambda: _video.iter_frames(info.path, info), info.frames, info.size, rate)

    @classmethod
    def from_image(cls, image: ImageLike, frames: int = 1, fps: float = 8.0) -> Clip:
        """A still clip: ``image`` (anything :func:`~motionkit.io.image.load_image` takes) held for ``frames`` frames.

        The frames share one buffer, so a long still clip costs one image of memory.

        Example:
            >>> import numpy as np
            >>> Clip.from_image(np.ones((8, 8)), frames=3).to_numpy().shape
            (3, 8, 8, 3)
        """
        pixels = load_image(image)
        count = _check_count(frames)
        return cls._of_array(np.broadcast_to(pixels, (count, *pixels.shape)), fps)

    @classmethod
    def from_array(cls, array: Any, fps: float = 8.0, *, copy: bool = True) -> Clip:
        """A clip from frames in memory (copied: the input is never kept or modified).

        Args:
            array: ``uint8 (T, H, W, 3)``; float ``(T, H, W, 3)`` in [0, 1]; a torch tensor
                ``(T, 3, H, W)`` float in [0, 1] or uint8; ``(T, H, W)`` / ``(T, H, W, 1)`` /
                ``(T, H, W, 4)`` (converted like :func:`load_image`); or a sequence of
                images of one size.
            fps: frames per second (> 0).
            copy: ``False`` hands a C-contiguous ``uint8 (T, H, W, 3)`` numpy array over to
                the clip without copying (renderers that just built it use this); the array
                becomes read-only. Other inputs are converted, hence copied, regardless.

        Raises:
            InvalidInputError: zero frames, a layout that is not frames, values out of range.
            ShapeMismatchError: a sequence of images of differing sizes.

        Example:
            >>> import torch
            >>> Clip.from_array(torch.rand(5, 3, 16, 24)).size
            (16, 24)
        """
        if isinstance(array, torch.Tensor):
            if array.dim() != 4 or array.shape[1] not in (1, 3, 4):
                raise InvalidInputError(f"a clip tensor must be (T, 3, H, W), got {tuple(array.shape)}")
            if array.shape[0] == 0:
                raise InvalidInputError("a clip needs at least one frame, got a tensor of 0 frames")
            tensor = array.detach().cpu()
            if tensor.dtype in (torch.float16, torch.bfloat16):
                tensor = tensor.float()
            return cls._from_numpy_frames(tensor.permute(0, 2, 3, 1).numpy(), fps)
        if isinstance(array, np.ndarray):
            if array.ndim not in (3, 4):
                raise InvalidInputError(f"a clip array must be (T, H, W, 3), got shape {array.shape}")
            if array.shape[0] == 0:
                raise InvalidInputError("a clip needs at least one frame, got an array of 0 frames")
            if not copy and array.dtype == np.uint8 and array.ndim == 4 and array.shape[3] == 3 and array.flags.c_contiguous:
                return cls._of_array(array, fps)
            return cls._from_numpy_frames(array, fps)
        if isinstance(array, Sequence) and not isinstance(array, (str, bytes)):
            if len(array) == 0:
                raise InvalidInputError("a clip needs at least one frame, got an empty sequence")
            first = load_image(array[0])
            size = first.shape[:2]
            frames = np.empty((_check_count(len(array)), *first.shape), np.uint8)
            frames[0] = first
            for index in range(1, len(array)):
                frames[index] = _coerce_frame(array[index], size, index)
            return cls._of_array(frames, fps)
        raise InvalidInputError(
            f"cannot make a clip from a {type(array).__name__}; expected a (T, H, W, 3) array, "
            "a (T, 3, H, W) tensor or a list of images"
        )

    @classmethod
    def _from_numpy_frames(cls, array: np.ndarray, fps: float) -> Clip:
        _check_count(array.shape[0])
        check_size(array.shape[1], array.shape[2], what="clip frame")
        if array.dtype == np.uint8 and array.ndim == 4 and array.shape[3] == 3:
            return cls._of_array(np.array(array, copy=True, order="C"), fps)
        if np.issubdtype(array.dtype, np.floating) and array.ndim == 4 and array.shape[3] == 3:
            from motionkit.io.image import _as_float01

            return cls._of_array(np.rint(_as_float01(array) * 255.0).astype(np.uint8), fps)
        frames = np.empty((array.shape[0], array.shape[1], array.shape[2], 3), np.uint8)
        for index, frame in enumerate(array):
            frames[index] = load_image(frame)
        return cls._of_array(frames, fps)

    @classmethod
    def from_frames(cls, source: FrameSource, count: int, size: tuple[int, int], fps: float = 8.0) -> Clip:
        """A lazy clip backed by ``source``, a zero-argument callable returning a fresh frame iterator.

        ``source()`` is called once per pass over the frames (iteration, writing, ...), never
        at construction. Each pass must yield at least ``count`` frames of ``size`` ``(H, W)``;
        frames that are not ``uint8 (H, W, 3)`` are converted like :func:`load_image`.

        Example:
            >>> import numpy as np
            >>> ramp = lambda: (np.full((4, 4, 3), 10 * t, np.uint8) for t in range(5))
            >>> clip = Clip.from_frames(ramp, count=5, size=(4, 4), fps=5)
            >>> clip.is_lazy, int(clip[3][0, 0, 0])
            (True, 30)
        """
        if not callable(source):
            raise InvalidInputError(f"source must be a zero-argument callable returning an iterator of frames, got {type(source).__name__}")
        if len(tuple(size)) != 2:
            raise InvalidInputError(f"size must be (H, W), got {size!r}")
        height, width = (int(side) for side in size)
        check_size(height, width, what="clip frame")
        return cls(_source=source, _count=_check_count(count), _size=(height, width), _fps=_check_fps(fps))

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
        rate = _check_fps(rate)
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

    # -- properties ---------------------------------------------------------------------------

    @property
    def fps(self) -> float:
        """Frames per second."""
        return self._fps

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` in pixels."""
        return self._size

    @property
    def height(self) -> int:
        """Frame height in pixels."""
        return self._size[0]

    @property
    def width(self) -> int:
        """Frame width in pixels."""
        return self._size[1]

    @property
    def duration(self) -> float:
        """Length in seconds: ``len(clip) / fps``."""
        return self._count / self._fps

    @property
    def is_lazy(self) -> bool:
        """True when frames come from a source on demand rather than from memory."""
        return self._array is None

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"Clip(frames={self._count}, size={self._size}, fps={round(self._fps, 3)!r}, lazy={self.is_lazy})"

    # -- access -------------------------------------------------------------------------------

    def iter_frames(self) -> Iterator[np.ndarray]:
        """Yield every frame as ``uint8 (H, W, 3)``, one at a time (streaming for lazy clips).

        Frames may be read-only views into the clip or the decoder's buffer; copy one before
        editing it in place (:meth:`frame` and ``clip[i]`` return copies).

        Raises:
            MediaReadError: a file-backed source is unreadable or ends early.
            InvalidInputError: a frame source yields fewer frames than it promised.

        Example:
            >>> for frame in Clip.read("walk.mp4").iter_frames():  # doctest: +SKIP
            ...     print(frame.mean())
        """
        if self._array is not None:
            yield from self._array
            return
        produced = 0
        source = self._source()
        try:
            for frame in itertools.islice(source, self._count):
                yield _coerce_frame(frame, self._size, produced)
                produced += 1
        finally:
            # Release the source (an ffmpeg process, open files) as soon as the caller stops.
            close = getattr(source, "close", None)
            if close is not None:
                close()
        if produced < self._count:
            raise InvalidInputError(f"the clip's frame source yielded {produced} frames but promised {self._count}")

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.iter_frames()

    def _index(self, i: Any) -> int:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise InvalidInputError(f"a frame index must be an integer, got {i!r}")
        index = int(i) + self._count if i < 0 else int(i)
        if not 0 <= index < self._count:
            raise IndexError(f"frame {i} is out of range for a clip of {self._count} frames")
        return index

    def frame(self, i: int) -> np.ndarray:
        """Frame ``i`` as ``uint8 (H, W, 3)`` (a copy). A lazy clip decodes frames 0..i to reach it.

        Example:
            >>> import numpy as np
            >>> Clip.from_array(np.zeros((3, 4, 5, 3), np.uint8)).frame(-1).shape
            (4, 5, 3)
        """
        index = self._index(i)
        if self._array is not None:
            return self._array[index].copy()
        with contextlib.closing(self.iter_frames()) as frames:
            return next(itertools.islice(frames, index, None)).copy()

    def __getitem__(self, key: int | slice) -> np.ndarray | Clip:
        if isinstance(key, slice):
            indices = range(*key.indices(self._count))
            if len(indices) == 0:
                raise InvalidInputError(f"slice {key} of a {self._count}-frame clip is empty; a clip needs at least one frame")
            if self._array is not None:
                return Clip._of_array(self._array[key], self._fps)
            if indices.step < 0:
                raise InvalidInputError("a lazy clip streams forwards only; call .materialize() before reversing it")
            return Clip.from_frames(lambda: itertools.islice(self.iter_frames(), indices.start, indices.stop, indices.step),
                                    len(indices), self._size, self._fps)
        return self.frame(key)

    def to_numpy(self) -> np.ndarray:
        """All frames as a new, writable ``uint8 (T, H, W, 3)`` array (materialises a lazy clip).

        Example:
            >>> import numpy as np
            >>> Clip.from_image(np.zeros((4, 5, 3), np.uint8), frames=2).to_numpy().shape
            (2, 4, 5, 3)
        """
        if self._array is not None:
            return np.array(self._array, copy=True, order="C")
        out = np.empty((self._count, *self._size, 3), np.uint8)
        for index, frame in enumerate(self.iter_frames()):
            out[index] = frame
        return out

    def to_tensor(self, start: int = 0, stop: int | None = None) -> torch.Tensor:
        """Frames ``start:stop`` as ``torch.float32 (T, 3, H, W)`` in [0, 1].

        This expands 1 byte per value to 4: calling it is the caller asking for that memory.
        For long clips take windows (``to_tensor(start, start + 16)``) or stream
        :meth:`iter_frames`. A lazy clip decodes from frame 0 up to ``stop``.

        Example:
            >>> import numpy as np
            >>> Clip.from_array(np.full((4, 2, 2, 3), 255, np.uint8)).to_tensor(1, 3).shape
            torch.Size([2, 3, 2, 2])
        """
        indices = range(*slice(start, stop).indices(self._count))
        if len(indices) == 0:
            raise InvalidInputError(f"frames {start}:{stop} of a {self._count}-frame clip are empty")
        out = torch.empty((len(indices), 3, *self._size), dtype=torch.float32)
        view = out.numpy()  # shares memory; numpy converts uint8 -> float32 on assignment
        frames = itertools.islice(self.iter_frames(), indices.start, indices.stop)
        for index, frame in enumerate(frames):
            view[index] = frame.transpose(2, 0, 1)
        return out.div_(255.0)

    def materialize(self) -> Clip:
        """This clip held in memory (``self`` when it already is).

        Example:
            >>> clip = Clip.read("walk.mp4").materialize()  # doctest: +SKIP
            >>> clip.is_lazy  # doctest: +SKIP
            False
        """
        return self if self._array is not None else Clip._of_array(self.to_numpy(), self._fps)

    # -- edits (each returns a new clip) -----------------------------------------------------

    def _map(self, fn: Callable[[np.ndarray], np.ndarray], size: tuple[int, int]) -> Clip:
        """A clip of ``fn(frame)`` for every frame; eager for in-memory clips, lazy otherwise."""
        if self._array is not None:
            out = np.empty((self._count, *size, 3), np.uint8)
            for index, frame in enumerate(self._array):
                out[index] = fn(frame)
            return Clip._of_array(out, self._fps)
        return Clip.from_frames(lambda: map(fn, self.iter_frames()), self._count, size, self._fps)

    def with_fps(self, fps: float) -> Clip:
        """The same frames played at ``fps`` (a retiming: duration changes, no frames are added or dropped).

        Example:
            >>> import numpy as np
            >>> Clip.from_image(np.zeros((4, 4, 3), np.uint8), frames=8, fps=8).with_fps(16).duration
            0.5
        """
        return Clip(_array=self._array, _source=self._source, _count=self._count, _size=self._size, _fps=_check_fps(fps))

    def resized(self, size: tuple[int, int] | None = None, scale: float | None = None) -> Clip:
        """Resample every frame to ``size=(H, W)`` or by ``scale`` (exactly one of them).

        Example:
            >>> import numpy as np
            >>> Clip.from_array(np.zeros((2, 10, 20, 3), np.uint8)).resized(scale=0.5).size
            (5, 10)
        """
        if (size is None) == (scale is None):
            raise InvalidInputError("pass exactly one of size=(H, W) or scale=...")
        if scale is not None:
            if not math.isfinite(scale) or scale <= 0:
                raise InvalidInputError(f"scale must be a finite number > 0, got {scale!r}")
            size = (max(1, round(self.height * scale)), max(1, round(self.width * scale)))
        target = (int(size[0]), int(size[1]))
        check_size(*target, what="resized clip")
        if target == self._size:
            return self
        return self._map(lambda frame: _resize_frame(frame, target), target)

    def cropped(self, top: int = 0, left: int = 0, height: int | None = None, width: int | None = None) -> Clip:
        """The rectangle ``[top:top+height, left:left+width]`` of every frame (defaults: to the edges).

        Example:
            >>> import numpy as np
            >>> Clip.from_array(np.zeros((2, 10, 20, 3), np.uint8)).cropped(2, 4, 6).size
            (6, 16)
        """
        height = self.height - top if height is None else height
        width = self.width - left if width is None else width
        if top < 0 or left < 0 or height <= 0 or width <= 0 or top + height > self.height or left + width > self.width:
            raise InvalidInputError(
                f"crop top={top}, left={left}, height={height}, width={width} does not fit in a {self.height}x{self.width} clip"
            )
        return self._map(lambda frame: frame[top:top + height, left:left + width], (height, width))

    @staticmethod
    def _check_clips(clips: Iterable[Clip]) -> list[Clip]:
        clips = list(clips)
        if not clips:
            raise InvalidInputError("expected at least one clip, got none")
        for clip in clips:
            if not isinstance(clip, Clip):
                raise InvalidInputError(f"expected Clip objects, got a {type(clip).__name__}")
        return clips

    @staticmethod
    def _stack(clips: Iterable[Clip], axis: int) -> Clip:
        clips = Clip._check_clips(clips)
        across = 0 if axis == 1 else 1  # the side that must agree (height for hstack)
        if len({clip.size[across] for clip in clips}) > 1:
            sides = ", ".join(f"{clip.height}x{clip.width}" for clip in clips)
            raise ShapeMismatchError(
                f"clips to {'hstack' if axis == 1 else 'vstack'} must share their {'height' if axis == 1 else 'width'}; got {sides} (HxW). "
                "Make them agree with .resized(...) first"
            )
        count = max(len(clip) for clip in clips)
        size = list(clips[0].size)
        size[1 - across] = sum(clip.size[1 - across] for clip in clips)

        def frames() -> Iterator[np.ndarray]:
            # A shorter clip holds its last frame until the longest one ends.
            iterators = [clip.iter_frames() for clip in clips]
            last: list[np.ndarray | None] = [None] * len(clips)
            for _ in range(count):
                for k, iterator in enumerate(iterators):
                    last[k] = next(iterator, last[k])
                yield np.concatenate(last, axis=axis)

        if all(not clip.is_lazy for clip in clips):
            out = np.empty((count, size[0], size[1], 3), np.uint8)
            for index, frame in enumerate(frames()):
                out[index] = frame
            return Clip._of_array(out, clips[0].fps)
        return Clip.from_frames(frames, count, (size[0], size[1]), clips[0].fps)

    @staticmethod
    def hstack(clips: Iterable[Clip]) -> Clip:
        """Clips side by side (same heights); the result is as long as the longest, shorter
        ones holding their last frame; fps is the first clip's. Lazy if any input is.

        Example:
            >>> import numpy as np
            >>> a = Clip.from_array(np.zeros((3, 4, 5, 3), np.uint8))
            >>> b = Clip.from_array(np.zeros((1, 4, 2, 3), np.uint8))
            >>> c = Clip.hstack([a, b]); (len(c), c.size)
            (3, (4, 7))
        """
        return Clip._stack(clips, axis=1)

    @staticmethod
    def vstack(clips: Iterable[Clip]) -> Clip:
        """Clips one above the other (same widths); lengths and fps as in :meth:`hstack`.

        Example:
            >>> import numpy as np
            >>> a = Clip.from_array(np.zeros((2, 4, 5, 3), np.uint8))
            >>> Clip.vstack([a, a]).size
            (8, 5)
        """
        return Clip._stack(clips, axis=0)

    @staticmethod
    def concatenate(clips: Iterable[Clip]) -> Clip:
        """Clips one after another (same size); fps is the first clip's. Lazy if any input is.

        Example:
            >>> import numpy as np
            >>> a = Clip.from_array(np.zeros((3, 4, 5, 3), np.uint8))
            >>> len(Clip.concatenate([a, a[:1]]))
            4
        """
        clips = Clip._check_clips(clips)
        if len({clip.size for clip in clips}) > 1:
            sizes = ", ".join(f"{clip.height}x{clip.width}" for clip in clips)
            raise ShapeMismatchError(f"clips to concatenate must share one size; got {sizes} (HxW). Use .resized(...) first")
        count = _check_count(sum(len(clip) for clip in clips))
        if all(not clip.is_lazy for clip in clips):
            return Clip._of_array(np.concatenate([clip._array for clip in clips]), clips[0].fps)
        return Clip.from_frames(lambda: itertools.chain.from_iterable(clip.iter_frames() for clip in clips),
                                count, clips[0].size, clips[0].fps)

    # -- output -------------------------------------------------------------------------------

    def write(self, path: str | os.PathLike, *, fps: float | None = None, quality: float = 8, progress: bool = False) -> None:
        """Encode the clip, streaming frame by frame, atomically.

        Args:
            path: ``.mp4``/``.mov``/``.mkv``/``.avi`` (H.264), ``.webm`` (VP9), ``.gif``, a
                path without suffix or ending in ``/`` for a folder of PNG frames, or an
                image suffix (``.png``, ``.jpg``, ...) for a one-frame clip.
            fps: overrides the clip's rate in the file.
            quality: 1 (smallest file) .. 10 (best); see :class:`~motionkit.io.video.VideoWriter`
                (H.264/VP9 crop an odd side by one pixel: 451 px -> 450 px).
            progress: show a tqdm progress bar.

        Raises:
            MediaWriteError: unwritable folder, unknown suffix, encoder failure; an existing
                file at ``path`` is left untouched.

        Example:
            >>> clip.write("out.mp4", progress=True)  # doctest: +SKIP
        """
        from pathlib import Path

        rate = _check_fps(fps) if fps is not None else self._fps
        if Path(path).suffix.lower() in IMAGE_SUFFIXES and not _video.is_folder_target(path):
            if self._count != 1:
                from motionkit.errors import MediaWriteError

                raise MediaWriteError(
                    f"cannot write a {self._count}-frame clip to the image {path}; use a video suffix "
                    "(.mp4, .gif, ...) or a path without suffix for a folder of frames"
                )
            save_image(path, self.frame(0))
            return
        from tqdm.auto import tqdm

        # The bar starts once the output is open, and closes (ending its line) however the
        # loop ends, so an error message never lands on the bar's line.
        with _video.VideoWriter(path, fps=rate, size=self._size, quality=quality) as writer, tqdm(
            total=self._count, desc=f"writing {Path(path).name}", unit="frame", disable=not progress
        ) as bar:
            for frame in self.iter_frames():
                writer.write(frame)
                bar.update()

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

    # -- verbs that need a backend (the verbs in motionkit.verbs) ---------------------

    def estimate_motion(self, estimator: str = "dis", **options: Any) -> MotionField:
        """The motion from frame 0 to every frame, by a registered flow ``estimator``.

        Returns a :class:`~motionkit.MotionField` ``(T, 2, H, W)`` in pixels, frame 0 zero.

        Example:
            >>> field = Clip.read("walk.mp4").estimate_motion()  # doctest: +SKIP
        """
        from motionkit.verbs import video_to_video

        return video_to_video.estimate_motion(self, estimator=estimator, **options)

    def animate(self, **kwargs: Any) -> Clip:
        """Animate this clip's first frame (see :func:`motionkit.animate`) at this clip's fps.

        Example:
            >>> Clip.read("cat.png").animate(trajectories=[...])  # doctest: +SKIP
        """
        from motionkit.verbs import image_to_video

        return image_to_video.animate(self.frame(0), fps=self._fps, **kwargs)

    def translate(self, edited_first_frame: ImageLike, estimator: str = "dis", renderer: str = "warp", **options: Any) -> Clip:
        """Video-to-video: move ``edited_first_frame`` along this clip's motion (see :func:`motionkit.translate`).

        Example:
            >>> Clip.read("walk.mp4").translate("frame0_painted.png")  # doctest: +SKIP
        """
        from motionkit.verbs import video_to_video

        return video_to_video.translate(self, edited_first_frame, estimator=estimator, renderer=renderer, **options)


def _restore(array: np.ndarray | None, source: FrameSource | None, count: int, size: tuple[int, int], fps: float) -> Clip:
    if array is not None:
        return Clip._of_array(array, fps)
    return Clip(_source=source, _count=count, _size=size, _fps=fps)


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
