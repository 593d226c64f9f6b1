"""motionkit's denoising loops replay the official pipelines' stored steps and videos."""

from __future__ import annotations

from motionkit.fidelity.replay import pipeline_checks, run_pipeline_cases


def test_official_loops_replay_within_tolerance(official_fixtures, one_torch_thread):
    records = run_pipeline_cases(official_fixtures / "tiny")
    names = {r.name for r in records}
    assert {"stage1.step_latents", "stage1.video", "stage2.step_latents", "stage2.video"} <= names
    failed = [r for r in records if not r.ok]
    assert not failed, failed


def test_a_folder_without_loop_cases_adds_no_records_to_the_command(tmp_path):
    assert pipeline_checks(tmp_path) == []
