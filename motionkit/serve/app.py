"""The FastAPI application of ``motionkit serve``: routes, the token rule, errors as JSON.

Every error answers ``{"error": message, "status": code}``, never a traceback: the library's
errors map to 400 (bad input), 404 (unknown asset or job), 413 (too large), 415 (not media),
429 (queue full), 501 (not in this motionkit yet); anything else is a 500 naming only its class.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from motionkit.errors import (
    InvalidInputError,
    MediaReadError,
    MotionkitError,
    TooLargeError,
)
from motionkit.serve import preview as previews
from motionkit.serve.access import PageGuard, matches, token_given
from motionkit.serve.assets import AssetStore, UnknownAssetError
from motionkit.serve.components import component_listing
from motionkit.serve.jobs import (
    TERMINAL,
    JobBook,
    QueueFullError,
    Runner,
    UnknownJobError,
    WorkerPool,
    default_runner,
)
from motionkit.serve.limits import BodyLimit
from motionkit.spec import MotionSpec

#: The largest JSON body (a spec with painted masks fits) and the most tracks a spec may have.
MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_TRACKS = 512
MEDIA_TYPES = {".mp4": "video/mp4", ".json": "application/json"}


class PreviewRequest(BaseModel):
    """``{"asset": ID, "spec": MotionSpec, "long_side": 256}``."""

    model_config = ConfigDict(extra="forbid")
    asset: str = Field(max_length=64)
    spec: dict[str, Any]
    long_side: int = 256

#: How often an event stream reads its job's record: a fast render writes its frames in a
#: fraction of a second, and a bar that only sees 0 and 1 shows no progress at all.
EVENT_POLL_S = 0.05


def _status(error: Exception) -> int:
    if isinstance(error, (UnknownAssetError, UnknownJobError)):
        return 404
    if isinstance(error, TooLargeError):
        return 413
    if isinstance(error, MediaReadError):
        return 415
    if isinstance(error, QueueFullError):
        return 429
    if isinstance(error, NotImplementedError):
        return 501
    return 400 if isinstance(error, MotionkitError) else 500


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


def load_spec(document: Any) -> MotionSpec:
    """A :class:`MotionSpec` from request JSON, bounded in size.

    Raises:
        InvalidInputError: not a spec (the message names the field), or more than ``MAX_TRACKS`` tracks.
    """
    if not isinstance(document, dict):
        raise InvalidInputError("spec: expected a MotionSpec JSON object")
    spec = MotionSpec.from_document(document)
    if len(spec.trajectories) > MAX_TRACKS:
        raise InvalidInputError(f"spec: {len(spec.trajectories)} tracks, more than the {MAX_TRACKS} the service takes")
    return spec


def _safe_options(options: dict[str, Any]) -> None:
    """Refuse option values that could name files (``/``, ``\\``, ``..``): only assets reach the disk."""
    def walk(value: Any, where: str) -> None:
        if isinstance(value, str) and ("/" in value or "\\" in value or ".." in value):
            raise InvalidInputError(f"{where}: {value[:80]!r} looks like a path; the service reads only uploaded assets")
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}")
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                walk(item, f"{where}.{i}")
    walk(options, "options")


def create_app(data: str | Path = "motionkit-data", *, token: str | None = None, workers: int = 1, queue: int = 8,
               max_upload_mb: float = 200.0, runner: Runner = default_runner) -> FastAPI:
    """The service as an ASGI application (run it with uvicorn, or test it with FastAPI's TestClient).

    Args:
        data: folder of the job records (``jobs.sqlite``), uploads (``assets/``) and outputs (``results/``).
        token: when given, every route but ``/api/health`` needs ``Authorization: Bearer TOKEN``,
            or the cookie that opening a page once as ``/?token=TOKEN`` sets (HttpOnly,
            SameSite=Strict; see :mod:`motionkit.serve.access`); ``/api/`` routes also take
            ``?token=TOKEN``. The editor's pages, ``/docs`` and ``/openapi.json`` are guarded too.
        workers: size of the job pool (threads).
        queue: pending jobs accepted; one more answers 429.
        max_upload_mb: the largest upload, megabytes.
        runner: how a resolved job is run (tests swap it); default :func:`motionkit.run_job`.
    """
    import motionkit

    root = Path(data)
    root.mkdir(parents=True, exist_ok=True)
    assets = AssetStore(root / "assets", int(max_upload_mb * 1024 * 1024))
    book = JobBook(root)
    book.recover()
    pool = WorkerPool(book, workers, queue, runner)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        pool.close()
        previews.close_previewers()  # each kept previewer holds a standby ffmpeg encoder

    app = FastAPI(title="motionkit", version=motionkit.__version__, lifespan=lifespan,
                  description="Image-to-video with explicit motion: uploads, live previews, jobs.")
    app.state.assets, app.state.book, app.state.pool = assets, book, pool
    app.add_middleware(BodyLimit, json_bytes=MAX_JSON_BYTES, upload_bytes=assets.max_bytes + 64 * 1024)
    app.add_middleware(PageGuard, token=token)

    def authorised(request: Request) -> None:
        if token is None:
            return
        given = token_given(request.scope.get("headers", []), request.scope.get("query_string", b"").decode("latin-1"))
        if not matches(given, token):
            raise HTTPException(401, "missing or wrong bearer token (Authorization: Bearer TOKEN)")

    guarded = [Depends(authorised)]

    @app.exception_handler(Exception)
    async def _any(request: Request, error: Exception) -> JSONResponse:
        status = _status(error)
        return _error(status, str(error) if status != 500 else f"internal error ({type(error).__name__})")

    for kind in (MotionkitError, NotImplementedError):
        app.add_exception_handler(kind, _any)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> JSONResponse:
        return _error(error.status_code, str(error.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        return _error(422, f"invalid request: {problems}")

    @app.get("/api/health")
    def health() -> dict[str, str]:
        """``{"status": "ok", "version": ...}``; needs no token."""
        return {"status": "ok", "version": motionkit.__version__}

    @app.get("/api/components", dependencies=guarded)
    def components() -> list[dict[str, Any]]:
        """The registry: ``[{kind, name, origin, package, version, status, error}]``."""
        return component_listing()

    @app.post("/api/assets", dependencies=guarded)
    async def upload(file: Annotated[UploadFile, File()]) -> dict[str, Any]:
        """Store an image or video (form field ``file``); the server names it: ``{"id", "kind"}``."""
        data = await file.read(assets.max_bytes + 1)
        asset = assets.add(data)
        return {"id": asset, "kind": "image" if assets.is_image(asset) else "video"}

    @app.get("/api/assets/{asset}", dependencies=guarded)
    def asset_info(asset: str) -> dict[str, Any]:
        """``{"id", "kind", "size": [H, W], "frames", "fps"}`` of an upload (an image is one frame)."""
        return assets.info(asset)

    @app.get("/api/assets/{asset}/first-frame", dependencies=guarded, response_class=Response)
    def first_frame(asset: str) -> FileResponse:
        """Frame 0 of a video (the picture the editor draws on), or the image itself, as PNG."""
        return FileResponse(assets.first_frame(asset), media_type="image/png")

    @app.post("/api/jobs/{job_id}/asset", dependencies=guarded)
    def result_asset(job_id: str) -> dict[str, Any]:
        """Keep a finished job's video as an asset (to check it, or translate it): ``{"id", "kind"}``."""
        record = book.get(job_id)
        path = book.output(job_id)
        if record["state"] != "done" or path.suffix != ".mp4":
            raise HTTPException(409, f"job {job_id} is {record['state']} and has no video to keep")
        made = assets.add(path.read_bytes())
        return {"id": made, "kind": "video"}

    def _image(asset: str) -> Path:
        """The picture a preview starts from: the image, or a video's frame 0."""
        return assets.path(asset) if assets.is_image(asset) else assets.first_frame(asset)

    @app.post("/api/preview", dependencies=guarded, response_class=Response)
    def preview(body: PreviewRequest) -> Response:
        """The classical render of ``spec`` on ``asset`` at ``long_side`` px, as ``video/mp4``."""
        data = previews.preview_mp4(_image(body.asset), load_spec(body.spec), body.long_side)
        return Response(data, media_type="video/mp4")

    @app.post("/api/motion-preview", dependencies=guarded, response_class=Response)
    def motion_preview(body: PreviewRequest) -> Response:
        """The spec's motion colour-coded (hue = direction, saturation = length), as ``video/mp4``."""
        data = previews.motion_preview_mp4(_image(body.asset), load_spec(body.spec), body.long_side)
        return Response(data, media_type="video/mp4")

    @app.post("/api/regions", dependencies=guarded)
    def regions(body: PreviewRequest) -> dict[str, Any]:
        """The object regions the densifier groups the tracks into: ``{"size", "regions": [...]}``."""
        path = _image(body.asset)
        size, found = previews.object_regions(path, load_spec(body.spec), body.long_side)
        return {"size": list(size), "regions": found}

    @app.post("/api/jobs", dependencies=guarded)
    def submit(body: dict[str, Any]) -> dict[str, Any]:
        """Queue a job of the one :class:`motionkit.AnimateJob` ... model, asset ids for files: ``{"id"}``."""
        from motionkit.verbs.jobs import parse_job

        body = {key: value for key, value in body.items() if key != "id"}  # the service names its jobs
        if isinstance(body.get("spec"), dict):
            body["spec"] = load_spec(body["spec"])
        job = parse_job(body)
        _safe_options(job.options)
        job = job.resolved(assets.path)
        return {"id": pool.submit(job), "state": "queued"}

    @app.get("/api/jobs", dependencies=guarded)
    def jobs() -> list[dict[str, Any]]:
        """Every job's record, newest first."""
        return book.list()

    @app.get("/api/jobs/{job_id}", dependencies=guarded)
    def job(job_id: str) -> dict[str, Any]:
        """``{"id", "kind", "state", "progress", "error"}``."""
        return book.get(job_id)

    @app.get("/api/jobs/{job_id}/events", dependencies=guarded)
    async def events(job_id: str) -> StreamingResponse:
        """Server-sent events, ``data`` = the job's record each time it changes, until it finishes."""
        book.get(job_id)

        async def stream():
            last = None
            while True:
                record = book.get(job_id)
                if record != last:
                    yield f"data: {json.dumps(record)}\n\n"
                    last = record
                if record["state"] in TERMINAL:
                    return
                await asyncio.sleep(EVENT_POLL_S)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.get("/api/jobs/{job_id}/result", dependencies=guarded)
    def result(job_id: str) -> FileResponse:
        """The job's output file (409 until it is done)."""
        record = book.get(job_id)
        if record["state"] != "done":
            raise HTTPException(409, f"job {job_id} is {record['state']}, it has no result")
        path = book.output(job_id)
        if not path.is_file():
            raise HTTPException(410, f"the result of job {job_id} is no longer on this server")
        return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
                            filename=f"{job_id}{path.suffix}")

    @app.delete("/api/jobs/{job_id}", dependencies=guarded)
    def cancel(job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job; returns its record."""
        return pool.cancel(job_id)

    static = resources.files("motionkit.serve") / "static"
    app.mount("/", StaticFiles(directory=str(static), html=True), name="editor")
    return app
