"""``motionkit batch``: run a JOBS file on Ray (``mk.run_batch``), resumable, failures contained."""

from __future__ import annotations

from pathlib import Path

import typer

import motionkit as mk
from motionkit.cli.options import say

EXAMPLE = "Example: motionkit batch jobs.jsonl -o out --local 4   (or --ray auto on a cluster)"
#: Exit status when a job of the batch failed (1 is also what a motionkit error gives).
SOME_FAILED = 1


def batch(
    jobs: Path = typer.Argument(..., help="The JOBS file: one JSON job a line (kind, inputs as the CLI names them, options, id)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder: OUTDIR/<id>/output.mp4 (report.json for check), manifest.json, status.json."),
    ray: str | None = typer.Option(None, "--ray", help="Join this Ray cluster ('auto' or an address) instead of a local Ray."),
    local: int | None = typer.Option(None, "--local", min=1, help="Start a local Ray of N CPUs for the run (default: the machine's CPU count)."),
    retries: int = typer.Option(3, "--retries", min=0, help="How many times a job whose worker died is re-run."),
) -> None:
    """Run every job of JOBS, skipping the ones whose outputs are complete and verified; exit 1 if any failed."""
    if ray is not None and local is not None:
        raise typer.BadParameter("give --ray or --local, not both", param_hint="--ray/--local")
    summary = mk.run_batch(jobs, out, ray_address=ray, local=local, max_retries=retries)
    typer.echo(summary.table())
    say(f"wrote {out / 'summary.json'}")
    if not summary.ok:
        raise typer.Exit(SOME_FAILED)


def register(app: typer.Typer) -> None:
    """Add ``batch`` to ``app``."""
    app.command(epilog=EXAMPLE)(batch)
