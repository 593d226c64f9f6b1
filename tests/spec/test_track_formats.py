"""Peers' track files: written the way each project writes them, read back into a spec and out again within 0.5 px."""

from __future__ import annotations

import numpy as np
import pytest

import motionkit as mk
from motionkit.cli import main
from motionkit.errors import MotionFileError
from motionkit.io.track_formats import wan_move


def wan_move_files(folder, frames=81, points=5, size=(480, 832)):
    """Tracks the way Wan-Move's MoveBench keeps them: ``<id>_tracks.npy`` [1, T, N, 2] float32, ``<id>_visibility.npy`` [1, T, N] bool."""
    rng = np.random.default_rng(3)
    h, w = size
    start = rng.uniform([20, 20], [w - 20, h - 20], (points, 2))
    t = np.linspace(0, 1, frames)[:, None, None]
    tracks = (start[None] + t * rng.uniform(-60, 60, (points, 2))[None]).astype(np.float32)
    visibility = np.ones((frames, points), bool)
    visibility[frames * 5 // 8 : frames * 3 // 4, points - 1] = False        # hidden for a while, then back
    np.save(folder / "clip_tracks.npy", tracks[None])
    np.save(folder / "clip_visibility.npy", visibility[None])
    return tracks, visibility


def test_wan_move_round_trip_within_half_a_pixel(tmp_path):
    tracks, visibility = wan_move_files(tmp_path)
    spec = mk.MotionSpec.import_tracks(tmp_path / "clip_tracks.npy", "wan-move", size=(480, 832), fps=16)
    assert spec.frames == 81 and len(spec.trajectories) == 5 and spec.reference_size == (480, 832)
    assert spec.visibility()[4, 50:60].tolist() == [False] * 10 and spec.visibility()[4, 60]
    spec.export_tracks(tmp_path / "out_tracks.npy", "wan-move")
    again, shown = wan_move.read(tmp_path / "out_tracks.npy")
    assert np.abs(again - tracks).max() < 0.5 and np.array_equal(shown, visibility)
    # At another size the tracks scale with the picture.
    spec.export_tracks(tmp_path / "big_tracks.npy", "wan-move", size=(960, 1664))
    big, _ = wan_move.read(tmp_path / "big_tracks.npy")
    assert np.abs((big + 0.5) / 2 - 0.5 - tracks).max() < 0.5


def test_cli_import_then_export(tmp_path):
    tracks, _ = wan_move_files(tmp_path, frames=9, points=2)
    assert main(["spec", "import", str(tmp_path / "clip_tracks.npy"), "--format", "wan-move", "--size", "832x480",
                 "-o", str(tmp_path / "s.json")]) == 0
    assert main(["spec", "export", str(tmp_path / "s.json"), "--format", "wan-move", "-o", str(tmp_path / "x_tracks.npy")]) == 0
    assert np.abs(wan_move.read(tmp_path / "x_tracks.npy")[0] - tracks).max() < 0.5
    assert (tmp_path / "x_visibility.npy").exists()
    assert main(["spec", "import", str(tmp_path / "clip_tracks.npy"), "--format", "tora", "--size", "832x480",
                 "-o", str(tmp_path / "t.json")]) == 1


def test_a_malformed_track_file_is_refused(tmp_path):
    np.save(tmp_path / "bad_tracks.npy", np.zeros((4, 3)))
    with pytest.raises(MotionFileError, match=r"\[T, N, 2\]"):
        wan_move.read(tmp_path / "bad_tracks.npy")


def test_tora_files_round_trip_within_half_a_grid_step(tmp_path):
    # The way Tora ships them (sat/trajs/circle.txt): integer "x,y" lines on a 256 grid, fewer points than frames.
    folder = tmp_path / "trajs"
    folder.mkdir()
    circle = [(120, 194), (144, 193), (155, 189), (158, 170), (160, 153), (159, 123), (152, 113), (136, 100)]
    (folder / "00.txt").write_text("".join(f"{x},{y}\n" for x, y in circle))
    (folder / "01.txt").write_text("10,10\n60,40\n")
    spec = mk.MotionSpec.import_tracks(folder, "tora")
    assert spec.frames == 49 and spec.reference_size == (480, 720) and len(spec.trajectories) == 2
    start = spec.trajectories_at((480, 720))[0].start
    assert start == pytest.approx((720 * 120 / 256 - 0.5, 480 * 194 / 256 - 0.5))   # Tora's int(w * x / 256), by its centre
    spec.export_tracks(tmp_path / "out", "tora")
    again = mk.MotionSpec.import_tracks(tmp_path / "out", "tora")
    a, b = spec.to_tracks((256, 256))[0], again.to_tracks((256, 256))[0]
    assert np.abs(a - b).max() <= 0.5 + 1e-6                                      # half a step of the 256 grid
    lines = (tmp_path / "out" / "00.txt").read_text().splitlines()
    assert len(lines) == 49 and lines[0] == "120,194" and lines[-1] == "136,100"


def test_tora_spreads_points_over_frames_as_its_sampler_does():
    from motionkit.io.track_formats.tora import frame_of_points

    assert frame_of_points(3, 7).tolist() == [0, 3, 6]          # 4 inserts over 2 segments: 2 + 2
    assert frame_of_points(3, 8).tolist() == [0, 4, 7]          # 5 inserts: the first segment gets the extra one
    assert frame_of_points(10, 4).tolist() == [0, -1, 1, -1, 2, -1, -1, -1, -1, 3]   # points[::2][:3] + the last


def test_sg_i2v_round_trip_keeps_tracks_and_boxes(tmp_path):
    # SG-I2V's examples/<id>/traj.npy: [N, 2 + F, 2] = box corners, then the box centre per frame.
    folder = tmp_path / "111"
    folder.mkdir()
    frames = 14
    t = np.linspace(0, 1, frames)[:, None]
    centres = [np.array([300.0, 200.0]) + t * [80, -30], np.array([700.0, 400.0]) + t * [-50, 10]]
    boxes = [[[250, 150], [350, 250]], [[650, 350], [750, 450]]]
    data = np.stack([np.concatenate([np.array(b, float), c]) for b, c in zip(boxes, centres)]).astype(np.float32)
    np.save(folder / "traj.npy", data)
    spec = mk.MotionSpec.import_tracks(folder, "sg-i2v", size=(576, 1024))
    assert spec.frames == 14 and [o.tracks for o in spec.objects] == [(0,), (1,)]
    box = spec.objects_at((576, 1024))[0].mask.values
    assert box[200, 300] == 1 and box[200, 400] == 0                      # the first box covers its centre only
    spec.export_tracks(tmp_path / "out", "sg-i2v")
    again = np.load(tmp_path / "out" / "traj.npy")
    assert again.shape == data.shape and np.abs(again[:, 2:] - data[:, 2:]).max() < 0.5
    assert np.abs(again[:, :2] - data[:, :2]).max() <= 1.0                # box corners to the pixel


def test_dragnuwa_drags_round_trip(tmp_path):
    # The demo's tracking_points: drags of clicked integer points on the 576 x 320 frame; a lone click.
    clicks = [[[100, 150], [140, 130], [180, 140]], [[400, 200]]]
    (tmp_path / "drags.json").write_text(__import__("json").dumps(clicks))
    spec = mk.MotionSpec.import_tracks(tmp_path / "drags.json", "dragnuwa")
    assert spec.frames == 14 and spec.reference_size == (320, 576)
    paths = spec.trajectories_at((320, 576))
    assert paths[0].start == pytest.approx((100, 150)) and paths[0].end == pytest.approx((180, 140))
    assert paths[0].points[13 // 2] != paths[0].points[0] and paths[1].is_pinned
    spec.export_tracks(tmp_path / "out.json", "dragnuwa")
    again = mk.MotionSpec.import_tracks(tmp_path / "out.json", "dragnuwa")
    assert np.abs(again.to_tracks()[0] - spec.to_tracks()[0]).max() < 0.5


def test_motion_i2v_drags_are_dragnuwa_lists_on_its_own_frame(tmp_path):
    (tmp_path / "drags.json").write_text("[[[100, 150], [140, 130]], [[300, 200]]]")
    spec = mk.MotionSpec.import_tracks(tmp_path / "drags.json", "motion-i2v")
    assert spec.frames == 16 and spec.reference_size == (320, 512)
    assert spec.trajectories_at((320, 512))[0].end == pytest.approx((140, 130))
    spec.export_tracks(tmp_path / "out.json", "motion-i2v")
    assert np.abs(mk.MotionSpec.import_tracks(tmp_path / "out.json", "motion-i2v").to_tracks()[0] - spec.to_tracks()[0]).max() < 0.5


def ati_editor_file(path, tracks_121):
    """A ``.pth`` the way ATI's tools/trajectory_editor/app.py stores it: (N, 121, 1, 3) [x, y, 1] x 8, npz bytes, torch.save."""
    import io

    import torch

    arr = np.zeros((len(tracks_121), 121, 1, 3), np.float32)
    for n, points in enumerate(tracks_121):              # a short track is padded with zero rows (invisible)
        arr[n, : len(points), 0, :2] = points
        arr[n, : len(points), 0, 2] = 1
    buffer = io.BytesIO()
    np.savez_compressed(buffer, array=(8 * arr).astype(np.float32))
    torch.save(buffer.getvalue(), path)


def test_ati_round_trip_on_an_editor_file(tmp_path):
    from motionkit.io.track_formats import ati

    s = np.arange(121)[:, None]
    circle = np.concatenate([400 + 60 * np.cos(s / 120 * np.pi), 240 + 60 * np.sin(s / 120 * np.pi)], axis=1)
    still = np.repeat([[100.0, 80.0]], 121, axis=0)                      # the editor's static trajectory
    short = np.concatenate([600 + s[:40], 300 - 0.5 * s[:40]], axis=1)   # a 40-point freehand stroke
    ati_editor_file(tmp_path / "00.pth", [circle, still, short])
    spec = mk.MotionSpec.import_tracks(tmp_path / "00.pth", "ati", size=(480, 832))
    assert spec.frames == 81 and spec.fps == 16 and len(spec.trajectories) == 3
    tracks, shown = spec.to_tracks()
    k = np.arange(81)
    # Frame k reads sample floor(1.5 k) (process_tracks), half a pixel off ATI's corner-based coordinates.
    np.testing.assert_allclose(tracks[:, 0], circle[np.floor(1.5 * k).astype(int)] - 0.5, atol=1e-3)
    assert spec.trajectories[1].is_pin
    assert shown[26, 2] and not shown[27, 2]                     # samples 39 (drawn) and 40 (padding)
    assert np.allclose(tracks[27:, 2], short[39] - 0.5, atol=1e-3)  # held where it was last seen, not at (0, 0)
    spec.export_tracks(tmp_path / "out.pth", "ati")
    import torch, io
    raw = np.load(io.BytesIO(torch.load(tmp_path / "out.pth", weights_only=True)))["array"]
    assert raw.dtype == np.float32 and raw.shape == (3, 121, 1, 3) and set(np.unique(raw[..., 2])) == {0, 8}
    again, seen = ati.read(tmp_path / "out.pth")
    assert np.abs(again - 0.5 - tracks).max() < 1e-3 and np.array_equal(seen, shown)
    # A 16-frame spec is resampled to ATI's 81 frames: the same path, its times scaled.
    drag = mk.MotionSpec.from_pixels((480, 832), frames=16, drags=[[(100, 100), (200, 150)]])
    drag.export_tracks(tmp_path / "drag.pth", "ati")
    back = mk.MotionSpec.import_tracks(tmp_path / "drag.pth", "ati", size=(480, 832))
    assert np.abs(back.with_frames(16).to_tracks()[0] - drag.to_tracks()[0]).max() < 0.5


def test_cli_speaks_ati(tmp_path):
    ati_editor_file(tmp_path / "t.pth", [np.stack([np.linspace(50, 90, 121), np.full(121, 60.0)], axis=1)])
    assert main(["spec", "import", str(tmp_path / "t.pth"), "--format", "ati", "--size", "160x120", "-o", str(tmp_path / "s.json")]) == 0
    spec = mk.MotionSpec.load(tmp_path / "s.json")
    assert spec.reference_size == (120, 160) and spec.trajectories_at((120, 160))[0].end == pytest.approx((89.5, 59.5))
    assert main(["spec", "export", str(tmp_path / "s.json"), "--format", "ati", "-o", str(tmp_path / "o.pth")]) == 0
    again = mk.MotionSpec.import_tracks(tmp_path / "o.pth", "ati", size=(120, 160))
    assert np.abs(again.to_tracks()[0] - spec.to_tracks()[0]).max() < 1e-3


def test_a_file_that_is_not_ati_is_refused(tmp_path):
    from motionkit.io.track_formats import ati

    np.save(tmp_path / "x.npy", np.zeros(3))
    with pytest.raises(MotionFileError, match="ATI"):
        ati.read(tmp_path / "x.npy")


def test_mofa_video_drags_share_dragnuwa_lists_on_their_own_frame_and_length(tmp_path):
    from motionkit.io.track_formats.mofa_video import frame_size

    assert frame_size((300, 451)) == (512, 768)              # short side 512, sides cut to multiples of 64
    clicks = [[[200, 300], [260, 280], [330, 290]], [[600, 100], [600, 100]]]   # a drag and MOFA's pin (two equal clicks)
    (tmp_path / "drags.json").write_text(__import__("json").dumps(clicks))
    spec = mk.MotionSpec.import_tracks(tmp_path / "drags.json", "mofa-video", size=(512, 768))
    assert spec.frames == 25 and spec.reference_size == (512, 768)
    paths = spec.trajectories_at((512, 768))
    assert paths[0].start == pytest.approx((200, 300)) and paths[0].end == pytest.approx((330, 290))
    assert paths[0].points[12] == pytest.approx((260, 280), abs=1e-6)   # the middle click at the middle frame (PCHIP)
    assert paths[1].is_pinned
    spec.export_tracks(tmp_path / "out.json", "mofa-video")
    written = __import__("json").loads((tmp_path / "out.json").read_text())
    assert len(written) == 2 and all(len(d) == 25 for d in written) and written[1][0] == written[1][-1]
    again = mk.MotionSpec.import_tracks(tmp_path / "out.json", "mofa-video", size=(512, 768))
    assert np.abs(again.to_tracks()[0] - spec.to_tracks()[0]).max() < 0.5
