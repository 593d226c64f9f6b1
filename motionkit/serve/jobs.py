"""Job records in SQLite and the bounded pool of worker threads that runs them.

A record is ``{id, kind, state, progress, error}`` plus the job's JSON and its output's file
name. States: ``queued`` -> ``running`` -> ``done`` | ``failed`` | ``cancelled``. Records and
outputs live under the service's data folder, outputs written atomically, so a restarted
server still lists finished jobs and serves their results; :meth:`JobBook.recover` marks the
jobs a stopped server left queued or running as failed, with the reason.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from motionkit.errors import InvalidInputError, MotionkitError
from motionkit.io.atomic import atomic_path
from motionkit.verbs.jobs import JobBase, run_job

TERMINAL = frozenset({"done", "failed", "cancelled"})
#: ``runner(job, output, report)``: run a resolved job, writing ``output``; ``report(fraction)`` as it goes.
Runner = Callable[[JobBase, Path, Callable[[float], None]], None]


class QueueFullError(MotionkitError):
    """The pending-job queue is full (HTTP 429)."""


class UnknownJobError(InvalidInputError, KeyError):
    """A job id the service does not hold (HTTP 404)."""

    def __str__(self) -> str:
        return str(self.args[0])


def default_runner(job: JobBase, output: Path, report: Callable[[float], None]) -> None:
    """Run ``job`` through :func:`motionkit.run_job`, reporting its fraction done as it goes."""
    run_job(job, output, progress=report)


class JobBook:
    """The SQLite table of jobs under ``root`` (``jobs.sqlite``) and their outputs (``results/``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.results = self.root / "results"
        self.results.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.root / "jobs.sqlite", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, kind TEXT, state TEXT, progress REAL,"
            " error TEXT, request TEXT, output TEXT, created REAL, finished REAL)")

    def add(self, job: JobBase) -> str:
        """A new ``queued`` record for ``job``; returns its id."""
        job_id = uuid.uuid4().hex
        with self._lock:
            self._db.execute("INSERT INTO jobs VALUES (?, ?, 'queued', 0, NULL, ?, ?, ?, NULL)",
                             (job_id, job.kind, job.model_dump_json(), job.output_name, time.time()))
        return job_id

    def update(self, job_id: str, **fields: Any) -> None:
        """Set columns of one record (``state``, ``progress``, ``error``, ``finished``)."""
        names = ", ".join(f"{name} = ?" for name in fields)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {names} WHERE id = ?", (*fields.values(), job_id))

    def get(self, job_id: str) -> dict[str, Any]:
        """``{id, kind, state, progress, error}`` of one job.

        Raises:
            UnknownJobError: no such job.
        """
        with self._lock:
            row = self._db.execute("SELECT id, kind, state, progress, error FROM jobs WHERE id = ?",
                                   (str(job_id),)).fetchone()
        if row is None:
            raise UnknownJobError(f"no job {str(job_id)[:80]!r} on this server")
        return dict(zip(("id", "kind", "state", "progress", "error"), row))

    def list(self) -> list[dict[str, Any]]:
        """Every record, newest first."""
        with self._lock:
            ids = [row[0] for row in self._db.execute("SELECT id FROM jobs ORDER BY created DESC")]
        return [self.get(job_id) for job_id in ids]

    def request(self, job_id: str) -> tuple[dict[str, Any], str]:
        """The job's JSON and its output's file name."""
        with self._lock:
            row = self._db.execute("SELECT request, output FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise UnknownJobError(f"no job {job_id[:80]!r} on this server")
        return json.loads(row[0]), row[1]

    def output(self, job_id: str) -> Path:
        """Where the job's output is (or will be) stored: ``results/<id>.<ext>``."""
        _, name = self.request(job_id)
        return self.results / f"{job_id}{Path(name).suffix}"

    def recover(self) -> int:
        """Mark jobs left ``queued`` or ``running`` by a stopped server as failed; returns how many."""
        reason = "the server stopped before the job finished; submit it again"
        with self._lock:
            cursor = self._db.execute(
                "UPDATE jobs SET state = 'failed', error = ?, finished = ? WHERE state IN ('queued', 'running')",
                (reason, time.time()))
        return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()


class WorkerPool:
    """``workers`` threads taking resolved jobs from a queue of at most ``pending`` waiting jobs.

    A cancelled queued job never starts; a running one cannot be interrupted inside the verbs,
    so it is marked ``cancelled`` at once and its output is thrown away when it returns.
    """

    def __init__(self, book: JobBook, workers: int = 1, pending: int = 8, runner: Runner = default_runner) -> None:
        if workers < 1 or pending < 1:
            raise InvalidInputError(f"workers and queue must be >= 1, got {workers} and {pending}")
        self.book = book
        self.runner = runner
        self._queue: queue.Queue[tuple[str, JobBase] | None] = queue.Queue(maxsize=pending)
        self._threads = [threading.Thread(target=self._work, name=f"motionkit-worker-{i}", daemon=True)
                         for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, job: JobBase) -> str:
        """Record ``job`` and queue it; returns its id.

        Raises:
            QueueFullError: ``pending`` jobs are already waiting.
        """
        if self._queue.full():
            raise QueueFullError(f"the queue is full ({self._queue.maxsize} jobs waiting); try again later")
        job_id = self.book.add(job)
        try:
            self._queue.put_nowait((job_id, job))
        except queue.Full:
            self.book.update(job_id, state="failed", error="the queue was full", finished=time.time())
            raise QueueFullError(f"the queue is full ({self._queue.maxsize} jobs waiting); try again later") from None
        return job_id

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job (a finished one is left as it is); returns its record."""
        record = self.book.get(job_id)
        if record["state"] not in TERMINAL:
            self.book.update(job_id, state="cancelled", error="cancelled by the client", finished=time.time())
        return self.book.get(job_id)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job_id, job = item
            try:
                self._run(job_id, job)
            finally:
                self._queue.task_done()

    def _run(self, job_id: str, job: JobBase) -> None:
        if self.book.get(job_id)["state"] != "queued":
            return  # cancelled while waiting
        self.book.update(job_id, state="running", progress=0.0)

        def report(fraction: float) -> None:
            if self.book.get(job_id)["state"] == "running":
                self.book.update(job_id, progress=float(min(max(fraction, 0.0), 0.99)))

        target = self.book.output(job_id)
        try:
            with atomic_path(target) as tmp:
                self.runner(job, tmp, report)
                if self.book.get(job_id)["state"] == "cancelled":
                    raise _Cancelled
        except _Cancelled:
            return
        except MotionkitError as error:
            self._finish(job_id, "failed", str(error))
        except Exception as error:  # noqa: BLE001 - a job's failure is reported, never raised into the pool
            self._finish(job_id, "failed", f"internal error ({type(error).__name__}): {error}")
        else:
            self._finish(job_id, "done", None)

    def _finish(self, job_id: str, state: str, error: str | None) -> None:
        if self.book.get(job_id)["state"] == "running":
            self.book.update(job_id, state=state, error=error, progress=1.0 if state == "done" else
                             self.book.get(job_id)["progress"], finished=time.time())

    def close(self) -> None:
        """Stop the threads after the jobs they are running (queued jobs stay queued in the book)."""
        while True:
            try:
                self._queue.get_nowait()
                self._queue.task_done()
            except queue.Empty:
                break
        for _ in self._threads:
            self._queue.put(None)


class _Cancelled(Exception):
    """Raised inside the atomic write so a cancelled job's output is discarded."""
