"""Outputs to object storage through fsspec URLs, on fsspec's in-process ``memory://`` store.

``memory://`` lives in one process, so these tests run the worker's function in the test
process (no Ray): what a Ray worker does with an ``s3://`` URL is the same code.
"""

from __future__ import annotations

import json

import fsspec
import pytest

import motionkit as mk
from motionkit.batch.records import is_complete_url
from motionkit.batch.storage import is_url
from motionkit.batch.worker import execute
from motionkit.spec.manifest import file_sha256
from motionkit.verbs.jobs import parse_job


@pytest.fixture
def memory(monkeypatch):
    fs = fsspec.filesystem("memory")
    fs.store.clear()
    uploads = []
    put_file = type(fs).put_file

    def recording_put(self, lpath, rpath, *args, **kwargs):  # each upload and the local file's hash at that moment
        uploads.append((rpath.rsplit("/", 1)[-1], file_sha256(lpath)))
        return put_file(self, lpath, rpath, *args, **kwargs)

    monkeypatch.setattr(type(fs), "put_file", recording_put)
    yield fs, uploads
    fs.store.clear()


def test_a_job_on_object_storage_is_one_upload_of_each_finished_file(inputs, memory, tmp_path):
    fs, uploads = memory
    job = parse_job({"id": "cat", "kind": "render", "image": str(inputs / "cat.png"), "motion": str(inputs / "motion.npz")})
    url = "memory://bucket/run/cat"
    record = execute(job.model_dump_json(), url)
    assert record["state"] == "done"
    assert [name for name, _ in uploads] == ["output.mp4", "manifest.json", "status.json"], "status last: it marks done"
    video = fs.cat_file("/bucket/run/cat/output.mp4")
    (tmp_path / "got.mp4").write_bytes(video)
    assert uploads[0][1] == file_sha256(tmp_path / "got.mp4"), "the uploaded file was already finished"
    assert json.loads(fs.cat_file("/bucket/run/cat/manifest.json"))["output"]["sha256"] == uploads[0][1]
    assert len(mk.Clip.read(tmp_path / "got.mp4")) == 6
    assert is_complete_url(job, url)

    # The driver skips it, writing summary.json to the same store (no Ray needed when nothing is left).
    summary = mk.run_batch([job], "memory://bucket/run", progress=False)
    assert summary.skipped == ["cat"] and summary.done == []
    assert json.loads(fs.cat_file("/bucket/run/summary.json"))["skipped"] == ["cat"]

    fs.pipe_file("/bucket/run/cat/output.mp4", b"truncated")  # changed behind the batch's back
    assert not is_complete_url(job, url)


def test_a_failed_job_uploads_only_its_status(inputs, memory):
    fs, uploads = memory
    job = parse_job({"id": "bad", "kind": "render", "image": str(inputs / "broken.png"), "motion": str(inputs / "motion.npz")})
    record = execute(job.model_dump_json(), "memory://bucket/run/bad")
    assert record["state"] == "failed" and "broken.png" in record["error"]
    assert [name for name, _ in uploads] == ["status.json"]
    assert not fs.exists("/bucket/run/bad/output.mp4")
    assert is_url("s3://bucket/x") and not is_url("file:///tmp/x") and not is_url("out")
