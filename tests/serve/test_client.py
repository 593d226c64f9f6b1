"""``motionkit.client.Client`` against a real server (uvicorn in a thread on a free port)."""

from __future__ import annotations

import json

import pytest

from motionkit.client import Client, ServiceError
from tests.serve.conftest import drag_spec
from tests.serve.videos import find_patch, frames_of


def test_upload_submit_wait_download(server, tmp_path, photo_png):
    url, token = server
    api = Client(url, token=token)
    assert api.health()["status"] == "ok"
    photo = tmp_path / "cat.png"
    photo.write_bytes(photo_png)
    asset = api.upload(photo)
    assert frames_of(api.preview(asset, drag_spec(), long_side=48)).shape[1:3] == (32, 48)
    start, end = (40, 30), (56, 34)
    job = api.submit({"kind": "animate", "asset": asset, "spec": drag_spec(start, end)})
    seen = []
    assert api.wait(job, progress=seen.append, poll=0.05, timeout=60)["state"] == "done"
    assert seen[-1] == 1.0
    frames = frames_of(api.download(job, tmp_path / "out.mp4").read_bytes())
    x, y = find_patch(frames[0], frames[-1], start)
    assert abs(x - end[0]) <= 2 and abs(y - end[1]) <= 2
    # the render kept as a video asset: its info and frame 0, checked against the spec
    video = api.keep(job)
    assert api.info(video) == {"id": video, "kind": "video", "size": [64, 96], "frames": 8, "fps": 8.0}
    assert api.first_frame(video)[:8] == b"\x89PNG\r\n\x1a\n"
    check = api.submit({"kind": "check", "video": video, "spec": drag_spec(start, end)})
    api.wait(check, poll=0.05, timeout=60)
    report = json.loads(api.download(check, tmp_path / "report.json").read_text())
    assert report["tracks"][0]["final_epe"] < 3.0


def test_errors_come_back_with_the_services_message(server, tmp_path):
    url, token = server
    with pytest.raises(ServiceError, match="401: .*token"):
        Client(url).status("x")
    with pytest.raises(ServiceError, match="404: no job"):
        Client(url, token=token).status("nosuchjob")
    text = tmp_path / "notes.png"
    text.write_text("not a picture " * 10)
    with pytest.raises(ServiceError, match="415: the upload is not an image"):
        Client(url, token=token).upload(text)
