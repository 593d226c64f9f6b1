"""The parity command: every check group on a fixture folder, one line per check.

Usage::

    python -m motionkit.fidelity FIXTURE_DIR [--keys keys_full.json] [--threads N]

``FIXTURE_DIR`` has the layout of ``shared/fixtures/motion_i2v_official/tiny``
(:mod:`motionkit.fidelity.fixtures`). With ``keys_full.json`` (``--keys``, default: next to
``FIXTURE_DIR`` or in its parent) the official full-size key lists are checked too. The exit
status is 1 if any check fails. Each check is a :class:`~motionkit.fidelity.records.CheckRecord`;
:data:`CHECKS` lists the check groups, and a new group is added by appending a function
``(folder, keys_path) -> list[CheckRecord]`` to it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import torch

from motionkit.fidelity.forward import forward_case_checks, full_size_key_checks
from motionkit.fidelity.records import CheckRecord
from motionkit.fidelity.replay import pipeline_checks

CheckGroup = Callable[[Path, "Path | None"], list[CheckRecord]]

CHECKS: list[CheckGroup] = [forward_case_checks, full_size_key_checks, pipeline_checks]
"""The check groups run by :func:`run_checks`, in order: network forward cases, full-size key
lists, the replay of the official denoising loops. Append new groups here."""


def run_checks(folder: str | Path, keys_path: str | Path | None = None,
               groups: list[CheckGroup] | None = None) -> list[CheckRecord]:
    """Run every group of ``groups`` (default :data:`CHECKS`) on a fixture folder.

    Example:
        >>> records = run_checks("shared/fixtures/motion_i2v_official/tiny")  # doctest: +SKIP
        >>> all(r.ok for r in records)                                         # doctest: +SKIP
        True
    """
    folder = Path(folder)
    keys = Path(keys_path) if keys_path else None
    return [record for check in (CHECKS if groups is None else groups) for record in check(folder, keys)]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 = every check passed)."""
    parser = argparse.ArgumentParser(prog="python -m motionkit.fidelity",
                                     description="Compare motionkit's Motion-I2V networks and denoising loops with official outputs.")
    parser.add_argument("folder", type=Path, help="fixture folder (layout of motion_i2v_official/tiny)")
    parser.add_argument("--keys", type=Path, default=None, help="keys_full.json (default: folder or its parent)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (1 is fastest on a busy machine; results differ by ~1e-6)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    records = run_checks(args.folder, args.keys)
    for record in records:
        print(record.line())
    failed = [r for r in records if not r.ok]
    print(f"{len(records) - len(failed)}/{len(records)} checks passed")
    return 1 if failed else 0
