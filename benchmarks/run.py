"""The benchmark command: one table of throughput against baselines measured in the same run.

Usage (from the repository root)::

    python -m benchmarks.run            # full sizes, targets checked (several minutes on 2 cores)
    python -m benchmarks.run --quick    # small sizes, no targets (CI; under a minute)
    python -m benchmarks.run --gpu-full # Motion-I2V UNets at 16x320x512, fp16 and bf16, on a GPU

Writes ``<output>/<mode>.md`` and ``<output>/<mode>.json`` (mode ``full``, ``quick`` or
``gpu-full``) with a description of the machine, and prints the Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.common import THREADS_ENV, Row, machine, skipped_row

RESULTS = Path(__file__).resolve().parent / "results"
SUITES = ("ops", "flow", "pipelines", "learned")


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}g}"


def markdown(rows: list[Row], info: dict[str, Any], mode: str, command: str) -> str:
    """The results as a Markdown document: machine, command, then one table."""
    lines = [
        f"# motionkit benchmark ({mode})",
        "",
        f"Command: `{command}`  ",
        f"Date: {info['date']}  ",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, "
        f"{info['gpu'] or 'no GPU'}; torch {info['torch']} ({info['torch_threads']} threads), "
        f"OpenCV {info['opencv']} ({info['opencv_threads']} threads), numpy {info['numpy']}, Python {info['python']}; "
        f"load average {info['load_average_1m_at_start']} at start, {info.get('total_seconds', '?')} s in all",
        "",
        "Ratio = motionkit throughput / baseline throughput (above 1: motionkit is faster). "
        "Times are medians of repeated runs after a warm-up.",
        "",
        "| operation | motionkit implementation | size | throughput | baseline | baseline throughput | ratio | target | met | notes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.skipped:
            lines.append(f"| {r.operation} | - | {r.size} | - | - | - | - | {r.target or '-'} | skipped | {r.skipped.replace('|', '/')} |")
            continue
        met = "-" if r.met is None else ("yes" if r.met else "**no**")
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
        lines.append(
            f"| {r.operation} | {r.implementation} | {r.size} | {_fmt(r.throughput)} {r.unit} | {r.baseline or '-'} | "
            f"{_fmt(r.baseline_throughput)} {r.unit if r.baseline_throughput else ''} | {ratio} | {r.target or '-'} | {met} | {r.notes} |"
        )
    return "\n".join(lines + ["", *targets_summary(rows)]) + "\n"


def targets_summary(rows: list[Row]) -> list[str]:
    """One line per row with a target: the target and whether this run met it."""
    lines = ["## Targets", ""]
    for r in rows:
        if not r.target:
            continue
        if r.skipped:
            verdict = "not measured (skipped)"
        elif r.met is None:
            verdict = "not checked (quick mode)"
        else:
            verdict = "met" if r.met else "**missed**"
        ratio = "" if r.ratio is None or r.skipped else f" (ratio {r.ratio:.2f}x)"
        lines.append(f"- {r.operation}: {r.target} -> {verdict}{ratio}")
    return lines


def _write(path: Path, text: str) -> None:
    # Whole file or nothing: a stopped benchmark must not leave half a results table.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _attempt(operation: str, bench: Callable[[], Row | list[Row]]) -> list[Row]:
    """Run one benchmark; a failure becomes a row saying why instead of ending the whole run.

    Each row notes the 1-minute load average when its benchmark started (a 2-core machine
    shared with other work: the numbers are only comparable at similar loads).
    """
    load = round(os.getloadavg()[0], 2)
    try:
        out = bench()
    except Exception as exc:
        return [skipped_row(operation, "-", "-", f"failed: {type(exc).__name__}: {exc}")]
    rows = out if isinstance(out, list) else [out]
    for row in rows:  # rows that noted their own load (a group's later rows) keep it
        if row.skipped or "load_1m_at_start" in row.metrics:
            continue
        row.metrics["load_1m_at_start"] = load
        row.notes = f"{row.notes}; load {load}" if row.notes else f"load {load}"
    return rows


def set_threads(threads: int) -> None:
    """Use ``threads`` threads in torch and OpenCV, here and in the translate child processes."""
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    os.environ[THREADS_ENV] = str(threads)


def run(quick: bool, suites: tuple[str, ...], output: Path, gpu_full: bool = False, threads: int | None = None) -> list[Row]:
    """Run the chosen suites and write ``<output>/<mode>.{md,json}``; returns the rows."""
    mode = "gpu-full" if gpu_full else ("quick" if quick else "full")
    command = "python -m benchmarks.run" + (" --quick" if quick else "") + (" --gpu-full" if gpu_full else "")
    if tuple(suites) != SUITES and not gpu_full:
        command += f" --only {','.join(suites)}"
    if threads is not None:
        set_threads(threads)
        command += f" --threads {threads}"
    info = machine()
    info["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    repeats = 1 if quick else 5
    rows: list[Row] = []
    started = time.perf_counter()
    if gpu_full:
        from benchmarks.bench_learned import bench_gpu_full

        rows += _attempt("Motion-I2V denoising step (full size)", bench_gpu_full)
    else:
        small = (4, 128) if quick else (16, 512)
        if "ops" in suites:
            from benchmarks import bench_ops

            data = bench_ops.OpsData(*small)
            rows += _attempt("backward warp", lambda: bench_ops.bench_backward_warp(data, repeats, quick))
            rows += _attempt("forward splat", lambda: bench_ops.bench_splat(data, repeats, quick))
            rows += _attempt("densify (sparse predictor)", lambda: bench_ops.bench_densify(*small, repeats, quick))
        if "flow" in suites:
            from benchmarks.bench_flow import bench_flow

            rows += _attempt("flow estimation", lambda: bench_flow(128 if quick else 512, repeats, quick))
        if "pipelines" in suites:
            from benchmarks.bench_pipeline import bench_pipelines

            rows += _attempt("pipelines", lambda: bench_pipelines(quick, 1 if quick else 3))
        if "learned" in suites:
            from benchmarks.bench_learned import bench_learned_cpu

            rows += _attempt("Motion-I2V denoising step", lambda: bench_learned_cpu(quick))
    info["total_seconds"] = round(time.perf_counter() - started, 1)
    output.mkdir(parents=True, exist_ok=True)
    text = markdown(rows, info, mode, command)
    _write(output / f"{mode}.md", text)
    _write(output / f"{mode}.json", json.dumps({"mode": mode, "command": command, "machine": info, "rows": [r.as_dict() for r in rows]}, indent=2) + "\n")
    print(text)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no targets enforced (CI)")
    parser.add_argument("--gpu-full", action="store_true", help="time full-size Motion-I2V UNets (16x320x512) in fp16 and bf16 on CUDA")
    parser.add_argument("--only", default=",".join(SUITES), help=f"comma-separated suites among {', '.join(SUITES)}")
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the .md and .json results")
    parser.add_argument(
        "--threads", type=int, default=None,
        help="threads for torch and OpenCV alike (default: the libraries' own; --quick defaults to 1, which "
        "keeps CI fast on a shared machine, where torch's thread pool slows small tensors down)",
    )
    args = parser.parse_args(argv)
    if args.threads is None and args.quick:
        args.threads = 1
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    suites = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; choose among {', '.join(SUITES)}")
    rows = run(args.quick, suites, args.output, gpu_full=args.gpu_full, threads=args.threads)
    missed = [r.operation for r in rows if r.met is False]
    if missed:
        print(f"targets missed: {', '.join(missed)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
