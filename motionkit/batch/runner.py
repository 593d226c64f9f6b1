"""``run``: a batch of jobs as Ray tasks, resumable, with failures contained.

Each job becomes one Ray task (:func:`motionkit.batch.worker.execute`) declaring the CPUs (and,
for learned backends, the GPU) its kind needs, so Ray places learned jobs on GPU nodes and
classical ones anywhere. A task whose worker dies is retried by Ray up to ``max_retries``
times; a job that fails on its input is not retried (the same input fails the same way).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motionkit.batch.jobsfile import BadLine, check_id, read_jobs
from motionkit.batch.records import (
    STATUS,
    is_complete,
    is_complete_url,
    read_status,
    write_json,
)
from motionkit.batch.storage import is_url, join, local_path, write_json_url
from motionkit.errors import InvalidInputError, MotionkitError, PluginLoadError
from motionkit.verbs.jobs import JobBase, parse_job

#: What a job of each kind asks Ray for, before the learned-backend GPU (see :func:`resources`).
KIND_RESOURCES: dict[str, dict[str, float]] = {
    "animate": {"num_cpus": 1}, "render": {"num_cpus": 1}, "translate": {"num_cpus": 1}, "check": {"num_cpus": 1},
}
#: Registered component names that run a network: a job naming one in its options asks for a GPU.
LEARNED = frozenset({"motion-i2v", "ttm", "animatediff"})
#: The options that name a component.
COMPONENT_OPTIONS = ("backend", "predictor", "renderer", "estimator")
#: Environment variable for fault injection in tests: ``ID=MARKER`` (see :mod:`motionkit.batch.worker`).
FAULT_ENV = "MOTIONKIT_BATCH_FAULT"


@dataclass
class Summary:
    """How a batch went: ids done now, skipped (already complete), failed with their errors, wall time (s)."""

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether no job failed."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        """``{"done": [ids], "skipped": [ids], "failed": [{"id", "error"}], "seconds": s}`` (summary.json)."""
        return {"done": self.done, "skipped": self.skipped, "failed": self.failed, "seconds": round(self.seconds, 3)}

    def table(self) -> str:
        """A plain-text table: one row per outcome with its count and ids, then each failure's reason."""
        rows = [("done", self.done), ("skipped", self.skipped), ("failed", [f["id"] for f in self.failed])]
        lines = [f"{'state':<8} {'jobs':>5}  ids"]
        lines += [f"{state:<8} {len(ids):>5}  {', '.join(ids)}" for state, ids in rows]
        lines += [f"  {f['id']}: {f['error']}" for f in self.failed]
        lines.append(f"{len(self.done) + len(self.skipped) + len(self.failed)} jobs in {self.seconds:.1f} s")
        return "\n".join(lines)


def resources(job: JobBase, overrides: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, float]:
    """The Ray resources of ``job``: its kind's (``overrides`` first), plus ``num_gpus=1`` for a learned component."""
    declared = dict((overrides or {}).get(job.kind, KIND_RESOURCES[job.kind]))
    if "num_gpus" not in declared and any(job.options.get(name) in LEARNED for name in COMPONENT_OPTIONS):
        declared["num_gpus"] = 1
    return declared


def _entries(jobs: str | os.PathLike | Iterable[JobBase | Mapping[str, Any]]) -> list[JobBase | BadLine]:
    """Jobs from a JOBS file path, or from jobs/mappings (ids default to 1-based positions; paths to the cwd)."""
    if isinstance(jobs, (str, os.PathLike)):
        return read_jobs(jobs)
    entries: list[JobBase | BadLine] = []
    for number, item in enumerate(jobs, start=1):
        try:
            job = item if isinstance(item, JobBase) else parse_job(item)
            job = job.model_copy(update={"id": check_id(job.id or str(number))})
            entries.append(job.resolved(lambda name: Path(name).resolve()))
        except MotionkitError as exc:
            entries.append(BadLine(id=str(number), error=f"job {number}: {exc}"))
    return entries


def _connect(ray_address: str | None, local: int | None) -> bool:
    """Join ``ray_address``, or start a local Ray of ``local`` CPUs; True when this call started it."""
    try:
        import ray
    except ImportError:
        raise PluginLoadError("batch runs need Ray, which is not installed: pip install 'motionkit[batch]'") from None

    if ray.is_initialized():
        return False
    if ray_address is not None:
        ray.init(address=ray_address)
    else:
        ray.init(num_cpus=local or os.cpu_count() or 1, include_dashboard=False)
    return True


def _folder(root: Path | str, job_id: str) -> str:
    """The output folder (path or URL) of job ``job_id``."""
    return str(root / job_id) if isinstance(root, Path) else join(root, job_id)


def _faults() -> dict[str, str]:
    value = os.environ.get(FAULT_ENV, "")
    return dict(part.split("=", 1) for part in value.split(",") if "=" in part)


def run(jobs: str | os.PathLike | Iterable[JobBase | Mapping[str, Any]], out: str | os.PathLike, *,
        ray_address: str | None = None, local: int | None = None, max_retries: int = 3,
        resources_per_kind: Mapping[str, Mapping[str, float]] | None = None, progress: bool = True) -> Summary:
    """Run ``jobs`` on Ray with outputs under ``out``; skip the ones already complete.

    Args:
        jobs: a JOBS file (one JSON job a line), or jobs (:class:`~motionkit.verbs.jobs.JobBase`
            or mappings) whose relative paths are relative to the current folder.
        out: the output folder; each job writes ``out/<id>/output.mp4`` (``report.json`` for
            ``check``), ``manifest.json`` and ``status.json``; the batch writes ``out/summary.json``.
            An fsspec URL (``s3://bucket/run``) uploads each finished file there instead.
        ray_address: a Ray cluster to join (``"auto"`` or ``"ray://host:10001"``); None starts a
            local Ray for the run (an already initialised Ray, e.g. a notebook's, is used as is).
        local: CPUs of the local Ray (default: the machine's CPU count).
        max_retries: how many times Ray re-runs a job whose worker died.
        resources_per_kind: Ray resources by job kind instead of :data:`KIND_RESOURCES`.
        progress: show one bar for the batch (jobs finished / total, rate, ETA).

    Returns:
        The :class:`Summary` (also written to ``out/summary.json``).

    Raises:
        InvalidInputError: ``local`` is below 1, or two jobs share an id.
        MediaReadError: the JOBS file cannot be read.
        PluginLoadError: Ray is not installed.
    """
    if local is not None and local < 1:
        raise InvalidInputError(f"local must be at least 1 worker, got {local}")
    started = time.perf_counter()
    entries = _entries(jobs)
    remote = is_url(out)
    root = os.fspath(out).rstrip("/") if remote else local_path(out)
    if not remote:
        root.mkdir(parents=True, exist_ok=True)
    summary = Summary()
    pending: list[JobBase] = []
    for entry in entries:
        if isinstance(entry, BadLine):
            summary.failed.append({"id": entry.id, "error": entry.error})
        elif (is_complete_url(entry, join(root, entry.id)) if remote else is_complete(entry, root / entry.id)):
            summary.skipped.append(entry.id)
        else:
            pending.append(entry)

    from tqdm.auto import tqdm

    bar = tqdm(total=len(entries), unit="job", desc="batch", disable=not progress)
    bar.update(len(entries) - len(pending))
    if pending:
        _run_on_ray(pending, root, summary, bar, ray_address=ray_address, local=local, max_retries=max_retries,
                    overrides=resources_per_kind)
    bar.close()
    order = {entry.id: index for index, entry in enumerate(entries)}
    summary.done.sort(key=order.__getitem__)
    summary.failed.sort(key=lambda f: order[f["id"]])
    summary.seconds = time.perf_counter() - started
    if remote:
        write_json_url(join(root, "summary.json"), summary.to_dict())
    else:
        write_json(root / "summary.json", summary.to_dict())
    return summary


def _run_on_ray(pending: list[JobBase], root: Path | str, summary: Summary, bar: Any, *, ray_address: str | None,
                local: int | None, max_retries: int, overrides: Mapping[str, Mapping[str, float]] | None) -> None:
    from motionkit.batch.worker import execute

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    started_here = _connect(ray_address, local)
    import ray

    task = ray.remote(execute)
    faults = _faults()
    # A bounded window of tasks in flight: a million-job file never becomes a million refs at once.
    window = max(1, 4 * int(ray.cluster_resources().get("CPU", 1)))
    queue = iter(pending)
    refs: dict[Any, JobBase] = {}

    def submit() -> None:
        job = next(queue, None)
        if job is None:
            return
        declared = resources(job, overrides)
        ref = task.options(max_retries=max_retries, **declared).remote(
            job.model_dump_json(), _folder(root, job.id), threads=max(1, int(declared.get("num_cpus", 1))),
            fault=faults.get(job.id))
        refs[ref] = job

    try:
        for _ in range(window):
            submit()
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            job = refs.pop(ready[0])
            submit()
            try:
                record = ray.get(ready[0])
            except ray.exceptions.RayTaskError as error:  # raised outside the contained part (e.g. the folder)
                message = f"job {job.id}: {getattr(error, 'cause', None) or error}"
                record = {"id": job.id, "kind": job.kind, "state": "failed", "error": message}
            except ray.exceptions.RayError as error:  # the worker died on every attempt
                message = f"the worker running job {job.id} died {max_retries + 1} times: {type(error).__name__}"
                record = {"id": job.id, "kind": job.kind, "state": "failed", "error": message}
                if isinstance(root, Path):
                    record = {**(read_status(root / job.id) or {}), **record}
                    write_json(root / job.id / STATUS, record)
                else:
                    write_json_url(join(root, job.id, STATUS), record)
            if record["state"] == "done":
                summary.done.append(job.id)
            else:
                summary.failed.append({"id": job.id, "error": record["error"]})
            bar.update(1)
    finally:
        if started_here:
            ray.shutdown()
            # Ray's driver installs its own SIGTERM/SIGINT handlers; give the caller theirs back.
            for sig, handler in handlers.items():
                if handler is not None and threading.current_thread() is threading.main_thread():
                    signal.signal(sig, handler)
