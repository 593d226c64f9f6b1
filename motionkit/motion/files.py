"""Files and pictures of a :class:`~motionkit.MotionField`: ``.npz`` and ``.flo`` files, ``visualize``.

Split from :mod:`motionkit.motion`; ``MotionField`` inherits these methods. ``.npz`` saving
and lazy loading stream frame by frame; ``.flo`` saving is whole-field (a lazy field is read in
full, within :data:`~motionkit.limits.MAX_MATERIALIZE_BYTES`); ``visualize`` streams.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.io import motion_files
from motionkit.io.image import load_image
from motionkit.ops import flowviz

if TYPE_CHECKING:
    from motionkit.clip import Clip
    from motionkit.io.image import ImageLike
    from motionkit.motion import MotionField


class FieldFilesAndPictures:
    """``MotionField``'s file writers and its picture (mixed into :class:`~motionkit.MotionField`)."""

    __slots__ = ()

    def save(self, path: str | os.PathLike, metadata: dict[str, Any] | None = None, *, dtype: Any = "float32") -> Path:
        """Write an ``.npz`` (format version 2: one compressed member per frame), atomically.

        A lazy field is streamed to the file one frame at a time (never held whole).

        Args:
            path: the target (any suffix).
            metadata: a JSON-serialisable dict stored beside the field (:meth:`load_metadata`).
            dtype: ``"float32"`` (exact) or ``"float16"``: under half the file, each value
                rounded to 11 significant bits (within ``|v| / 2048`` px, e.g. 0.016 px at
                32 px). Measured on the estimated motion of 2 s of a real 640x272 clip
                (motion up to 351 px): 62.5 MB -> 27.7 MB, error max 0.125 px, mean
                0.0056 px (docs/conventions.md, "Motion files").

        Raises:
            MediaWriteError: the folder is missing or not writable.
            InvalidInputError: ``metadata`` is not JSON-serialisable, an unknown ``dtype``, or a
                value beyond float16's range (65504 px) with ``dtype="float16"``.

        Example:
            >>> motion.save("wave.npz", metadata={"prompt": "waves"})  # doctest: +SKIP
            >>> MotionField.load("wave.npz") == motion                  # doctest: +SKIP
            True
        """
        frames = (f.detach().cpu().numpy() for f in self.iter_frames())
        return motion_files.save_npz(path, frames, metadata, dtype=dtype, reference=getattr(self, "reference", 0))

    @classmethod
    def load(cls, path: str | os.PathLike, *, lazy: bool = False) -> MotionField:
        """Read a field written by :meth:`save` (format version 2, or version 1 of earlier releases).

        Args:
            path: the ``.npz`` file.
            lazy: return a lazy field backed by the file (see :meth:`from_frames`): nothing but
                the headers is read now; each pass over the frames reads them from the file
                again, one frame in memory at a time. The file must stay in place meanwhile.

        The numbers are exactly the saved ones (a float16 file's values widened to float32).

        Raises:
            MotionFileError: missing, not an ``.npz``, without ``flow``/frames, wrong shape,
                newer version (checked at once); a damaged frame (when it is read).
        """
        stored = motion_files.open_npz(path)
        extra = {"reference": stored.reference} if stored.reference else {}
        if lazy:
            return cls.from_frames(lambda: map(torch.from_numpy, stored.iter_frames()), stored.frames, stored.size, **extra)
        flow, _ = motion_files.load_npz(path)
        return cls(torch.from_numpy(flow), **extra)

    @staticmethod
    def load_metadata(path: str | os.PathLike) -> dict[str, Any]:
        """The ``metadata`` dict stored by :meth:`save` (empty if none); reads no frame."""
        return motion_files.open_npz(path).metadata

    def save_flo(self, folder: str | os.PathLike) -> list[Path]:
        """Write frames 1..T-1 as Middlebury ``folder/frame_0001.flo`` ... (frame 0 is zero, not written).

        ``frame_000t.flo`` holds the flow from frame 0 to frame ``t``. The folder appears whole;
        an existing folder is replaced only if it holds nothing but ``.flo`` files.

        Example:
            >>> motion.save_flo("flows")              # doctest: +SKIP
            [PosixPath('flows/frame_0001.flo'), ...]
        """
        return motion_files.save_flo_frames(folder, self.numpy())

    @classmethod
    def load_flo(cls, source: str | os.PathLike | Sequence[str | os.PathLike]) -> MotionField:
        """Read ``.flo`` frames 1..T-1 (a folder, one file or a list of files); a zero frame 0 is prepended.

        A folder's files are taken in natural name order (``frame_9`` before ``frame_10``).

        Raises:
            MotionFileError: no files, a bad magic number or size, a truncated file, mixed sizes.
        """
        return cls(torch.from_numpy(motion_files.load_flo_frames(source)))

    # --- pictures ------------------------------------------------------------------------
    def visualize(
        self,
        style: Literal["color", "arrows"] = "color",
        image: ImageLike | None = None,
        fps: float = 8.0,
        max_magnitude: float | None = None,
        *,
        step: int | None = None,
        legend: bool = True,
    ) -> Clip:
        """A :class:`~motionkit.Clip` that shows the motion.

        ``"color"``: Middlebury colour wheel, hue = direction, saturation = length, one scale
        for all frames (the longest vector of the whole field unless ``max_magnitude``); with
        ``legend`` (default) the wheel and its scale in pixels are drawn in the bottom-right
        corner (:func:`~motionkit.ops.flowviz.draw_legend`; not on pictures under 48 px).
        ``"arrows"``: arrows from grid points (every ``step`` pixels) to where they go, drawn
        over ``image`` (default a dark gray canvas). The clip is lazy (drawn frame by frame when
        read or written), so it works for long, large fields; a lazy field without
        ``max_magnitude`` is read twice per pass (once for the scale, once to draw).

        Example:
            >>> MotionField.camera(zoom=1.2, frames=4, size=(32, 32)).visualize().to_numpy().shape
            (4, 32, 32, 3)
        """
        from motionkit.clip import Clip

        # The clip is lazy: frames are drawn when read or written, one at a time, so picturing
        # a long high-resolution field costs one frame of memory, not the whole video.
        if max_magnitude is not None and not (np.isfinite(max_magnitude) and max_magnitude > 0):
            raise InvalidInputError(f"max_magnitude must be a positive number of pixels, got {max_magnitude!r}")
        if style == "color":
            scale = [max_magnitude]

            def draw(f: torch.Tensor) -> np.ndarray:
                if scale[0] is None:  # one scale for every frame: the longest vector of the field
                    scale[0] = max(torch.linalg.vector_norm(g, dim=0).max().item() for g in self.iter_frames()) or 1.0
                coded = flowviz.flow_to_color(f.numpy(), scale[0])
                return flowviz.draw_legend(coded, scale[0]) if legend else coded

        elif style == "arrows":
            if image is None:
                base = np.full((*self.size, 3), 48, np.uint8)
            else:
                base = load_image(image)
                if base.shape[:2] != self.size:
                    raise ShapeMismatchError(f"image of size {base.shape[:2]} does not match the field's {self.size}")
            step = step or max(8, min(self.size) // 16)

            def draw(f: torch.Tensor) -> np.ndarray:
                return flowviz.draw_arrows(base, f.numpy(), step=step)

        else:
            raise InvalidInputError(f"style must be 'color' or 'arrows', got {style!r}")
        return Clip.from_frames(lambda: (draw(f.detach().cpu()) for f in self.iter_frames()), count=self.frames, size=self.size, fps=fps)
