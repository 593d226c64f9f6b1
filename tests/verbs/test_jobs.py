"""The one Job model of the service and batch runs: parsing, resolving inputs, running each kind."""

from __future__ import annotations

import json

import numpy as np
import pytest

import motionkit as mk
from motionkit.errors import InvalidInputError
from motionkit.verbs.jobs import AnimateJob, CheckJob, TranslateJob, parse_job, run_job
from tests.helpers.images import write_photo


@pytest.fixture
def small_photo(tmp_path, cat_photo):

    path = tmp_path / "cat.png"
    write_photo(path, cat_photo, (160, 106))
    return path


def test_jobs_are_told_apart_by_kind_and_the_service_asset_reads_as_the_image():
    job = parse_job({"kind": "animate", "asset": "a1", "spec": "s.json"})
    assert isinstance(job, AnimateJob) and job.image == "a1" and job.inputs() == {"image": "a1", "spec": "s.json"}
    job = parse_job(json.dumps({"id": "shot12", "kind": "translate", "video": "v.mp4", "edited": "e.png"}))
    assert isinstance(job, TranslateJob) and job.id == "shot12" and job.output_name == "output.mp4"
    assert parse_job({"kind": "check", "video": "v.mp4", "spec": "s.json"}).output_name == "report.json"


@pytest.mark.parametrize("data, named", [
    ({"kind": "paint", "image": "a.png"}, "kind"),
    ({"kind": "animate", "spec": "s.json"}, "image"),
    ({"kind": "translate", "video": "v.mp4", "edited": "e.png", "speed": 2}, "speed"),
])
def test_a_bad_job_is_refused_naming_the_field(data, named):
    with pytest.raises(InvalidInputError, match=named):
        parse_job(data)


def test_resolved_maps_every_file_input_and_leaves_an_inline_spec(tmp_path):
    spec = mk.MotionSpec.from_pixels((40, 60), frames=4, drags=[[(10, 10), (14, 10)]])
    job = parse_job({"kind": "animate", "image": "cat.png", "spec": spec.model_dump(mode="json")})
    located = job.resolved(lambda name: tmp_path / name)
    assert located.image == str(tmp_path / "cat.png") and located.spec == spec and job.image == "cat.png"


def test_an_animate_job_renders_its_spec_like_the_verbs(small_photo, tmp_path):
    spec = mk.MotionSpec.from_pixels((106, 160), frames=5, fps=10, drags=[[(80, 50), (90, 50)]])
    out = run_job(parse_job({"kind": "animate", "image": str(small_photo), "spec": spec.model_dump(mode="json")}),
                  tmp_path / "out.mp4")
    clip = mk.Clip.read(out)
    expected = mk.render(str(small_photo), spec.compile(str(small_photo)), fps=10)
    assert len(clip) == 5 and clip.fps == 10
    # The encoded frames are the verbs' frames (within the codec's loss).
    assert np.abs(clip.frame(4).astype(float) - expected.frame(4).astype(float)).mean() < 3.0


def test_an_animate_job_is_mk_animate_with_the_spec_its_hints_included(small_photo, tmp_path):
    # The spec's hinted renderer option must reach the render: a job that compiled the spec
    # itself rendered with the default fill and ignored it.
    from motionkit.spec.manifest import file_sha256

    from motionkit.spec.document import BackendHints

    # A pan brings in pixels from beyond the left border, which the fill decides.
    spec = mk.MotionSpec.from_pixels((106, 160), frames=5, fps=10, drags=[[(80, 50), (86, 50)]],
                                     camera={"pan": (12, 0)}, hints=BackendHints(renderer_options={"fill": "stretch"}))
    out = run_job(parse_job({"kind": "animate", "image": str(small_photo), "spec": spec.model_dump(mode="json")}),
                  tmp_path / "job.mp4")
    mk.animate(str(small_photo), spec=spec).write(tmp_path / "verb.mp4")
    mk.animate(str(small_photo), spec=spec, renderer_options={"fill": "background"}).write(tmp_path / "other.mp4")
    assert file_sha256(out) == file_sha256(tmp_path / "verb.mp4")
    assert file_sha256(out) != file_sha256(tmp_path / "other.mp4"), "the hinted fill changes the video"


def test_a_check_job_writes_the_adherence_report(small_photo, tmp_path):
    spec = mk.MotionSpec.from_pixels((106, 160), frames=5, drags=[[(80, 50), (88, 50)]])
    spec_path = spec.save(tmp_path / "spec.json")
    video = tmp_path / "v.mp4"
    run_job(parse_job({"kind": "animate", "image": str(small_photo), "spec": str(spec_path)}), video)
    report = run_job(CheckJob(kind="check", video=str(video), spec=str(spec_path)), tmp_path / "report.json")
    tracks = json.loads(report.read_text())["tracks"]
    assert len(tracks) == 1 and tracks[0]["final_epe"] < 2.0
