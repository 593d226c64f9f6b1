"""Training entry points on a tiny synthetic dataset: data sampling, caching, loss going down, resuming."""

from __future__ import annotations

import json
import random

import pytest
import torch

from helpers.synthetic_videos import ShiftEstimator
from motionkit.errors import InvalidInputError, MotionFileError
from motionkit.training import DataConfig, TrainConfig, VideoCaptionDataset, latest_checkpoint, train, train_from_yaml
from motionkit.training.loop import _collate
from motionkit.training.losses import LOSSES, random_block_mask


@pytest.fixture
def data_config(video_folder, tmp_path) -> DataConfig:
    return DataConfig(folder=video_folder, size=(64, 64), frames=4, stride=[1, 3], flow_cache=tmp_path / "cache")


def test_dataset_items_have_strided_frames_flow_and_captions(data_config):
    ShiftEstimator.calls = 0
    data = VideoCaptionDataset(data_config, estimator=ShiftEstimator())
    assert len(data) == 3
    torch.manual_seed(0)
    item = data[0]
    assert item["pixel_values"].shape == (4, 3, 64, 64) and 0 <= item["pixel_values"].min() <= item["pixel_values"].max() <= 1
    assert item["flow"].shape == (4, 2, 64, 64)
    gaps = torch.diff(item["stride"])
    assert item["stride"][0] == 0 and (gaps == gaps[0]).all() and 1 <= int(gaps[0]) <= 3
    assert item["text"] == "a yellow square slides right 0" and data[2]["text"] == ""
    # the square moves 2 px per frame: frame k of the sample is shifted by 2 * stride[k]
    col = (item["pixel_values"][:, 0, 28] > 0.6).float().argmax(dim=-1).float()  # left edge of the square
    assert torch.allclose(col - col[0], 2 * item["stride"].float(), atol=1.5)


def test_flow_labels_are_cached(data_config):
    ShiftEstimator.calls = 0
    data = VideoCaptionDataset(data_config.model_copy(update={"stride": 2}), estimator=ShiftEstimator())
    torch.manual_seed(3)
    first = data[1]["flow"]
    calls = ShiftEstimator.calls
    torch.manual_seed(3)
    assert torch.equal(data[1]["flow"], first)
    assert ShiftEstimator.calls == calls and any(data_config.flow_cache.glob("*.pt"))


def test_default_estimator_is_dis(data_config):
    from motionkit.classical.flow import DISFlowEstimator

    assert isinstance(VideoCaptionDataset(data_config).estimator, DISFlowEstimator)


def test_random_block_mask_keeps_the_requested_share():
    mask = random_block_mask(3, (32, 64), 0.25)
    assert mask.shape == (3, 1, 32, 64)
    assert all(int(m.sum()) == int(32 * 0.25) * 64 for m in mask)  # 8 of 32 blocks of 64 px


def _fixed_batch(data_config):
    data = VideoCaptionDataset(data_config.model_copy(update={"stride": 2}), estimator=ShiftEstimator())
    torch.manual_seed(0)
    return _collate([data[0], data[1]])


def _eval_loss(task, nets, batch) -> float:
    values = []
    with torch.no_grad():
        for seed in range(4):
            torch.manual_seed(seed)
            random.seed(seed)
            values.append(float(LOSSES[task](nets, batch, null_text_ratio=0.0, sparse_ratio_max=0.5, kl_weight=1e-6)))
    return sum(values) / len(values)


@pytest.mark.parametrize("task", ["flow-vae", "stage1", "controlnet", "stage2"])
def test_training_lowers_the_loss_and_resumes(task, make_networks, data_config, tmp_path):
    nets = make_networks(task)
    batch = _fixed_batch(data_config)
    before = _eval_loss(task, nets, batch)
    fixed = [{**{k: v[i] for k, v in batch.items() if k != "text"}, "text": batch["text"][i]} for i in range(2)]
    config = TrainConfig(task=task, output_dir=tmp_path / "run", data=data_config, steps=6, batch_size=2,
                         learning_rate=3e-3, checkpointing_steps=3, null_text_ratio=0.0, seed=0)
    result = train(config, nets, dataset=fixed)
    assert result.step == 6 and len(result.losses) == 6
    after = _eval_loss(task, nets, batch)  # the networks were trained in place
    assert after < before, (task, before, after)
    assert latest_checkpoint(tmp_path / "run").name == "step-6"
    logged = [json.loads(line) for line in (tmp_path / "run" / "loss.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == list(range(1, 7))
    # resume: a longer run continues from step 6 and only runs the missing steps
    resumed = train(config.model_copy(update={"steps": 8}), make_networks(task), dataset=fixed)
    assert resumed.step == 8 and len(resumed.losses) == 2


def test_only_the_controlnet_is_trained(make_networks, data_config, tmp_path):
    nets = make_networks("controlnet")
    unet = nets.stage1_unet
    frozen = {n: p.detach().clone() for n, p in unet.named_parameters() if not n.startswith("controlnet.")}
    tuned = {n: p.detach().clone() for n, p in unet.named_parameters() if n.startswith("controlnet.")}
    fixed = [VideoCaptionDataset(data_config, estimator=ShiftEstimator())[0]]
    train(TrainConfig(task="controlnet", output_dir=tmp_path / "c", data=data_config, steps=2, learning_rate=1e-3), nets, dataset=fixed)
    params = dict(unet.named_parameters())
    assert all(torch.equal(params[n], p) for n, p in frozen.items())
    assert any(not torch.equal(params[n], p) for n, p in tuned.items())


def test_yaml_config_and_errors(tmp_path, video_folder):
    path = tmp_path / "run.yaml"
    path.write_text(f"task: stage2\noutput_dir: {tmp_path / 'out'}\ndata:\n  folder: {video_folder}\n  size: [64, 64]\n  frames: 4\n")
    cfg = TrainConfig.from_yaml(path)
    assert cfg.task == "stage2" and cfg.data.size == (64, 64) and cfg.trainable_modules == ["motion_modules."]
    assert TrainConfig.from_yaml(path, task="controlnet").trainable_modules == ["controlnet."]
    path.write_text("task: [oops")
    with pytest.raises(MotionFileError):
        TrainConfig.from_yaml(path)
    path.write_text("task: stage9\noutput_dir: x\ndata: {folder: x}\n")
    with pytest.raises(InvalidInputError):
        TrainConfig.from_yaml(path)
    with pytest.raises(InvalidInputError):
        VideoCaptionDataset(DataConfig(folder=tmp_path / "missing"))


def test_missing_pretrained_weights_point_to_the_converter(tmp_path, video_folder):
    from motionkit.errors import WeightsNotFoundError

    path = tmp_path / "run.yaml"
    path.write_text(f"task: stage1\noutput_dir: {tmp_path / 'o'}\npretrained: {tmp_path / 'none'}\ndata: {{folder: {video_folder}}}\n")
    with pytest.raises(WeightsNotFoundError, match="convert-official"):
        train_from_yaml(path)


@pytest.fixture
def fresh_accelerate():
    # accelerate keeps one process-wide state; a run with another precision needs a fresh one
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(True)
    yield
    AcceleratorState._reset_state(True)


def test_bf16_mixed_precision_steps(make_networks, data_config, tmp_path, fresh_accelerate):
    fixed = [VideoCaptionDataset(data_config, estimator=ShiftEstimator())[0]]
    config = TrainConfig(task="stage2", output_dir=tmp_path / "bf16", data=data_config, steps=2, mixed_precision="bf16",
                         learning_rate=1e-3)
    result = train(config, make_networks("stage2"), dataset=fixed)
    assert result.step == 2 and all(torch.isfinite(torch.tensor(result.losses)))
