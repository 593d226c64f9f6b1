"""The three pluggable component kinds and their small protocols.

A component is any object with the one method its kind needs; subclassing these bases is
optional but gives ``Kind.get(name)`` and a readable ``repr``. Backends (``classical``,
``pipelines``, plugins) implement them; the value objects find them through
:mod:`motionkit.registry` by name, never by import.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from motionkit import registry

if TYPE_CHECKING:
    import numpy as np
    import torch

    from motionkit.clip import Clip
    from motionkit.mask import RegionMask
    from motionkit.motion import MotionField
    from motionkit.trajectory import Trajectory


class _Component:
    kind: ClassVar[registry.Kind]

    @classmethod
    def get(cls, name: str, **options: Any):
        """The registered component of this kind called ``name``, built with ``options``.

        Example:
            >>> from motionkit import Renderer
            >>> Renderer.get("warp")  # doctest: +ELLIPSIS
            <...WarpRenderer...>
        """
        return registry.create(cls.kind, name, **options)

    @classmethod
    def available(cls) -> list[str]:
        """Names of every registered component of this kind (built-ins and plugins)."""
        return list(registry.available()[cls.kind])


class MotionPredictor(_Component):
    """image + sparse trajectories + motion-brush mask (+ prompt) -> dense :class:`MotionField`."""

    kind = "predictor"

    def predict(
        self,
        image: torch.Tensor | None,
        trajectories: Sequence[Trajectory] = (),
        mask: RegionMask | None = None,
        *,
        frames: int | None = None,
        size: tuple[int, int] | None = None,
        prompt: str | None = None,
    ) -> MotionField:
        """Predict the motion of every pixel of ``image`` (``(3, H, W)`` float in [0, 1]).

        ``mask`` is the motion brush: 1 where things may move. The returned field has
        ``frames`` frames (frame 0 is zero; default: the trajectories' length, else 16) at the
        image's size, in pixels. Predictors that do not need pixels (the classical ``sparse``
        densifier without edge guidance) accept ``image=None`` with ``size=(H, W)``.
        """
        raise NotImplementedError


class Renderer(_Component):
    """image + :class:`MotionField` (+ mask) -> :class:`Clip` of the rendered frames."""

    kind = "renderer"

    def render(self, image: torch.Tensor, motion: MotionField, mask: RegionMask | None = None, *, fps: float = 8.0) -> Clip:
        """Render ``image`` (``(3, H, W)`` in [0, 1]) along ``motion``; frame 0 is ``image``.

        Where ``mask`` is given, pixels outside it (mask 0) stay as in ``image``.
        """
        raise NotImplementedError

    def render_frame(self, image: torch.Tensor, flow: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Render one frame: ``image (3, H, W)`` moved by ``flow (2, H, W)`` pixels -> ``(3, H, W)``.

        Streaming renderers (those that can render a frame from its field alone, like ``warp``)
        implement this so that video-to-video can run frame by frame in bounded memory.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot render frame by frame")


class FlowEstimator(_Component):
    """a video :class:`Clip` -> the :class:`MotionField` from its frame 0 to every frame."""

    kind = "flow_estimator"

    def estimate(self, clip: Clip) -> MotionField:
        """Frame-0-relative motion of ``clip`` in pixels, ``(T, 2, H, W)``, frame 0 zero."""
        raise NotImplementedError

    def iter_flows(self, frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """Stream version of :meth:`estimate`: ``(H, W, 3) uint8`` frames in, ``(2, H, W)`` float32 flows out."""
        raise NotImplementedError(f"{type(self).__name__} cannot estimate frame by frame")
