"""A moved object leaves nothing of its outline behind, and only an object's outline tears.

The object region a drag moves ends a few pixels inside the visible edge, and its motion falls
from the drag to zero over a few pixels (the falloff). The pixels just outside the region (the
anti-aliased rim, coffee's dark saucer edge) hardly move; splatted, they stayed where the object
was as a thin dark line across the uncovered wood. Measured on coffee at full size, with the
default falloff and with a sharp (3 px) and a soft (6 px) one, the width range the objects
code may use.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import motionkit as mk
from motionkit.motion import MotionField
from motionkit.ops import plate

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CREMA = ((290, 150), (350, 150))  # a 60 px drag from the crema: cup, spoon and saucer move as one
FRAMES = 4


def _outline_line_depth(image: np.ndarray, feather: float | None) -> tuple[float, float]:
    """``(depth in the last frame, depth in the photo)`` of a dark line along the saucer's trailing outline (grey levels).

    Rows 120-320 of the saucer's left flank are aligned at the first pixel that moves and
    averaged (the wood's grain runs diagonally and averages out). The line's depth is the
    mean of the profile 16-10 px left and 4-10 px right of that pixel minus the profile's
    minimum between 8 px left and 2 px right of it: the rim the photo shows there, and in
    the last frame whatever is left of it.
    """
    options = {} if feather is None else {"feather": feather}
    trajectory = mk.Trajectory.line(*CREMA, frames=FRAMES)
    motion = mk.predict_motion(image, [trajectory], frames=FRAMES, **options)
    magnitude = np.hypot(*motion.frame(FRAMES - 1).numpy())
    last = cv2.cvtColor(mk.render(image, motion).frame(FRAMES - 1), cv2.COLOR_RGB2GRAY).astype(np.float64)
    photo = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64)
    profiles = {"last": [], "photo": []}
    for y in range(120, 320):
        x = int(np.flatnonzero(magnitude[y] > 1)[0])
        assert 40 < x < 140, "the saucer's left flank"
        profiles["last"].append(last[y, x - 20 : x + 20])
        profiles["photo"].append(photo[y, x - 20 : x + 20])

    def depth(rows):
        p = np.mean(rows, axis=0)
        return float(np.r_[p[4:10], p[24:30]].mean() - p[12:22].min())

    return depth(profiles["last"]), depth(profiles["photo"])


@pytest.mark.slow
@pytest.mark.parametrize("feather", [None, 3.0, 6.0])
def test_the_saucers_rim_does_not_stay_behind_as_a_line_on_the_uncovered_wood(coffee_photo, feather):
    line, rim = _outline_line_depth(coffee_photo, feather)
    assert rim > 4, f"the photo shows a dark rim there ({rim:.1f} grey levels deep)"
    # Left behind, the rim was a line 15-19 grey levels deep in the last frame; filled, 5 or less
    # (the minimum of an averaged profile of wood grain is a few levels below its mean).
    assert line < 8, f"a line {line:.1f} grey levels deep follows the old outline (the photo's rim: {rim:.1f})"


def _small(flow: np.ndarray, work_size: int = 256) -> np.ndarray:
    """The field as the warp tears it: at its working size (a 600 px photo's at 256 px, vectors in those pixels)."""
    h, w = flow.shape[1:]
    scale = max(h, w) / work_size
    size = (round(w / scale), round(h / scale))
    small = cv2.resize(flow.transpose(1, 2, 0), size, interpolation=cv2.INTER_AREA) / np.float32(scale)
    return np.ascontiguousarray(small.transpose(2, 0, 1))


def test_only_a_moved_objects_outline_tears(coffee_photo):
    image = coffee_photo
    h, w = image.shape[:2]
    drag = [mk.Trajectory.line(*CREMA, frames=3)]
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    shifted = np.ascontiguousarray(np.roll(grey, 12, axis=1))
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    estimated = dis.calc(grey, shifted, None).transpose(2, 0, 1)  # an estimated pan: noisy, moves every pixel
    fields = {
        "zoom": MotionField.camera(zoom=1.3, frames=3, size=(h, w)).frame(2).numpy(),
        "pan": MotionField.camera(pan=(40, 10), frames=3, size=(h, w)).frame(2).numpy(),
        "estimated pan": np.ascontiguousarray(estimated, np.float32),
        "elastic drag": mk.predict_motion(image, drag, frames=3, mode="elastic").frame(2).numpy(),
        "small drag": mk.predict_motion(image, [mk.Trajectory.line((290, 150), (293, 150), frames=3)], frames=3).frame(2).numpy(),
    }
    assert (np.hypot(*fields["estimated pan"]) > 1).mean() > 0.9
    for name, flow in fields.items():
        for field in (flow, _small(flow)):
            assert plate.torn(field).mean() < 0.001, f"{name}: {plate.torn(field).mean():.4f} of the picture torn"
    # The object's own drag tears its outline: on the trailing side (moving little), not its body.
    flow = mk.predict_motion(image, drag, frames=3).frame(2).numpy()
    magnitude = np.hypot(*flow)
    torn = plate.torn(flow)
    assert torn[250, 66:84].any() and not torn[250, 100:140].any() and not torn[250, :60].any()
    assert torn[250, 66:84][magnitude[250, 66:84] < 1].any(), "the rim's slow side tears with the falloff"
