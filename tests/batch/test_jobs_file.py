"""Reading a JOBS file and declaring resources: no Ray needed."""

from __future__ import annotations

import json

import pytest

import motionkit as mk
from motionkit.batch import BadLine, Summary, read_jobs, resources
from motionkit.errors import InvalidInputError
from motionkit.verbs.jobs import parse_job


def test_ids_default_to_line_numbers_blank_lines_skip_and_paths_resolve_against_the_file(tmp_path):
    folder = tmp_path / "jobs"
    folder.mkdir()
    spec = mk.MotionSpec.from_pixels((40, 60), frames=4, drags=[[(10, 10), (14, 10)]]).model_dump(mode="json")
    lines = [json.dumps({"kind": "animate", "image": "in/cat.png", "spec": "cat.json"}), "", "   ",
             json.dumps({"id": "shot12", "kind": "translate", "video": "/abs/v.mp4", "edited": "e.png"}),
             json.dumps({"kind": "check", "video": "v.mp4", "spec": spec}),
             "{not json", json.dumps({"id": "x", "kind": "paint"})]
    (folder / "jobs.jsonl").write_text("\n".join(lines) + "\n")
    entries = read_jobs(folder / "jobs.jsonl")
    assert [e.id for e in entries] == ["1", "shot12", "5", "6", "x"]
    first, second, third, bad, unknown = entries
    assert first.image == str(folder.resolve() / "in/cat.png") and first.spec == str(folder.resolve() / "cat.json")
    assert second.video == "/abs/v.mp4" and second.edited == str(folder.resolve() / "e.png")
    assert not isinstance(third.spec, str), "an inline spec stays inline"
    assert isinstance(bad, BadLine) and bad.error.startswith("line 6: ")
    assert isinstance(unknown, BadLine) and "kind" in unknown.error


@pytest.mark.parametrize("job_id", ["..", "a/b", "a\\b"])
def test_an_id_that_cannot_name_a_folder_is_refused(tmp_path, job_id):
    (tmp_path / "j.jsonl").write_text(json.dumps({"id": job_id, "kind": "render", "image": "a.png", "motion": "m.npz"}))
    [entry] = read_jobs(tmp_path / "j.jsonl")
    assert isinstance(entry, BadLine) and "cannot name a folder" in entry.error and entry.id == job_id


def test_two_jobs_with_one_id_are_refused(tmp_path):
    line = json.dumps({"id": "same", "kind": "render", "image": "a.png", "motion": "m.npz"})
    (tmp_path / "j.jsonl").write_text(f"{line}\n{line}\n")
    with pytest.raises(InvalidInputError, match="'same' is used twice"):
        read_jobs(tmp_path / "j.jsonl")


def test_learned_jobs_ask_ray_for_a_gpu_and_classical_ones_do_not():
    classical = parse_job({"kind": "animate", "image": "a.png", "spec": "s.json"})
    learned = parse_job({"kind": "animate", "image": "a.png", "spec": "s.json", "options": {"renderer": "motion-i2v"}})
    assert resources(classical) == {"num_cpus": 1}
    assert resources(learned) == {"num_cpus": 1, "num_gpus": 1}
    assert resources(learned, {"animate": {"num_cpus": 4, "num_gpus": 0.5}}) == {"num_cpus": 4, "num_gpus": 0.5}


def test_the_summary_table_names_every_failure():
    summary = Summary(done=["a"], skipped=["b", "c"], failed=[{"id": "d", "error": "cannot read d.png"}], seconds=2.5)
    table = summary.table()
    assert "cannot read d.png" in table and "4 jobs in 2.5 s" in table and not summary.ok
    assert summary.to_dict() == {"done": ["a"], "skipped": ["b", "c"], "failed": [{"id": "d", "error": "cannot read d.png"}],
                                 "seconds": 2.5}


def test_a_missing_input_is_named_with_its_field(tmp_path):
    from motionkit.batch.records import fingerprint
    from motionkit.errors import MediaReadError

    job = parse_job({"kind": "check", "video": str(tmp_path / "gone.mp4"), "spec": str(tmp_path / "gone.json")})
    with pytest.raises(MediaReadError, match="cannot read the job's spec .*gone.json: No such file"):
        fingerprint(job)


def test_the_command_refuses_a_cluster_and_a_local_ray_at_once(tmp_path, capsys):
    from motionkit.cli import main

    (tmp_path / "j.jsonl").write_text("\n")
    assert main(["batch", str(tmp_path / "j.jsonl"), "-o", str(tmp_path / "out"), "--ray", "auto", "--local", "2"]) == 2
    assert "--ray or --local" in capsys.readouterr().err
    assert not (tmp_path / "out").exists(), "nothing is written before the options are checked"
