"""What a batch keeps beside each job's output: ``status.json`` and ``manifest.json``.

``OUTDIR/<id>/status.json`` says where the job stands (``running``, ``done``, ``failed`` with
the error's message) and carries the job's fingerprint: the SHA-256 of the job as resolved
JSON and of every input file's contents. ``OUTDIR/<id>/manifest.json`` records the finished
output by content hash: for ``animate`` jobs it is a :class:`~motionkit.RunManifest`
(``motionkit rerun`` reads it); for the other kinds a :class:`JobManifest`. A job is complete
when its status is ``done`` with the fingerprint the job has now and its output still has the
manifest's hash; a re-run skips exactly those jobs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import pydantic

from motionkit import registry
from motionkit.errors import MediaReadError, MotionkitError
from motionkit.io.atomic import atomic_path
from motionkit.spec.manifest import FileRecord, RunManifest, environment, file_sha256
from motionkit.verbs.jobs import AnimateJob, JobBase

STATUS = "status.json"
MANIFEST = "manifest.json"


class JobManifest(pydantic.BaseModel):
    """A finished ``render``, ``translate`` or ``check`` job: its inputs and output by content hash."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    manifest_version: Literal[1] = 1
    command: Literal["render", "translate", "check"]
    inputs: dict[str, FileRecord]
    options: dict[str, Any]
    output: FileRecord
    environment: dict[str, str]


def fingerprint(job: JobBase) -> str:
    """SHA-256 of the resolved job's JSON and of each input file's contents (hex).

    Raises:
        MediaReadError: an input file cannot be read, naming the job's field and the path.
    """
    digest = hashlib.sha256(job.model_dump_json(exclude={"id"}).encode())
    for name, path in sorted(job.inputs().items()):
        try:
            digest.update(f"\0{name}\0".encode() + file_sha256(path).encode())
        except OSError as exc:
            raise MediaReadError(f"cannot read the job's {name} {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON at ``path``, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def read_status(folder: Path) -> dict[str, Any] | None:
    """The job's status record in ``folder``, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads((folder / STATUS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_manifest(job: JobBase, output: Path, folder: Path) -> None:
    """Hash the finished ``output`` and the job's inputs into ``folder/manifest.json``."""
    if isinstance(job, AnimateJob):
        options, spec = job.options, job.motion_spec()
        # What mk.animate ran: the job's backend, else the spec's hint, else the classical one.
        backend = str(options.get("backend") or spec.hints.backend or "classical")
        renderer = options.get("renderer") or registry.backend(backend).renderer
        manifest = RunManifest.record(image=job.image, output=output, spec=spec, backend=backend,
                                      predictor=options.get("predictor"), renderer=str(renderer),
                                      fps=options.get("fps"), renderer_options=options.get("renderer_options"))
        manifest.save(folder / MANIFEST)
        return
    manifest = JobManifest(command=job.kind, inputs={name: FileRecord.of(path) for name, path in job.inputs().items()},
                           options=job.options, output=FileRecord.of(output), environment=environment())
    with atomic_path(folder / MANIFEST) as tmp:
        tmp.write_text(manifest.model_dump_json(indent=1) + "\n", encoding="utf-8")


def recorded_output_sha256(folder: Path) -> str | None:
    """The output hash ``folder/manifest.json`` records, or None when there is no readable manifest."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        found = data["output"]["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if isinstance(found, str) else None


def is_complete(job: JobBase, folder: Path) -> bool:
    """Whether ``job``'s outputs in ``folder`` are complete and verified (see the module's doc)."""
    status = read_status(folder)
    output = folder / job.output_name
    if status is None or status.get("state") != "done" or not output.is_file():
        return False
    recorded = recorded_output_sha256(folder)
    try:
        return status.get("fingerprint") == fingerprint(job) and recorded == file_sha256(output)
    except (OSError, MotionkitError):
        return False


def is_complete_url(job: JobBase, url: str) -> bool:
    """:func:`is_complete` for an output folder on object storage (``url`` = ``OUT/<id>``)."""
    from motionkit.batch.storage import join, read_json_url, sha256_url

    status = read_json_url(join(url, STATUS))
    manifest = read_json_url(join(url, MANIFEST))
    if status is None or manifest is None or status.get("state") != "done":
        return False
    recorded = (manifest.get("output") or {}).get("sha256")
    try:
        same_job = status.get("fingerprint") == fingerprint(job)
    except (OSError, MotionkitError):
        return False
    return same_job and recorded is not None and sha256_url(join(url, job.output_name)) == recorded


def describe(error: BaseException) -> str:
    """The message a failed job's status carries: a motionkit error's own message, else its type too."""
    if isinstance(error, MotionkitError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def stale_temporaries(folder: Path) -> list[Path]:
    """The temporary files an attempt killed mid-write left in ``folder`` (``.NAME.*``, see io/atomic)."""
    return sorted(p for p in folder.glob(".*") if p.name not in (".", ".."))


__all__ = ["JobManifest", "fingerprint", "is_complete", "is_complete_url", "read_status", "write_json", "write_manifest"]
