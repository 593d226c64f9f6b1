"""Previews that follow the hand: drags -> a small mp4 for the browser, fast enough to redo per edit.

An editor re-renders the shot every time a drag moves. :class:`Previewer` holds what does
not change between those calls: the image downscaled once to ``long_side`` pixels (and its
tensor, the same object every call, so per-image memos of the densifier and the renderer
keep hitting), the predictor and renderer built once, the last brush downscaled, the last
field (an unchanged request is only re-encoded), and an H.264 encoder started ahead
(:class:`motionkit.io.h264_stream.StandbyEncoders`: the next one starts in the background once
a preview's encode is done). Frames render on two threads and are encoded as they are done,
by ffmpeg in its own process (x264 ``zerolatency``: the mp4 is ready just after the last frame).

:func:`preview` is the one-call form: it keeps the last few previewers, keyed by the image's
content and the settings, so calling it again on the same image re-uses them too.

Example:
    >>> import motionkit as mk
    >>> drag = mk.Trajectory.line((265, 240), (290, 228), frames=16)
    >>> mp4 = mk.preview("cat.png", [drag])                  # doctest: +SKIP
    >>> open("preview.mp4", "wb").write(mp4)                  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import torch

from motionkit import registry
from motionkit.components import FrameRenderer
from motionkit.errors import InvalidInputError
from motionkit.io.h264_stream import StandbyEncoders
from motionkit.limits import check_frames
from motionkit.ops._kernel_threads import thread_count
from motionkit.pixels import to_uint8
from motionkit.verbs._kept_previewers import KeptPreviewers
from motionkit.verbs._parallel_frames import parallel_frames
from motionkit.verbs.image_to_video import (
    CameraLike,
    ImageLike,
    _image_tensor,
    _mark_converted,
    as_brush_mask,
    predict_motion,
)

if TYPE_CHECKING:
    from motionkit.mask import RegionMask
    from motionkit.motion import MotionField
    from motionkit.spec import MotionSpec
    from motionkit.trajectory import Trajectory

DEFAULT_LONG_SIDE = 256
DEFAULT_FPS = 8.0
#: x264 settings of a preview: fast enough to keep up with rendering, small enough to send.
#: ``zerolatency`` (no look-ahead, no B-frames) encodes each frame as it arrives, so the mp4 is
#: ready ~10 ms after the last frame instead of ~25 ms (the look-ahead's backlog); the file is
#: about twice as large (40 KiB for 16 frames at 256 px), nothing for a local editor.
PREVIEW_CRF, PREVIEW_PRESET, PREVIEW_TUNE = 23, "veryfast", "zerolatency"


def preview_size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """``(H, W)`` of a preview of an image of ``size``: long side at most ``long_side``, both sides even.

    Example:
        >>> preview_size((480, 640), 256), preview_size((101, 99), 256)
        ((192, 256), (100, 98))
    """
    h, w = size
    scale = min(1.0, long_side / max(h, w))

    def even(side: int) -> int:  # nearest even size, never above the image's own (even) side
        return max(2, min(int(math.floor(side * scale / 2 + 0.5)) * 2, side // 2 * 2))

    return even(h), even(w)


class Previewer:
    """Fast, repeated previews of one image: ``render(drags) -> mp4 bytes`` at ``long_side`` px.

    Args:
        image: the reference frame (path, ``uint8 (H, W, 3)`` array, ``(3, H, W)`` tensor in [0, 1]).
        long_side: long side of the preview in pixels (the image is never upscaled).
        predictor, renderer: registered component names (classical ``sparse`` + ``warp`` by default).
        predictor_options, renderer_options: keyword arguments of the two components.

    Trajectories, brushes and camera moves are given in the full image's pixels, as for
    :func:`motionkit.animate`; the previewer scales them.

    Example:
        >>> import numpy as np, motionkit as mk
        >>> previewer = Previewer(np.zeros((128, 192, 3), np.uint8), long_side=96)
        >>> previewer.size
        (64, 96)
        >>> mp4 = previewer.render([mk.Trajectory.line((90, 60), (100, 60), frames=4)])
        >>> mp4[4:8]
        b'ftyp'
    """

    def __init__(
        self,
        image: ImageLike,
        *,
        long_side: int = DEFAULT_LONG_SIDE,
        predictor: str = "sparse",
        renderer: str = "warp",
        predictor_options: Mapping[str, Any] | None = None,
        renderer_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(long_side, int) or long_side < 16:
            raise InvalidInputError(f"long_side must be an integer of at least 16 pixels, got {long_side!r}")
        full = _image_tensor(image)
        self.full_size = (int(full.shape[1]), int(full.shape[2]))
        self.size = preview_size(self.full_size, long_side)
        h, w = self.size
        self.scale = (w / self.full_size[1], h / self.full_size[0])  # (sx, sy)
        pixels = np.ascontiguousarray(full.permute(1, 2, 0).to(torch.float32).numpy())
        if (h, w) != self.full_size:
            pixels = cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA)
        #: The downscaled image, ``(3, h, w)`` float32 in [0, 1]; the same tensor on every call.
        self.image = _mark_converted(torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1))))
        self._predictor = registry.create("predictor", predictor, **dict(predictor_options or {}))
        self._renderer = registry.create("renderer", renderer, **dict(renderer_options or {}))
        self._encoders = StandbyEncoders()
        self._brush: tuple[Any, RegionMask | None] = (None, None)
        self._field: tuple[Any, MotionField, Any] | None = None
        self._plate: Any = None  # the warp's background plate of ``image``, kept between edits
        self._lock = threading.Lock()

    def field(
        self, trajectories: Iterable[Trajectory] = (), *, brush: RegionMask | ImageLike | None = None,
        camera: CameraLike = None, frames: int = 16,
    ) -> MotionField:
        """The preview-size :class:`MotionField` of these drags (the last one again if nothing changed)."""
        frames = check_frames(frames)
        paths = [t.scaled(*self.scale) for t in trajectories]
        mask = self._small_brush(brush)
        cam = self._small_camera(camera, frames)
        key = (frames, tuple(np.asarray(p.points, np.float64).tobytes() for p in paths), id(mask), _camera_key(camera))
        if self._field is not None and self._field[0] == key:
            return self._field[1]
        motion = predict_motion(self.image, paths, brush=mask, camera=cam, frames=frames, predictor=self._predictor)
        self._field = (key, motion, camera)  # holding the camera keeps its id() from being reused
        return motion

    def iter_frames(
        self, trajectories: Iterable[Trajectory] = (), *, brush: RegionMask | ImageLike | None = None,
        camera: CameraLike = None, frames: int = 16,
    ) -> Iterator[np.ndarray]:
        """The preview's frames as ``uint8 (h, w, 3)`` arrays, rendered one at a time."""
        motion = self.field(trajectories, brush=brush, camera=camera, frames=frames)
        # As in animate: a camera move moves every pixel, so the brush no longer holds pixels still.
        return self._frames_of(motion, None if camera is not None else self._small_brush(brush))

    def _frames_of(self, motion: MotionField, mask: RegionMask | None) -> Iterator[np.ndarray]:
        """The rendered ``uint8 (h, w, 3)`` frames of a preview-size field, in order.

        A renderer with a ``frame_function`` (the classical ``warp``) renders every frame
        through one function reading the previewer's own background plate, kept between
        edits: what the fill synthesised for one drag is not synthesised again.
        """
        values = None if mask is None else mask.values
        one = self._frame_function(values)
        if one is None:
            if not isinstance(self._renderer, FrameRenderer):
                return self._renderer.render(self.image, motion, mask, fps=DEFAULT_FPS).iter_frames()
            render_frame = self._renderer.render_frame

            def one(flow: torch.Tensor) -> np.ndarray:
                frame = render_frame(self.image, flow, values)
                return np.ascontiguousarray(to_uint8(frame.detach().permute(1, 2, 0).cpu().numpy()))

        if thread_count() > 1:
            return parallel_frames(one, motion.iter_frames(), kind="preview")
        return (one(flow) for flow in motion.iter_frames())

    def _frame_function(self, values: torch.Tensor | None):
        function = getattr(self._renderer, "frame_function", None)
        if function is None or getattr(self._renderer, "loop", None) is not None:
            return None
        one = function(self.image, values, plate=self._plate)
        self._plate = getattr(one, "plate", None)  # the renderer's own, kept for the next edit's frames
        return one

    def render(
        self, trajectories: Iterable[Trajectory] = (), *, brush: RegionMask | ImageLike | None = None,
        camera: CameraLike = None, frames: int = 16, fps: float = DEFAULT_FPS,
    ) -> bytes:
        """The preview as mp4 bytes (H.264, ``yuv420p``, moov first: plays in a browser as it loads).

        Args:
            trajectories, brush, camera, frames: as in :func:`motionkit.animate`, in the full
                image's pixels.
            fps: frame rate of the file.

        Raises:
            InvalidInputError, OutOfBoundsError, ShapeMismatchError: as :func:`motionkit.animate`.
            MediaWriteError: ffmpeg failed.
        """
        with self._lock:  # one preview at a time per previewer: they share the encoder standby
            return self._encode(self.iter_frames(trajectories, brush=brush, camera=camera, frames=frames), fps)

    def spec_field(self, spec: MotionSpec) -> tuple[MotionField, RegionMask | None]:
        """``(field, render mask)`` of a :class:`~motionkit.MotionSpec` at preview size, compiled once per spec.

        The spec is compiled on :attr:`image` (its tracks placed by their ``(u, v)``) with the
        previewer's predictor, and its render mask swept along the field, as ``run_job`` does;
        asking again for an equal spec (its frame rate aside) returns the same pair.
        """
        key = ("spec", spec.model_dump_json(exclude={"fps"}))
        if self._field is not None and self._field[0] == key:
            return self._field[1], self._field[2]
        motion = spec.compile(self.image, self._predictor)
        mask = spec.render_mask(self.size, motion)  # the spec's mask (None under a camera move), swept
        self._field = (key, motion, mask)
        return motion, mask

    def regions(self, spec: MotionSpec) -> list:
        """The objects the previewer's predictor moves for ``spec``, at :attr:`size`, front first.

        ``list[ObjectRegion]`` as :meth:`SparsePredictor.regions` gives them (masks ``(h, w)``
        at preview size, on the same downscaled image the previews are rendered from), found
        by the predictor the previews use, so its remembered regions serve both: an editor
        asking for the regions after each edit does not search again. ``[]`` for a predictor
        without objects (the elastic mode, or one with no ``regions`` method).
        """
        find = getattr(self._predictor, "regions", None)
        if find is None:
            return []
        return find(self.image, spec.trajectories_at(self.size), spec.mask_at(self.size),
                    objects=spec.objects_at(self.size) or None)

    def render_spec(self, spec: MotionSpec) -> bytes:
        """The preview of a :class:`~motionkit.MotionSpec` as mp4 bytes at the spec's frame rate (interface I1).

        What ``motionkit animate IMAGE --spec`` renders with the classical backend, at preview
        size: the spec's tracks, region mask, objects, brushes and camera path. An unchanged
        spec is only re-encoded; the image, components, encoder standby and the renderer's
        per-image memos (background plate, regions) are kept between specs.

        Raises:
            InvalidInputError, ShapeMismatchError: the spec cannot be compiled on this image.
            MediaWriteError: ffmpeg failed.
        """
        with self._lock:
            motion, mask = self.spec_field(spec)
            return self._encode(self._frames_of(motion, mask), spec.fps)

    def motion_spec(self, spec: MotionSpec) -> bytes:
        """An mp4 of the spec's motion at preview size, colour-coded (hue = direction, saturation = length).

        One scale for all frames (the longest vector of the whole field); the field is the
        one :meth:`render_spec` renders, compiled once for both.
        """
        from motionkit.ops.flowviz import flow_to_color

        with self._lock:
            motion, _ = self.spec_field(spec)
            colours = flow_to_color(motion.numpy())
            return self._encode(iter(colours), spec.fps)

    def _encode(self, frames: Iterable[np.ndarray], fps: float) -> bytes:
        """Stream ``uint8 (h, w, 3)`` frames into the standby encoder; the mp4 bytes.

        The next preview's encoder is started once this one is done, in the background.
        """
        settings = {"crf": PREVIEW_CRF, "preset": PREVIEW_PRESET, "tune": PREVIEW_TUNE}
        stream = self._encoders.take(self.size, fps, **settings)
        try:
            for frame in frames:
                stream.write(frame)
            return stream.finish()
        except BaseException:
            stream.close()
            raise
        finally:
            self._encoders.refill(self.size, fps, **settings)

    def close(self) -> None:
        """Stop the encoders kept in standby (also done when the previewer is garbage collected)."""
        self._encoders.close()

    def _small_brush(self, brush: Any) -> RegionMask | None:
        if brush is None:
            return None
        if self._brush[0] is brush:
            return self._brush[1]
        mask = as_brush_mask(brush, self.full_size)
        small = mask if mask.size == self.size else mask.resize(self.size)
        self._brush = (brush, small)
        return small

    def _small_camera(self, camera: CameraLike, frames: int) -> MotionField | None:
        from motionkit.motion import MotionField

        if camera is None:
            return None
        if isinstance(camera, MotionField):
            return camera.resize(self.size)
        if not isinstance(camera, Mapping):
            raise InvalidInputError(
                f"camera must be a MotionField or a mapping like {{'pan': (dx, dy), 'zoom': 1.1}}, got {type(camera).__name__}"
            )
        sx, sy = self.scale
        options = dict(camera)
        if "pan" in options:
            dx, dy = options["pan"]
            options["pan"] = (dx * sx, dy * sy)
        if options.get("center") is not None:
            cx, cy = options["center"]
            options["center"] = ((cx + 0.5) * sx - 0.5, (cy + 0.5) * sy - 0.5)
        return MotionField.camera(frames=frames, size=self.size, **options)


def _camera_key(camera: CameraLike) -> Any:
    if camera is None or not isinstance(camera, Mapping):
        return id(camera)
    return tuple(sorted((k, repr(v)) for k, v in camera.items()))


#: Previewers :func:`preview` keeps (one per image and settings), least recently used dropped first.
KEEP_PREVIEWERS = 4
_previewers = KeptPreviewers(KEEP_PREVIEWERS)


def preview(
    image: ImageLike,
    trajectories: Iterable[Trajectory] = (),
    *,
    brush: RegionMask | ImageLike | None = None,
    camera: CameraLike = None,
    frames: int = 16,
    long_side: int = DEFAULT_LONG_SIDE,
    fps: float = DEFAULT_FPS,
    predictor: str = "sparse",
    renderer: str = "warp",
) -> bytes:
    """A quick mp4 preview of :func:`motionkit.animate`'s result, small enough to redo on every edit.

    Args:
        image: the reference frame (path, ``uint8 (H, W, 3)`` array, ``(3, H, W)`` tensor in [0, 1]).
        trajectories, brush, camera, frames: as in :func:`motionkit.animate`, in the image's pixels.
        long_side: long side of the preview in pixels (never upscaled; both sides made even).
        fps: frame rate of the file.
        predictor, renderer: registered component names.

    Returns:
        The bytes of an mp4 (H.264, ``yuv420p``, moov first) a browser plays as it loads.

    The work that does not depend on the drags (downscaling, components, the encoder's start)
    is kept between calls on the same image (see :class:`Previewer`, which an editor can also
    hold itself).

    Example:
        >>> import motionkit as mk
        >>> mp4 = mk.preview("cat.png", [mk.Trajectory.line((265, 240), (290, 228))])  # doctest: +SKIP
    """
    key = (_image_key(image), int(long_side), predictor, renderer)
    previewer = _previewers.get(key, lambda: Previewer(image, long_side=long_side, predictor=predictor, renderer=renderer))
    return previewer.render(trajectories, brush=brush, camera=camera, frames=frames, fps=fps)


def _image_key(image: ImageLike) -> tuple:
    """What identifies an image's content: a file's path, size and time; else a digest of its pixels."""
    if isinstance(image, (str, os.PathLike)):
        stat = os.stat(image)
        return ("file", os.fspath(image), stat.st_size, stat.st_mtime_ns)
    if isinstance(image, torch.Tensor):
        array = image.detach().cpu().contiguous().numpy()
    else:
        array = np.ascontiguousarray(np.asarray(image))
    return ("pixels", array.shape, str(array.dtype), hashlib.blake2b(array.data, digest_size=16).hexdigest())
