"""A small client of ``motionkit serve`` for editing tools and scripts (standard library only).

Example:
    >>> from motionkit.client import Client                                      # doctest: +SKIP
    >>> api = Client("http://127.0.0.1:8000")                                   # doctest: +SKIP
    >>> cat = api.upload("cat.png")                                             # doctest: +SKIP
    >>> job = api.submit({"kind": "animate", "asset": cat, "spec": spec_json})  # doctest: +SKIP
    >>> api.wait(job, progress=print); api.download(job, "cat.mp4")             # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from motionkit.errors import MotionkitError

__all__ = ["Client", "ServiceError"]


class ServiceError(MotionkitError):
    """The service answered an error: ``status`` is the HTTP status, the message is the service's."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


def _spec_json(spec: Any) -> Any:
    """A spec as JSON data: a :class:`~motionkit.MotionSpec` (anything with ``to_json``) or a mapping."""
    return json.loads(spec.to_json()) if hasattr(spec, "to_json") else spec


class Client:
    """Talk to a ``motionkit serve`` at ``url`` (``token``: its bearer token, if it has one)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _call(self, method: str, route: str, body: bytes | None = None, content_type: str | None = None) -> bytes:
        request = urllib.request.Request(self.url + route, data=body, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return answer.read()
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                message = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                message = text[:200]
            raise ServiceError(error.code, message) from None
        except urllib.error.URLError as error:
            raise ServiceError(0, f"cannot reach {self.url}: {error.reason}") from None

    def _json(self, method: str, route: str, data: Any = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        return json.loads(self._call(method, route, body, "application/json" if body else None))

    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "version": ...}``."""
        return self._json("GET", "/api/health")

    def upload(self, path: str | os.PathLike) -> str:
        """Upload an image or video file; returns its asset id."""
        path = Path(path)
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload{path.suffix}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        answer = self._call("POST", "/api/assets", body, f"multipart/form-data; boundary={boundary}")
        return json.loads(answer)["id"]

    def info(self, asset: str) -> dict[str, Any]:
        """``{"id", "kind", "size": [H, W], "frames", "fps"}`` of an uploaded asset."""
        return self._json("GET", f"/api/assets/{asset}")

    def first_frame(self, asset: str) -> bytes:
        """PNG bytes of a video asset's frame 0 (the picture a spec for it is drawn on), or of an image."""
        return self._call("GET", f"/api/assets/{asset}/first-frame")

    def keep(self, job: str) -> str:
        """Keep a finished job's video as a new asset (to check or translate it); returns its id."""
        return self._json("POST", f"/api/jobs/{job}/asset", {})["id"]

    def preview(self, asset: str, spec: Any, long_side: int = 256) -> bytes:
        """The mp4 bytes of a quick render of ``spec`` (a MotionSpec or its JSON) on ``asset``."""
        body = json.dumps({"asset": asset, "spec": _spec_json(spec), "long_side": long_side}).encode()
        return self._call("POST", "/api/preview", body, "application/json")

    def submit(self, job: dict[str, Any]) -> str:
        """Queue a job (``{"kind": "animate", "asset": ID, "spec": ...}``, ...); returns its id."""
        job = dict(job)
        if "spec" in job:
            job["spec"] = _spec_json(job["spec"])
        return self._json("POST", "/api/jobs", job)["id"]

    def status(self, job: str) -> dict[str, Any]:
        """``{"state", "progress", "error", ...}`` of a job."""
        return self._json("GET", f"/api/jobs/{job}")

    def wait(self, job: str, progress: Callable[[float], Any] | None = None, poll: float = 0.25,
             timeout: float | None = None) -> dict[str, Any]:
        """Wait until the job finishes, calling ``progress(fraction)`` when it changes; returns the record.

        Raises:
            ServiceError: the job failed or was cancelled (the message is its error), or ``timeout`` passed.
        """
        start, last = time.monotonic(), None
        while True:
            record = self.status(job)
            if progress is not None and record["progress"] != last:
                progress(record["progress"])
                last = record["progress"]
            if record["state"] == "done":
                return record
            if record["state"] in ("failed", "cancelled"):
                raise ServiceError(200, f"job {job} {record['state']}: {record['error']}")
            if timeout is not None and time.monotonic() - start > timeout:
                raise ServiceError(0, f"job {job} still {record['state']} after {timeout} s")
            time.sleep(poll)

    def download(self, job: str, path: str | os.PathLike) -> Path:
        """Save the job's result to ``path`` (written whole, then moved into place)."""
        data = self._call("GET", f"/api/jobs/{job}/result")
        target = Path(path)
        partial = target.with_name(f".{target.name}.part")
        partial.write_bytes(data)
        os.replace(partial, target)
        return target

    def cancel(self, job: str) -> dict[str, Any]:
        """Cancel a job; returns its record."""
        return self._json("DELETE", f"/api/jobs/{job}")
