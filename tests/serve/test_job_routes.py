"""Jobs over HTTP: the one Job model, progress and events, results, cancel, 429, the token, a restart."""

from __future__ import annotations

import json
import time

import pytest

from motionkit.errors import InvalidInputError
from tests.serve.conftest import Gate, drag_spec
from tests.serve.videos import find_patch, frames_of


def wait(client, job_id: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = client.get(f"/api/jobs/{job_id}").json()
        if record["state"] in ("done", "failed", "cancelled"):
            return record
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {record}")


def test_an_animate_job_renders_the_drag(client, asset):
    start, end = (40, 30), (56, 34)
    answer = client.post("/api/jobs", json={"kind": "animate", "asset": asset, "spec": drag_spec(start, end)})
    assert answer.status_code == 200, answer.text
    record = wait(client, answer.json()["id"])
    assert record["state"] == "done" and record["progress"] == 1.0 and record["error"] is None
    result = client.get(f"/api/jobs/{record['id']}/result")
    assert result.headers["content-type"] == "video/mp4"
    frames = frames_of(result.content)
    assert frames.shape == (8, 64, 96, 3)
    x, y = find_patch(frames[0], frames[-1], start)
    assert abs(x - end[0]) <= 2 and abs(y - end[1]) <= 2
    assert record["id"] in [job["id"] for job in client.get("/api/jobs").json()]


def test_events_stream_the_job_record(client, asset):
    job_id = client.post("/api/jobs", json={"kind": "animate", "asset": asset, "spec": drag_spec()}).json()["id"]
    with client.stream("GET", f"/api/jobs/{job_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[5:]) for line in stream.iter_lines() if line.startswith("data:")]
    assert events[-1] == client.get(f"/api/jobs/{job_id}").json() and events[-1]["state"] == "done"
    assert [event["progress"] for event in events] == sorted(event["progress"] for event in events)


def test_a_check_job_writes_the_report(client, asset):
    first = wait(client, client.post("/api/jobs", json={"kind": "animate", "asset": asset, "spec": drag_spec()}).json()["id"])
    video = client.get(f"/api/jobs/{first['id']}/result").content
    video_id = client.post("/api/assets", files={"file": ("out.mp4", video, "video/mp4")}).json()["id"]
    check = client.post("/api/jobs", json={"kind": "check", "video": video_id, "spec": drag_spec()}).json()
    record = wait(client, check["id"])
    assert record["state"] == "done", record
    report = client.get(f"/api/jobs/{check['id']}/result")
    assert report.headers["content-type"] == "application/json" and isinstance(report.json(), dict)


@pytest.mark.parametrize("body, status, words", [
    ({"kind": "animate", "asset": "../../etc/passwd"}, 400, "not an asset id"),
    ({"kind": "animate", "asset": "f" * 32 + ".png"}, 404, "no asset"),
    ({"kind": "translate", "video": "..\\..\\x.mp4", "edited": "/etc/passwd"}, 400, "not an asset id"),
    ({"kind": "animate", "spec": "../spec.json"}, 400, "not an asset id"),
    ({"kind": "animate", "options": {"depth": "../../secret.npy"}}, 400, "looks like a path"),
    ({"kind": "animate", "spec": {"spec_version": 1}}, 400, "frames"),
    ({"kind": "sculpt"}, 400, "kind"),
])
def test_bad_jobs_are_refused_before_they_queue(client, asset, body, status, words):
    request = {"kind": "animate", "asset": asset, "spec": drag_spec(), **body}
    if request["kind"] == "translate":
        del request["asset"], request["spec"]
    answer = client.post("/api/jobs", json=request)
    assert answer.status_code == status and words in answer.json()["error"], answer.text
    assert client.get("/api/jobs").json() == []


@pytest.mark.parametrize("route", ["", "/events", "/result"])
def test_unknown_job_ids_are_404(client, route):
    answer = client.get(f"/api/jobs/nosuchjob{route}")
    assert answer.status_code == 404 and "no job" in answer.json()["error"]
    assert client.delete("/api/jobs/..jobs.sqlite").status_code == 404
    assert client.delete("/api/jobs/..%2F..%2Fjobs.sqlite").status_code in (404, 405)
    assert (client.app.state.book.root / "jobs.sqlite").is_file()


def test_a_failing_job_reports_its_reason_not_a_traceback(make_client, asset):
    def broken(job, output, report):
        raise RuntimeError("boom")

    client = make_client(runner=broken)
    job_id = client.post("/api/jobs", json={"kind": "animate", "asset": asset, "spec": drag_spec()}).json()["id"]
    record = wait(client, job_id)
    assert record["state"] == "failed" and record["error"] == "internal error (RuntimeError): boom"
    assert client.get(f"/api/jobs/{job_id}/result").status_code == 409


def test_cancel_a_running_and_a_queued_job_and_429_when_full(make_client, photo_png):
    gate = Gate()
    client = make_client(runner=gate, workers=1, queue=1)
    asset = client.post("/api/assets", files={"file": ("cat.png", photo_png, "image/png")}).json()["id"]
    job = {"kind": "animate", "asset": asset, "spec": drag_spec()}
    running = client.post("/api/jobs", json=job).json()["id"]
    assert gate.started.acquire(timeout=10)
    queued = client.post("/api/jobs", json=job).json()["id"]
    full = client.post("/api/jobs", json=job)
    assert full.status_code == 429 and "queue is full" in full.json()["error"]
    assert client.get(f"/api/jobs/{running}").json()["progress"] == 0.5
    assert client.delete(f"/api/jobs/{queued}").json()["state"] == "cancelled"
    assert client.delete(f"/api/jobs/{running}").json()["state"] == "cancelled"
    gate.open.set()
    results = client.app.state.book.results
    deadline = time.monotonic() + 20
    while list(results.iterdir()) != [] or gate.started.acquire(timeout=0):  # the render finishes, then ...
        assert time.monotonic() < deadline, list(results.iterdir())
        time.sleep(0.1)
    time.sleep(0.2)
    # ... its output is thrown away, the record stays cancelled, and the queued job never started
    assert not list(results.iterdir())
    assert client.get(f"/api/jobs/{running}").json()["state"] == "cancelled"
    assert client.get(f"/api/jobs/{running}/result").status_code == 409


def test_a_restarted_server_keeps_finished_jobs_and_fails_running_ones(make_client, photo_png):
    gate = Gate()
    first = make_client(runner=gate, workers=1, queue=2)
    asset = first.post("/api/assets", files={"file": ("cat.png", photo_png, "image/png")}).json()["id"]
    job = {"kind": "animate", "asset": asset, "spec": drag_spec()}
    done = first.post("/api/jobs", json=job).json()["id"]
    gate.open.set()
    assert wait(first, done)["state"] == "done"
    gate.open.clear()
    running = first.post("/api/jobs", json=job).json()["id"]
    assert gate.started.acquire(timeout=10) and gate.started.acquire(timeout=10)
    # a second server on the same data folder, as after a crash of the first
    second = make_client()
    assert second.get(f"/api/jobs/{done}").json()["state"] == "done"
    assert frames_of(second.get(f"/api/jobs/{done}/result").content).shape[0] == 8
    record = second.get(f"/api/jobs/{running}").json()
    assert record["state"] == "failed" and "server stopped" in record["error"]
    gate.open.set()


def test_the_token_guards_every_route_but_health(make_client, photo_png):
    client = make_client(token="s3cret")
    assert client.get("/api/health").status_code == 200
    for method, route in [("get", "/api/components"), ("get", "/api/jobs"), ("get", "/api/jobs/x"),
                          ("post", "/api/preview"), ("post", "/api/jobs"), ("delete", "/api/jobs/x")]:
        answer = getattr(client, method)(route)
        assert answer.status_code == 401 and "token" in answer.json()["error"], route
    upload = client.post("/api/assets", files={"file": ("cat.png", photo_png, "image/png")})
    assert upload.status_code == 401
    assert client.get("/api/components", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/components", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/api/components?token=s3cret").status_code == 200


def test_other_hosts_need_a_token():
    from motionkit.serve import run

    with pytest.raises(InvalidInputError, match="--token"):
        run("0.0.0.0", 0)


def test_the_cli_has_serve():
    from typer.testing import CliRunner

    from motionkit.cli.app import app

    answer = CliRunner().invoke(app, ["serve", "--help"])
    assert answer.exit_code == 0 and "--token" in answer.output and "--max-upload-mb" in answer.output


def test_a_translate_job_carries_the_edit(client, asset, photo_png):
    import cv2
    import numpy as np

    first = wait(client, client.post("/api/jobs", json={"kind": "animate", "asset": asset, "spec": drag_spec()}).json()["id"])
    video = client.get(f"/api/jobs/{first['id']}/result").content
    video_id = client.post("/api/assets", files={"file": ("walk.mp4", video, "video/mp4")}).json()["id"]
    frame0 = frames_of(video)[0].copy()
    frame0[2:12, 2:12] = (255, 0, 255)  # a magenta square painted on frame 0, away from the drag
    edited = cv2.imencode(".png", np.ascontiguousarray(frame0[..., ::-1]))[1].tobytes()
    edited_id = client.post("/api/assets", files={"file": ("edit.png", edited, "image/png")}).json()["id"]
    job = client.post("/api/jobs", json={"kind": "translate", "video": video_id, "edited": edited_id}).json()
    record = wait(client, job["id"])
    assert record["state"] == "done", record
    out = frames_of(client.get(f"/api/jobs/{job['id']}/result").content)
    patch = out[-1, 4:10, 4:10].astype(int)
    assert patch[..., 0].mean() > 180 and patch[..., 1].mean() < 90 and patch[..., 2].mean() > 180
