"""``motionkit train`` as a user runs it: a YAML config, a folder of captioned videos, converted
weights to start from; ``--steps`` extends a run, which resumes from its last checkpoint."""

from __future__ import annotations

import json
import math

import pytest

from motionkit.cli import main


#: Converted-folder part -> the attribute of the training networks that holds it, per task.
PARTS = {
    "flow-vae": {"flow_vae": "flow_vae"},
    "stage1": {"stage1_unet": "stage1_unet", "flow_vae": "flow_vae", "image_vae": "image_vae",
               "text_encoder": "text_encoder", "tokenizer": "tokenizer"},
    "stage2": {"stage2_unet": "stage2_unet", "stage2_vae": "image_vae", "text_encoder": "text_encoder",
               "tokenizer": "tokenizer"},
}
PARTS["controlnet"] = PARTS["stage1"]  # no controlnet/ part: the task creates it from the UNet


def _save_converted(make_networks, task, folder):
    """Tiny networks of ``task`` saved in the converted layout (what ``motionkit convert-official`` writes)."""
    nets = make_networks(task)
    for part, attribute in PARTS[task].items():
        getattr(nets, attribute).save_pretrained(folder / part)
    return folder


def _config(tmp_path, task, steps):
    path = tmp_path / f"{task}.yaml"
    path.write_text(
        f"task: {task}\noutput_dir: {tmp_path / 'run'}\nsteps: {steps}\ncheckpointing_steps: 2\nlearning_rate: 1.0e-3\n"
        f"data:\n  folder: {tmp_path / 'elsewhere'}\n  size: [64, 64]\n  frames: 4\n  stride: [1, 3]\n"
        f"  flow_cache: {tmp_path / 'flow-cache'}\n"
    )
    return path


@pytest.fixture
def pretrained(make_networks, tmp_path):
    return _save_converted(make_networks, "stage1", tmp_path / "weights")


def _logged(run):
    return [json.loads(line) for line in (run / "loss.jsonl").read_text().splitlines()]


def test_train_stage1_from_the_command_line_and_resume(pretrained, video_folder, tmp_path, capsys):
    run = tmp_path / "run"
    config = _config(tmp_path, "stage1", steps=3)
    # --data overrides the config's folder; --pretrained names the converted weights
    args = ["train", "stage1", "--data", str(video_folder), "--config", str(config), "--pretrained", str(pretrained)]
    assert main(args) == 0, capsys.readouterr().err
    assert "to step 3" in capsys.readouterr().out
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step-2", "step-3"]
    assert any((tmp_path / "flow-cache").iterdir())  # flow labels estimated once, cached
    # a longer run continues the step count from the last checkpoint
    assert main([*args, "--steps", "5"]) == 0, capsys.readouterr().err
    assert "to step 5" in capsys.readouterr().out
    logged = _logged(run)
    assert [r["step"] for r in logged] == [1, 2, 3, 4, 5]
    assert all(math.isfinite(r["loss"]) for r in logged)


def test_train_without_pretrained_weights_names_the_converter(video_folder, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MOTIONKIT_MOTION_I2V_WEIGHTS", str(tmp_path / "none"))
    status = main(["train", "controlnet", "--data", str(video_folder), "-o", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert status == 1 and len(err.strip().splitlines()) == 1
    assert str(tmp_path / "none") in err and "convert-official" in err


@pytest.mark.parametrize("task", ["flow-vae", "controlnet", "stage2"])
def test_every_task_trains_from_the_command_line(task, make_networks, video_folder, tmp_path, capsys):
    weights = _save_converted(make_networks, task, tmp_path / "weights")
    args = ["train", task, "--data", str(video_folder), "--config", str(_config(tmp_path, task, steps=2)),
            "--pretrained", str(weights)]
    assert main(args) == 0, capsys.readouterr().err
    assert [r["step"] for r in _logged(tmp_path / "run")] == [1, 2]
