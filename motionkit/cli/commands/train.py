"""``motionkit train``: fine-tune one Motion-I2V component (``mk.TrainConfig`` + ``mk.train``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

import motionkit as mk
from motionkit.errors import InvalidInputError

EXAMPLE = ("Example: motionkit train controlnet --data ./videos --config controlnet.yaml  "
           "(multi-GPU: accelerate launch -m motionkit train ...)")


def train(
    task: str = typer.Argument(..., help="What to train: flow-vae, stage1, controlnet or stage2."),
    data: Optional[Path] = typer.Option(None, "--data", help="Folder of videos with captions (clip.mp4 + clip.txt); overrides the config's."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML file of training settings (motionkit.TrainConfig)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Run folder for checkpoints and loss.jsonl (default: the config's, else runs/TASK)."),
    pretrained: Optional[Path] = typer.Option(None, "--pretrained", help="Converted Motion-I2V weights to start from."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Optimisation steps (overrides the config's)."),
) -> None:
    """Train one Motion-I2V component on a folder of captioned videos (HuggingFace accelerate)."""
    if task not in mk.TRAINING_TASKS:
        raise InvalidInputError(f"unknown training task {task!r}; expected one of {', '.join(mk.TRAINING_TASKS)}")
    overrides = {k: v for k, v in {"output_dir": output, "pretrained": pretrained, "steps": steps}.items() if v is not None}
    if config is not None:
        settings = mk.TrainConfig.from_yaml(config, task=task, **overrides)
        if data is not None:
            settings = settings.model_copy(update={"data": settings.data.model_copy(update={"folder": data})})
    elif data is None:
        raise InvalidInputError("motionkit train needs --data FOLDER or a --config that names one")
    else:
        overrides.setdefault("output_dir", Path("runs") / task)
        settings = mk.TrainConfig(task=task, data={"folder": data}, **overrides)
    result = mk.train(settings)
    typer.echo(f"trained {task} to step {result.step}; checkpoints in {settings.output_dir}")


def register(app: typer.Typer) -> None:
    """Add ``train`` to ``app``."""
    app.command(epilog=EXAMPLE)(train)
