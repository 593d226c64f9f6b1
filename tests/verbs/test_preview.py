"""``motionkit.preview`` / ``Previewer``: a browser-playable mp4 of animate's result, at preview size,
re-using what does not change between edits."""

from __future__ import annotations

import numpy as np
import pytest

import motionkit as mk
from motionkit.errors import InvalidInputError, MediaWriteError, ShapeMismatchError
from motionkit.io.h264_stream import H264Stream
from motionkit.verbs import preview as preview_module
from tests.helpers.images import decode_mp4




@pytest.fixture(scope="module")
def cat_small(cat_photo):
    import cv2

    return cv2.resize(cat_photo, (226, 150), interpolation=cv2.INTER_AREA)  # 226 x 150, ~half the photo


def test_preview_is_a_browser_mp4_at_preview_size(cat_small, tmp_path):
    drag = mk.Trajectory.line((132, 120), (150, 110), frames=6)  # the cat's nose
    data = mk.preview(cat_small, [drag], frames=6, long_side=96)
    assert data[4:8] == b"ftyp" and data.find(b"moov") < data.find(b"mdat"), "moov first (faststart)"
    meta, frames = decode_mp4(data, tmp_path)
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert meta["size"] == (96, 64) and len(frames) == 6  # 226x150 -> 96x63.7 -> even sides


def test_preview_frames_match_animate_at_the_same_size(cat_small, one_torch_thread):
    previewer = mk.Previewer(cat_small, long_side=96)
    drag = mk.Trajectory.line((132, 120), (160, 110), frames=5)
    frames = np.stack(list(previewer.iter_frames([drag], frames=5)))
    # animate of the downscaled image with the scaled drag: the same pixels (quantised the same way)
    ref = np.stack(list(mk.animate(previewer.image, [drag.scaled(*previewer.scale)], frames=5).iter_frames()))
    assert frames.shape == ref.shape == (5, 64, 96, 3)
    assert np.abs(frames.astype(int) - ref.astype(int)).max() <= 1
    # and the drag moved the nose: the last frame differs around the end point, frame 0 is the image
    assert np.array_equal(frames[0], ref[0])
    x, y = drag.scaled(*previewer.scale).end
    patch = (slice(int(y) - 4, int(y) + 4), slice(int(x) - 4, int(x) + 4))
    assert np.abs(frames[-1][patch].astype(int) - frames[0][patch].astype(int)).mean() > 3


def test_an_unchanged_request_reuses_its_field_and_a_changed_drag_does_not(cat_small):
    previewer = mk.Previewer(cat_small, long_side=64)
    brush = mk.RegionMask.from_polygon([(60, 60), (200, 60), (200, 140), (60, 140)], size=(150, 226))
    drags = [mk.Trajectory.line((132, 120), (150, 110), frames=4), mk.Trajectory.line((90, 80), (95, 85), frames=4)]
    first = previewer.field(drags, brush=brush, frames=4)
    assert previewer.field(drags, brush=brush, frames=4) is first
    assert previewer._small_brush(brush) is previewer._small_brush(brush)  # downscaled once
    moved = [drags[0], mk.Trajectory.line((90, 80), (99, 85), frames=4)]
    second = previewer.field(moved, brush=brush, frames=4)
    assert second is not first and not np.allclose(second.flow.numpy(), first.flow.numpy())


def test_preview_keeps_one_previewer_per_image(cat_small):
    drag = mk.Trajectory.line((132, 120), (150, 110), frames=3)
    mk.preview(cat_small, [drag], frames=3, long_side=48)
    kept = list(preview_module._previewers.values())[-1]
    mk.preview(cat_small.copy(), [drag.translated(1, 0)], frames=3, long_side=48)  # same pixels, new array
    assert list(preview_module._previewers.values())[-1] is kept
    other = cat_small.copy()
    other[0, 0] = 255 - other[0, 0]
    mk.preview(other, [drag], frames=3, long_side=48)
    assert list(preview_module._previewers.values())[-1] is not kept


def test_camera_and_brush_are_scaled_to_the_preview(cat_small):
    previewer = mk.Previewer(cat_small, long_side=113)  # exactly half: 113 x 75 -> 112 x 74
    field = previewer.field([], camera={"pan": (20, 10)}, frames=3)
    sx, sy = previewer.scale
    assert field.flow[-1, 0].mean().item() == pytest.approx(20 * sx, abs=1e-3)
    assert field.flow[-1, 1].mean().item() == pytest.approx(10 * sy, abs=1e-3)
    brush = mk.RegionMask.from_polygon([(0, 0), (113, 0), (113, 150), (0, 150)], size=(150, 226))  # left half
    drag = mk.Trajectory.line((56, 75), (70, 75), frames=3)
    moved = previewer.field([drag], brush=brush, frames=3).flow[-1].abs().sum(0)
    assert moved[:, -10:].max().item() == 0.0 and moved[:, :40].max().item() > 0


def test_bad_arguments_are_refused(cat_small):
    with pytest.raises(InvalidInputError, match="long_side"):
        mk.Previewer(cat_small, long_side=4)
    with pytest.raises(InvalidInputError, match="camera"):
        mk.Previewer(cat_small, long_side=48).field([], camera=(1, 2))
    with pytest.raises(ShapeMismatchError):
        mk.Previewer(cat_small, long_side=48).field([], brush=mk.RegionMask.full((10, 10)))


def test_h264_stream_refuses_odd_sides_bad_frames_and_empty_output():
    with pytest.raises(InvalidInputError, match="even"):
        H264Stream((15, 16), fps=8)
    stream = H264Stream((16, 16), fps=8)
    with pytest.raises(ShapeMismatchError):
        stream.write(np.zeros((16, 18, 3), np.uint8))
    with pytest.raises(MediaWriteError, match="no frame"):
        stream.finish()


def test_preview_size_is_even_and_never_larger_than_the_image():
    assert preview_module.preview_size((101, 99), 256) == (100, 98)  # odd sides are cut, not padded up
    assert preview_module.preview_size((150, 226), 96) == (64, 96)
    assert preview_module.preview_size((720, 1280), 256) == (144, 256)
