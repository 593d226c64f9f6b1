"""``ttm-sparse``: the classical densifier as the predictor of the TTM backends.

A backend's predictor receives the options it shares with its renderer and hands them on
(``motionkit.animate`` does the handing). The TTM renderers' learned options (``model``,
``steps``, ``seed``, ...) mean nothing to the densifier, so this predictor takes them, ignores
them, and predicts with motionkit's ``sparse`` predictor built from the remaining keywords.
"""

from __future__ import annotations

from typing import Any

import motionkit as mk
from motionkit_ttm import SHARED


class HandOnPredictor(mk.MotionPredictor):
    """``sparse`` prediction; accepts (and leaves to the renderer) the learned options in :data:`~motionkit_ttm.SHARED`.

    Example:
        >>> import motionkit as mk
        >>> predictor = HandOnPredictor(model="./wan", steps=30, radius=40.0)
        >>> field = predictor.predict(None, [mk.Trajectory.line((8, 8), (12, 8), frames=3)], size=(16, 16))
        >>> field.frames, field.size
        (3, (16, 16))
    """

    def __init__(self, **options: Any) -> None:
        self.handed_on = {k: options.pop(k) for k in list(options) if k in (*SHARED, "prompt", "negative_prompt")}
        self.sparse = mk.MotionPredictor.get("sparse", **options)

    def predict(self, image, trajectories=(), mask=None, *, frames=None, size=None, prompt=None):
        """As ``sparse``'s :meth:`~motionkit.MotionPredictor.predict`."""
        return self.sparse.predict(image, trajectories, mask, frames=frames, size=size, prompt=prompt)
