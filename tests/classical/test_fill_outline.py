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


def _rim_left_behind(image: np.ndarray, feather: float | None) -> tuple[float, int]:
    """``(fraction, count)`` of the saucer's dark rim pixels on its trailing flank that the last frame still shows as they were.

    Rows 120-320 of the saucer's left flank: the rim is the 8 px left of the first pixel that
    moves, where the photo is more than 15 grey levels darker than the wood 15-30 px further
    left on that row (the dark edge the object region does not take in). Left behind, such a
    pixel is bit-identical to the photo in the last frame; filled, it shows the plate's wood.
    """
    options = {} if feather is None else {"feather": feather}
    trajectory = mk.Trajectory.line(*CREMA, frames=FRAMES)
    motion = mk.predict_motion(image, [trajectory], frames=FRAMES, **options)
    magnitude = np.hypot(*motion.frame(FRAMES - 1).numpy())
    last = mk.render(image, motion).frame(FRAMES - 1)
    photo = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64)
    rim = kept = 0
    for y in range(120, 320):
        x = int(np.flatnonzero(magnitude[y] > 1)[0])
        assert 40 < x < 140, "the saucer's left flank"
        dark = photo[y, x - 8 : x] < np.median(photo[y, x - 30 : x - 15]) - 15
        same = (last[y, x - 8 : x] == image[y, x - 8 : x]).all(axis=1)
        rim += int(dark.sum())
        kept += int((dark & same).sum())
    return kept / max(rim, 1), rim


@pytest.mark.slow
@pytest.mark.parametrize("feather", [None, 3.0, 6.0])
def test_the_saucers_rim_does_not_stay_behind_on_the_uncovered_wood(coffee_photo, feather):
    kept, rim = _rim_left_behind(coffee_photo, feather)
    assert rim > 300, f"the photo shows a dark rim there ({rim} pixels)"
    # Splatted where they were, 88-90 % of them stayed; torn with the outline, they read the
    # plate: 9-17 % stay (those beyond the plate's growth; 8 px would take them too, but then
    # fills the astronaut's collar 8 px deep and draws a light line under her chin).
    assert kept < 0.3, f"{kept:.0%} of the {rim} rim pixels still show where the saucer was"


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
    assert torn[250, 66:84][magnitude[250, 66:84] < 0.05].sum() >= 2, "the still rim beside the falloff tears with it"
