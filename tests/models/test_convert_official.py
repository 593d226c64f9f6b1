"""convert_official on a tiny folder laid out like the official release (wangfuyun/Motion-I2V).

The folder is written by the test: the tiny official fixture weights as ``.bin`` pickles under
the official names, tiny random VAEs (old diffusers attention names; the RealisticVision VAE
in LDM format) and a tiny CLIP text encoder. After conversion the motionkit models must give
the official fixture outputs.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import torch
from diffusers import AutoencoderKL
from safetensors.torch import load_file, save_file
from transformers import CLIPTextConfig, CLIPTextModel

from motionkit.errors import CheckpointMismatchError, WeightsNotFoundError
from motionkit.models.motion_i2v.convert import (
    CONVERTED_LAYOUT,
    STAGE2_TEXT_LAYOUT,
    convert_official,
    official_paths,
)

ATOL = RTOL = 1e-4
ADDITIONAL = (
    "use_inflated_groupnorm", "unet_use_cross_frame_attention", "unet_use_temporal_attention", "use_motion_module",
    "motion_module_resolutions", "motion_module_mid_block", "motion_module_decoder_only", "motion_module_type",
    "motion_module_kwargs",
)
VAE_TINY = dict(block_out_channels=[8, 8], down_block_types=["DownEncoderBlock2D"] * 2,
                up_block_types=["UpDecoderBlock2D"] * 2, norm_num_groups=4, layers_per_block=1, sample_size=16)


def old_vae_names(state: dict) -> dict:
    """Current diffusers VAE keys -> diffusers 0.11.1 names (query/key/value/proj_attn)."""
    names = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}
    return {re.sub(r"\.(to_q|to_k|to_v|to_out\.0)\.", lambda m: f".{names[m.group(1)]}.", k): v for k, v in state.items()}


def ldm_vae_names(state: dict, levels: int) -> dict:
    """Current diffusers VAE keys -> the LDM (``first_stage_model.``) layout of a full SD checkpoint."""
    out = {}
    for key, value in state.items():
        new = key
        new = re.sub(r"encoder\.down_blocks\.(\d+)\.resnets\.(\d+)", r"encoder.down.\1.block.\2", new)
        new = re.sub(r"encoder\.down_blocks\.(\d+)\.downsamplers\.0", r"encoder.down.\1.downsample", new)
        new = re.sub(r"decoder\.up_blocks\.(\d+)", lambda m: f"decoder.up.{levels - 1 - int(m.group(1))}", new)
        new = re.sub(r"(decoder\.up\.\d+)\.resnets\.(\d+)", r"\1.block.\2", new)
        new = new.replace(".upsamplers.0.", ".upsample.")
        new = re.sub(r"mid_block\.resnets\.(\d+)", lambda m: f"mid.block_{int(m.group(1)) + 1}", new)
        new = new.replace("mid_block.attentions.0.", "mid.attn_1.")
        for ours, theirs in (("group_norm", "norm"), ("to_q", "q"), ("to_k", "k"), ("to_v", "v"), ("to_out.0", "proj_out")):
            new = new.replace(f"mid.attn_1.{ours}.", f"mid.attn_1.{theirs}.")
        new = new.replace("conv_shortcut", "nin_shortcut").replace("conv_norm_out", "norm_out")
        if "mid.attn_1." in new and new.endswith(".weight") and value.dim() == 2:
            value = value[:, :, None, None]  # LDM stores these as 1x1 convolutions
        out["first_stage_model." + new] = value
    return out


def _write_hf(folder: Path, seed: int) -> CLIPTextModel:
    torch.manual_seed(seed)
    model = CLIPTextModel(CLIPTextConfig(vocab_size=64, hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                                         num_attention_heads=2, max_position_embeddings=16)).eval()
    model.save_pretrained(folder / "text_encoder", safe_serialization=False)
    (folder / "tokenizer").mkdir(parents=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "a</w>": 2, "cat</w>": 3}
    (folder / "tokenizer" / "vocab.json").write_text(json.dumps(vocab))
    (folder / "tokenizer" / "merges.txt").write_text("#version: 0.2\n")
    (folder / "tokenizer" / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 77}))
    return model


def _write_unet_config(path: Path, init_kwargs: dict) -> None:
    config = {k: v for k, v in init_kwargs.items() if k not in ADDITIONAL}
    config["down_block_types"] = [t.replace("3D", "2D") for t in config["down_block_types"]]
    config["up_block_types"] = [t.replace("3D", "2D") for t in config["up_block_types"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"_class_name": "UNet2DConditionModel", **config}))


def _save_bin(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)


@pytest.fixture(scope="module")
def release(tmp_path_factory, official_fixtures):
    """A tiny official-layout folder; returns (folder, expectations)."""
    root = tmp_path_factory.mktemp("Motion-I2V")
    paths = official_paths(root)
    tiny = official_fixtures / "tiny"
    stage1_kwargs = json.loads((tiny / "stage1_unet_config.json").read_text())["init_kwargs"]
    stage2_kwargs = json.loads((tiny / "stage2_unet_config.json").read_text())["init_kwargs"]
    stage1, controlnet, stage2 = (load_file(tiny / f) for f in
                                  ("stage1_unet.safetensors", "controlnet.safetensors", "stage2_unet.safetensors"))

    _write_unet_config(paths["stage1_unet_config"], stage1_kwargs)
    _save_bin(paths["stage1_unet"], stage1)
    _save_bin(paths["controlnet"], {"controlnet." + k: v for k, v in controlnet.items()})

    torch.manual_seed(1)
    flow_vae = AutoencoderKL(in_channels=2, out_channels=2, **VAE_TINY).eval()
    paths["flow_vae_config"].parent.mkdir(parents=True)
    paths["flow_vae_config"].write_text(json.dumps({"_class_name": "AutoencoderKL", **flow_vae.config}))
    _save_bin(paths["flow_vae"], old_vae_names(flow_vae.state_dict()))
    text1 = _write_hf(paths["stage1_text_encoder"].parent, seed=2)

    # Stage 2: SD-1.5 base (perturbed 2D weights), motion modules, then the "RealisticVision" UNet
    # (the true 2D weights); the result is right only if the files are applied in that order.
    _write_unet_config(paths["sd15_unet_config"], stage2_kwargs)
    spatial = {k: v for k, v in stage2.items() if ".motion_modules." not in k}
    _save_bin(paths["sd15_unet"], {k: v + 1.0 for k, v in spatial.items()})
    _save_bin(paths["motion_block"], {k: v for k, v in stage2.items() if ".motion_modules." in k})
    _save_bin(paths["realistic_unet"], spatial)

    torch.manual_seed(3)
    image_vae = AutoencoderKL(**VAE_TINY).eval()
    paths["sd15_vae_config"].parent.mkdir(parents=True)
    paths["sd15_vae_config"].write_text(json.dumps({"_class_name": "AutoencoderKL", **image_vae.config}))
    _save_bin(paths["sd15_vae"], old_vae_names(image_vae.state_dict()))
    torch.manual_seed(4)
    realistic_vae = AutoencoderKL(**VAE_TINY).eval()
    ldm = ldm_vae_names(realistic_vae.state_dict(), levels=2)
    ldm["model.diffusion_model.out.2.bias"] = torch.zeros(4)  # the rest of a full SD checkpoint
    save_file(ldm, paths["realistic_checkpoint"])
    text2 = _write_hf(paths["stage2_text_encoder"].parent, seed=5)

    additional = {k: stage1_kwargs[k] for k in ADDITIONAL}
    models = dict(flow_vae=flow_vae, image_vae=image_vae, realistic_vae=realistic_vae, text1=text1, text2=text2)
    return root, additional, models


@pytest.fixture(scope="module")
def converted(release, tmp_path_factory):
    root, additional, _ = release
    dst = tmp_path_factory.mktemp("out") / "motion-i2v"
    lines: list[str] = []
    assert convert_official(root, dst, progress=lines.append, unet_additional_kwargs=additional) == dst
    assert any("7/7" in line for line in lines)
    return dst


@pytest.fixture(scope="module")
def cases(official_fixtures):
    return load_file(official_fixtures / "tiny" / "cases.safetensors")


def test_layout_is_safetensors_and_configs_only(converted):
    files = [p for p in converted.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in (".bin", ".ckpt", ".pt", ".pth")]
    parts = {**CONVERTED_LAYOUT, **STAGE2_TEXT_LAYOUT}  # the two test text encoders differ
    assert {p.name for p in converted.iterdir() if p.is_dir()} == set(parts.values())
    for sub in ("stage1_unet", "controlnet", "stage2_unet", "flow_vae", "image_vae", "stage2_vae"):
        assert (converted / sub / "config.json").is_file()
        assert (converted / sub / "diffusion_pytorch_model.safetensors").is_file()
    assert json.loads((converted / "motion_i2v.json").read_text())["components"] == parts


def test_unet_and_controlnet_weights_equal_the_official_ones_exactly(converted, official_fixtures):
    tiny = official_fixtures / "tiny"
    for sub, reference in (("stage1_unet", "stage1_unet"), ("controlnet", "controlnet"),
                           ("stage2_unet", "stage2_unet")):
        ours = load_file(converted / sub / "diffusion_pytorch_model.safetensors")
        theirs = load_file(tiny / f"{reference}.safetensors")
        assert ours.keys() == theirs.keys(), sub
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), sub


def test_converted_stage1_reproduces_the_official_output(converted, cases):
    from motionkit.models.motion_i2v.controlnet import FlowControlNetModel
    from motionkit.models.motion_i2v.unet import FlowUNet3DConditionModel

    unet = FlowUNet3DConditionModel.from_pretrained(converted / "stage1_unet").eval()
    unet.attach_controlnet(FlowControlNetModel.from_pretrained(converted / "controlnet").eval())
    with torch.no_grad():
        out = unet(cases["stage1b.sample"], cases["stage1b.timestep"], cases["stage1b.stride"],
                   cases["stage1b.encoder_hidden_states"], control=cases["stage1b.controlnet_cond"]).sample
    torch.testing.assert_close(out, cases["stage1b.out_with_control"], atol=ATOL, rtol=RTOL)


def test_converted_stage2_reproduces_the_official_output(converted, cases):
    from motionkit.models.motion_i2v.unet import AnimationUNet3DConditionModel

    unet = AnimationUNet3DConditionModel.from_pretrained(converted / "stage2_unet").eval()
    with torch.no_grad():
        out = unet(cases["stage2.sample"][:1], cases["stage2.timestep"], cases["stage2.encoder_hidden_states"][:1],
                   flow_pre=cases["stage2.flow_pre"][:1]).sample
    torch.testing.assert_close(out, cases["stage2_b1.out"], atol=ATOL, rtol=RTOL)


def test_vaes_and_text_encoders_equal_their_sources(converted, release):
    _, _, models = release
    x2, x3 = torch.rand(1, 2, 16, 16), torch.rand(1, 3, 16, 16)
    pairs = [("flow_vae", models["flow_vae"], x2), ("image_vae", models["image_vae"], x3),
             ("stage2_vae", models["realistic_vae"], x3)]
    with torch.no_grad():
        for sub, source, x in pairs:
            ours = AutoencoderKL.from_pretrained(converted / sub).eval()
            torch.testing.assert_close(ours(x, sample_posterior=False).sample, source(x, sample_posterior=False).sample)
        tokens = torch.tensor([[1, 5, 7, 2]])
        for sub, source in (("text_encoder", models["text1"]), ("stage2_text_encoder", models["text2"])):
            ours = CLIPTextModel.from_pretrained(converted / sub).eval()
            torch.testing.assert_close(ours(tokens).last_hidden_state, source(tokens).last_hidden_state)
    assert json.loads((converted / "tokenizer/vocab.json").read_text())["cat</w>"] == 3


def test_the_pipeline_loaders_read_the_converted_folder(converted):
    from motionkit.pipelines.motion_i2v.weights import load_animator, load_flow_generator

    generator = load_flow_generator(converted)
    animator = load_animator(converted)
    assert generator.unet.controlnet is not None and animator.unet is not None


def test_missing_release_names_every_expected_path(tmp_path):
    with pytest.raises(WeightsNotFoundError) as info:
        convert_official(tmp_path / "nowhere", tmp_path / "out", progress=False)
    message = str(info.value)
    assert "motion_block.bin" in message and "controlnet.bin" in message and "wangfuyun/Motion-I2V" in message
    assert not (tmp_path / "out").exists()


def _copy_release(root: Path, target: Path) -> dict[str, Path]:
    shutil.copytree(root, target)
    return official_paths(target)


def test_extra_key_is_named_and_nothing_is_written(release, tmp_path):
    root, additional, _ = release
    paths = _copy_release(root, tmp_path / "release")
    motion = torch.load(paths["motion_block"], weights_only=True)
    motion["mid_block.motion_modules.0.surprise.weight"] = torch.zeros(1)
    torch.save(motion, paths["motion_block"])
    with pytest.raises(CheckpointMismatchError, match=r"motion_block\.bin[\s\S]*surprise\.weight"):
        convert_official(tmp_path / "release", tmp_path / "out", progress=False, unet_additional_kwargs=additional)
    assert not (tmp_path / "out").exists()


def test_missing_key_and_wrong_shape_are_named(release, tmp_path):
    root, additional, _ = release
    paths = _copy_release(root, tmp_path / "release")
    control = torch.load(paths["controlnet"], weights_only=True)
    del control["controlnet.controlnet_mid_block.weight"]
    control["controlnet.conv_in.bias"] = torch.zeros(3)
    torch.save(control, paths["controlnet"])
    with pytest.raises(CheckpointMismatchError) as info:
        convert_official(tmp_path / "release", tmp_path / "out", progress=False, unet_additional_kwargs=additional)
    assert "controlnet.conv_in.bias [3]" in str(info.value)
    control["controlnet.conv_in.bias"] = torch.zeros(32)
    torch.save(control, paths["controlnet"])
    with pytest.raises(CheckpointMismatchError, match=r"missing key\(s\): controlnet\.controlnet_mid_block\.weight"):
        convert_official(tmp_path / "release", tmp_path / "out", progress=False, unet_additional_kwargs=additional)


def test_ldm_realistic_unet_is_converted_and_missing_pe_tables_are_recomputed(
        release, tmp_path, official_fixtures, monkeypatch):
    """An LDM-keyed realistic_unet.ckpt goes through diffusers' converter (a stand-in here: the
    real one needs the full LDM layout); pe tables absent from motion_block.bin are rebuilt."""
    import diffusers.loaders.single_file_utils as single_file

    root, additional, _ = release
    paths = _copy_release(root, tmp_path / "release")
    prefix = "model.diffusion_model."
    realistic = torch.load(paths["realistic_unet"], weights_only=True)
    torch.save({prefix + k: v for k, v in realistic.items()}, paths["realistic_unet"])
    motion = torch.load(paths["motion_block"], weights_only=True)
    torch.save({k: v for k, v in motion.items() if not k.endswith("pos_encoder.pe")}, paths["motion_block"])
    for part in ("text_encoder", "tokenizer"):  # one shared text model: written once
        shutil.rmtree(paths[f"stage2_{part}"])
        shutil.copytree(paths[f"stage1_{part}"], paths[f"stage2_{part}"])
    seen = []

    def stand_in(checkpoint, config):
        seen.append(config["layers_per_block"])
        return {k[len(prefix):]: v for k, v in checkpoint.items()}

    monkeypatch.setattr(single_file, "convert_ldm_unet_checkpoint", stand_in)
    lines: list[str] = []
    convert_official(tmp_path / "release", tmp_path / "out", progress=lines.append, unet_additional_kwargs=additional)
    assert seen == [1]
    assert any("LDM format" in line for line in lines)
    assert any("positional-encoding tables" in line for line in lines)
    assert not (tmp_path / "out/stage2_text_encoder").exists()
    ours = load_file(tmp_path / "out/stage2_unet/diffusion_pytorch_model.safetensors")
    theirs = load_file(official_fixtures / "tiny/stage2_unet.safetensors")
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
