"""``motionkit.check``: re-tracking a video against its spec gives honest end-point errors in pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import motionkit as mk
from motionkit.spec import Keyframe, Track
from motionkit.verbs.check import placement_size


@pytest.fixture(scope="module")
def cat(cat_photo) -> np.ndarray:
    return cv2.resize(cat_photo, (226, 150), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def drag_render(cat):
    """A classical render of a known drag of the cat's nose (18, -8) px and a pinned paw."""
    spec = mk.MotionSpec.from_pixels(cat.shape[:2], frames=10, fps=8, drags=[[(132, 120), (150, 112)]], pins=[(30, 125)])
    return spec, mk.render(cat, spec.compile(cat), fps=spec.fps)


def shifted(clip: mk.Clip, dx: float, dy: float) -> mk.Clip:
    """Frames 1.. moved by (dx, dy) px (frame 0 kept): every point ends (dx, dy) away from where it should."""
    frames = clip.to_numpy().copy()
    move = np.float32([[1, 0, dx], [0, 1, dy]])
    for t in range(1, len(frames)):
        frames[t] = cv2.warpAffine(frames[t], move, frames.shape[2:0:-1], borderMode=cv2.BORDER_REPLICATE)
    return mk.Clip.from_array(frames, fps=clip.fps)


def test_a_classical_render_of_a_known_drag_follows_it(drag_render):
    spec, clip = drag_render
    report = mk.check(clip, spec)
    drag, pin = report.tracks
    assert (drag.index, drag.kind, pin.index, pin.kind) == (0, "drag", 1, "pin")
    assert drag.final_epe < 1.5 and drag.mean_epe < 1.5 and drag.final_frame == 9
    assert drag.requested == pytest.approx((150.0, 112.0))
    assert pin.final_epe < 0.5
    assert report.camera.mean_epe < 0.2 and report.camera.achieved_zoom == pytest.approx(1.0, abs=0.01)
    assert report.size == (150, 226) and report.frames == 10 and report.estimator == "dis"


def test_the_same_video_shifted_by_5_px_is_5_px_off(drag_render):
    spec, clip = drag_render
    report = mk.check(shifted(clip, 3.0, 4.0), spec)
    for track in report.tracks:
        assert track.final_epe == pytest.approx(5.0, abs=0.6)
        assert np.subtract(track.achieved, track.requested) == pytest.approx((3.0, 4.0), abs=0.6)
    assert report.camera.achieved_pan == pytest.approx((3.0, 4.0), abs=0.3)
    assert report.worst_epe == pytest.approx(5.0, abs=0.6)


def test_the_motion_outside_the_mask_and_the_camera_are_measured(cat):
    size = cat.shape[:2]
    spec = mk.MotionSpec.from_pixels(size, frames=6, camera={"pan": (10, 0)})
    clip = mk.render(cat, spec.compile(cat), fps=8)
    followed = mk.check(clip, spec)
    assert followed.camera.achieved_pan == pytest.approx((10.0, 0.0), abs=0.3)
    assert followed.camera.mean_epe < 0.3
    still = mk.check(clip, spec.with_changes(camera=None, static_camera=True))
    assert still.camera.mean_epe == pytest.approx(6.0, abs=0.5)      # 10 px / 5 frames: 2, 4, ... 10 px off; mean 6
    masked = mk.MotionSpec.from_pixels(size, frames=6, mask=mk.RegionMask.full(size) & mk.RegionMask.empty(size))
    assert mk.check(clip, masked).outside_motion == pytest.approx(6.0, abs=0.5)


def test_a_track_that_leaves_is_scored_at_its_last_visible_keyframe(drag_render):
    spec, clip = drag_render
    h, w = spec.reference_size
    leaves = Track(keyframes=[Keyframe(t=0, u=132.5 / w, v=120.5 / h), Keyframe(t=6, u=144.5 / w, v=114.5 / h),
                              Keyframe(t=7, u=2.0, v=114.5 / h, visible=False)])
    report = mk.check(clip, spec.with_changes(trajectories=[*spec.trajectories, leaves]))
    assert report.tracks[2].final_frame == 6
    assert report.tracks[2].requested == pytest.approx((144.0, 114.0))


def test_the_report_round_trips_and_prints_a_table(drag_render, tmp_path):
    spec, clip = drag_render
    report = mk.check(clip, spec, overlay=tmp_path / "overlay.mp4")
    again = mk.AdherenceReport.model_validate_json(report.save(tmp_path / "r.json").read_text())
    assert again == report
    table = report.table().splitlines()
    assert table[0].split()[:2] == ["track", "kind"] and table[1].split()[:2] == ["0", "drag"]
    overlay = mk.Clip.read(tmp_path / "overlay.mp4")
    assert len(overlay) == 10
    # In the last frame the achieved end is a red dot inside the green ring of the requested end.
    r, g, _ = overlay.frame(9)[112, 150].astype(int)
    assert r > 150 and r > g + 40
    r, g, _ = overlay.frame(9)[112, 156].astype(int)
    assert g > 150 and g > r + 40


def test_an_encoder_crop_is_not_a_resize():
    assert placement_size((300, 451), (300, 450)) == (300, 451)
    assert placement_size((300, 451), (150, 226)) == (150, 226)


def test_a_drag_under_a_camera_move_is_requested_where_the_camera_films_it(cat):
    spec = mk.MotionSpec.from_pixels(cat.shape[:2], frames=8, drags=[[(132, 120), (146, 114)]], camera={"zoom": 1.06, "pan": (4, 0)})
    report = mk.check(mk.render(cat, spec.compile(cat)), spec)
    drag = report.tracks[0]
    assert drag.final_epe < 1.5
    assert drag.requested[0] > 146 + 4        # the end of the drag, zoomed away from the centre and panned
    assert report.camera.achieved_zoom == pytest.approx(1.06, abs=0.01)


def test_a_3d_camera_move_is_measured_with_the_depth_it_was_rendered_with(cat):
    # A near box (at the look-at distance) in front of a far room, trucked right: the room slides left less.
    image = cv2.resize(cat, (120, 80), interpolation=cv2.INTER_AREA)
    depth = np.full((80, 120), 4.0, np.float32)
    depth[20:60, 35:85] = 1.0
    spec = mk.MotionSpec.from_pixels((80, 120), frames=5, pins=[(60, 40), (12, 12)], camera={"truck": 0.06})
    clip = mk.render(image, spec.compile(image, depth=depth), fps=8)
    with_depth, flat = mk.check(clip, spec, depth=depth), mk.check(clip, spec)
    near, far = with_depth.tracks
    assert near.final_epe < 0.5 and far.final_epe < 0.5             # the camera's field says where each point goes
    assert near.requested[0] - 60 < far.requested[0] - 12 - 2         # the near point moved left more than the far one
    assert with_depth.camera.mean_epe < 0.3 < flat.camera.mean_epe    # on a flat plane the room's motion is not what was asked
    assert flat.tracks[1].final_epe > 2 * far.final_epe + 1.0         # ... nor where the far point went


def test_a_large_rigid_move_on_a_small_picture_is_followed(cat):
    # The object densifier moves the whole head 16 px on a 96 px picture: DIS alone loses it
    # by the last frame (it read 15 px off); the point followed frame to frame does not.
    small = cv2.resize(cat, (96, 64), interpolation=cv2.INTER_AREA)
    spec = mk.MotionSpec.from_pixels((64, 96), frames=8, drags=[[(40, 30), (56, 34)]])
    clip = mk.animate(small, spec=spec, predictor_options={"mode": "object"})
    report = mk.check(clip, spec)
    assert report.tracks[0].final_epe < 1.5, report.tracks[0]
    assert report.tracks[0].mean_epe < 1.5, report.tracks[0]
