"""Fixtures of the service tests: a small real photo, an app on a temporary data folder, a gated runner."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import cv2
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient

import motionkit
from motionkit.serve import create_app
from motionkit.verbs.jobs import run_job

CHELSEA = Path(motionkit.__file__).parent / "assets" / "chelsea.png"
#: The photo's small copy: (H, W) = (64, 96).
SMALL = (64, 96)


@pytest.fixture(scope="session")
def photo_png() -> bytes:
    """The bundled cat photo at 96 x 64 px, PNG bytes."""
    image = cv2.imread(str(CHELSEA), cv2.IMREAD_COLOR)
    small = cv2.resize(image, SMALL[::-1], interpolation=cv2.INTER_AREA)
    return cv2.imencode(".png", small)[1].tobytes()


def drag_spec(start=(40, 30), end=(56, 34), frames: int = 8) -> dict:
    """A spec (JSON) dragging the pixel ``start`` to ``end`` (x, y on the 96 x 64 photo) over ``frames``."""
    spec = motionkit.MotionSpec.from_pixels(SMALL, frames=frames, drags=[[start, end]])
    return json.loads(spec.to_json())


class Gate:
    """A job runner that waits until released (to hold jobs running), then runs them for real."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.started = threading.Semaphore(0)

    def __call__(self, job, output, report) -> None:
        self.started.release()
        report(0.5)
        if not self.open.wait(20):
            raise RuntimeError("gate never opened")
        run_job(job, output)


@pytest.fixture
def make_client(tmp_path):
    """``make_client(**create_app options) -> TestClient`` on ``tmp_path/data``; all closed at the end."""
    made = []

    def make(**options) -> TestClient:
        client = TestClient(create_app(tmp_path / "data", **options))
        client.__enter__()
        made.append(client)
        return client

    yield make
    for client in made:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture
def asset(client, photo_png) -> str:
    response = client.post("/api/assets", files={"file": ("cat.png", photo_png, "image/png")})
    assert response.status_code == 200, response.text
    return response.json()["id"]


@pytest.fixture
def server(tmp_path):
    """``(url, token)`` of a service running in this process until the test ends."""
    from motionkit.serve import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(tmp_path / "data", token="t0ken")
    uvicorn = pytest.importorskip("uvicorn")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", "t0ken"
    server.should_exit = True
    thread.join(10)
