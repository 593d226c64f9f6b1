"""The training loop shared by the four tasks, on HuggingFace accelerate.

``accelerate launch -m motionkit ... train`` (or any launcher) scales it to several GPUs; on one
device it runs as is. Checkpoints (``output_dir/checkpoints/step-N``) hold the trained module,
the optimiser, the RNG states and the step count, written atomically; a run with
``resume=True`` continues from the newest one and keeps counting steps. Every logged step is
appended to ``output_dir/loss.jsonl`` (``{"step": n, "loss": x}``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from motionkit.errors import InvalidInputError
from motionkit.training.config import TrainConfig
from motionkit.training.data import VideoCaptionDataset
from motionkit.training.losses import LOSSES, Networks
from motionkit.training.models import load_networks, trained_module

CHECKPOINTS = "checkpoints"


@dataclass
class TrainResult:
    """What a run did: the step it reached, the losses it logged this run, its last checkpoint.

    Example:
        >>> TrainResult(step=3).losses
        []
    """

    step: int
    losses: list[float] = field(default_factory=list)
    checkpoint: Path | None = None


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The ``checkpoints/step-N`` folder with the largest N, or None.

    Example:
        >>> latest_checkpoint(Path("no-such-run")) is None
        True
    """
    folder = Path(output_dir) / CHECKPOINTS
    steps = [(int(p.name.split("-", 1)[1]), p) for p in folder.glob("step-*") if p.name.split("-", 1)[1].isdigit()]
    return max(steps)[1] if steps else None


def set_trainable(module: torch.nn.Module, patterns: list[str]) -> list[torch.nn.Parameter]:
    """Freeze ``module`` except parameters whose name contains one of ``patterns``; return those.

    Raises:
        InvalidInputError: no parameter matches.

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
        >>> len(set_trainable(net, ["1."]))
        2
    """
    params = []
    for name, p in module.named_parameters():
        p.requires_grad_(any(pattern in name for pattern in patterns))
        if p.requires_grad:
            params.append(p)
    if not params:
        raise InvalidInputError(f"no parameter name contains any of {patterns}; check trainable_modules")
    return params


def _collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    out = {k: torch.stack([it[k] for it in items]) for k in ("pixel_values", "flow", "stride")}
    out["text"] = [it["text"] for it in items]
    out["video"] = [str(it.get("video", "")) for it in items]
    return out


def _save(accelerator: Any, output_dir: Path, step: int) -> Path:
    from motionkit.io.atomic import atomic_dir

    target = output_dir / CHECKPOINTS / f"step-{step}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(target) as tmp:
        accelerator.save_state(str(tmp))
        (tmp / "state.json").write_text(json.dumps({"step": step}))
    return target


def _place(nets: Networks, device: torch.device, trained: torch.nn.Module) -> None:
    """Move every network to ``device``; freeze and set to eval those outside the trained module."""
    inside = {id(p) for p in trained.parameters()}
    for module in vars(nets).values():
        if not isinstance(module, torch.nn.Module):
            continue
        module.to(device)
        if not any(id(p) in inside for p in module.parameters()):
            module.eval().requires_grad_(False)


def train(
    config: TrainConfig,
    networks: Networks | None = None,
    *,
    estimator: Any = None,
    dataset: Any = None,
    on_step: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Run (or resume) one training task.

    Args:
        config: the run's settings (task, data, optimiser, precision, checkpoints).
        networks: ready networks (tests build tiny ones); default: loaded from ``config.pretrained``.
        estimator: FlowEstimator for the flow labels (default: ``config.data.flow_estimator``).
        dataset: a ready dataset of items as :class:`VideoCaptionDataset` gives (overrides ``config.data``).
        on_step: ``on_step(step, loss)`` after every optimisation step.

    Returns:
        :class:`TrainResult` with the step reached and this run's losses.

    accelerate keeps one state per process, so one process trains with one ``mixed_precision``
    (as ``accelerate launch`` runs do).

    Example:
        >>> result = train(TrainConfig.from_yaml("controlnet.yaml"))   # doctest: +SKIP
        >>> result.step                                                 # doctest: +SKIP
        2000
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    accelerator = Accelerator(mixed_precision=config.mixed_precision,
                              gradient_accumulation_steps=config.gradient_accumulation_steps,
                              project_dir=str(output_dir))
    set_seed(config.seed)
    nets = networks or load_networks(config.task, config.pretrained)
    module = trained_module(config.task, nets)
    if module is None:
        raise InvalidInputError(f"task {config.task!r} needs its network, but none was given or loaded")
    params = set_trainable(module, list(config.trainable_modules or [""]))
    _place(nets, accelerator.device, module)
    module.train()
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.adam_weight_decay)
    data = dataset if dataset is not None else VideoCaptionDataset(config.data, estimator)
    loader = DataLoader(data, batch_size=config.batch_size, shuffle=True, collate_fn=_collate,
                        num_workers=config.num_workers, drop_last=len(data) >= config.batch_size)
    prepared, optimizer, loader = accelerator.prepare(module, optimizer, loader)
    _swap(nets, module, prepared)

    step = 0
    resume_from = latest_checkpoint(output_dir) if config.resume else None
    if resume_from is not None:
        accelerator.load_state(str(resume_from))
        step = int(json.loads((resume_from / "state.json").read_text())["step"])
    loss_fn = LOSSES[config.task]
    options = {"kl_weight": config.kl_weight, "null_text_ratio": config.null_text_ratio,
               "sparse_ratio_max": config.sparse_ratio_max}
    result = TrainResult(step=step, checkpoint=resume_from)
    log = output_dir / "loss.jsonl"
    while step < config.steps:
        for batch in loader:
            with accelerator.accumulate(prepared):
                with accelerator.autocast():
                    loss = loss_fn(nets, batch, **options)
                if not math.isfinite(float(loss.detach())):
                    raise InvalidInputError(f"training loss became {float(loss.detach())} at step {step}; lower the learning rate")
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(params, config.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad()
            if not accelerator.sync_gradients:
                continue
            step += 1
            value = float(accelerator.gather(loss.detach()).mean())
            result.losses.append(value)
            if on_step is not None:
                on_step(step, value)
            if config.log_samples:  # every process: which clips (its shard of the data) it trained on
                with (output_dir / f"samples-{accelerator.process_index}.jsonl").open("a") as fh:
                    fh.write(json.dumps({"step": step, "process": accelerator.process_index,
                                         "videos": list(batch.get("video", []))}) + "\n")
            if accelerator.is_main_process and step % config.log_every == 0:
                with log.open("a") as fh:
                    fh.write(json.dumps({"step": step, "loss": value}) + "\n")
            if step % config.checkpointing_steps == 0 or step == config.steps:
                accelerator.wait_for_everyone()
                if accelerator.is_main_process:
                    result.checkpoint = _save(accelerator, output_dir, step)
            if step >= config.steps:
                break
    result.step = step
    _swap(nets, prepared, accelerator.unwrap_model(prepared))
    return result


def _swap(nets: Networks, old: Any, new: Any) -> None:
    # The loss functions read networks from `nets`; point them at the prepared (wrapped) module.
    for name, module in vars(nets).items():
        if module is old:
            setattr(nets, name, new)
