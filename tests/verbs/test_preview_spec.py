"""``Previewer.render_spec`` / ``motion_spec`` (interface I1): a MotionSpec previewed at preview size,
the field compiled once per spec, frame 0 the image and the pixels outside the swept brush untouched."""

from __future__ import annotations

import numpy as np
import pytest

import motionkit as mk
from tests.helpers.images import decode_mp4


@pytest.fixture(scope="module")
def cat_small(cat_photo):
    import cv2

    return cv2.resize(cat_photo, (226, 150), interpolation=cv2.INTER_AREA)




def nose_spec(end=(150, 110), frames=6, fps=8.0, brush=True):
    mask = mk.RegionMask.from_polygon([(100, 90), (180, 90), (180, 140), (100, 140)], size=(150, 226)) if brush else None
    return mk.MotionSpec.from_pixels((150, 226), frames=frames, fps=fps, drags=[[(132, 120), end]], mask=mask)


def test_render_spec_is_an_mp4_of_the_spec_at_preview_size(cat_small, tmp_path):
    previewer = mk.Previewer(cat_small, long_side=96)
    meta, frames = decode_mp4(previewer.render_spec(nose_spec(fps=12.0)), tmp_path)
    assert meta["codec"] == "h264" and meta["size"] == (96, 64) and len(frames) == 6
    assert abs(meta["fps"] - 12.0) < 1e-6


def test_spec_frames_keep_frame_0_and_the_outside_of_the_swept_brush_bit_for_bit(cat_small):
    previewer = mk.Previewer(cat_small, long_side=96)
    spec = nose_spec(end=(160, 104))
    motion, mask = previewer.spec_field(spec)
    frames = np.stack(list(previewer._frames_of(motion, mask)))
    image = mk.pixels.to_uint8(previewer.image.permute(1, 2, 0).numpy())
    assert np.array_equal(frames[0], image)
    outside = (mask.values.numpy() == 0)
    assert outside.mean() > 0.5, "the brush covers the nose, not the picture"
    assert np.array_equal(frames[:, outside], np.broadcast_to(image[outside], frames[:, outside].shape))
    # the nose moved: the last frame differs along the drag
    x, y = (np.array([160, 104]) * np.array(previewer.scale)).astype(int)
    assert np.abs(frames[-1][y - 4:y + 4, x - 4:x + 4].astype(int) - image[y - 4:y + 4, x - 4:x + 4]).mean() > 3
    # the same frames as rendering the compiled spec with the renderer (fresh plate) where no hole opens
    ref = np.stack(list(mk.render(previewer.image, motion, brush=mask, fps=spec.fps).iter_frames()))
    assert (np.abs(frames.astype(int) - ref).max(axis=-1) <= 1).mean() > 0.99


def test_an_equal_spec_reuses_its_field_and_an_edit_does_not(cat_small, monkeypatch):
    previewer = mk.Previewer(cat_small, long_side=64)
    first = previewer.spec_field(nose_spec())
    calls = []
    original = mk.MotionSpec.compile
    monkeypatch.setattr(mk.MotionSpec, "compile", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    assert previewer.spec_field(nose_spec())[0] is first[0]
    assert previewer.spec_field(nose_spec(fps=24.0))[0] is first[0]  # the frame rate is the encoder's
    moved = previewer.spec_field(nose_spec(end=(152, 111)))
    assert calls == [1] and moved[0] is not first[0]
    assert not np.array_equal(moved[0].flow[-1].numpy(), first[0].flow[-1].numpy())


def test_motion_spec_shows_the_field_in_colours(cat_small, tmp_path):
    previewer = mk.Previewer(cat_small, long_side=96)
    spec = nose_spec(brush=False)
    meta, frames = decode_mp4(previewer.motion_spec(spec), tmp_path)
    assert meta["size"] == (96, 64) and len(frames) == 6
    assert frames[0].min() > 240  # no motion is white
    motion, _ = previewer.spec_field(spec)
    moving = motion.flow[-1].norm(dim=0).numpy() > 2
    assert moving.any() and frames[-1][moving].astype(int).sum(-1).mean() < frames[-1][~moving].astype(int).sum(-1).mean() - 30


def test_parallel_preview_frames_equal_a_serial_render_while_the_plate_grows(cat_small):
    """Frames on two threads read the shared background plate in frame order: the same bytes as one thread."""
    import torch

    from motionkit.ops.plate import BackgroundPlate

    previewer = mk.Previewer(cat_small, long_side=128)
    spec = nose_spec(end=(175, 100), frames=8, brush=False)
    motion, mask = previewer.spec_field(spec)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        parallel = np.stack(list(previewer._frames_of(motion, mask)))
    finally:
        torch.set_num_threads(threads)
    assert previewer._plate is not None and previewer._plate.fills >= 1, "the drag uncovers background"
    plate = BackgroundPlate(np.ascontiguousarray(previewer.image.numpy().transpose(1, 2, 0)))
    one = previewer._renderer.frame_function(previewer.image, None, plate=plate)
    serial = np.stack([one(flow) for flow in motion.iter_frames()])
    assert np.array_equal(parallel, serial)


def test_a_previewer_keeps_the_renderers_plate_between_edits(cat_small):
    """The plate the first edit's frames filled is the one the next edit's frames read (not made again)."""
    from motionkit.classical.render import WarpRenderer

    previewer = mk.Previewer(cat_small, long_side=128)
    previewer.render_spec(nose_spec(end=(175, 100), frames=6, brush=False))
    plate = previewer._plate
    assert plate is not None and plate.fills >= 1
    previewer.render_spec(nose_spec(end=(170, 104), frames=6, brush=False))
    assert previewer._plate is plate
    assert WarpRenderer(fill="stretch").frame_function(previewer.image).plate is None
