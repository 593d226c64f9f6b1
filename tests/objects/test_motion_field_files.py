"""MotionField on disk (.npz, Middlebury .flo), its pictures, and densification through the registry."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import torch

from motionkit import MotionField, RegionMask, Trajectory
from motionkit.errors import InvalidInputError, MediaWriteError, MotionFileError, ShapeMismatchError
from motionkit.io import motion_files


@pytest.fixture
def field() -> MotionField:
    g = torch.Generator().manual_seed(3)
    flow = torch.randn(4, 2, 13, 17, generator=g) * 7.3
    flow[0] = 0
    return MotionField(flow)


# --- .npz ----------------------------------------------------------------------------------


def test_npz_round_trip_is_exact_with_metadata(tmp_path, field):
    path = tmp_path / "motion.npz"
    field.save(path, metadata={"prompt": "waves", "fps": 8})
    back = MotionField.load(path)
    assert back == field
    assert MotionField.load_metadata(path) == {"prompt": "waves", "fps": 8}
    assert [p.name for p in tmp_path.iterdir()] == ["motion.npz"]  # no temporary left behind


def test_npz_any_suffix_is_kept(tmp_path, field):
    path = tmp_path / "motion.field"
    field.save(path)
    assert path.exists() and MotionField.load(path) == field


def test_npz_bad_files_raise_motion_file_error(tmp_path, field):
    with pytest.raises(MotionFileError, match="does not exist"):
        MotionField.load(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(MotionFileError, match="not a readable"):
        MotionField.load(junk)
    other = tmp_path / "other.npz"
    np.savez(other, something=np.zeros(3))
    with pytest.raises(MotionFileError, match="flow"):
        MotionField.load(other)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, flow=np.zeros((2, 3, 4, 4), np.float32), format_version=np.int64(1))
    with pytest.raises(MotionFileError, match=r"\(T, 2, H, W\)"):
        MotionField.load(wrong)
    future = tmp_path / "future.npz"
    np.savez(future, flow=np.zeros((2, 2, 4, 4), np.float32), format_version=np.int64(99))
    with pytest.raises(MotionFileError, match="version 99"):
        MotionField.load(future)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, flow=np.array([object()]), format_version=np.int64(1))
    with pytest.raises(MotionFileError, match="objects"):
        MotionField.load(pickled)
    short = tmp_path / "short.npz"
    field.save(short)
    short.write_bytes(short.read_bytes()[:-40])
    with pytest.raises(MotionFileError):
        MotionField.load(short)
    listed = tmp_path / "listed.npz"
    np.savez(listed, flow=field.numpy(), format_version=np.int64(1), metadata=np.array("[1, 2]"))
    with pytest.raises(MotionFileError, match="JSON object"):
        MotionField.load_metadata(listed)


def test_save_refuses_missing_folder_and_bad_metadata(tmp_path, field):
    with pytest.raises(MediaWriteError):
        field.save(tmp_path / "nope" / "motion.npz")
    with pytest.raises(InvalidInputError):
        field.save(tmp_path / "m.npz", metadata={"x": object()})
    with pytest.raises(InvalidInputError):
        field.save(tmp_path / "m.npz", metadata=["not", "a", "dict"])


# --- .flo ----------------------------------------------------------------------------------


def test_flo_round_trip_exact_and_header(tmp_path, field):
    folder = tmp_path / "flo"
    paths = field.save_flo(folder)
    assert [p.name for p in paths] == ["frame_0001.flo", "frame_0002.flo", "frame_0003.flo"]
    raw = paths[0].read_bytes()
    assert raw[:4] == b"PIEH"
    magic, width, height = struct.unpack("<fii", raw[:12])
    assert (magic, width, height) == (202021.25, 17, 13)
    assert len(raw) == 12 + 8 * 17 * 13
    # the payload is (u, v) interleaved, row by row
    u, v = struct.unpack("<ff", raw[12 + 8 * (17 * 2 + 5) : 12 + 8 * (17 * 2 + 5) + 8])
    assert (u, v) == (field.flow[1, 0, 2, 5].item(), field.flow[1, 1, 2, 5].item())
    assert MotionField.load_flo(folder) == field
    assert MotionField.load_flo(paths) == field
    single = MotionField.load_flo(paths[1])  # one file: the flow to that frame, after a zero frame 0
    assert single.frames == 2 and torch.equal(single.flow[1], field.flow[2])


def test_flo_frames_sort_naturally(tmp_path):
    flow = torch.zeros(12, 2, 3, 4)
    flow[1:, 0] = torch.arange(1, 12, dtype=torch.float32).view(11, 1, 1)
    MotionField(flow).save_flo(tmp_path / "f")
    for p in (tmp_path / "f").iterdir():  # strip zero padding: frame_10 must still follow frame_9
        p.rename(p.with_name(p.name.replace("frame_000", "frame_").replace("frame_00", "frame_")))
    assert torch.equal(MotionField.load_flo(tmp_path / "f").flow, flow)


def test_flo_bad_files(tmp_path, field):
    folder = tmp_path / "flo"
    paths = field.save_flo(folder)
    bad = tmp_path / "bad.flo"
    bad.write_bytes(b"XXXX" + paths[0].read_bytes()[4:])
    with pytest.raises(MotionFileError, match="PIEH"):
        MotionField.load_flo([bad])
    bad.write_bytes(paths[0].read_bytes()[:-8])
    with pytest.raises(MotionFileError, match="truncated"):
        MotionField.load_flo([bad])
    bad.write_bytes(b"PIE")
    with pytest.raises(MotionFileError, match="too short"):
        MotionField.load_flo([bad])
    bad.write_bytes(struct.pack("<fii", 202021.25, -3, 4))
    with pytest.raises(MotionFileError, match="size"):
        MotionField.load_flo([bad])
    with pytest.raises(MotionFileError):
        MotionField.load_flo(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MotionFileError, match="no .flo"):
        MotionField.load_flo(tmp_path / "empty")
    other = MotionField(torch.zeros(2, 2, 5, 5))
    other.save_flo(tmp_path / "small")
    with pytest.raises(MotionFileError, match="differ in size"):
        MotionField.load_flo([paths[0], tmp_path / "small" / "frame_0001.flo"])


def test_save_flo_never_deletes_unrelated_files(tmp_path, field):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(MediaWriteError, match="other than .flo"):
        field.save_flo(folder)
    assert (folder / "notes.txt").read_text() == "keep me"
    with pytest.raises(InvalidInputError):
        MotionField.zeros(1, (4, 4)).save_flo(tmp_path / "one")


def test_save_flo_replaces_a_previous_export(tmp_path, field):
    folder = tmp_path / "flo"
    MotionField.zeros(8, field.size).save_flo(folder)
    field.save_flo(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["frame_0001.flo", "frame_0002.flo", "frame_0003.flo"]
    assert MotionField.load_flo(folder) == field


def test_flo_reader_writer_agree_with_a_hand_made_file(tmp_path):
    flow = np.arange(2 * 2 * 3, dtype=np.float32).reshape(2, 2, 3) - 4.5
    raw = struct.pack("<fii", 202021.25, 3, 2) + flow.transpose(1, 2, 0).astype("<f4").tobytes()
    (tmp_path / "a.flo").write_bytes(raw)
    assert np.array_equal(motion_files.read_flo(tmp_path / "a.flo"), flow)
    motion_files.write_flo(tmp_path / "b.flo", flow)
    assert (tmp_path / "b.flo").read_bytes() == raw


# --- visualize -----------------------------------------------------------------------------


def test_visualize_color_codes_direction_and_shared_scale():
    flow = torch.zeros(3, 2, 8, 8)
    flow[1, 0] = 2.0  # half the maximum, to the right
    flow[2, 0] = 4.0  # the maximum, to the right
    clip = MotionField(flow).visualize(fps=5.0)
    frames = clip.to_numpy()
    assert frames.shape == (3, 8, 8, 3) and clip.fps == 5.0
    assert frames[0, 0, 0].tolist() == [255, 255, 255]  # no motion: white
    assert frames[2, 0, 0].tolist() == [255, 0, 0]  # right, full length: red
    assert frames[1, 0, 0, 0] == 255 and 100 < frames[1, 0, 0, 1] < 160  # half as saturated
    fixed = MotionField(flow).visualize(max_magnitude=8.0).to_numpy()
    assert fixed[2, 0, 0].tolist() == frames[1, 0, 0].tolist()


def test_visualize_arrows_over_photo(cat_photo):
    h, w = cat_photo.shape[:2]
    field = MotionField.camera(pan=(20, 0), frames=3, size=(h, w))
    clip = field.visualize("arrows", image=cat_photo, step=40)
    frames = clip.to_numpy()
    assert frames.shape == (3, h, w, 3)
    changed = np.any(frames[-1] != cat_photo, axis=-1)
    # the arrow from grid point (20, 20) runs 20 px to the right
    assert changed[20, 20:38].all() and not changed[20, 45:55].any()
    with pytest.raises(ShapeMismatchError):
        field.visualize("arrows", image=cat_photo[:100])
    with pytest.raises(InvalidInputError):
        field.visualize("sketch")


# --- densification through the registry -----------------------------------------------------


def test_from_trajectories_uses_the_sparse_predictor():
    drag = Trajectory.line((10, 10), (18, 10), frames=5)
    pin = Trajectory.pin((40, 30), frames=5)
    field = MotionField.from_trajectories([drag, pin], size=(40, 60))
    assert isinstance(field, MotionField) and field.frames == 5 and field.size == (40, 60)
    assert torch.allclose(field.flow[-1, :, 10, 10], torch.tensor([8.0, 0.0]), atol=0.5)
    assert field.flow[-1, :, 30, 40].abs().max() < 0.5
    brushed = MotionField.from_trajectories([drag], size=(40, 60), mask=RegionMask.empty((40, 60)))
    assert brushed.flow.abs().max() < 1e-6
    with pytest.raises(InvalidInputError):
        MotionField.from_trajectories([drag])


def test_from_trajectories_takes_the_size_of_an_image(cat_photo):
    photo = cat_photo[::4, ::4]  # keep the edge-aware densifier fast
    h, w = photo.shape[:2]
    drag = Trajectory.line((40, 30), (46, 27), frames=4)
    field = MotionField.from_trajectories([drag], image=photo)
    assert field.size == (h, w) and field.frames == 4
    assert torch.allclose(field.flow[-1, :, 30, 40], torch.tensor([6.0, -3.0]), atol=0.5)
    with pytest.raises(ShapeMismatchError):
        MotionField.from_trajectories([drag], image=photo, size=(h + 1, w))
