"""``animate`` / ``render`` of an in-memory field: frames rendered side by side and read as they are done.

The frames must be the serial render's bytes (the warp renderer's own ``render``), the swept
brush computed in two halves must be the whole's, and the clip must be readable while (and
after) it renders: several passes, an encode, an error where a frame failed.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
import torch

import motionkit as mk
from motionkit.classical.render import WarpRenderer
from motionkit.verbs._parallel_frames import FramesInFlight, parallel_frames
from motionkit.verbs.image_to_video import _image_tensor
from tests.helpers.images import decode_mp4

pytestmark = pytest.mark.filterwarnings("ignore::motionkit.errors.MotionkitWarning")


@pytest.fixture(scope="module")
def cat_case(cat_photo):
    image = cv2.resize(cat_photo, (192, 128), interpolation=cv2.INTER_AREA)
    brush = mk.RegionMask.from_polygon([(60, 30), (150, 30), (150, 110), (60, 110)], size=(128, 192))
    drags = [mk.Trajectory.line((100, 64), (118, 58), frames=8), mk.Trajectory.line((130, 90), (124, 100), frames=8)]
    return image, brush, drags


def test_animate_renders_the_serial_renders_bytes(cat_case):
    image, brush, drags = cat_case
    from motionkit.ops._kernel_threads import thread_count

    clip = mk.animate(image, drags, brush=brush, frames=8)
    assert clip.is_lazy == (thread_count() > 1)  # rendered in flight (the parallel path was taken)
    motion = mk.predict_motion(image, drags, brush=brush, frames=8)
    serial = WarpRenderer().render(_image_tensor(image), motion, brush.swept(motion.iter_frames())).to_numpy()
    frames = clip.to_numpy()
    assert frames.shape == (8, 128, 192, 3)
    assert np.array_equal(frames, serial)
    assert np.array_equal(frames[0], image)  # frame 0 is the image
    assert not np.array_equal(frames[7], image)  # and the drags moved something
    assert np.array_equal(clip.to_numpy(), frames)  # a second pass reads the same frames


def test_the_swept_brush_in_two_halves_is_the_whole(cat_case):
    image, brush, drags = cat_case
    motion = mk.predict_motion(image, drags, brush=brush, frames=8)
    whole = brush.swept(motion.iter_frames()).values
    halves = brush.swept(list(motion.iter_frames())).values  # a sequence: two halves on two threads
    assert torch.equal(whole, halves)
    assert (whole > brush.values).any()  # the content left the brush: the halves had something to add


def test_render_of_a_lazy_field_keeps_the_renderers_streaming_clip(cat_case):
    image, _, drags = cat_case
    motion = mk.predict_motion(image, drags, frames=8)
    lazy = mk.MotionField.from_frames(lambda: iter(motion.iter_frames()), 8, motion.size)
    streamed = mk.render(image, lazy)
    assert streamed.is_lazy
    assert np.array_equal(streamed.to_numpy(), mk.render(image, motion).to_numpy())


def test_a_renderer_that_overrides_render_is_not_bypassed(cat_case):
    image, _, drags = cat_case
    motion = mk.predict_motion(image, drags, frames=4)
    calls = []

    class Counting(WarpRenderer):
        def render(self, image, motion, mask=None, *, fps=8.0):
            calls.append(motion.frames)
            return super().render(image, motion, mask, fps=fps)

    mk.render(image, motion, renderer=Counting())
    assert calls == [4]


def test_frames_are_encoded_while_the_last_ones_render(cat_case, tmp_path):
    image, brush, drags = cat_case
    release = threading.Event()
    one = WarpRenderer().frame_function(_image_tensor(image))
    motion = mk.predict_motion(image, drags, brush=brush, frames=8)

    def gated(flow, turn):
        if turn == 7:
            assert release.wait(10)  # the last frame waits until the first ones were read
        return one(flow, turn)

    gated.abandon = one.abandon
    frames = FramesInFlight(gated, motion.iter_frames(), 8, motion.size)
    clip = mk.Clip.from_frames(frames, 8, motion.size, 8.0)
    passes = clip.iter_frames()
    first = [next(passes) for _ in range(7)]  # readable before frame 7 exists
    release.set()
    last = next(passes)
    serial = WarpRenderer().render(_image_tensor(image), motion).to_numpy()
    assert np.array_equal(np.stack([*first, last]), serial)
    clip.write(tmp_path / "out.mp4")
    _, decoded = decode_mp4((tmp_path / "out.mp4").read_bytes(), tmp_path)
    assert len(decoded) == 8 and np.abs(decoded[7].astype(int) - serial[7]).mean() < 4


def test_a_failed_frame_is_raised_where_it_is_read_and_the_others_do_not_wait(cat_case):
    image, _, drags = cat_case
    one = WarpRenderer().frame_function(_image_tensor(image))
    motion = mk.predict_motion(image, drags, frames=8)

    def failing(flow, turn):
        if turn == 3:
            raise mk.errors.NonFiniteError("frame 3 failed")
        return one(flow, turn)

    failing.abandon = one.abandon
    frames = FramesInFlight(failing, motion.iter_frames(), 8, motion.size)
    read = []
    with pytest.raises(mk.errors.NonFiniteError, match="frame 3"):
        for frame in frames():
            read.append(frame)
    assert len(read) == 3
    frames._pending[7].result(timeout=10)  # frames after the failed one still rendered


def test_parallel_frames_stops_early_without_leaving_frames_waiting(cat_case):
    image, _, drags = cat_case
    one = WarpRenderer().frame_function(_image_tensor(image))
    motion = mk.predict_motion(image, drags, frames=8)
    stream = parallel_frames(one, motion.iter_frames())
    assert next(stream).shape == (128, 192, 3)
    stream.close()  # the rest cancelled or finished; nothing deadlocks
    again = list(parallel_frames(WarpRenderer().frame_function(_image_tensor(image)), motion.iter_frames()))
    assert len(again) == 8


def test_animate_converts_its_image_once_and_a_callers_tensor_is_still_copied(cat_case, monkeypatch):
    import motionkit.io.image as image_io

    image, brush, drags = cat_case
    calls = []
    convert = image_io.image_to_tensor
    monkeypatch.setattr(image_io, "image_to_tensor", lambda x: calls.append(type(x)) or convert(x))
    mk.animate(image, drags, brush=brush, frames=4)
    assert calls == [np.ndarray]  # not again in predict_motion and render
    mine = torch.from_numpy(image).permute(2, 0, 1).float() / 255
    converted = _image_tensor(mine)
    assert converted is not mine and torch.equal(converted, mine)  # a caller's tensor: a new copy
    assert _image_tensor(converted) is converted
    converted.mul_(0.5)  # modified since: converted (copied) again
    assert _image_tensor(converted) is not converted


def test_a_preview_does_not_queue_behind_a_renders_frames(cat_case):
    from motionkit.ops._kernel_threads import thread_count

    image, brush, drags = cat_case
    one = WarpRenderer().frame_function(_image_tensor(image))
    motion = mk.predict_motion(image, drags, frames=8)
    release = threading.Event()

    def stuck(flow, turn):  # a long render holding every thread of the render pool
        assert release.wait(30)
        return one(flow, turn)

    stuck.abandon = one.abandon
    frames = FramesInFlight(stuck, motion.iter_frames(), 8, motion.size)
    try:
        previewer = mk.Previewer(image, long_side=96)
        done = threading.Event()
        worker = threading.Thread(target=lambda: (previewer.render(drags, brush=brush, frames=8), done.set()))
        worker.start()
        assert done.wait(30), "the preview waited for the render's frames"
        assert thread_count() < 2 or not frames._pending[-1].done()  # the render was still held
    finally:
        release.set()
        frames.wait()
        previewer.close()


def test_a_specs_render_mask_swept_on_two_threads_is_the_specs_own(cat_case):
    image, _, _ = cat_case
    spec = mk.MotionSpec.from_pixels((128, 192), frames=8, drags=[[(100, 64), (130, 58)]],
                                     mask=mk.RegionMask.from_polygon([(80, 45), (120, 45), (120, 85), (80, 85)], size=(128, 192)))
    previewer = mk.Previewer(image, long_side=192)
    motion, mask = previewer.spec_field(spec)
    own = spec.render_mask(previewer.size, motion)
    assert torch.equal(mask.values, own.values) and (own.values > spec.mask_at(previewer.size).values).any()
    clip = mk.animate(image, spec=spec)
    field = spec.compile(_image_tensor(image), mk.registry.create("predictor", "sparse"))
    serial = WarpRenderer().render(_image_tensor(image), field, spec.render_mask((128, 192), field)).to_numpy()
    assert np.array_equal(clip.to_numpy(), serial)
    previewer.close()
