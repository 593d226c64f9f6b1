"""The benchmark command runs end to end in quick mode and writes its table and machine description."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]

EXPECTED = {
    "backward warp", "forward splat", "forward splat (renderer frame path)", "densify (sparse predictor)",
    "forward splat (softmax)", "flow: dis", "flow: farneback", "flow: cv2 DIS medium (raw)", "animate end to end",
    "translate (video-to-video)", "preview (editor)", "playback-rate rendering",
}


def test_quick_benchmark_writes_a_complete_table(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--output", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((tmp_path / "quick.json").read_text())
    machine = result["machine"]
    for key in ("cpu", "cores", "ram_gib", "torch", "opencv"):
        assert machine[key], key
    rows = {row["operation"]: row for row in result["rows"]}
    assert EXPECTED <= set(rows), sorted(EXPECTED - set(rows))
    for name in EXPECTED:
        row = rows[name]
        assert not row["skipped"], f"{name}: {row['skipped']}"
        assert row["throughput"] > 0, name
        if name != "playback-rate rendering":  # an absolute target, no baseline
            assert row["baseline_throughput"] > 0, name
            assert row["ratio"] == row["throughput"] / row["baseline_throughput"]
    # The warp row compares the same operation: motionkit and cv2.remap must agree.
    assert rows["backward warp"]["metrics"]["max_abs_diff_vs_baseline"] < 1e-3
    # Flow accuracy is measured, and DIS medium is a real estimator on real data (< 5 px EPE).
    assert rows["flow: cv2 DIS medium (raw)"]["metrics"]["epe_px"] < 5.0
    assert rows["translate (video-to-video)"]["metrics"]["peak_rss_mib"] > 0
    # The splat kernels agree with the torch path; the translation is scored against the ideal result.
    for name in ("forward splat", "forward splat (softmax)"):
        assert rows[name]["metrics"]["max_abs_diff_vs_torch"] <= 1e-5, name
    assert rows["translate (video-to-video)"]["metrics"]["psnr_db"] > 20
    # Every row with a target says, in the printed summary, what it is and that quick mode does not check it.
    assert "## Targets" in proc.stdout and "- preview (editor): median <= 150 ms" in proc.stdout
    table = (tmp_path / "quick.md").read_text()
    assert "| backward warp |" in table and machine["cpu"] in table
    assert proc.stdout.strip().startswith("# motionkit benchmark (quick)")


def test_gpu_full_says_why_it_did_not_run_without_cuda(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: --gpu-full would time full-size UNets, minutes of work")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--gpu-full", "--output", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads((tmp_path / "gpu-full.json").read_text())["rows"]
    assert rows and all("no CUDA device" in row["skipped"] for row in rows)
