"""Key maps against the full-size official key lists, and the strict state-dict conversion."""

from __future__ import annotations

import json
import re

import pytest
import torch
from diffusers import AutoencoderKL

from motionkit.errors import CheckpointMismatchError, InvalidInputError, WeightsNotFoundError
from motionkit.models.motion_i2v.convert import convert_state_dict, load_official_file
from motionkit.models.motion_i2v.keys import check_keys_full, motionkit_key, split_stage1


def test_every_full_size_official_key_is_consumed_with_its_shape(official_fixtures):
    path = official_fixtures / "keys_full.json"
    counts = {name: section["num_keys"] for name, section in json.loads(path.read_text()).items()
              if isinstance(section, dict) and "num_keys" in section}
    records = check_keys_full(path)
    assert {r.section for r in records} == set(counts)
    for record in records:
        assert record.ok, record.as_dict()
        assert record.official_keys == record.model_keys == counts[record.section]


def test_vae_attention_names_are_modernised_and_others_kept():
    assert motionkit_key("flow_vae", "encoder.mid_block.attentions.0.query.weight") == \
        "encoder.mid_block.attentions.0.to_q.weight"
    assert motionkit_key("image_vae", "decoder.mid_block.attentions.0.proj_attn.bias") == \
        "decoder.mid_block.attentions.0.to_out.0.bias"
    assert motionkit_key("flow_vae", "encoder.mid_block.attentions.0.group_norm.weight") == \
        "encoder.mid_block.attentions.0.group_norm.weight"
    # UNet keys never change, even where a name contains "key" or "value"
    unet_key = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_k.weight"
    assert motionkit_key("stage2_unet", unet_key) == unet_key
    with pytest.raises(InvalidInputError, match="unknown checkpoint kind"):
        motionkit_key("stage3", unet_key)


def test_split_stage1_strips_only_the_controlnet_prefix():
    unet, controlnet = split_stage1({"conv_in.weight": 1, "controlnet.conv_in.weight": 2,
                                     "controlnet.controlnet_mid_block.bias": 3})
    assert unet == {"conv_in.weight": 1}
    assert controlnet == {"conv_in.weight": 2, "controlnet_mid_block.bias": 3}


def _tiny_vae() -> AutoencoderKL:
    return AutoencoderKL(in_channels=2, out_channels=2, block_out_channels=[8], norm_num_groups=4,
                         down_block_types=["DownEncoderBlock2D"], up_block_types=["UpDecoderBlock2D"])


def _as_official(vae: AutoencoderKL) -> dict[str, torch.Tensor]:
    names = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}
    out = {}
    for key, value in vae.state_dict().items():
        for new, old in names.items():
            key = key.replace(f".{new}.", f".{old}.")
        out[key] = value
    return out


def test_convert_state_dict_round_trips_a_vae_and_flattens_conv_attention():
    vae = _tiny_vae()
    official = _as_official(vae)
    official["encoder.mid_block.attentions.0.query.weight"] = official["encoder.mid_block.attentions.0.query.weight"][:, :, None, None]
    converted = convert_state_dict("flow_vae", official, vae)
    assert converted.keys() == vae.state_dict().keys()
    assert all(torch.equal(converted[k], v) for k, v in vae.state_dict().items())


def test_convert_state_dict_names_every_difference():
    vae = _tiny_vae()
    official = _as_official(vae)
    del official["decoder.conv_out.bias"]
    official["decoder.extra.weight"] = torch.zeros(1)
    official["encoder.conv_in.weight"] = torch.zeros(8, 3, 3, 3)
    with pytest.raises(CheckpointMismatchError) as info:
        convert_state_dict("flow_vae", official, vae, what="vae_flow.bin")
    message = str(info.value)
    assert "vae_flow.bin" in message
    assert "missing key(s): decoder.conv_out.bias" in message
    assert "unexpected key(s): decoder.extra.weight" in message
    assert "encoder.conv_in.weight [8, 3, 3, 3] (expected [8, 2, 3, 3])" in message


class NotATensor:
    pass


def test_load_official_file_is_safe_and_clear(tmp_path):
    with pytest.raises(WeightsNotFoundError, match=r"missing\.bin[\s\S]*wangfuyun/Motion-I2V"):
        load_official_file(tmp_path / "missing.bin")
    torch.save({"state_dict": {"a": torch.ones(2)}}, tmp_path / "wrapped.ckpt")
    assert torch.equal(load_official_file(tmp_path / "wrapped.ckpt")["a"], torch.ones(2))
    torch.save({"a": NotATensor()}, tmp_path / "code.bin")  # weights_only refuses arbitrary objects
    with pytest.raises(CheckpointMismatchError, match="code.bin"):
        load_official_file(tmp_path / "code.bin")
    (tmp_path / "garbage.bin").write_bytes(b"not a pickle")
    with pytest.raises(CheckpointMismatchError, match="re-download"):
        load_official_file(tmp_path / "garbage.bin")


def test_check_keys_full_reports_gaps_leftovers_and_shapes(official_fixtures, tmp_path):
    data = json.loads((official_fixtures / "keys_full.json").read_text())
    motion = data["stage2_motion_block_bin"]["keys"]
    dropped = motion.pop(0)["key"]
    motion.append({"key": "mid_block.motion_modules.0.bogus.weight", "shape": [1], "dtype": "float32"})
    data["flow_vae"]["keys"][0]["shape"] = [128, 3, 3, 3]
    (tmp_path / "keys_full.json").write_text(json.dumps(data))
    records = {r.section: r for r in check_keys_full(tmp_path / "keys_full.json")}
    assert records["stage2_motion_block_bin"].missing == [dropped]
    assert records["stage2_motion_block_bin"].extra == ["mid_block.motion_modules.0.bogus.weight"]
    assert records["flow_vae"].shape_mismatches == [("encoder.conv_in.weight", (128, 3, 3, 3), (128, 2, 3, 3))]
    assert not records["flow_vae"].as_dict()["ok"] and records["stage2_unet"].ok


@pytest.mark.parametrize(("kind", "section"), [
    ("stage1_combined", None), ("stage2_unet", "stage2_unet"), ("motion_modules", "stage2_motion_block_bin"),
    ("flow_vae", "flow_vae"), ("image_vae", "image_vae_sd15"),
])
def test_release_files_convert_against_the_release_architecture_by_default(official_fixtures, kind, section):
    """Meta tensors with the official full-size names and shapes stand in for the released files."""
    data = json.loads((official_fixtures / "keys_full.json").read_text())
    if section is None:  # the combined stage-1 dict: UNet keys, then the prefixed ControlNet keys
        entries = data["stage1_unet"]["keys"] + [{**e, "key": "controlnet." + e["key"]}
                                                 for e in data["stage1_controlnet"]["keys"]]
    else:
        entries = data[section]["keys"]
    official = {e["key"]: torch.empty(e["shape"], device="meta") for e in entries}
    assert len(convert_state_dict(kind, official)) == len(official)
    dropped = entries[-1]["key"]
    del official[dropped]
    with pytest.raises(CheckpointMismatchError, match=re.escape(motionkit_key(kind, dropped))):
        convert_state_dict(kind, official)
