"""Reading a JOBS file: one :class:`~motionkit.verbs.jobs.Job` per line of JSON.

Blank lines are skipped; a job without an ``id`` is named by its 1-based line number (as a
string); relative paths (inputs, and a ``spec`` given as a path) are relative to the JOBS
file's folder. A line that is not a job does not stop the batch: it comes back as a
:class:`BadLine` and the batch reports it as a failed job.

Example:
    >>> entries = read_jobs("jobs.jsonl")  # doctest: +SKIP
    >>> [entry.id for entry in entries]  # doctest: +SKIP
    ['shot12', '2', '3']
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from motionkit.errors import InvalidInputError, MediaReadError, MotionkitError
from motionkit.verbs.jobs import JobBase, parse_job


@dataclass(frozen=True)
class BadLine:
    """A line of the JOBS file that is not a job: its id (line number or its ``id``) and why."""

    id: str
    error: str


def _line_id(text: str, number: int) -> str:
    """The ``id`` a line names, if it is a JSON object with a string id; else its line number."""
    try:
        data = json.loads(text)
    except ValueError:
        return str(number)
    found = data.get("id") if isinstance(data, dict) else None
    return found if isinstance(found, str) and found else str(number)


def check_id(job_id: str) -> str:
    """``job_id`` if it names one folder under the output folder; :class:`InvalidInputError` if not."""
    if not job_id or job_id in (".", "..") or "/" in job_id or "\\" in job_id or "\0" in job_id:
        raise InvalidInputError(f"job id {job_id!r} cannot name a folder: use letters, digits, '-', '_' or '.'")
    return job_id


def read_jobs(path: str | os.PathLike) -> list[JobBase | BadLine]:
    """The jobs of the JOBS file at ``path``, in file order, with ids and paths resolved.

    Returns:
        One entry per non-blank line: a resolved job (every file input an absolute path), or a
        :class:`BadLine` for a line that is not a valid job.

    Raises:
        MediaReadError: the file cannot be read.
        InvalidInputError: two jobs share an id (their outputs would overwrite each other).
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MediaReadError(f"cannot read JOBS file {path}: {exc}") from None
    base = path.resolve().parent

    def locate(name: str) -> Path:
        return Path(name) if Path(name).is_absolute() else base / name

    entries: list[JobBase | BadLine] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            job = parse_job(text)
            job = job.model_copy(update={"id": check_id(job.id or str(number))})
            entries.append(job.resolved(locate))
        except MotionkitError as exc:
            entries.append(BadLine(id=_line_id(text, number), error=f"line {number}: {exc}"))
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry.id in seen:
            raise InvalidInputError(f"JOBS file {path}: job id {entry.id!r} is used twice; each job needs its own id")
        seen[entry.id] = index
    return entries
