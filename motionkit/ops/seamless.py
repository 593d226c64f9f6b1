"""Blend weights of a seamless loop: a long cross-fade where content flows, a short one where it is rigid.

A seamless loop of ``N`` frames (:class:`~motionkit.classical.render.WarpRenderer` with
``loop="seamless"``) shows at frame ``t`` the image moved forward ``t`` steps (``ahead``) and
the image moved backward ``N - t`` steps (``behind``), blended by a weight ``alpha`` that runs
from 0 at frame 0 to 1 at frame ``N`` (frame 0 again). Both layers move forward by one step a
frame, so any such ``alpha`` plays on without reversing: the step from the last frame to the
first is one step like any other, only *which* layer is seen changes.

Holynski et al. (2021) cross-fade linearly over the whole loop, ``alpha = t / N``. On a fluid
(water, clouds, grass in the wind) the two layers are two looks at the same stochastic
texture and the blend hides the loop point. On rigid content (a face, a cup) the two layers
are the same structure ``N`` steps apart, and the long cross-fade is a double image for the
whole loop. Here the cross-fade is chosen per pixel: where the two layers disagree in their
coarse structure (their local means differ, so a blend would show two copies rather than a
texture) the weight switches from one layer to the other within the last few frames
(:func:`closing_alpha`), so most of the loop shows one sharp layer; elsewhere it stays linear.

Everything here is numpy, channels last.

Example:
    >>> import numpy as np
    >>> rigid = np.array([[0.0, 1.0]], np.float32)          # a fluid pixel and a rigid one
    >>> [round(float(a), 2) for a in loop_alpha(6, 12, rigid).ravel()]
    [0.5, 0.0]
"""

from __future__ import annotations

import cv2
import numpy as np

#: Scale (pixels) of the coarse structure the two layers are compared at.
STRUCTURE_SIGMA = 8.0
#: Mean absolute difference of the coarse colours (0-1 scale) below which a pixel counts as fluid,
#: and the span above it over which it turns rigid.
FLUID_BELOW, RIGID_SPAN = 0.025, 0.035
#: Frames (fraction of the loop, at least two) of the closing cross-fade on rigid content.
CLOSING_FRACTION = 0.2


def rigidity(ahead: np.ndarray, behind: np.ndarray) -> np.ndarray:
    """``float32 (H, W)`` in [0, 1]: how far a blend of the two layers would show two copies, not one texture.

    ``ahead`` and ``behind`` are the two layers of the loop's middle frame (``float32 (H, W,
    C)``, 0-1), where they are furthest apart. Their colours are compared after a blur of
    :data:`STRUCTURE_SIGMA` px: two looks at one stochastic texture agree there (grass, ripples),
    two copies of one structure (an eye and the cheek beside it) do not. The map is smoothed
    and grown by a few pixels, so a rigid object's outline and the area right around it
    switch together (no seam at its edge).
    """
    a = cv2.GaussianBlur(ahead, (0, 0), STRUCTURE_SIGMA)
    b = cv2.GaussianBlur(behind, (0, 0), STRUCTURE_SIGMA)
    difference = np.abs(a - b).reshape(a.shape[0], a.shape[1], -1).mean(axis=2)
    rigid = np.clip((difference - FLUID_BELOW) / RIGID_SPAN, 0.0, 1.0).astype(np.float32)
    grown = cv2.dilate(rigid, np.ones((7, 7), np.uint8))
    return np.clip(cv2.GaussianBlur(grown, (0, 0), 2 * STRUCTURE_SIGMA), 0.0, 1.0).astype(np.float32)


def closing_alpha(t: int, count: int) -> float:
    """The rigid content's weight of the ``behind`` layer at frame ``t`` of ``count``: 0 until the closing frames, then a smoothstep to 1 at ``count``."""
    span = max(2, round(CLOSING_FRACTION * count))
    s = min(max((t - (count - span)) / span, 0.0), 1.0)
    return s * s * (3.0 - 2.0 * s)


def loop_alpha(t: int, count: int, rigid: np.ndarray) -> np.ndarray:
    """``float32`` like ``rigid``: the per-pixel weight of the ``behind`` layer at frame ``t`` of ``count``.

    Linear (``t / count``) where ``rigid`` is 0, :func:`closing_alpha` where it is 1, mixed
    between. 0 at ``t = 0`` and 1 at ``t = count`` everywhere.
    """
    return ((1.0 - rigid) * (t / count) + rigid * closing_alpha(t, count)).astype(np.float32)
