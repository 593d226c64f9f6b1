"""The service's previews go through one kept Previewer per (asset, long side)."""

from __future__ import annotations

import json
import os

import pytest

import motionkit
from motionkit.errors import InvalidInputError
from motionkit.serve import preview as previews

from tests.serve.conftest import drag_spec


@pytest.fixture
def asset(tmp_path, photo_png):
    path = tmp_path / "cat.png"
    path.write_bytes(photo_png)
    yield path
    previews.close_previewers()


def test_one_previewer_per_asset_and_long_side_kept_least_recent_first(asset, tmp_path, photo_png):
    first = previews.previewer(asset, 64)
    assert previews.previewer(asset, 64) is first
    other = previews.previewer(asset, 48)
    assert other is not first and other.size == (32, 48) and first.size == (42, 64)
    for k in range(previews.KEEP_PREVIEWERS):
        copy = tmp_path / f"copy{k}.png"
        copy.write_bytes(photo_png)
        previews.previewer(copy, 64)
    assert len(previews._previewers) == previews.KEEP_PREVIEWERS
    again = previews.previewer(asset, 64)
    assert again is not first  # dropped, made again
    stat = asset.stat()
    os.utime(asset, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the file changed on disk
    assert previews.previewer(asset, 64) is not again


def test_preview_mp4_and_motion_preview_are_browser_mp4s_of_the_spec(asset):
    spec = motionkit.MotionSpec.model_validate(json.loads(json.dumps(drag_spec(frames=6))))
    data = previews.preview_mp4(asset, spec, 64)
    assert data[4:8] == b"ftyp" and data.find(b"moov") < data.find(b"mdat")
    kept = previews.previewer(asset, 64)
    field, _ = kept.spec_field(spec)
    colours = previews.motion_preview_mp4(asset, spec, 64)
    assert colours[4:8] == b"ftyp"
    assert kept.spec_field(spec)[0] is field  # compiled once for both


def test_bad_sizes_and_frame_counts_are_refused(asset):
    spec = motionkit.MotionSpec.model_validate(drag_spec(frames=6))
    with pytest.raises(InvalidInputError, match="long_side"):
        previews.preview_mp4(asset, spec, 8)
    with pytest.raises(InvalidInputError, match="at most"):
        previews.preview_mp4(asset, spec.with_changes(frames=previews.MAX_PREVIEW_FRAMES + 1), 64)


def test_a_service_shutting_down_stops_its_kept_previewers(make_client, photo_png):
    # Each kept previewer holds a standby ffmpeg; the app's shutdown must stop them.
    client = make_client()
    asset = client.post("/api/assets", files={"file": ("cat.png", photo_png, "image/png")}).json()["id"]
    answer = client.post("/api/preview", json={"asset": asset, "spec": drag_spec(frames=4), "long_side": 64})
    assert answer.status_code == 200 and answer.content[4:8] == b"ftyp"
    assert len(previews._previewers) == 1
    client.__exit__(None, None, None)
    assert len(previews._previewers) == 0
