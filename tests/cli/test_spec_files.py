"""The spec and the run manifest are written and read by one helper: atomic writes, one error naming the file and the place."""

from __future__ import annotations

import pytest

import motionkit as mk
from motionkit.cli import main
from motionkit.errors import MotionFileError
from tests.helpers.images import write_photo


@pytest.fixture(scope="module")
def small_cat(tmp_path_factory, cat_photo):
    path = tmp_path_factory.mktemp("spec_files") / "cat.png"
    write_photo(path, cat_photo, (120, 80))
    return path


@pytest.mark.parametrize("load, what", [(mk.MotionSpec.load, "motion spec"), (mk.RunManifest.load, "motionkit run manifest")])
def test_both_documents_fail_alike_naming_the_file(load, what, tmp_path):
    with pytest.raises(MotionFileError, match=f"cannot read {what} .*missing.json"):
        load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe not text")
    with pytest.raises(MotionFileError, match=f"cannot read {what} .*bad.json"):
        load(tmp_path / "bad.json")
    (tmp_path / "doc.json").write_text('{"spec_version": 1, "frames": 1, "reference_size": [4, 4]}')
    with pytest.raises(MotionFileError, match=r"doc\.json.*frames") as error:
        load(tmp_path / "doc.json")
    assert "\n" not in str(error.value)


@pytest.mark.slow
def test_render_writes_a_manifest_that_reruns_bit_for_bit(small_cat, tmp_path):
    mk.MotionField.camera(pan=(6, 2), zoom=1.05, frames=4, size=(80, 120)).save(tmp_path / "m.npz")
    out, manifest = tmp_path / "out.mp4", tmp_path / "run.json"
    assert main(["render", str(small_cat), str(tmp_path / "m.npz"), "-o", str(out), "--fps", "12",
                 "--renderer-option", "fill=stretch", "--manifest", str(manifest)]) == 0
    run = mk.RunManifest.load(manifest)
    assert run.command == "render" and run.renderer_options == {"fill": "stretch"} and run.fps == 12 and run.spec is None
    assert main(["rerun", str(manifest), "-o", str(tmp_path / "again.mp4")]) == 0
    assert (tmp_path / "again.mp4").read_bytes() == out.read_bytes()
    # The field changed: rerun refuses, naming it.
    mk.MotionField.camera(pan=(5, 2), frames=4, size=(80, 120)).save(tmp_path / "m.npz")
    assert main(["rerun", str(manifest), "-o", str(tmp_path / "third.mp4")]) == 1
    assert not (tmp_path / "third.mp4").exists()
