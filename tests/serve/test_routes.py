"""Every route of the service with good and bad inputs, through FastAPI's in-process client."""

from __future__ import annotations

import pytest

from tests.serve.conftest import drag_spec
from tests.serve.videos import find_patch, frames_of


def test_health_answers_status_and_version(client):
    import motionkit

    assert client.get("/api/health").json() == {"status": "ok", "version": motionkit.__version__}


def test_components_list_the_registry_with_packages(client):
    rows = client.get("/api/components").json()
    sparse = [row for row in rows if (row["kind"], row["name"]) == ("predictor", "sparse")]
    assert sparse and sparse[0]["package"] == "motionkit" and sparse[0]["status"] == "loaded"
    assert {"kind", "name", "origin", "package", "version", "status", "error"} == set(rows[0])
    for row in rows:  # an installed plugin's components name the distribution they came from
        if row["origin"] != "motionkit" and row["status"] == "loaded":
            assert row["package"] and row["version"], row


def test_upload_names_the_asset_itself(client, photo_png):
    answer = client.post("/api/assets", files={"file": ("../../evil.png", photo_png, "image/png")}).json()
    assert answer["kind"] == "image" and answer["id"].endswith(".png") and "evil" not in answer["id"]


def test_upload_refuses_what_is_not_media(client):
    answer = client.post("/api/assets", files={"file": ("cat.png", b"#!/bin/sh\nrm -rf /\n" * 4, "image/png")})
    assert answer.status_code == 415 and "not an image or a video" in answer.json()["error"]
    fake = client.post("/api/assets", files={"file": ("cat.png", b"\x89PNG\r\n\x1a\n" + b"junk" * 20, "image/png")})
    assert fake.status_code == 415 and "does not decode" in fake.json()["error"]


def test_upload_over_the_limit_is_refused(make_client, photo_png):
    small = make_client(max_upload_mb=len(photo_png) / 2 / 1024 / 1024)
    answer = small.post("/api/assets", files={"file": ("cat.png", photo_png, "image/png")})
    assert answer.status_code == 413 and "limit" in answer.json()["error"]


def test_preview_renders_the_drag_at_preview_size(client, asset):
    start, end = (40, 30), (56, 34)
    answer = client.post("/api/preview", json={"asset": asset, "spec": drag_spec(start, end), "long_side": 48})
    assert answer.status_code == 200 and answer.headers["content-type"] == "video/mp4"
    frames = frames_of(answer.content)
    assert frames.shape[:3] == (8, 32, 48)  # 96 x 64 at a long side of 48
    x, y = find_patch(frames[0], frames[-1], (start[0] / 2, start[1] / 2), half=4)
    assert abs(x - end[0] / 2) <= 2 and abs(y - end[1] / 2) <= 2


def test_motion_preview_colours_the_motion(client, asset):
    answer = client.post("/api/motion-preview", json={"asset": asset, "spec": drag_spec(), "long_side": 48})
    frames = frames_of(answer.content)
    # frame 0 is the zero field (white); the last frame is coloured around the drag
    assert frames[0].min() > 200
    assert frames[-1][15, 20].min() < 200 and frames[-1][15, 20].max() > 150


def test_regions_are_found_by_the_predictor_the_previews_use(client, asset, monkeypatch):
    """The route asks the asset's kept previewer, so its predictor's remembered regions serve both."""
    from motionkit.classical.densify import SparsePredictor
    from motionkit.serve import preview as previews

    asked = []
    real = SparsePredictor.regions

    def recording(self, *args, **kwargs):
        asked.append(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SparsePredictor, "regions", recording)
    for end in ((56, 34), (58, 35)):  # a drag's end moved, as between two mouse events
        answer = client.post("/api/regions", json={"asset": asset, "spec": drag_spec(end=end), "long_side": 48})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["size"] == [32, 48] and [0] in [region["tracks"] for region in body["regions"]]
    kept = [p for p in previews._previewers.values() if p.size == (32, 48)]
    assert len(asked) == 2 and asked[0] is asked[1] and any(p._predictor is asked[0] for p in kept)


@pytest.mark.parametrize("body, status, words", [
    ({"asset": "0" * 32 + ".png"}, 404, "no asset"),
    ({"asset": "../../etc/passwd"}, 400, "not an asset id"),
    ({"asset": "/etc/passwd"}, 400, "not an asset id"),
    ({"spec": {"spec_version": 1, "frames": "many"}}, 400, "frames"),
    ({"spec": {"no": "version"}}, 400, "spec_version"),
    ({"long_side": 5000}, 400, "long_side"),
    ({"extra": 1}, 422, "extra"),
])
def test_preview_refuses_bad_requests_with_a_message(client, asset, body, status, words):
    request = {"asset": asset, "spec": drag_spec(), "long_side": 48, **body}
    answer = client.post("/api/preview", json=request)
    assert answer.status_code == status and words in answer.json()["error"]
    assert "Traceback" not in answer.text


def test_a_preview_of_a_video_that_does_not_decode_is_refused(client):
    mp4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64
    video = client.post("/api/assets", files={"file": ("a.mp4", mp4, "video/mp4")}).json()
    assert video["kind"] == "video"
    answer = client.post("/api/preview", json={"asset": video["id"], "spec": drag_spec()})
    assert answer.status_code == 415 and "Traceback" not in answer.text


def test_json_bodies_are_bounded(client, asset):
    huge = b'{"asset": "x", "spec": {"pad": "' + b"x" * (5 * 1024 * 1024) + b'"}}'
    answer = client.post("/api/preview", content=huge, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "limit" in answer.json()["error"]


def test_unknown_routes_answer_json(client):
    answer = client.get("/api/nothing-here")
    assert answer.status_code == 404 and "error" in answer.json()


class _Grouping:
    """A predictor whose ``regions`` puts track 0 in a disc around its start (the interface I1 shape)."""

    def regions(self, image, trajectories, mask=None, *, objects=None):
        from motionkit import ObjectRegion, RegionMask

        height, width = image.shape[-2:]  # (3, H, W), as the predictor takes it
        x, y = (float(c) for c in trajectories[0].points[0])
        return [ObjectRegion(RegionMask.from_strokes([(x, y)], radius=6, size=(height, width)), [0])]


def test_regions_come_back_as_masks_at_preview_size(client, asset, monkeypatch):
    import json as json_module

    from motionkit import RegionMask

    from motionkit.classical.densify import SparsePredictor

    monkeypatch.setattr(SparsePredictor, "regions", _Grouping.regions)
    answer = client.post("/api/regions", json={"asset": asset, "spec": drag_spec((40, 30)), "long_side": 48})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["size"] == [32, 48] and body["regions"][0]["tracks"] == [0]
    encoded = body["regions"][0]["region"]["mask"]
    document = {"format": "motionkit.mask", "version": 1, **encoded}
    values = RegionMask.from_json(json_module.dumps(document)).numpy()
    assert values.shape == (32, 48) and values[15, 20] > 0.9 and values[2, 45] == 0  # around (40, 30) / 2
