"""Run every fuzz target (or the ones named) for a bounded time and summarise what was found.

Usage (from the repository root; needs ``pip install atheris``)::

    python fuzz/run.py                      # every target, 60 s each
    python fuzz/run.py --seconds 300 mask_json trajectory_json
    python fuzz/run.py --skip-known        # past the findings already reported

Each target runs in its own process: ``python fuzz/fuzz.py TARGET fuzz/corpus/TARGET
fuzz/seeds/TARGET -max_total_time=S``. New interesting inputs go to ``fuzz/corpus/TARGET``
(not committed), crashing inputs to ``fuzz/crashes/TARGET-crash-*``. The summary (executions,
coverage, crashes with their exception line) is printed and written to ``fuzz/last_run.md``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def run_target(name: str, seconds: int, skip_known: bool = False) -> dict:
    corpus, seeds, crashes = HERE / "corpus" / name, HERE / "seeds" / name, HERE / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(exist_ok=True)
    cmd = [sys.executable, str(HERE / "fuzz.py"), name, str(corpus), str(seeds), f"-max_total_time={seconds}",
           "-timeout=20", "-rss_limit_mb=4096", f"-artifact_prefix={crashes}/{name}-", "-print_final_stats=1"]
    if skip_known:
        cmd.append("--skip-known")
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=seconds + 300)
    log = proc.stdout + proc.stderr
    execs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
    cov = re.findall(r"cov: (\d+) ft: (\d+)", log)
    crash_files = re.findall(r"Test unit written to (\S+)", log)
    exception = re.findall(r"=== Uncaught Python exception: ===\s*\n(.+)", log)
    return {
        "target": name,
        "seconds": round(time.perf_counter() - started, 1),
        "executions": int(execs[-1]) if execs else None,
        "coverage": f"cov {cov[-1][0]} ft {cov[-1][1]}" if cov else "-",
        "crashes": crash_files,
        "exception": exception[0].strip() if exception else "",
        "exit": proc.returncode,
    }


def main(argv: list[str] | None = None) -> int:
    import fuzz_targets as targets

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", default=list(targets.TARGETS), help=f"among {', '.join(targets.TARGETS)}")
    parser.add_argument("--seconds", type=int, default=60, help="fuzzing time per target")
    parser.add_argument("--skip-known", action="store_true", help="ignore the findings already reported (fuzz_targets.KNOWN_FINDINGS)")
    args = parser.parse_args(argv)
    rows = [run_target(name, args.seconds, args.skip_known) for name in args.targets]
    lines = ["| target | seconds | executions | coverage | crash |", "|---|---|---|---|---|"]
    for r in rows:
        crash = f"{r['exception']} ({', '.join(Path(c).name for c in r['crashes'])})" if r["crashes"] else "none"
        lines.append(f"| {r['target']} | {r['seconds']} | {r['executions']} | {r['coverage']} | {crash} |")
    flags = " --skip-known" if args.skip_known else ""
    text = f"Command: `python fuzz/run.py --seconds {args.seconds}{flags} {' '.join(args.targets)}`\n\n" + "\n".join(lines) + "\n"
    (HERE / "last_run.md").write_text(text)
    print(text)
    return 1 if any(r["crashes"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
