"""The forward cases: each official network output of ``cases.safetensors``, recomputed.

``cases.safetensors`` holds the inputs and official outputs of forward calls, named
``<case>.<tensor>``. The cases are discovered from the keys (families ``stage1*``, ``stage2*``,
``mm*``, ``attn*``; a ``_b1`` case without its own inputs uses batch element 0 of its base
case). With ``keys_full.json`` every official full-size key list is also mapped by the
converter onto modules built at full size on the ``meta`` device
(:func:`motionkit.models.motion_i2v.keys.check_keys_full`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from motionkit.fidelity.fixtures import load_fixture_model
from motionkit.fidelity.records import CheckRecord, compare, failure
from motionkit.models.motion_i2v.keys import check_keys_full
from motionkit.models.motion_i2v.temporal_attention import resize_flow

# (atol, rtol) per case family, from the fixtures' README section 7.
TOLERANCES = {"stage1": (1e-4, 1e-4), "stage2": (1e-4, 1e-4), "mm": (2e-5, 1e-5), "attn": (2e-5, 1e-5)}


class _Cases:
    """The tensors of ``cases.safetensors`` with the ``_b1`` fallback to a base case."""

    def __init__(self, tensors: dict[str, torch.Tensor]) -> None:
        self.tensors = tensors
        self.prefixes = sorted({k.split(".", 1)[0] for k in tensors})

    def names(self, prefix: str) -> list[str]:
        return sorted(k.split(".", 1)[1] for k in self.tensors if k.startswith(prefix + "."))

    def get(self, prefix: str, name: str, rows: int | None = None) -> torch.Tensor:
        key = f"{prefix}.{name}"
        if key in self.tensors:
            return self.tensors[key]
        base, _, suffix = prefix.rpartition("_b")
        if not (base and suffix.isdigit()):
            raise KeyError(key)
        value = self.tensors[f"{base}.{name}"]
        # Batched inputs keep their first batch rows; scalars and (1, F) strides stay as they are.
        count = int(suffix) if rows is None else rows
        return value if value.dim() == 0 or value.shape[0] == 1 else value[:count]


def _family(prefix: str) -> str | None:
    for family in ("stage1", "stage2", "mm", "attn"):
        if prefix.startswith(family):
            return family
    return None


def _stage1_case(cases: _Cases, prefix: str, models: dict, atol: float, rtol: float) -> list[CheckRecord]:
    inputs = {"sample", "timestep", "stride", "encoder_hidden_states", "controlnet_cond"}
    args = [cases.get(prefix, n) for n in ("sample", "timestep", "stride", "encoder_hidden_states")]
    unet, controlnet = models["stage1_unet"], models["controlnet"]
    records = []
    with torch.no_grad():
        unet.attach_controlnet(None)
        outputs = {"out_no_control": unet(*args).sample}
        if any(n.startswith(("controlnet", "out_with")) for n in cases.names(prefix)):
            cond = cases.get(prefix, "controlnet_cond")
            down, mid = controlnet(*args, cond, conditioning_scale=1.0, return_dict=False)
            outputs["controlnet_mid_res"] = mid
            outputs.update({f"controlnet_down_res.{i}": r for i, r in enumerate(down)})
            unet.attach_controlnet(controlnet, 1.0)
            outputs["out_with_control"] = unet(*args, control=cond).sample
    for name in cases.names(prefix):
        if name in inputs:
            continue
        full = f"{prefix}.{name}"
        if name in outputs:
            records.append(compare(full, outputs[name], cases.tensors[full], atol, rtol))
        else:
            records.append(failure(full, "no motionkit output corresponds to this stored tensor"))
    return records


def _stage2_case(cases: _Cases, prefix: str, models: dict, atol: float, rtol: float) -> list[CheckRecord]:
    unet = models["stage2_unet"]
    with torch.no_grad():
        out = unet(cases.get(prefix, "sample"), cases.get(prefix, "timestep"),
                   cases.get(prefix, "encoder_hidden_states"), cases.get(prefix, "flow_pre")).sample
    return [compare(f"{prefix}.out", out, cases.tensors[f"{prefix}.out"], atol, rtol)]


def _mm_case(cases: _Cases, prefix: str, models: dict, atol: float, rtol: float) -> list[CheckRecord]:
    with torch.no_grad():
        out = models["motion_module"](cases.get(prefix, "hidden_states"), flow_pre=cases.get(prefix, "flow_pre"))
    return [compare(f"{prefix}.out", out, cases.tensors[f"{prefix}.out"], atol, rtol)]


def _attn_case(cases: _Cases, prefix: str, models: dict, atol: float, rtol: float) -> list[CheckRecord]:
    # attention_blocks[0] of the standalone module; its flow and sizes come from the mm case.
    attention = models["motion_module"].temporal_transformer.transformer_blocks[0].attention_blocks[0]
    mm_prefix = prefix.replace("attn", "mm", 1)
    flow = cases.get(mm_prefix, "flow_pre")
    batch, frames = flow.shape[:2]
    height, width = cases.get(mm_prefix, "hidden_states").shape[-2:]
    hidden = cases.get(prefix, "hidden_states", rows=batch * frames)
    records = []
    with torch.no_grad():
        runs = {"out": flow}
        if f"{prefix}.out_same_res" in cases.tensors:
            runs["out_same_res"] = cases.get(prefix, "flow_pre_same_res")
        for name, f in runs.items():
            out = attention(hidden, video_length=frames, flow_pre=f, hw=(height, width))
            records.append(compare(f"{prefix}.{name}", out, cases.tensors[f"{prefix}.{name}"], atol, rtol))
        resized = resize_flow(flow.flatten(0, 1), (height, width)).reshape(batch, frames, 2, height, width)
        if f"{prefix}.splat_flow" in cases.tensors:
            records.append(compare(f"{prefix}.splat_flow", resized[:, 1:].flatten(0, 1),
                                   cases.tensors[f"{prefix}.splat_flow"], atol, rtol))
        if f"{prefix}.splat_out" in cases.tensors:
            records.append(compare(f"{prefix}.splat_out", attention.warp_reference(hidden, resized),
                                   cases.tensors[f"{prefix}.splat_out"], atol, rtol))
    return records


_CASE_RUNNERS = {"stage1": _stage1_case, "stage2": _stage2_case, "mm": _mm_case, "attn": _attn_case}


class _LazyModels(dict):
    """Loads each official model of a fixture folder on first use."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def __missing__(self, stem: str) -> torch.nn.Module:
        self[stem] = load_fixture_model(self.folder, stem)
        return self[stem]


def forward_case_checks(folder: Path, keys_path: Path | None = None) -> list[CheckRecord]:
    """Run every forward case of ``folder/cases.safetensors`` through the motionkit models."""
    path = folder / "cases.safetensors"
    if not path.is_file():
        return [failure("cases", f"{path} not found")]
    cases = _Cases(load_file(str(path)))
    models = _LazyModels(folder)
    records: list[CheckRecord] = []
    for prefix in cases.prefixes:
        family = _family(prefix)
        if family is None:
            records.append(failure(prefix, "unknown case family (expected stage1*, stage2*, mm*, attn*)"))
            continue
        try:
            records.extend(_CASE_RUNNERS[family](cases, prefix, models, *TOLERANCES[family]))
        except (KeyError, OSError, ValueError, TypeError, RuntimeError) as exc:
            # A case that cannot even run (missing file, config the models refuse) is a failure
            # record with the reason, so the remaining cases are still reported.
            records.append(failure(prefix, f"{type(exc).__name__}: {exc}"))
    return records


def full_size_key_checks(folder: Path, keys_path: Path | None = None) -> list[CheckRecord]:
    """Every official full-size key list of keys_full.json maps onto motionkit's models.

    Uses the converter's key maps (:func:`motionkit.models.motion_i2v.keys.check_keys_full`): each official key must land
    on a model key of the same shape, built at full size on the ``meta`` device, and every
    model key must be filled. ``max_err`` counts missing + unexpected + mis-shaped keys.
    """
    candidates = [keys_path] if keys_path else [folder / "keys_full.json", folder.parent / "keys_full.json"]
    path = next((p for p in candidates if p and p.is_file()), None)
    if path is None:
        return [failure("keys_full", f"keys_full.json not found (looked at {[str(p) for p in candidates]})")]
    records = []
    for check in check_keys_full(path):
        wrong = len(check.missing) + len(check.extra) + len(check.shape_mismatches)
        detail = f"{check.official_keys} official / {check.model_keys} model keys"
        if wrong:
            detail += f"; missing {check.missing[:3]} extra {check.extra[:3]} shapes {check.shape_mismatches[:3]}"
        records.append(CheckRecord(f"keys.{check.section}", float(wrong), 0.0, check.ok, detail))
    return records
