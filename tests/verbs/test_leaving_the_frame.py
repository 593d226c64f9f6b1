"""A drag far out of the image: what leaves the frame simply leaves, without tearing or mirroring.

The tear a user saw (a drag ending 250-450 px right of the cat photo: a torn, mirrored smear at
the right edge) is not the renderer's: the densified field *folds*. With the elastic falloff
(``exp(-(d / radius)^2)``, radius a quarter of the short side, 75 px here) the displacement
drops from the drag's 435 px to almost 0 within about one radius, so ``x + f(x)`` decreases
there: pixels ahead of the drag land behind the ones after them (the Jacobian determinant of
``x -> x + f(x)`` is negative, down to -9.9 at 435 px) and the warp renders the content turned
over. Any drag longer than about 1.2 radii folds (75 px already does). A field a renderer can
show without tearing is one-to-one: its Jacobian determinant stays positive.
"""

from __future__ import annotations

import numpy as np
import pytest

import motionkit as mk

pytestmark = pytest.mark.filterwarnings("ignore::motionkit.errors.MotionkitWarning")  # the drag leaves on purpose


def jacobian_determinant(flow: np.ndarray) -> np.ndarray:
    """``det(I + Df)`` of one ``(2, H, W)`` frame in pixels: below 0 where the field folds."""
    dfx_dy, dfx_dx = np.gradient(flow[0])
    dfy_dy, dfy_dx = np.gradient(flow[1])
    return (1 + dfx_dx) * (1 + dfy_dy) - dfx_dy * dfy_dx


def test_a_drag_out_of_the_frame_does_not_fold_the_field(cat_photo):
    drag = mk.Trajectory.line((265, 240), (700, 240), frames=8)  # the nose, dragged 250 px past the right edge
    motion = mk.predict_motion(cat_photo, [drag], frames=8, mode="elastic")
    worst = min(float(jacobian_determinant(motion.flow[t].numpy()).min()) for t in range(1, 8))
    assert worst > 0, f"the field folds (Jacobian determinant down to {worst:.2f}): the render shows the content turned over"


def test_a_short_drag_does_not_fold(cat_photo):
    # The check itself: an everyday drag (25 px) gives a one-to-one elastic field. (An object moved
    # as a whole folds by design at its outline, where it covers the background it passes.)
    motion = mk.predict_motion(cat_photo, [mk.Trajectory.line((265, 240), (290, 228), frames=8)], frames=8, mode="elastic")
    assert min(float(jacobian_determinant(motion.flow[t].numpy()).min()) for t in range(1, 8)) > 0
