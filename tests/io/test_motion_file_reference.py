"""Saved fields keep their reference frame (``MotionField.reference``); older files load with reference 0."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from motionkit import MotionField
from motionkit.errors import MotionFileError

V1_FIXTURE = Path(__file__).parent / "data" / "motion_v1.npz"


@pytest.fixture(scope="module")
def backward_field(coffee_photo_module) -> MotionField:
    """A real photo's estimated motion measured from its LAST frame (a backward carry's field)."""
    import cv2

    import motionkit as mk

    photo = cv2.resize(coffee_photo_module, (160, 120), interpolation=cv2.INTER_AREA)
    frames = [np.ascontiguousarray(np.roll(photo, -2 * t, axis=1)[10:90, 10:138]) for t in range(4)]
    field = mk.estimate_motion(mk.Clip.from_array(np.stack(frames[::-1]), fps=8)).materialize()
    # Time order with the measured-from frame last: frame 3 is the reference.
    flow = torch.cat([field.flow[1:].flip(0), field.flow[:1]])
    return MotionField(flow, reference=3)


@pytest.fixture(scope="module")
def coffee_photo_module() -> np.ndarray:
    from skimage import data

    return data.coffee()


@pytest.mark.parametrize("lazy", [False, True])
def test_a_saved_field_loads_with_its_reference_frame(tmp_path, backward_field, lazy):
    path = backward_field.save(tmp_path / "backward.npz")
    loaded = MotionField.load(path, lazy=lazy)
    assert loaded.reference == 3
    assert loaded.frame(3).abs().max().item() == 0.0 and loaded.frame(0).abs().max().item() > 1.0
    assert np.array_equal(loaded.numpy(), backward_field.numpy())
    with zipfile.ZipFile(path) as archive:
        header = json.loads(str(np.load(archive.open("header.npy"))))
    assert header["reference"] == 3


def test_a_lazy_field_with_a_reference_is_streamed_to_the_file_and_back(tmp_path, backward_field):
    flows = backward_field.flow
    lazy = MotionField.from_frames(lambda: iter(flows), 4, backward_field.size, reference=3)
    assert MotionField.load(lazy.save(tmp_path / "lazy.npz")).reference == 3


def test_files_without_a_stored_reference_load_with_reference_0(tmp_path, backward_field):
    assert MotionField.load(V1_FIXTURE).reference == 0  # version 1
    forward = MotionField(backward_field.flow - backward_field.flow[:1])  # frame 0 is zero
    path = forward.save(tmp_path / "old_v2.npz")
    rewritten = tmp_path / "v2_without_reference.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(rewritten, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "header.npy":
                header = json.loads(str(np.load(src.open(name))))
                del header["reference"]  # as the first version-2 writer wrote it
                with dst.open(name, "w") as out:
                    np.save(out, np.array(json.dumps(header)))
                continue
            dst.writestr(name, data)
    assert MotionField.load(rewritten).reference == 0
    assert MotionField.load(rewritten, lazy=True).reference == 0


def test_a_reference_outside_the_field_is_refused_by_name(tmp_path, backward_field):
    path = backward_field.save(tmp_path / "field.npz")
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            if name == "header.npy":
                header = json.loads(str(np.load(src.open(name))))
                header["reference"] = 7
                with dst.open(name, "w") as out:
                    np.save(out, np.array(json.dumps(header)))
            else:
                dst.writestr(name, src.read(name))
    with pytest.raises(MotionFileError, match="frame 7 the reference"):
        MotionField.load(bad)
