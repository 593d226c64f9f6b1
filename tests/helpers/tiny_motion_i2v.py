"""Tiny random Motion-I2V components (diffusers test style) that run on a CPU in seconds.

Shared by the pipeline and training tests (imported by their conftest files).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from diffusers import AutoencoderKL
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer


TEXT_DIM = 16

UNET_KWARGS = dict(
    block_out_channels=(32, 32),  # motion modules always norm in 32 groups
    layers_per_block=1,
    down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
    up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
    norm_num_groups=8,
    cross_attention_dim=TEXT_DIM,
    attention_head_dim=2,
    use_inflated_groupnorm=True,
    use_motion_module=True,
    motion_module_resolutions=(1, 2),
    motion_module_mid_block=False,
    motion_module_type="Vanilla",
    motion_module_kwargs={"num_attention_heads": 2, "num_transformer_block": 1,
                          "temporal_position_encoding": True, "temporal_position_encoding_max_len": 32},
)


def _bytes_to_unicode() -> list[str]:
    # The byte-level alphabet GPT-2 / CLIP BPE use, so any text tokenises.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def tiny_tokenizer(folder: Path, max_length: int = 12) -> CLIPTokenizer:
    """A CLIP tokenizer with a character vocabulary and no merges."""
    chars = _bytes_to_unicode()
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in chars:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=max_length)


def tiny_text_encoder(vocab_size: int) -> CLIPTextModel:
    config = CLIPTextConfig(vocab_size=vocab_size, hidden_size=TEXT_DIM, intermediate_size=32, num_hidden_layers=1,
                            num_attention_heads=2, max_position_embeddings=16, bos_token_id=0, eos_token_id=1, pad_token_id=1)
    return CLIPTextModel(config).eval()


def tiny_vae(channels: int) -> AutoencoderKL:
    return AutoencoderKL(in_channels=channels, out_channels=channels, down_block_types=["DownEncoderBlock2D"] * 4,
                         up_block_types=["UpDecoderBlock2D"] * 4, block_out_channels=[8, 8, 8, 8], layers_per_block=1,
                         latent_channels=4, norm_num_groups=4, sample_size=64).eval()


def _wake(module: torch.nn.Module, scale: float = 0.05) -> None:
    # Zero-initialised convs (ControlNet outputs, motion-module proj_out) would hide wiring errors.
    with torch.no_grad():
        for p in module.parameters():
            if p.dim() > 1 and not p.abs().any():
                p.normal_(0, scale)
