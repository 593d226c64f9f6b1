"""Where a moved object's motion stops: within a few pixels on a clear edge, gradually where there is none.

On ``chelsea`` an eye drag moves the cat's head; on the right the head's outline runs along the
blurred room. Beside the eye and under it (rows 180-210) the cheek ends in pale, defocused white
fur running into the pale blurred room with no edge to stop at, and a few-pixel step there
would draw a hard line; lower (row 230) the orange fur meets the paler room at a clear edge
(x ~ 359). On ``coffee`` the saucer's rim against the table is a clear edge and stays sharp.
(Until the found region followed the cheek's outer outline, ``fill_dents``, it ended on the
orange fur's edge at rows 190-210 and cut through pale fur lower down: the rows checked here
moved with the outline.)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionkit.classical.densify import SparsePredictor
from motionkit.ops.object_outline import falloff_widths
from motionkit.trajectory import Trajectory


def _tensor(photo: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1).float() / 255.0


def _fall(row: np.ndarray) -> tuple[int, float]:
    """Pixels over which ``|motion|`` along ``row`` (``(2, N)``, from inside the object outwards) falls
    from 90 % to 10 % of its value at the start, and the largest one-pixel drop as a fraction of it."""
    magnitude = np.hypot(*row)
    full = magnitude[0]
    high = int(np.nonzero(magnitude > 0.9 * full)[0].max())
    low = int(np.nonzero((magnitude < 0.1 * full) & (np.arange(len(magnitude)) > high))[0].min())
    return low - high, float(np.max(-np.diff(magnitude)) / full)


@pytest.fixture(scope="module")
def cat_field(cat_photo) -> np.ndarray:
    drag = Trajectory.line((170, 110), (190, 100), frames=3)
    return SparsePredictor().predict(_tensor(cat_photo), [drag]).flow[-1].numpy()


def test_where_pale_fur_runs_into_the_pale_room_the_cats_motion_falls_off_gradually(cat_field):
    span, step = _fall(cat_field[:, 200, 300:])
    assert span >= 8 and step < 0.25, (span, step)


def test_where_the_cats_cheek_meets_a_clear_background_the_motion_stops_within_a_few_pixels(cat_field):
    span, _ = _fall(cat_field[:, 230, 300:])
    assert span <= 5, span


def test_the_saucers_rim_on_the_table_stays_a_sharp_step(coffee_photo):
    drag = Trajectory.line((290, 150), (350, 150), frames=3)
    field = SparsePredictor().predict(_tensor(coffee_photo), [drag]).flow[-1].numpy()
    span, _ = _fall(field[:, 250, 290::-1])  # leftwards from the cup to the saucer's rim and the table
    assert span <= 6, span


def test_falloff_widths_are_the_feather_on_a_clear_outline_and_wide_on_an_unclear_one(coffee_photo):
    image = coffee_photo[100:300, 100:400].astype(np.float32) / 255.0
    mask = np.zeros(image.shape[:2], bool)
    mask[40:160, 60:240] = True  # a box whose outline runs through the cup, saucer and table
    widths = falloff_widths(mask, image, 3.0)
    assert widths.min() >= 3.0 and widths.max() <= 0.06 * 200 + 1e-4
    flat = np.full((200, 300, 3), 0.5, np.float32)
    assert (falloff_widths(mask, flat, 3.0)[mask.shape[0] // 2, 241:245] > 10.0).all()  # no edge at all: wide
    clear = flat.copy()
    clear[40:160, 60:240] = 0.1  # the same box painted dark: a clear edge all round
    assert np.allclose(falloff_widths(mask, clear, 3.0), 3.0)
