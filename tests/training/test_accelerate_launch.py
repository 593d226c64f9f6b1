"""Two CPU processes of ``accelerate launch -m motionkit train ...`` train on two different data shards.

accelerate (1.x) starts several CPU processes only through torchrun or mpirun: ``--cpu
--num_processes 2`` alone runs ONE process (its simple launcher), so the documented command is
``ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2 ...`` (torchrun, gloo).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.synthetic_videos import square_video

from motionkit.clip import Clip

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_cpu_processes_train_on_different_shards(make_networks, tmp_path):
    launcher = Path(sys.executable).with_name("accelerate")
    if not launcher.exists() and shutil.which("accelerate") is None:
        pytest.skip("accelerate's launcher is not installed")
    videos = tmp_path / "videos"
    videos.mkdir()
    for i in range(4):  # 4 clips over 2 processes, batch 1: 2 steps are one epoch, 2 clips each
        Clip.from_array(square_video(3 * i), fps=8).write(videos / f"clip{i}.mp4")
    weights = tmp_path / "weights"
    nets = make_networks("stage1")
    for part, attribute in {"stage1_unet": "stage1_unet", "flow_vae": "flow_vae", "image_vae": "image_vae",
                            "text_encoder": "text_encoder", "tokenizer": "tokenizer"}.items():
        getattr(nets, attribute).save_pretrained(weights / part)
    run = tmp_path / "run"
    config = tmp_path / "stage1.yaml"
    config.write_text(f"task: stage1\noutput_dir: {run}\nsteps: 2\ncheckpointing_steps: 2\nlearning_rate: 1.0e-3\n"
                      f"log_samples: true\ndata:\n  folder: {videos}\n  size: [64, 64]\n  frames: 4\n  stride: [1, 3]\n")
    command = [str(launcher if launcher.exists() else "accelerate"), "launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "-m", "motionkit", "train", "stage1", "--config", str(config), "--pretrained", str(weights)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "ACCELERATE_USE_CPU": "1"}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "to step 2" in done.stdout
    seen = {}
    for process in (0, 1):
        lines = [json.loads(line) for line in (run / f"samples-{process}.jsonl").read_text().splitlines()]
        assert [line["step"] for line in lines] == [1, 2] and {line["process"] for line in lines} == {process}
        seen[process] = [name for line in lines for name in line["videos"]]
    assert set(seen[0]).isdisjoint(seen[1]), f"the processes trained on the same clips: {seen}"
    assert sorted(seen[0] + seen[1]) == [f"clip{i}.mp4" for i in range(4)]
    assert (run / "checkpoints" / "step-2").is_dir()
