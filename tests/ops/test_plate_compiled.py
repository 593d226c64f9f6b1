"""The frame fill's compiled and shortcut paths give exactly what the numpy code gives (bit for bit).

The tear test (:func:`motionkit.ops.plate.torn`) and push-pull's per-level arithmetic run
as numba kernels, the background sources avoid a transposed copy and ``np.nonzero``, and
:func:`motionkit.ops.plate.plate_for` recognises a read-only image by identity. None of that
may change a pixel: every test here compares against the numpy path (or the old formula).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from motionkit.ops import inpaint, plate, plate_sources
from motionkit.ops.forward_warp import source_map_numpy, splat_inverse_numpy


def _drag(shape: tuple[int, int], centre: tuple[int, int], radius: int, dx: float, falloff: float) -> np.ndarray:
    """``float32 (2, H, W)``: a disc dragged by ``dx`` px, its outline blurred by ``falloff`` px."""
    disc = np.zeros(shape, np.float32)
    cv2.circle(disc, centre, radius, 1.0, -1)
    soft = cv2.GaussianBlur(disc, (0, 0), falloff)
    return np.stack([soft * dx, soft * dx * -0.3]).astype(np.float32)


def _photo_field(photo: np.ndarray, shift: int) -> np.ndarray:
    """A DIS flow between ``photo`` and itself shifted by ``shift`` px: real, noisy motion."""
    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    moved = np.roll(grey, shift, axis=1)
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(grey, moved, None)
    return np.ascontiguousarray(flow.transpose(2, 0, 1), np.float32)


def _fields(photo: np.ndarray) -> list[np.ndarray]:
    h, w = photo.shape[:2]
    rng = np.random.default_rng(3)
    noisy = cv2.GaussianBlur(rng.standard_normal((h, w, 2)).astype(np.float32) * 40, (0, 0), 1.5)
    return [
        _drag((h, w), (w // 2, h // 2), h // 4, 60.0, 3.0),
        _drag((h, w), (w // 2, h // 2), h // 4, 60.0, 6.0),
        _photo_field(photo, 12),
        np.ascontiguousarray(noisy.transpose(2, 0, 1)),  # near the tear limit almost everywhere
    ]


def test_the_compiled_tear_test_marks_exactly_the_numpy_pixels(coffee_photo, monkeypatch):
    photo = cv2.resize(coffee_photo, (300, 200), interpolation=cv2.INTER_AREA)
    some_tear = 0
    for flow in [*_fields(photo), np.zeros((2, 2, 3), np.float32), np.full((2, 5, 2), 3.0, np.float32)]:
        compiled = plate.torn(flow)
        with monkeypatch.context() as patch:
            patch.setattr(plate, "_kernels", None)
            reference = plate.torn(flow)
        assert compiled.dtype == bool and np.array_equal(compiled, reference)
        some_tear += 0 < reference.mean() < 0.9  # the comparison means something: the masks are not all one value
    assert some_tear >= 3


@pytest.mark.parametrize("channels", [1, 2, 3, 5])
def test_compiled_push_pull_is_the_numpy_push_pull_bit_for_bit(coffee_photo, monkeypatch, channels):
    photo = cv2.resize(coffee_photo, (301, 203), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    rng = np.random.default_rng(channels)
    values = np.concatenate([photo, photo[..., ::-1]], axis=2)[..., :channels]
    weight = (rng.random(photo.shape[:2]) * 1.5 - 0.25).astype(np.float32) * (rng.random(photo.shape[:2]) > 0.4)
    weight[40:150, 60:200] = 0.0  # a real hole
    cases = [(values, weight), (values[..., 0], weight), (np.zeros_like(values), np.zeros_like(weight))]
    for args in cases:
        compiled = inpaint.push_pull_numpy(*args)
        with monkeypatch.context() as patch:
            patch.setattr(inpaint, "_kernels", None)
            reference = inpaint.push_pull_numpy(*args)
        assert compiled.shape == reference.shape and np.array_equal(compiled, reference)


def test_the_warps_push_pull_of_a_real_inverse_is_unchanged(coffee_photo, monkeypatch):
    """What the frame path pushes and pulls: the splatted inverse (a strided, channels-last view) and its coverage."""
    photo = cv2.resize(coffee_photo, (256, 170), interpolation=cv2.INTER_AREA)
    for flow in _fields(photo):
        inverse, cover = splat_inverse_numpy(flow, np.hypot(flow[0], flow[1]), skip=plate.torn(flow))
        args = (inverse.transpose(1, 2, 0), np.clip(cover, 0.0, 1.0))
        compiled = inpaint.push_pull_numpy(*args)
        with monkeypatch.context() as patch:
            patch.setattr(inpaint, "_kernels", None)
            reference = inpaint.push_pull_numpy(*args)
        assert (cover < 0.5).any() and np.array_equal(compiled, reference)


def _sources_before(flow, unseen, moving, work_size=256):
    """The background sources as they were computed before (np.nonzero and a transposed copy of the field)."""
    ys, xs = np.nonzero(unseen)
    field = np.ascontiguousarray(flow.transpose(1, 2, 0))
    if moving.any():
        field = np.where(moving[..., None], plate_sources._continued(field, moving, work_size), field)
    qx, qy = xs.astype(np.float32), ys.astype(np.float32)
    px, py = qx - field[ys, xs, 0], qy - field[ys, xs, 1]
    n = len(xs)
    maps = np.zeros((-(-n // 1024) * 1024, 2), np.float32)
    maps[:n, 0], maps[:n, 1] = px, py
    looked = cv2.remap(field, maps[..., 0].reshape(-1, 1024), maps[..., 1].reshape(-1, 1024), cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE).reshape(-1, 2)[:n]
    return ys, xs, qx - looked[:, 0], qy - looked[:, 1]


def test_background_sources_and_the_foreground_are_the_same_pixels_and_positions(coffee_photo, monkeypatch):
    h, w = coffee_photo.shape[:2]
    pan = np.stack([np.full((h, w), 23.5, np.float32), np.full((h, w), -7.25, np.float32)])
    for flow in [_drag((h, w), (300, 200), 90, 60.0, 3.0), _drag((h, w), (300, 200), 90, -45.0, 6.0), pan,
                 _photo_field(coffee_photo, 12)]:
        _, unseen = source_map_numpy(flow)
        moving = plate.foreground(flow)
        now = plate_sources.background_sources(flow, unseen, moving)
        with monkeypatch.context() as patch:
            patch.setattr(plate, "_kernels", None)
            patch.setattr(plate_sources, "_kernels", None)
            assert np.array_equal(plate.foreground(flow), moving)
            assert all(np.array_equal(a, b) for a, b in zip(plate_sources.background_sources(flow, unseen, moving), now))
            before = _sources_before(flow, unseen, moving)
        assert len(now[0]) == int(unseen.sum()) > 100
        for a, b in zip(now, before):
            assert a.dtype == b.dtype and np.array_equal(a, b)
    assert plate.foreground(_drag((h, w), (300, 200), 90, 60.0, 3.0)).mean() > 0.05  # the drags' foreground was used


@pytest.mark.parametrize("size", [(384, 512), (386, 514), (512, 512)])
def test_the_foreground_grown_before_its_cells_are_doubled_is_the_numpy_mask(size, monkeypatch):
    """At exactly twice the working size the growth runs on the cells (then doubled): the same mask as growing the doubled cells."""
    h, w = size
    rng = np.random.default_rng(h + w)
    for dx in (60.0, -30.0, 9.0):
        flow = _drag((h, w), (int(rng.integers(60, w - 60)), int(rng.integers(60, h - 60))), 70, dx, 3.0)
        flow[:, : h // 3, : w // 3] += 2.0  # a second, slower region
        compiled = plate.foreground(flow)
        with monkeypatch.context() as patch:
            patch.setattr(plate, "_kernels", None)
            reference = plate.foreground(flow)
        assert compiled.dtype == bool and np.array_equal(compiled, reference)
        assert 0.02 < reference.mean() < 0.9


def test_the_compiled_motion_magnitude_is_numpys_hypot(coffee_photo):
    rng = np.random.default_rng(5)
    fields = [_photo_field(coffee_photo, 12), *(
        (rng.standard_normal((2, 300, 200)) * 10.0 ** rng.uniform(-4, 4)).astype(np.float32) for _ in range(6))]
    for flow in fields:
        assert np.array_equal(plate._magnitude(flow), np.hypot(flow[0], flow[1]).astype(np.float32))


def test_plate_for_knows_a_read_only_image_by_identity_and_sees_any_change(coffee_photo, monkeypatch):
    image = cv2.resize(coffee_photo, (60, 40), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    frozen = image.copy()
    frozen.flags.writeable = False
    first = plate.plate_for(frozen)

    def no_comparison(a, b):
        raise AssertionError("compared value for value")

    with monkeypatch.context() as patch:
        patch.setattr(plate, "_same", no_comparison)
        assert plate.plate_for(frozen) is first  # the same frozen array: no full comparison
    assert plate.plate_for(frozen.copy()) is first  # an equal array: found by comparison
    # A writable array changed in place between calls gets a new plate of its new content.
    writable = image.copy()
    mine = plate.plate_for(writable)
    writable[10:20, 10:20] = 0.0
    changed = plate.plate_for(writable)
    assert changed is not mine and np.array_equal(changed.image, writable)
    # A read-only view of a writable array can change through its base: compared, not trusted.
    base = image.copy()
    view = base.view()
    view.flags.writeable = False
    viewed = plate.plate_for(view)
    base[0:5] = 1.0
    again = plate.plate_for(view)
    assert again is not viewed and np.array_equal(again.image, base)


def test_the_pixels_a_read_touches_are_the_numpy_ones(coffee_photo, monkeypatch):
    image = cv2.resize(coffee_photo, (90, 60), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    board = plate.BackgroundPlate(image)
    board._grow([16, 0, 0, 16])  # margins: the image sits inside the canvas
    board.filled[20:40, 30:70] = True  # some pixels synthesised already
    rng = np.random.default_rng(2)
    x = rng.uniform(-20, 110, 4000).astype(np.float32)
    y = rng.uniform(-20, 80, 4000).astype(np.float32)
    compiled = board._inside_unfilled(x, y)
    with monkeypatch.context() as patch:
        patch.setattr(plate, "_kernels", None)
        reference = board._inside_unfilled(x, y)
    assert np.array_equal(compiled, reference) and 0.2 < reference.mean() < 0.95
