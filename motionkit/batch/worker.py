"""One job in one worker process: run it, write its output, manifest and status, atomically.

:func:`execute` is what each Ray task runs. It never raises for a bad job: the error's message
goes into ``status.json`` and the returned record, so one bad input fails only its own job.
A worker that dies (killed, out of memory) raises nothing either; Ray retries the task, and
the retry first deletes the temporary files the dead attempt left beside the final path.

Fault injection (for tests of the retry path): ``fault`` is a marker file path; while it does
not exist, the attempt creates it and kills its own process (``os._exit``) as soon as the
temporary output file appears, i.e. in the middle of writing the output.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Any

from motionkit.batch.records import (
    STATUS,
    describe,
    fingerprint,
    read_status,
    stale_temporaries,
    write_json,
    write_manifest,
)
from motionkit.verbs.jobs import parse_job, run_job

#: Exit status of an attempt killed by fault injection (as a SIGKILL'd process reports).
KILLED = 137


def _die_mid_write(folder: Path, name: str, marker: Path, finished: threading.Event) -> None:
    """Watch ``folder`` for the temporary file of ``name``; when it appears, mark and kill this process."""
    while not finished.is_set():
        if any(folder.glob(f".{name}.*")):
            marker.write_text(str(os.getpid()), encoding="utf-8")
            os._exit(KILLED)
        time.sleep(0.001)


@contextlib.contextmanager
def _threads(count: int):
    """Pin torch's intra-op threads to ``count`` for the job (the single-process path pins alike)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, count))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def execute(job_json: str, folder: str, *, threads: int = 1, fault: str | None = None) -> dict[str, Any]:
    """Run the resolved job ``job_json`` with its outputs in ``folder``; the status record it wrote.

    Args:
        job_json: a resolved job (:meth:`~motionkit.verbs.jobs.JobBase.model_dump_json`).
        folder: ``OUTDIR/<id>``, made if missing; or an fsspec URL, where the finished files are
            uploaded from a local staging folder (see :mod:`motionkit.batch.storage`).
        threads: torch threads for the job (its declared CPUs).
        fault: a marker file for fault injection (see the module's doc), or None.

    Returns:
        The status record: ``id``, ``kind``, ``state`` (``done`` or ``failed``), ``error``,
        ``attempt`` (1 for the first try), ``seconds``, ``output`` and ``fingerprint``.
    """
    from motionkit.batch.storage import is_url, local_path

    if is_url(folder):
        return _execute_and_publish(job_json, folder, threads=threads, fault=fault)
    job = parse_job(job_json)
    where = local_path(folder)
    where.mkdir(parents=True, exist_ok=True)
    for leftover in stale_temporaries(where):
        with contextlib.suppress(OSError):
            leftover.unlink()
    previous = read_status(where) or {}
    attempt = int(previous.get("attempt", 0)) + 1 if previous.get("state") == "running" else 1
    record: dict[str, Any] = {"id": job.id, "kind": job.kind, "state": "running", "error": None, "attempt": attempt,
                              "seconds": None, "output": job.output_name, "fingerprint": None, "pid": os.getpid()}
    write_json(where / STATUS, record)
    finished = threading.Event()
    if fault is not None and not Path(fault).exists():
        threading.Thread(target=_die_mid_write, args=(where, job.output_name, Path(fault), finished), daemon=True).start()
    started = time.perf_counter()
    try:
        record["fingerprint"] = fingerprint(job)
        with _threads(threads):
            output = run_job(job, where / job.output_name)
        write_manifest(job, output, where)
        record["state"] = "done"
    except Exception as error:  # noqa: BLE001 - contained: the batch goes on, the record says why
        record.update(state="failed", error=describe(error))
    finally:
        finished.set()
    record["seconds"] = round(time.perf_counter() - started, 3)
    write_json(where / STATUS, record)
    return record


def _execute_and_publish(job_json: str, url: str, *, threads: int, fault: str | None) -> dict[str, Any]:
    """:func:`execute` in a local staging folder, then one upload per finished file to ``url``."""
    import shutil
    import tempfile

    from motionkit.batch.records import MANIFEST
    from motionkit.batch.storage import publish

    staging = Path(tempfile.mkdtemp(prefix="motionkit-batch-"))
    try:
        record = execute(job_json, str(staging), threads=threads, fault=fault)
        names = [record["output"], MANIFEST] if record["state"] == "done" else []
        publish(staging, url, [*names, STATUS])  # status last: it marks the job done
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return record
