"""Training the Motion-I2V networks: flow VAE, stage 1, its ControlNet, stage 2.

Entry points (the CLI's ``motionkit train TASK --config run.yaml`` calls :func:`train_from_yaml`):

- :func:`train` with a :class:`TrainConfig` (and optionally ready networks or a dataset);
- :func:`train_from_yaml` with a YAML file.

Example:
    >>> from motionkit.training import TrainConfig, train
    >>> cfg = TrainConfig(task="stage1", output_dir="runs/s1", pretrained="weights/motion-i2v",
    ...                   data={"folder": "videos", "size": (320, 512)})   # doctest: +SKIP
    >>> train(cfg).step                                                      # doctest: +SKIP
    1000
"""

from __future__ import annotations

import os
from typing import Any

from motionkit.training.config import TASKS, DataConfig, TrainConfig
from motionkit.training.data import VideoCaptionDataset
from motionkit.training.loop import TrainResult, latest_checkpoint, train

__all__ = ["TASKS", "DataConfig", "TrainConfig", "TrainResult", "VideoCaptionDataset", "latest_checkpoint", "train",
           "train_from_yaml"]


def train_from_yaml(path: str | os.PathLike, task: str | None = None, **overrides: Any) -> TrainResult:
    """Train with the settings of a YAML file; ``task`` and ``overrides`` replace its values.

    Example:
        >>> train_from_yaml("runs/controlnet.yaml", task="controlnet").step  # doctest: +SKIP
        2000
    """
    if task is not None:
        overrides["task"] = task
    return train(TrainConfig.from_yaml(path, **overrides))
