"""The background sources' band and cell passes (motionkit.ops.plate_sources) give the frame-sized code's positions, bit for bit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from motionkit.ops import plate, plate_sources
from motionkit.ops.forward_warp import source_map_numpy


def _drag(h: int, w: int, centre: tuple[int, int], dx: float, dy: float) -> np.ndarray:
    disc = np.zeros((h, w), np.float32)
    cv2.circle(disc, centre, min(h, w) // 6, 1.0, -1)
    soft = cv2.GaussianBlur(disc, (0, 0), 3.0)
    return np.stack([soft * dx, soft * dy]).astype(np.float32)


@pytest.mark.parametrize("size", [(384, 512), (512, 512), (386, 514), (200, 240)])
def test_the_band_path_gives_the_frame_sized_positions(size, monkeypatch):
    """Exactly twice the working size (cells and bands), not exactly (a frame-sized upsampling) and below it (no reduction)."""
    h, w = size
    fields = [_drag(h, w, (w // 2, h // 2), 50.0, -12.0), _drag(h, w, (w // 3, h // 2), -20.0, 35.0)]
    pan = np.stack([np.full((h, w), 13.25, np.float32), np.full((h, w), -6.5, np.float32)])
    fields.append(pan + _drag(h, w, (w // 2, h // 3), 30.0, 0.0))  # a drag over a panned background
    for flow in fields:
        _, unseen = source_map_numpy(flow)
        moving = plate.foreground(flow)
        assert unseen.sum() > 50 and moving.any()
        now = plate_sources.background_sources(flow, unseen, moving)
        with monkeypatch.context() as patch:
            patch.setattr(plate_sources, "_kernels", None)
            reference = plate_sources.background_sources(flow, unseen, moving)
        for a, b in zip(now, reference):
            assert a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8))


def test_the_cells_of_a_field_are_opencvs_area_averages():
    rng = np.random.default_rng(8)
    h, w = 64, 90
    flow = (rng.standard_normal((2, h, w)) * 10.0 ** rng.uniform(-3, 3, (2, h, w))).astype(np.float32)
    flow[:, rng.random((h, w)) < 0.2] = -0.0  # a sum of zeros: OpenCV's starts from +0
    moving = rng.random((h, w)) < 0.4
    moving[:10, :10] = True  # whole cells taken out
    weight, small = np.empty((h // 2, w // 2), np.float32), np.empty((h // 2, w // 2, 2), np.float32)
    plate_sources._kernels.kept_cells2(flow[0], flow[1], moving, weight, small)
    keep = (~moving).astype(np.float32)
    share = cv2.resize(keep, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    area = cv2.resize(cv2.merge([flow[0], flow[1]]) * keep[..., None], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    expected = area / np.maximum(share, np.float32(1e-6))[..., None]
    assert np.array_equal(share, weight) and np.array_equal(expected.view(np.uint32), small.view(np.uint32))
    assert plate_sources._area_matches()


def test_a_band_of_the_upsampled_rows_is_those_rows_of_the_whole_upsampling():
    rng = np.random.default_rng(9)
    small = rng.standard_normal((40, 33, 2)).astype(np.float32)
    whole = cv2.resize(small, (66, 80), interpolation=cv2.INTER_LINEAR)
    rows = plate_sources._upsampled(small, 66, 80)
    for a, b in [(0, 80), (0, 1), (79, 80), (1, 2), (7, 8), (8, 9), (13, 41), (2, 79), *(sorted(rng.choice(81, 2, replace=False)) for _ in range(40))]:
        assert np.array_equal(rows(int(a), int(b)), whole[a:b]), (a, b)
