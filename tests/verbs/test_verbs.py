"""The verbs end to end on a real photo: drags land where asked, edits carry through video."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

import motionkit as mk
from motionkit.errors import InvalidInputError, ShapeMismatchError, UnknownComponentError


@pytest.fixture(scope="module")
def small_cat(cat_photo) -> np.ndarray:
    """The cat at 224 x 150, uint8 (H, W, 3)."""
    return cv2.resize(cat_photo, (224, 150), interpolation=cv2.INTER_AREA)


def find_patch(frame: np.ndarray, patch: np.ndarray) -> tuple[float, float]:
    """Top-left (x, y) where ``patch`` best matches ``frame`` (normalised cross-correlation)."""
    score = cv2.matchTemplate(frame, patch, cv2.TM_CCOEFF_NORMED)
    _, _, _, (x, y) = cv2.minMaxLoc(score)
    return float(x), float(y)


def test_drag_moves_the_patch_to_the_end_point(small_cat):
    start, end = (132.0, 118.0), (146.0, 110.0)  # the nose, up and to the right
    drag = mk.Trajectory.line(start, end, frames=8)
    clip = mk.animate(small_cat, [drag], frames=8)
    assert len(clip) == 8 and clip.size == small_cat.shape[:2]
    np.testing.assert_array_equal(clip.frame(0), small_cat)
    half = 8
    sx, sy = int(start[0]), int(start[1])
    patch = small_cat[sy - half : sy + half, sx - half : sx + half]
    x, y = find_patch(clip.frame(7), patch)
    assert abs(x + half - end[0]) <= 2 and abs(y + half - end[1]) <= 2


def test_brush_keeps_everything_outside_it(small_cat):
    brush = mk.RegionMask.from_polygon([(90, 80), (180, 80), (180, 145), (90, 145)], size=small_cat.shape[:2])
    drag = mk.Trajectory.line((132.0, 118.0), (146.0, 110.0), frames=6)
    clip = mk.animate(small_cat, [drag], brush=brush, frames=6)
    # Outside the brush and where the content it moves lands (RegionMask.swept), nothing changes.
    motion = mk.predict_motion(small_cat, [drag], brush=brush, frames=6)
    outside = brush.swept(motion.iter_frames()).values.numpy() == 0
    assert outside.mean() > 0.5
    for t in range(len(clip)):
        np.testing.assert_array_equal(clip.frame(t)[outside], small_cat[outside])


def test_camera_pan_moves_content_by_the_pan(small_cat):
    clip = mk.animate(small_cat, camera={"pan": (6.0, -4.0)}, frames=5)
    last = clip.frame(4).astype(np.float32)
    # content that was at (x, y) is now at (x + 6, y - 4): compare the interior
    np.testing.assert_allclose(last[20:-20, 26:-20], small_cat[24:-16, 20:-26].astype(np.float32), atol=3)


def test_two_halves_equal_the_one_call(small_cat):
    drag = mk.Trajectory.line((132.0, 118.0), (146.0, 110.0), frames=6)
    motion = mk.predict_motion(small_cat, [drag])
    assert motion.frames == 6 and motion.size == small_cat.shape[:2]
    assert torch.count_nonzero(motion.flow[0]) == 0
    rendered = mk.Renderer.get("warp").render(small_cat, motion)
    np.testing.assert_array_equal(rendered.to_numpy(), mk.animate(small_cat, [drag]).to_numpy())


def test_translate_carries_a_colour_edit_through_a_pan(small_cat, tmp_path):
    frames = np.stack([np.roll(small_cat, shift=2 * t, axis=1) for t in range(6)])
    video = mk.Clip.from_array(frames, fps=6)

    def edit(img: np.ndarray) -> np.ndarray:
        return img[..., ::-1].copy()  # swap red and blue

    out = mk.translate(video, edit(frames[0]))
    assert len(out) == 6
    written = tmp_path / "out.mp4"
    out.write(written)
    result = mk.Clip.read(written).to_numpy().astype(np.float64)
    expected = np.stack([edit(f) for f in frames]).astype(np.float64)
    # the rolled-in column strip is new content; compare away from the wrap-around seam
    mse = np.mean((result[:, 8:-8, 16:-8] - expected[:, 8:-8, 16:-8]) ** 2)
    assert 10 * np.log10(255.0**2 / mse) >= 28.0


def test_bad_inputs_raise_documented_errors(small_cat):
    with pytest.raises(UnknownComponentError, match="warpp"):
        mk.animate(small_cat, renderer="warpp")
    with pytest.raises(ShapeMismatchError, match="brush"):
        mk.animate(small_cat, brush=mk.RegionMask.full((10, 10)))
    with pytest.raises(InvalidInputError, match="frames"):
        mk.animate(small_cat, frames=0)
    with pytest.raises(InvalidInputError, match="backend"):
        mk.animate(small_cat, backend="magic")
    video = mk.Clip.from_array(np.stack([small_cat] * 3), fps=4)
    with pytest.raises(ShapeMismatchError, match="edited first frame"):
        mk.translate(video, small_cat[:-2])
