"""Edits of a :class:`~motionkit.Clip`: retiming, resizing, cropping, stacking, concatenating.

Split from :mod:`motionkit.clip`; ``Clip`` inherits these. Each returns a new clip, lazy
when an input is. The clips are built through ``Clip``'s own constructors (``cls`` /
``type(self)``), so this module does not import :mod:`motionkit.clip`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from motionkit.clip.checks import check_count, check_fps
from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.io.image import check_size

if TYPE_CHECKING:
    from motionkit.clip import Clip


def _resize_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    height, width = size
    # Area averaging avoids aliasing when shrinking; bilinear is smoother when enlarging.
    shrinking = height * width < frame.shape[0] * frame.shape[1]
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


class ClipEdits:
    """``Clip``'s edits (mixed into :class:`~motionkit.Clip`)."""

    __slots__ = ()

    def _map(self, fn: Callable[[np.ndarray], np.ndarray], size: tuple[int, int]) -> Clip:
        """A clip of ``fn(frame)`` for every frame; eager for in-memory clips, lazy otherwise."""
        if self._array is not None:
            out = np.empty((self._count, *size, 3), np.uint8)
            for index, frame in enumerate(self._array):
                out[index] = fn(frame)
            return type(self)._of_array(out, self._fps)
        return type(self).from_frames(lambda: map(fn, self.iter_frames()), self._count, size, self._fps)

    def with_fps(self, fps: float) -> Clip:
        """The same frames played at ``fps`` (a retiming: duration changes, no frames are added or dropped).

        Example:
            >>> import numpy as np
            >>> Clip.from_image(np.zeros((4, 4, 3), np.uint8), frames=8, fps=8).with_fps(16).duration
            0.5
        """
        return type(self)(_array=self._array, _source=self._source, _count=self._count, _size=self._size, _fps=check_fps(fps))

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

    @classmethod
    def _check_clips(cls, clips: Iterable[Clip]) -> list[Clip]:
        clips = list(clips)
        if not clips:
            raise InvalidInputError("expected at least one clip, got none")
        for clip in clips:
            if not isinstance(clip, cls):
                raise InvalidInputError(f"expected Clip objects, got a {type(clip).__name__}")
        return clips

    @classmethod
    def _stack(cls, clips: Iterable[Clip], axis: int) -> Clip:
        clips = cls._check_clips(clips)
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
            return cls._of_array(out, clips[0].fps)
        return cls.from_frames(frames, count, (size[0], size[1]), clips[0].fps)

    @classmethod
    def hstack(cls, clips: Iterable[Clip]) -> Clip:
        """Clips side by side (same heights); the result is as long as the longest, shorter
        ones holding their last frame; fps is the first clip's. Lazy if any input is.

        Example:
            >>> import numpy as np
            >>> a = Clip.from_array(np.zeros((3, 4, 5, 3), np.uint8))
            >>> b = Clip.from_array(np.zeros((1, 4, 2, 3), np.uint8))
            >>> c = Clip.hstack([a, b]); (len(c), c.size)
            (3, (4, 7))
        """
        return cls._stack(clips, axis=1)

    @classmethod
    def vstack(cls, clips: Iterable[Clip]) -> Clip:
        """Clips one above the other (same widths); lengths and fps as in :meth:`hstack`.

        Example:
            >>> import numpy as np
            >>> a = Clip.from_array(np.zeros((2, 4, 5, 3), np.uint8))
            >>> Clip.vstack([a, a]).size
            (8, 5)
        """
        return cls._stack(clips, axis=0)

    @classmethod
    def concatenate(cls, clips: Iterable[Clip]) -> Clip:
        """Clips one after another (same size); fps is the first clip's. Lazy if any input is.

        Example:
            >>> import numpy as np
            >>> a = Clip.from_array(np.zeros((3, 4, 5, 3), np.uint8))
            >>> len(Clip.concatenate([a, a[:1]]))
            4
        """
        clips = cls._check_clips(clips)
        if len({clip.size for clip in clips}) > 1:
            sizes = ", ".join(f"{clip.height}x{clip.width}" for clip in clips)
            raise ShapeMismatchError(f"clips to concatenate must share one size; got {sizes} (HxW). Use .resized(...) first")
        count = check_count(sum(len(clip) for clip in clips))
        if all(not clip.is_lazy for clip in clips):
            return cls._of_array(np.concatenate([clip._array for clip in clips]), clips[0].fps)
        return cls.from_frames(lambda: itertools.chain.from_iterable(clip.iter_frames() for clip in clips),
                               count, clips[0].size, clips[0].fps)
