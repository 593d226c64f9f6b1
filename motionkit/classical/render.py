"""The ``warp`` renderer: move the reference image along a motion field, without weights.

The maths is :mod:`motionkit.ops.forward_warp` (invert the field by splatting it, refine the
inverse by Newton steps, backward-warp with ``cv2.remap``) and :mod:`motionkit.ops.plate`
(what no input pixel reaches, the background behind a moved object and content entering
across the border, is read from one texture-synthesised background plate per render, so the
fill neither flickers nor costs a fill per frame); this module holds the component that
applies them frame by frame with fixed settings. A frame whose field is all zero is the
input, bit for bit.

``loop="seamless"`` renders a cinemagraph loop that flows on instead of reversing: frame
``t`` of ``N`` blends the image moved forward ``t`` steps with the image moved backward
``N - t`` steps (the field run in reverse, :meth:`MotionField.reverse`), the symmetric
splatting of Holynski et al. (2021, "Animating Pictures with Eulerian Motion Fields"). The
frame after the last is the first again, and both layers move one step a frame, so the loop
flows on. Where the two layers are two looks at one texture (water, grass) they are
cross-faded over the whole loop (weights ``1 - t / N`` and ``t / N``); where they are two
copies of one structure (a face, a cup) the cross-fade is kept to the closing frames, so the
rest of the loop is one sharp image instead of a double one (:mod:`motionkit.ops.seamless`).

Example:
    >>> import torch
    >>> image = torch.rand(3, 32, 32)
    >>> flow = torch.zeros(2, 32, 32); flow[0] = 3.0          # three pixels to the right
    >>> out = WarpRenderer().render_frame(image, flow)
    >>> torch.allclose(out[:, :, 3:], image[:, :, :-3], atol=1e-5)
    True
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from motionkit.components import FrameRenderer, _as_clip, _render_inputs, _uint8_clip
from motionkit.errors import InvalidInputError, NonFiniteError
from motionkit.io.image import image_to_tensor
from motionkit.ops.field import all_finite
from motionkit.ops.forward_warp import check_settings, warp_frame, warp_frame_numpy
from motionkit.ops.plate import BackgroundPlate
from motionkit.ops.seamless import loop_alpha, rigidity
from motionkit.pixels import to_uint8

if TYPE_CHECKING:
    from motionkit.clip import Clip
    from motionkit.mask import RegionMask
    from motionkit.motion import MotionField


def _channels_last(image: torch.Tensor) -> np.ndarray:
    """``float32 (H, W, 3)`` contiguous copy of a ``(3, H, W)`` image: what the numpy frame path and the plate read."""
    return np.ascontiguousarray(image.detach().cpu().numpy().transpose(1, 2, 0), np.float32)


#: Weight a pixel no input pixel reaches keeps in a seamless loop's blend (the other render sees it).
UNSEEN_WEIGHT = 0.1


class WarpRenderer(FrameRenderer):
    """Render an image along a motion field by forward warping (no weights, CPU), frame by frame.

    A :class:`~motionkit.FrameRenderer`: ``render`` streams a lazy field (one frame in memory).

    Args:
        splat: ``"softmax"`` (where pixels collide, the one that moved more wins) or ``"avg"``.
        sharpness: softmax metric per pixel of motion; higher makes occlusions harder.
        fill: what the pixels no input pixel reaches show: ``"background"`` reads them from
            the background plate (the reference image with what moves removed and extended
            beyond its borders by patch-based texture synthesis, computed once per render:
            the uncovered background, not the object that left, and no mirrored copy at the
            border); ``"stretch"`` continues the surrounding motion (rubber sheet: a moved
            object's edge is stretched into its old place; content entering across the
            border is read mirrored), at no cost.
        work_size: long side above which the field is inverted at reduced resolution and refined.
        loop: ``None`` (the field as it is) or ``"seamless"``: a loop whose last frame flows
            into the first (see the module notes; the field is read whole, for its reverse).

    Example:
        >>> import torch
        >>> renderer = WarpRenderer(splat="softmax", fill="background")
        >>> frame = renderer.render_frame(torch.rand(3, 16, 16), torch.zeros(2, 16, 16))
        >>> frame.shape
        torch.Size([3, 16, 16])
    """

    def __init__(
        self,
        splat: Literal["softmax", "avg"] = "softmax",
        fill: Literal["background", "stretch"] = "background",
        sharpness: float = 1.0,
        work_size: int = 256,
        loop: Literal["seamless"] | None = None,
    ) -> None:
        check_settings(splat, fill, sharpness, work_size)
        if loop not in (None, "seamless"):
            raise InvalidInputError(f"loop must be None or 'seamless', got {loop!r}; for a ping-pong loop use MotionField.loop()")
        self.splat, self.fill, self.sharpness, self.work_size = splat, fill, float(sharpness), int(work_size)
        self.loop = loop

    def __repr__(self) -> str:
        loop = "" if self.loop is None else f", loop={self.loop!r}"
        return (f"WarpRenderer(splat={self.splat!r}, fill={self.fill!r}, sharpness={self.sharpness}, "
                f"work_size={self.work_size}{loop})")

    def render_frame(self, image: torch.Tensor, flow: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """One frame: ``image (3, H, W)`` in [0, 1] moved by ``flow (2, H, W)`` px -> ``(3, H, W)`` float32.

        ``mask`` (``(H, W)`` in [0, 1]): where it is 0 nothing moves and the output equals ``image``.
        Any other image-like input (``uint8 (H, W, 3)``, a path) is converted first.

        Raises:
            NonFiniteError: the flow holds NaN or infinity.
            ShapeMismatchError: image, flow and mask sizes disagree.
        """
        if not (isinstance(image, torch.Tensor) and image.dim() == 3 and image.shape[0] == 3):
            image = image_to_tensor(image)  # a uint8 (H, W, 3) array, a path, a PIL image, ...
        flow = torch.as_tensor(flow, dtype=torch.float32)
        if not all_finite(flow):
            raise NonFiniteError("motion field holds NaN or infinite values; fix or mask them before rendering")
        mask = None if mask is None else torch.as_tensor(mask, dtype=torch.float32)
        out, _ = warp_frame(image.to(torch.float32), flow, mask,
                            splat=self.splat, sharpness=self.sharpness, fill=self.fill, work_size=self.work_size)
        return out

    def render(self, image: torch.Tensor, motion: MotionField, mask: RegionMask | None = None, *, fps: float = 8.0) -> Clip:
        """Render ``image`` along ``motion`` into a ``uint8`` :class:`~motionkit.Clip` at ``fps``; lazy in, lazy out.

        Each pass over the frames builds one background plate (the fill is synthesised the
        first time a frame needs it, and only grown afterwards) and holds one frame of the
        field. With ``loop="seamless"`` the field is read whole (its reverse is needed) and
        the clip has as many frames as the field.

        Raises:
            NonFiniteError: the field holds NaN or infinity.
            ShapeMismatchError: image, field and mask sizes disagree.
        """
        pixels, values = _render_inputs(image, motion, mask)
        if self.loop == "seamless":
            backward = motion.reverse()
            return _as_clip(lambda: self._seamless(pixels, motion, backward, values), motion, fps)
        return _uint8_clip(lambda: self.iter_uint8(pixels, motion, values), motion, fps)

    def iter_uint8(self, image: torch.Tensor, motion: MotionField, mask: torch.Tensor | None = None) -> Iterator[np.ndarray]:
        """The frames of :meth:`render` as ``uint8 (H, W, 3)`` arrays, one at a time (one background plate).

        ``image`` is ``float32 (3, H, W)`` in [0, 1] and ``mask`` ``(H, W)`` or ``None``, checked
        by the caller (see :meth:`render`). The frames are quantised in numpy from the warp's
        channels-last result (:func:`motionkit.pixels.to_uint8`, the same bytes as the torch
        quantiser), so no per-frame tensor round trip is paid. Frame 0 is the input's bytes.
        """
        frame = self._pass(_channels_last(image), mask)
        for flow in motion.iter_frames():
            yield to_uint8(frame(flow)[0])

    def _pass(self, array: np.ndarray, mask: torch.Tensor | None, plate: Any = None):
        """A frame function of one render pass over ``array`` (the image, :func:`_channels_last`):
        ``flow -> (frame (H, W, 3) float32, unseen (H, W) bool)``, reading one plate (``plate``, or a new one)."""
        weights = None if mask is None else mask.detach().cpu().numpy().astype(np.float32)
        if self.fill != "background":
            plate = None
        elif plate is None:
            plate = BackgroundPlate(array)

        def frame(flow: torch.Tensor, sampler: Any = plate) -> tuple[np.ndarray, np.ndarray]:
            values = torch.as_tensor(flow).detach().to("cpu", torch.float32).numpy()  # a view on the CPU
            if not np.isfinite(values).all():
                raise NonFiniteError("motion field holds NaN or infinite values; fix or mask them before rendering")
            return warp_frame_numpy(array, values, weights, splat=self.splat, sharpness=self.sharpness,
                                    fill=self.fill, work_size=self.work_size, plate=sampler)

        return frame

    def frame_function(
        self, image: torch.Tensor, mask: torch.Tensor | None = None, *, plate: BackgroundPlate | None = None
    ) -> FrameFunction:
        """``one(flow (2, H, W), turn=None) -> uint8 (H, W, 3)``: :meth:`render_frame` quantised, with what frames share made once.

        The image's channels-last copy and the mask are converted here, once, and every call
        reads the same background plate: ``plate`` (a :class:`~motionkit.ops.plate.BackgroundPlate`
        of ``image`` that a caller keeps between renders, e.g. a previewer between edits) or a
        new one. The function may be called from several threads at once. Reading the plate
        may grow it, so calls given ``turn`` (the frame's index, 0, 1, ... per function)
        reach the plate in that order, as a serial render would, and the frames do not depend
        on which thread ran first; calls without one take turns under a lock in whatever
        order they come. A caller that drops frames it had numbered calls ``one.abandon()``
        so that later ones stop waiting. Not for ``loop="seamless"`` (a frame needs two fields).

        Raises:
            InvalidInputError: the renderer renders seamless loops.
        """
        if self.loop is not None:
            raise InvalidInputError("frame_function renders one field frame at a time; a seamless loop needs two")
        array = _channels_last(image)
        if plate is None and self.fill == "background":
            plate = BackgroundPlate(array)
        shared = None if plate is None else _SharedPlate(plate)
        return FrameFunction(self._pass(array, mask, shared), shared)

    # --- seamless loops (the loop part: motionkit.ops.seamless holds the blend weights) ---

    def _seamless(self, image: torch.Tensor, motion: MotionField, backward: MotionField,
                  mask: torch.Tensor | None) -> Iterator[torch.Tensor]:
        array = _channels_last(image)
        frame = self._pass(array, mask)
        count = motion.frames
        inside = None if mask is None else (mask.detach().cpu().numpy() > 0)[..., None]

        def layers(t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            ahead, ahead_unseen = frame(motion.frame(t))
            behind, behind_unseen = frame(backward.frame(count - t))
            return ahead, ahead_unseen, behind, behind_unseen

        # Where the two layers are copies of one structure rather than looks at one texture,
        # the cross-fade is kept to the closing frames (judged once, on the middle frame).
        rigid = None
        if count > 2:
            mid = layers(count // 2)
            rigid = rigidity(mid[0], mid[2])
        for t in range(count):
            if t == 0:
                yield torch.from_numpy(array.copy()).permute(2, 0, 1)  # the reference, bit for bit
                continue
            ahead, ahead_unseen, behind, behind_unseen = layers(t)
            alpha = (t / count) if rigid is None else loop_alpha(t, count, rigid)[..., None]
            # Symmetric splatting: where one render has nothing to show, the other one speaks.
            wa = (1 - alpha) * np.where(ahead_unseen, UNSEEN_WEIGHT, 1.0).astype(np.float32)[..., None]
            wb = alpha * np.where(behind_unseen, UNSEEN_WEIGHT, 1.0).astype(np.float32)[..., None]
            out = (ahead * wa + behind * wb) / np.maximum(wa + wb, 1e-12)
            if inside is not None:  # outside the brush both are the input; keep it exact
                out = np.where(inside, out, array)
            yield torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32)).permute(2, 0, 1)


class FrameFunction:
    """What :meth:`WarpRenderer.frame_function` returns: ``one(flow, turn=None) -> uint8 (H, W, 3)`` and ``abandon()``."""

    def __init__(self, frame: Callable[..., tuple[np.ndarray, np.ndarray]], shared: _SharedPlate | None) -> None:
        self._frame, self._shared = frame, shared

    @property
    def plate(self) -> BackgroundPlate | None:
        """The background plate the frames read (None with ``fill="stretch"``): keep it and pass it to the next
        :meth:`WarpRenderer.frame_function` of the same image, and the fill made for these frames is not made again."""
        return None if self._shared is None else self._shared.plate

    def __call__(self, flow: torch.Tensor, turn: int | None = None) -> np.ndarray:
        if self._shared is None or turn is None:  # the frame function's own plate (shared: reads under its lock)
            return to_uint8(self._frame(flow)[0])
        reader = _Turn(self._shared, int(turn))
        try:
            return to_uint8(self._frame(flow, reader)[0])
        finally:
            reader.done()

    def abandon(self) -> None:
        """Stop ordering the plate's reads: numbered calls still waiting for a dropped frame go on."""
        if self._shared is not None:
            self._shared.abandon()


class _SharedPlate:
    """A :class:`~motionkit.ops.plate.BackgroundPlate` read by several threads: reads take turns (one may grow the plate).

    ``turn`` counts the numbered frames done with the plate (see :class:`_Turn`).
    """

    def __init__(self, plate: BackgroundPlate) -> None:
        self.plate = plate
        self.lock = threading.Lock()
        self.order = threading.Condition()
        self.turn = 0
        self.abandoned = False

    def sample(self, *args, **kwargs) -> np.ndarray:
        with self.lock:
            return self.plate.sample(*args, **kwargs)

    def wait_for(self, turn: int) -> None:
        with self.order:
            self.order.wait_for(lambda: self.abandoned or self.turn >= turn)

    def advance(self, turn: int) -> None:
        with self.order:
            self.order.wait_for(lambda: self.abandoned or self.turn >= turn)
            self.turn = max(self.turn, turn + 1)
            self.order.notify_all()

    def abandon(self) -> None:
        with self.order:
            self.abandoned = True
            self.order.notify_all()


class _Turn:
    """The plate as frame ``turn`` sees it: it reads after frames ``0 .. turn - 1`` are done with the plate."""

    def __init__(self, shared: _SharedPlate, turn: int) -> None:
        self.shared, self.turn, self.passed = shared, turn, False

    def sample(self, *args, **kwargs) -> np.ndarray:
        self.shared.wait_for(self.turn)
        try:
            return self.shared.sample(*args, **kwargs)
        finally:  # a frame reads the plate once: the next frame may read it now, not when this one ends
            self.shared.advance(self.turn)
            self.passed = True

    def done(self) -> None:
        if not self.passed:
            self.shared.advance(self.turn)
