"""Batch runs on a local Ray (2 CPUs): mixed jobs with a bad one, a worker killed mid-job, resuming."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

import motionkit as mk
from motionkit.cli import main
from motionkit.spec.manifest import file_sha256
from motionkit.verbs.jobs import parse_job


def write_jobs(path: Path, jobs: list[dict | None]) -> Path:
    """A JOBS file with one JSON line per job (None: a blank line)."""
    path.write_text("\n".join("" if job is None else json.dumps(job) for job in jobs) + "\n", encoding="utf-8")
    return path


def frames(path: Path) -> np.ndarray:
    return mk.Clip.read(path).to_numpy()


def run_pinned_like_a_worker(job, output: Path) -> Path:
    """``run_job`` in a fresh process with the threads a Ray worker of one CPU has (OMP_NUM_THREADS=1).

    Ray sets ``OMP_NUM_THREADS`` to a task's CPUs; the BLAS products of the edit model then sum in
    another order than in a process with more threads (a grey level apart), so the single-process
    reference is made with its threads pinned alike.
    """
    code = ("import json, sys, torch; torch.set_num_threads(1); from motionkit.verbs.jobs import parse_job, run_job; "
            "run_job(parse_job(json.loads(sys.argv[1])), sys.argv[2])")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-c", code, job.model_dump_json(), str(output)], env=env, check=True)
    return output


def test_a_mixed_jobs_file_matches_the_single_process_path_and_reports_the_bad_input(local_ray, inputs, tmp_path,
                                                                                      one_torch_thread, capsys):
    spec = json.loads((inputs / "spec.json").read_text())
    jobs = [
        {"id": "cat", "kind": "animate", "image": "cat.png", "spec": "spec.json"},
        None,  # a blank line is skipped and does not count
        {"kind": "render", "image": "cat.png", "motion": "motion.npz", "options": {"fps": 8}},
        {"id": "shot", "kind": "translate", "video": "shot.mp4", "edited": "shot_frame0.png"},
        {"id": "score", "kind": "check", "video": "shot.mp4", "spec": spec},
        {"id": "bad", "kind": "animate", "image": "broken.png", "spec": "spec.json"},
    ]
    jobs_file = write_jobs(inputs / "mixed.jsonl", jobs)
    out = tmp_path / "out"
    assert main(["batch", str(jobs_file), "-o", str(out)]) == 1, "a failed job makes the batch exit non-zero"

    summary = json.loads((out / "summary.json").read_text())
    assert summary["done"] == ["cat", "3", "shot", "score"] and summary["skipped"] == []
    assert [f["id"] for f in summary["failed"]] == ["bad"]
    assert "broken.png" in summary["failed"][0]["error"], "the error names the bad input"
    status = json.loads((out / "bad" / "status.json").read_text())
    assert status["state"] == "failed" and status["error"] == summary["failed"][0]["error"]
    assert not (out / "bad" / "output.mp4").exists()
    table = capsys.readouterr().out
    assert "failed" in table and "bad" in table and "broken.png" in table

    # Every good job's output is what the single-process path makes of the same job, frame for frame.
    for line, job_id in ((1, "cat"), (3, "3"), (4, "shot"), (5, "score")):  # 1-based lines
        job = parse_job(jobs[line - 1])
        job = job.resolved(lambda name: inputs / name)
        reference = run_pinned_like_a_worker(job, tmp_path / f"ref_{job_id}{Path(job.output_name).suffix}")
        produced = out / job_id / job.output_name
        manifest = json.loads((out / job_id / "manifest.json").read_text())
        assert manifest["output"]["sha256"] == file_sha256(produced)
        if job.kind == "check":
            assert json.loads(produced.read_text())["tracks"] == json.loads(reference.read_text())["tracks"]
        else:
            got, expected = frames(produced), frames(reference)
            assert got.shape == expected.shape and got.shape[0] == 6
            np.testing.assert_array_equal(got, expected)
    assert mk.RunManifest.load(out / "cat" / "manifest.json").same_output(out / "cat" / "output.mp4")


def test_a_worker_killed_mid_write_is_retried_and_no_partial_file_reaches_the_final_path(local_ray, inputs, tmp_path,
                                                                                          monkeypatch):
    marker = tmp_path / "killed_once"
    monkeypatch.setenv("MOTIONKIT_BATCH_FAULT", f"cat={marker}")
    jobs_file = write_jobs(tmp_path / "jobs.jsonl", [
        {"id": "cat", "kind": "animate", "image": str(inputs / "cat.png"), "spec": str(inputs / "spec.json")}])
    out = tmp_path / "out"
    final = out / "cat" / "output.mp4"
    seen: set[int] = set()
    stop = threading.Event()

    def watch() -> None:  # every size the final path ever has while the batch runs
        while not stop.is_set():
            if final.exists():
                seen.add(final.stat().st_size)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        summary = mk.run_batch(jobs_file, out, progress=False)
    finally:
        stop.set()
        watcher.join()
    assert marker.exists(), "the first attempt was killed"
    assert summary.done == ["cat"] and summary.failed == []
    status = json.loads((out / "cat" / "status.json").read_text())
    assert status["attempt"] == 2 and status["pid"] != int(marker.read_text()), "a second worker finished it"
    assert seen == {final.stat().st_size}, "only the finished file ever appeared at the final path"
    assert sorted(p.name for p in final.parent.iterdir()) == ["manifest.json", "output.mp4", "status.json"]
    assert len(mk.Clip.read(final)) == 6


def test_rerunning_after_an_interruption_redoes_only_the_unfinished_jobs(local_ray, inputs, tmp_path, monkeypatch):
    jobs_file = write_jobs(tmp_path / "jobs.jsonl", [
        {"id": name, "kind": "render", "image": str(inputs / "cat.png"), "motion": str(inputs / "motion.npz")}
        for name in ("a", "b", "c")])
    out = tmp_path / "out"
    # The worker of "b" dies mid-write and is not retried: the batch is interrupted there.
    monkeypatch.setenv("MOTIONKIT_BATCH_FAULT", f"b={tmp_path / 'killed'}")
    first = mk.run_batch(jobs_file, out, max_retries=0, progress=False)
    assert first.done == ["a", "c"] and [f["id"] for f in first.failed] == ["b"] and "died" in first.failed[0]["error"]
    assert not (out / "b" / "output.mp4").exists()
    before = {name: (out / name / "output.mp4").stat().st_mtime_ns for name in ("a", "c")}

    monkeypatch.delenv("MOTIONKIT_BATCH_FAULT")
    second = mk.run_batch(jobs_file, out, progress=False)
    assert second.done == ["b"] and second.skipped == ["a", "c"] and second.failed == []
    assert {name: (out / name / "output.mp4").stat().st_mtime_ns for name in ("a", "c")} == before

    # An output changed behind the batch's back no longer matches its manifest: it is redone.
    (out / "c" / "output.mp4").write_bytes(b"not the video")
    third = mk.run_batch(jobs_file, out, progress=False)
    assert third.done == ["c"] and third.skipped == ["a", "b"]
    np.testing.assert_array_equal(frames(out / "c" / "output.mp4"), frames(out / "a" / "output.mp4"))
    assert json.loads((out / "summary.json").read_text())["done"] == ["c"]
