"""The CLI speaks specs: --save-spec, --spec (flags add to it), --report, ``motionkit check`` and ``motionkit spec schema``."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import motionkit as mk
from motionkit.cli import main
from tests.helpers.images import write_photo


@pytest.fixture(scope="module")
def cat_file(tmp_path_factory, cat_photo):
    path = tmp_path_factory.mktemp("spec_cli") / "cat.png"
    write_photo(path, cat_photo, (160, 106))
    return path


def frames_of(folder) -> np.ndarray:
    return mk.Clip.read(folder).to_numpy()


@pytest.mark.slow
def test_save_spec_then_spec_reproduces_the_render(cat_file, tmp_path):
    flags = ["--drag", "94,84:104,78:110,80", "--pin", "20,95", "--camera", "zoom=1.05", "--frames", "6", "--fps", "12"]
    assert main(["animate", str(cat_file), *flags, "-o", str(tmp_path / "a/"), "--save-spec", str(tmp_path / "s.json")]) == 0
    assert main(["animate", str(cat_file), "--spec", str(tmp_path / "s.json"), "-o", str(tmp_path / "b/")]) == 0
    a, b = frames_of(tmp_path / "a"), frames_of(tmp_path / "b")
    assert a.shape == (6, 106, 160, 3) and np.array_equal(a, b)
    assert np.abs(a[-1].astype(int) - a[0]).max() > 50                 # something did move
    spec = mk.MotionSpec.load(tmp_path / "s.json")
    assert spec.frames == 6 and spec.fps == 12 and spec.reference_size == (106, 160)
    assert [len(t.keyframes) for t in spec.trajectories] == [3, 1] and spec.camera.keyframes[-1].zoom == 1.05


def test_save_spec_without_output_renders_nothing(cat_file, tmp_path):
    assert main(["animate", str(cat_file), "--drag", "94,84:104,78", "--save-spec", str(tmp_path / "s.json")]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
    assert mk.MotionSpec.load(tmp_path / "s.json").frames == 16
    assert main(["animate", str(cat_file), "--drag", "94,84:104,78"]) == 1   # neither -o nor --save-spec


def test_flags_add_to_a_spec_drags_before_pins_and_frames_override(cat_file, tmp_path):
    base = mk.MotionSpec.from_pixels((106, 160), frames=9, fps=10, drags=[[(50, 50), (60, 50)]], pins=[(5, 5)])
    base.save(tmp_path / "base.json")
    status = main(["animate", str(cat_file), "--spec", str(tmp_path / "base.json"), "--pin", "20,95",
                   "--drag", "94,84:104,78", "--frames", "5", "--save-spec", str(tmp_path / "more.json")])
    assert status == 0
    more = mk.MotionSpec.load(tmp_path / "more.json")
    starts = [t.start for t in more.trajectories_at((106, 160))]
    assert starts == [pytest.approx(p) for p in [(50, 50), (5, 5), (94, 84), (20, 95)]]
    assert more.frames == 5 and more.fps == 10 and more.trajectories[0].keyframes[-1].t == 4.0


@pytest.mark.slow
def test_animate_report_and_check_exit_status(cat_file, tmp_path):
    out, spec, report = tmp_path / "a.mp4", tmp_path / "s.json", tmp_path / "r.json"
    assert main(["animate", str(cat_file), "--drag", "94,84:104,78", "--pin", "20,95", "--frames", "6", "-o", str(out),
                 "--save-spec", str(spec), "--report", str(report)]) == 0
    doc = json.loads(report.read_text())
    assert [t["index"] for t in doc["tracks"]] == [0, 1] and [t["kind"] for t in doc["tracks"]] == ["drag", "pin"]
    assert all(t["final_epe"] < 1.5 and t["mean_epe"] < 1.5 for t in doc["tracks"])
    assert main(["check", str(out), "--spec", str(spec), "--max-epe", "5"]) == 0
    assert main(["check", str(out), "--spec", str(spec), "--max-epe", "0.0001"]) == 3
    assert main(["check", str(out), "--spec", str(spec), "--report", str(tmp_path / "again.json")]) == 0
    assert json.loads((tmp_path / "again.json").read_text())["tracks"] == doc["tracks"]


def test_render_report_needs_a_spec(cat_file, tmp_path):
    field = mk.MotionField.camera(pan=(4.0, 0.0), frames=3, size=(106, 160))
    field.save(tmp_path / "f.npz")
    assert main(["render", str(cat_file), str(tmp_path / "f.npz"), "-o", str(tmp_path / "r.mp4"), "--report", str(tmp_path / "x.json")]) == 1
    mk.MotionSpec.from_pixels((106, 160), frames=3, camera={"pan": (4, 0)}).save(tmp_path / "s.json")
    assert main(["render", str(cat_file), str(tmp_path / "f.npz"), "-o", str(tmp_path / "r.mp4"),
                 "--spec", str(tmp_path / "s.json"), "--report", str(tmp_path / "x.json")]) == 0
    assert json.loads((tmp_path / "x.json").read_text())["camera"]["achieved_pan"][0] == pytest.approx(4.0, abs=0.3)


def test_spec_schema_prints_the_json_schema(capsys):
    assert main(["spec", "schema"]) == 0
    assert json.loads(capsys.readouterr().out) == mk.MotionSpec.json_schema()


def test_a_translate_manifest_reruns_bit_for_bit(cat_file, tmp_path):
    image = cv2.resize(mk.Clip.read(cat_file).frame(0), (96, 64), interpolation=cv2.INTER_AREA)
    mk.Clip.from_array(np.stack([np.roll(image, shift=t, axis=1) for t in range(5)]), fps=5).write(tmp_path / "v.mp4")
    edits = []
    for index in (0, 4):
        edits.append(tmp_path / f"edit{index}.png")
        cv2.imwrite(str(edits[-1]), 255 - cv2.cvtColor(np.roll(image, shift=index, axis=1), cv2.COLOR_RGB2BGR))
    out, manifest = tmp_path / "t.mp4", tmp_path / "t.manifest.json"
    assert main(["translate", str(tmp_path / "v.mp4"), str(edits[0]), "--keyframe", f"4:{edits[1]}",
                 "--carry-across-cuts", "-o", str(out), "--manifest", str(manifest)]) == 0
    run = mk.RunManifest.load(manifest)
    assert run.command == "translate" and sorted(run.keyframes) == [0, 4] and run.carry_across_cuts
    assert run.video.path == str(tmp_path / "v.mp4") and run.image is None
    assert main(["rerun", str(manifest), "-o", str(tmp_path / "again.mp4")]) == 0
    assert (tmp_path / "again.mp4").read_bytes() == out.read_bytes()
    # an edited keyframe changed since is refused, naming it
    cv2.imwrite(str(edits[1]), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert main(["rerun", str(manifest), "-o", str(tmp_path / "third.mp4")]) == 1


@pytest.mark.slow
def test_a_manifest_reruns_bit_for_bit(cat_file, tmp_path):
    out, manifest = tmp_path / "a.mp4", tmp_path / "a.manifest.json"
    assert main(["animate", str(cat_file), "--drag", "94,84:104,78", "--camera", "zoom=1.03", "--frames", "6",
                 "-o", str(out), "--manifest", str(manifest)]) == 0
    run = mk.RunManifest.load(manifest)
    assert run.image.path == str(cat_file) and run.backend == "classical" and run.environment["motionkit"] == mk.__version__
    assert main(["rerun", str(manifest), "-o", str(tmp_path / "again.mp4")]) == 0
    assert (tmp_path / "again.mp4").read_bytes() == out.read_bytes()
    # A changed recorded output reads as "differs" (status 3); a changed input is refused (status 1).
    tampered = run.model_copy(update={"output": run.output.model_copy(update={"sha256": "0" * 64})})
    tampered.save(tmp_path / "t.json")
    assert main(["rerun", str(tmp_path / "t.json"), "-o", str(tmp_path / "third.mp4")]) == 3
    moved = run.model_copy(update={"image": run.image.model_copy(update={"sha256": "1" * 64})})
    moved.save(tmp_path / "m.json")
    assert main(["rerun", str(tmp_path / "m.json"), "-o", str(tmp_path / "fourth.mp4")]) == 1
