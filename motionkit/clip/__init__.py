"""`Clip`: frames plus a frame rate, as an immutable value.

A clip is either held in memory as ``uint8 (T, H, W, 3)`` or backed lazily by a *frame
source* — a zero-argument callable returning a fresh iterator of ``uint8 (H, W, 3)`` frames
whose count, size and fps are known up front — so a long video read from disk is streamed,
never materialised unless the caller asks (:meth:`Clip.to_numpy`, :meth:`Clip.to_tensor`,
:meth:`Clip.materialize`). Edits (``with_fps``, ``resized``, ``cropped``, slicing, stacking;
:mod:`motionkit.clip.edits`) return new clips and stay lazy when their input is; writing is
in :mod:`motionkit.clip.output`. The verbs that need a backend (``estimate_motion``,
``translate``) find it through :mod:`motionkit.registry`, so this module imports no backend,
no verb and (but for type hints) no :class:`~motionkit.MotionField`.

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
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from motionkit import registry
from motionkit.clip import translation
from motionkit.clip.checks import check_count, check_fps, coerce_frame
from motionkit.clip.edits import ClipEdits
from motionkit.clip.output import ClipOutput
from motionkit.errors import InvalidInputError
from motionkit.io import video as _video
from motionkit.io.image import ImageLike, check_size, load_image
from motionkit.io.prefetch import prefetch
from motionkit.pixels import to_uint8

#: Frames a file-backed clip decodes ahead of its reader (see :mod:`motionkit.io.prefetch`).
READ_AHEAD = 3

if TYPE_CHECKING:
    from motionkit.motion import MotionField

#: A zero-argument callable returning a fresh iterator of ``uint8 (H, W, 3)`` frames.
FrameSource = Callable[[], Iterator[np.ndarray]]


class Clip(ClipEdits, ClipOutput):
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

    __slots__ = ("_array", "_count", "_fps", "_size", "_source")

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
        check_count(array.shape[0])
        check_size(array.shape[1], array.shape[2], what="clip frame")
        array.flags.writeable = False
        return cls(_array=array, _count=array.shape[0], _size=(array.shape[1], array.shape[2]), _fps=check_fps(fps))

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def read(cls, path: str | os.PathLike, *, fps: float | None = None, allow_damaged: bool = False) -> Clip:
        """Open a video file, a folder of frames or an image file as a clip.

        Videos and folders are read lazily: only :func:`motionkit.io.video.probe` runs now
        (fps, size, exact frame count); frames are decoded each time they are iterated.
        An image file gives a one-frame clip.

        Args:
            path: ``.mp4``/``.webm``/``.mov``/``.mkv``/``.avi``/``.gif``/..., a folder of
                ``png``/``jpg``/... frames (natural name order), or an image file.
            fps: overrides the file's rate (required for nothing; folders and images,
                which store none, default to 8.0).
            allow_damaged: use a video whose frames the decoder reports damaged, with a
                :class:`~motionkit.io.video_damage.DamagedVideoWarning` naming them, instead of
                raising (see :func:`motionkit.io.video.iter_frames`).

        Raises:
            MediaReadError: missing, truncated, corrupt or empty source (names the file); a
                damaged video (names the frames) when reading its frames.

        Example:
            >>> clip = Clip.read("walk.mp4")  # doctest: +SKIP
            >>> clip.is_lazy, clip.fps  # doctest: +SKIP
            (True, 24.0)
        """
        info = _video.probe(path)
        rate = fps if fps is not None else (info.fps or 8.0)
        if info.codec == "image":
            return cls._of_array(load_image(info.path)[None], rate)
        # Decoded a few frames ahead in a background thread, so ffmpeg decodes while the caller computes.
        return cls.from_frames(lambda: prefetch(_video.iter_frames(info.path, info, allow_damaged=allow_damaged), READ_AHEAD),
                               info.frames, info.size, rate)

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
        count = check_count(frames)
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
            frames = np.empty((check_count(len(array)), *first.shape), np.uint8)
            frames[0] = first
            for index in range(1, len(array)):
                frames[index] = coerce_frame(array[index], size, index)
            return cls._of_array(frames, fps)
        raise InvalidInputError(
            f"cannot make a clip from a {type(array).__name__}; expected a (T, H, W, 3) array, "
            "a (T, 3, H, W) tensor or a list of images"
        )

    @classmethod
    def _from_numpy_frames(cls, array: np.ndarray, fps: float) -> Clip:
        check_count(array.shape[0])
        check_size(array.shape[1], array.shape[2], what="clip frame")
        if array.dtype == np.uint8 and array.ndim == 4 and array.shape[3] == 3:
            return cls._of_array(np.array(array, copy=True, order="C"), fps)
        if np.issubdtype(array.dtype, np.floating) and array.ndim == 4 and array.shape[3] == 3:
            from motionkit.io.image import _as_float01

            return cls._of_array(to_uint8(_as_float01(array)), fps)
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
        return cls(_source=source, _count=check_count(count), _size=(height, width), _fps=check_fps(fps))

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
                yield coerce_frame(frame, self._size, produced)
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

    # -- verbs that need a backend (found through the registry) ----------------------------

    def estimate_motion(self, estimator: str = "dis", **options: Any) -> MotionField:
        """The motion from frame 0 to every frame, by the registered flow ``estimator`` built with ``options``.

        Returns a :class:`~motionkit.MotionField` ``(T, 2, H, W)`` in pixels, frame 0 zero. A
        streaming estimator (``dis``, ``farneback``) returns a *lazy* field at once: the video
        is read and the flow computed when the field's frames are read (rendering, writing),
        one frame at a time. An estimator that implements only ``estimate`` builds the whole
        field in memory (``T * H * W * 8`` bytes).

        Example:
            >>> field = Clip.read("walk.mp4").estimate_motion()  # doctest: +SKIP
            >>> field.is_lazy  # doctest: +SKIP
            True
        """
        return registry.create("flow_estimator", estimator, **options).estimate(self)

    def translate(
        self,
        edited_first_frame: ImageLike | Mapping[int, ImageLike],
        *,
        estimator: str = "dis",
        renderer: str = "warp",
        motion_edit: Callable[[MotionField], MotionField] | None = None,
        estimator_options: Mapping[str, Any] | None = None,
        renderer_options: Mapping[str, Any] | None = None,
        scene_cuts: str = "stop",
    ) -> Clip:
        """Video-to-video: carry an edited frame 0, or ``{frame: edited}`` keyframes, along this clip's motion (see :func:`motionkit.translate`).

        Example:
            >>> Clip.read("walk.mp4").translate("frame0_painted.png", motion_edit=lambda f: f * 0.5)  # doctest: +SKIP
        """
        flow_options, render_options = translation.default_options(estimator, renderer, estimator_options, renderer_options, motion_edit)
        return translation.translate(
            self, edited_first_frame,
            registry.create("flow_estimator", estimator, **flow_options),
            registry.create("renderer", renderer, **render_options),
            motion_edit=motion_edit,
            scene_cuts=scene_cuts,
        )


def _restore(array: np.ndarray | None, source: FrameSource | None, count: int, size: tuple[int, int], fps: float) -> Clip:
    if array is not None:
        return Clip._of_array(array, fps)
    return Clip(_source=source, _count=count, _size=size, _fps=fps)
