"""Tiny, randomly initialised AnimateDiff components (the diffusers test style): CPU, seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

# Tiny models gain nothing from threads, and on a busy 2-core machine torch's thread pool
# spin-waits: one thread makes these tests 10-30x faster there.
torch.set_num_threads(1)


def tiny_tokenizer(folder: Path):
    """A CLIP tokenizer over single letters, written here because none can be downloaded."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for letter in "abcdefghijklmnopqrstuvwxyz":
        vocab[letter] = len(vocab)
        vocab[letter + "</w>"] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=8)


def tiny_pipeline(folder: Path):
    """An ``AnimateDiffVideoToVideoPipeline`` with a two-block UNet + motion adapter, VAE and CLIP text model."""
    from diffusers import AnimateDiffVideoToVideoPipeline, AutoencoderKL, DDIMScheduler, MotionAdapter, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=16,
        norm_num_groups=4,
        attention_head_dim=2,
    )
    adapter = MotionAdapter(
        block_out_channels=(8, 16),
        motion_layers_per_block=1,
        motion_norm_num_groups=4,
        motion_num_attention_heads=2,
        motion_max_seq_length=8,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=4,
        sample_size=32,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=2,
            vocab_size=64,
            projection_dim=16,
        )
    )
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False)
    return AnimateDiffVideoToVideoPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tiny_tokenizer(folder / "tokenizer-src"),
        unet=unet,
        motion_adapter=adapter,
        scheduler=scheduler,
    )


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory):
    return tiny_pipeline(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def saved_model(tmp_path_factory, pipeline) -> Path:
    """The tiny pipeline saved as a user's local model folder (``model_index.json`` + subfolders)."""
    folder = tmp_path_factory.mktemp("animatediff-model")
    pipeline.save_pretrained(folder)
    return folder


@pytest.fixture
def photo() -> torch.Tensor:
    """A 32 x 32 crop of scikit-image's cat photo, ``float32 (3, 32, 32)`` in [0, 1]."""
    from skimage import data

    cat = torch.from_numpy(data.chelsea()[120:248:4, 180:308:4].copy())
    return cat.permute(2, 0, 1).float() / 255.0
