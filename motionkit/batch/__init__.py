"""Batch runs: many jobs on Ray (a local Ray or a cluster), resumable, failures contained.

A JOBS file holds one :class:`~motionkit.verbs.jobs.Job` per line of JSON; :func:`run` runs
each as a Ray task and writes ``OUTDIR/<id>/output.mp4`` (``report.json`` for ``check``)
beside ``manifest.json`` and ``status.json``, then ``OUTDIR/summary.json``. Needs Ray:
``pip install "motionkit[batch]"``.

Example:
    >>> from motionkit import batch
    >>> summary = batch.run("jobs.jsonl", "out", local=4)  # doctest: +SKIP
    >>> print(summary.table())  # doctest: +SKIP
"""

from motionkit.batch.jobsfile import BadLine, read_jobs
from motionkit.batch.records import JobManifest
from motionkit.batch.runner import KIND_RESOURCES, Summary, resources, run

__all__ = ["KIND_RESOURCES", "BadLine", "JobManifest", "Summary", "read_jobs", "resources", "run"]
