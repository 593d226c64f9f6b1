"""Object mode without a brush on real photos at full size: which object a drag finds and moves.

The search runs at a fixed working size (:mod:`motionkit.ops.object_search`), so the same photo
gives the same object at 256 px and at 1024 px. Pixel positions below are in the photos' own
full-size coordinates (coffee 600 x 400, astronaut 512 x 512, chelsea 451 x 300).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from motionkit.classical.densify import SparsePredictor
from motionkit.ops.object_search import closed
from motionkit.ops.segment import flooded
from motionkit.trajectory import Trajectory


def _tensor(photo: np.ndarray, width: int | None = None) -> torch.Tensor:
    if width is not None:
        photo = cv2.resize(photo, (width, round(photo.shape[0] * width / photo.shape[1])), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1).float() / 255.0


def _region(image: torch.Tensor, drags: list[Trajectory]) -> np.ndarray:
    [region] = SparsePredictor(mode="object").regions(image, drags)
    return region.mask.values.numpy() > 0.5


@pytest.fixture(scope="module")
def astronaut_photo() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="module")
def cat(cat_photo) -> torch.Tensor:
    return _tensor(cat_photo)  # one tensor for the module: the found region is memoised on it


def test_a_drag_on_the_crema_finds_the_whole_cup_and_moves_it(coffee_photo):
    image = _tensor(coffee_photo)
    drag = Trajectory.line((290, 150), (320, 140), frames=4)
    mask = _region(image, [drag])
    # crema, white rim, red body, handle, spoon, saucer: one object; the table is not.
    for x, y in ((290, 150), (200, 100), (300, 40), (215, 215), (222, 272), (365, 290), (110, 250), (270, 370)):
        assert mask[y, x], (x, y)
    for x, y in ((30, 30), (560, 60), (40, 380), (560, 380), (520, 200)):
        assert not mask[y, x], (x, y)
    assert closed(mask) and 0.3 < mask.mean() < 0.6
    flow = SparsePredictor(mode="object").predict(image, [drag]).flow.numpy()
    assert flow[-1, :, 272, 222] == pytest.approx((30.0, -10.0), abs=0.01)  # the handle goes with the cup
    assert np.abs(flow[-1, :, 30, 560]).max() == 0.0


def test_a_drag_on_the_astronauts_eye_finds_face_and_hair_not_the_suit(astronaut_photo):
    image = _tensor(astronaut_photo)
    eye, chin = Trajectory.line((208, 112), (220, 106), frames=4), Trajectory.line((225, 160), (221, 160), frames=4)
    mask = _region(image, [eye, chin])
    for x, y in ((208, 112), (245, 115), (225, 160), (225, 30), (165, 80), (290, 80)):
        assert mask[y, x], (x, y)  # eyes, chin, top and sides of the hair
    for x, y in ((225, 200), (140, 250), (300, 260), (100, 100), (400, 60)):
        assert not mask[y, x], (x, y)  # neck, collar ring, backdrop
    flow = SparsePredictor(mode="object").predict(image, [eye, chin]).flow.numpy()
    assert np.abs(flow[-1, :, 250, 140]).max() == 0.0  # the collar ring stays put
    # Two drags on one object: a similarity, so the face turns without being squashed.
    a, b = np.array([208.0, 112.0]), np.array([225.0, 160.0])
    moved_a, moved_b = a + flow[-1, :, 112, 208], b + flow[-1, :, 160, 225]
    assert np.hypot(*(moved_a - moved_b)) == pytest.approx(np.hypot(*(a - b)) * np.hypot(*((a + (12, -6)) - (b + (-4, 0)))) / np.hypot(*(a - b)), abs=0.05)


@pytest.mark.parametrize("start", [(225, 30), (225, 60)], ids=["hair", "forehead"])
def test_a_drag_on_the_astronauts_hair_keeps_to_face_and_hair(astronaut_photo, start):
    # The frame candidate takes in the backdrop around her hair here: the face's closed cut is
    # not a patch of it, since across that stretch of its rim brown hair meets pale backdrop.
    mask = _region(_tensor(astronaut_photo), [Trajectory.line(start, (start[0] + 10, start[1]), frames=4)])
    for x, y in ((208, 112), (225, 30), (225, 160), (165, 80), (290, 80)):
        assert mask[y, x], (x, y)
    for x, y in ((225, 200), (140, 250), (100, 100), (400, 60), (330, 20)):
        assert not mask[y, x], (x, y)  # neck, collar ring, backdrop


@pytest.mark.parametrize("start", [(150, 330), (200, 350)], ids=["chest", "by-the-patch"])
def test_a_drag_on_the_astronauts_chest_moves_her_figure_not_the_helmet_in_front_or_the_flag(astronaut_photo, start):
    # The white rim of the helmet she holds touches the suit where their outlines meet: the
    # frame-as-background cut took it in through that 1-2 px bridge. Beside the mission patch,
    # a geodesic ball that ran into the flag's red stripes at the side was taken for its edges.
    image = _tensor(astronaut_photo)
    drag = Trajectory.line(start, (start[0] + 15, start[1]), frames=16)
    mask = _region(image, [drag])
    for x, y in (start, (150, 330), (100, 420), (60, 300), (280, 300), (225, 80), (140, 250)):
        assert mask[y, x], (x, y)  # the suit, both sides of the zip, the head, the collar ring
    for x, y in ((380, 350), (400, 352), (440, 362), (470, 385), (400, 450)):
        assert not mask[y, x], (x, y)  # the helmet's white rim and its black visor
    assert not mask[100:300, :40].any() and not mask[:60, :120].any() and not mask[:60, 330:].any()  # flag, backdrop
    flow = SparsePredictor().predict(image, [drag]).flow.numpy()
    assert flow[-1, :, start[1], start[0]] == pytest.approx((15.0, 0.0), abs=0.01)
    assert np.abs(flow[-1, :, 362, 440]).max() < 0.5 and np.abs(flow[-1, :, 150, 20]).max() < 0.5


@pytest.mark.parametrize("start", [(330, 300), (320, 280), (340, 320)], ids=["shoulder", "above", "below"])
def test_a_drag_on_the_astronauts_shoulder_moves_her_figure_not_a_patch_of_the_suit(astronaut_photo, start):
    # A fold of the suit at the shoulder, closed off by its shadow and the dark backdrop, was the
    # largest closed cut there; a good part of its rim lies in the suit that goes on around it.
    image = _tensor(astronaut_photo)
    mask = _region(image, [Trajectory.line(start, (start[0] + 15, start[1]), frames=16)])
    for x, y in (start, (150, 330), (100, 420), (60, 300), (225, 80)):
        assert mask[y, x], (x, y)  # the shoulder, the chest, the belly, the head
    for x, y in ((400, 352), (440, 362), (400, 450), (420, 250), (20, 150)):
        assert not mask[y, x], (x, y)  # helmet rim and visor, backdrop, flag


def test_a_drag_on_the_cats_nose_moves_the_whole_head_and_leaves_the_room_still(cat):
    drag = Trajectory.line((262, 240), (290, 228), frames=4)
    mask = _region(cat, [drag])
    for x, y in ((262, 240), (170, 110), (318, 135), (230, 60), (60, 30), (370, 40), (60, 250)):
        assert mask[y, x], (x, y)  # nose, both eyes, forehead, both ears, chest
    # The head and chest fill three quarters of this close-up (more than a flood elsewhere):
    # what must stay out is the blurred room on the right.
    assert not flooded(mask, area=0.8) and mask[:, 420:].mean() < 0.1 and not mask[150, 440]  # the room is not
    flow = SparsePredictor().predict(cat, [drag]).flow.numpy()  # the default mode: object
    assert flow[-1, :, 240, 262] == pytest.approx((28.0, -12.0), abs=0.01)
    for x, y in ((170, 110), (318, 135)):  # the face moves as one piece: no muzzle cut out
        assert flow[-1, :, y, x] == pytest.approx((28.0, -12.0), abs=0.5), (x, y)
    assert 0.8 < flow[-1, 0, 60, 230] / 28.0 <= 1.0  # the forehead too, held a little by the top of the frame
    assert np.abs(flow[:, :, 150, 430:]).max() < 0.5
    # The frame cuts the cat: its motion is held at the left and bottom sides, not torn open there.
    assert np.abs(flow[-1, :, 150, 0]).max() < 0.01 and np.abs(flow[-1, :, 299, 200]).max() < 0.01



@pytest.mark.parametrize("start", [(170, 110), (262, 240)], ids=["eye", "nose"])
def test_a_drag_moves_the_cats_muzzle_and_cheek_with_the_head_up_to_its_outline(cat, start):
    # The cat's right cheek and white muzzle are a little out of focus and pale like the room:
    # a cut that gave them to the background ended inside the head, and moving the head drew
    # a hard edge across the cheek, right of the nose.
    drag = Trajectory.line(start, (start[0] + 20, start[1] - 10), frames=4)
    mask = _region(cat, [drag])
    for x, y in ((300, 230), (330, 250), (290, 260), (348, 165)):
        assert mask[y, x], (x, y)  # muzzle right of and below the nose, the cheek under the right eye
    for x, y in ((400, 200), (395, 120), (440, 150), (380, 60)):
        assert not mask[y, x], (x, y)  # the blurred room just beyond the cheek
    flow = SparsePredictor().predict(cat, [drag]).flow.numpy()
    # Along a row through the muzzle, from the nose to the cheek's outline, the head moves as one
    # (held a little by the bottom of the frame, which cuts the cat).
    row = flow[-1, :, 240, 262:335]
    assert row[0, 0] > 0.8 * 20.0 and np.abs(row - row[:, :1]).max() < 0.5
    assert np.abs(flow[-1, :, 200, 400:]).max() < 0.5  # the room stays still

@pytest.mark.parametrize("photo, start", [("coffee", (290, 150)), pytest.param("astronaut", (208, 112), marks=pytest.mark.slow)])
def test_an_object_found_at_256_and_at_1024_px_is_the_same(photo, start, coffee_photo, astronaut_photo):
    source = coffee_photo if photo == "coffee" else astronaut_photo
    masks = []
    for width in (256, 1024):
        s = width / source.shape[1]
        drag = Trajectory.line((start[0] * s, start[1] * s), (start[0] * s + 0.1 * width, start[1] * s), frames=2)
        masks.append(_region(_tensor(source, width), [drag]))
    small = cv2.resize(masks[0].astype(np.uint8), masks[1].shape[::-1], interpolation=cv2.INTER_LINEAR) > 0
    iou = (small & masks[1]).sum() / (small | masks[1]).sum()
    assert iou >= 0.98, iou
