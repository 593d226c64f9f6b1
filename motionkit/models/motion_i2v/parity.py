"""Check motionkit's Motion-I2V networks against outputs of the official implementation.

Usage::

    python -m motionkit.models.motion_i2v.parity FIXTURE_DIR [--keys keys_full.json]

``FIXTURE_DIR`` has the layout of ``shared/fixtures/motion_i2v_official/tiny``: official
checkpoints ``<model>.safetensors`` with ``<model>_config.json`` (``stage1_unet``,
``controlnet``, ``stage2_unet``, ``motion_module``), loaded through the checkpoint converter
(:mod:`.convert`), and ``cases.safetensors`` holding the
inputs and official outputs of forward calls, named ``<case>.<tensor>``. The cases are
discovered from the keys (families ``stage1*``, ``stage2*``, ``mm*``, ``attn*``; a ``_b1``
case without its own inputs uses batch element 0 of its base case). With ``keys_full.json``
(``--keys``, default: next to ``FIXTURE_DIR`` or in its parent) every official full-size
key list is also mapped by the converter onto modules built at full size on the ``meta``
device (:func:`.keys.check_keys_full`).

One line per check is printed; the exit status is 1 if any check fails. Each check is a
:class:`CheckRecord`; :data:`CHECKS` lists the check groups, and a new group (e.g. the
pipeline-loop replays of ``pipeline_cases.safetensors``) is added by appending a function
``(folder, keys_path) -> list[CheckRecord]`` to it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from safetensors.torch import load_file

from motionkit.errors import WeightsNotFoundError

from .config import read_official_config
from .controlnet import FlowControlNetModel
from .convert import convert_state_dict
from .keys import check_keys_full
from .motion_module import MotionModule, resize_flow
from .unet import AnimationUNet3DConditionModel, FlowUNet3DConditionModel

# (atol, rtol) per case family, from the fixtures' README section 7.
TOLERANCES = {"stage1": (1e-4, 1e-4), "stage2": (1e-4, 1e-4), "mm": (2e-5, 1e-5), "attn": (2e-5, 1e-5)}


@dataclass(frozen=True)
class CheckRecord:
    """One parity check: ``max_err`` is the max abs difference (or a mismatch count for keys).

    ``ok`` means every element satisfied ``|a - b| <= atol + rtol * |b|`` (``tol`` = atol).
    """

    name: str
    max_err: float
    tol: float
    ok: bool
    detail: str = ""

    def line(self) -> str:
        """One human-readable line."""
        status = "PASS" if self.ok else "FAIL"
        return f"{status}  {self.name:<44} max_err={self.max_err:.3e}  tol={self.tol:.0e}  {self.detail}".rstrip()


def compare(name: str, actual: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float) -> CheckRecord:
    """Compare two tensors elementwise (``allclose`` semantics) into a :class:`CheckRecord`."""
    if tuple(actual.shape) != tuple(expected.shape):
        return CheckRecord(name, float("inf"), atol, False, f"shape {tuple(actual.shape)} != {tuple(expected.shape)}")
    actual, expected = actual.detach().double(), expected.detach().double()
    diff = (actual - expected).abs()
    ok = bool((diff <= atol + rtol * expected.abs()).all())
    return CheckRecord(name, float(diff.max()) if diff.numel() else 0.0, atol, ok, f"rtol={rtol:.0e}")


def _failure(name: str, detail: str) -> CheckRecord:
    return CheckRecord(name, float("inf"), 0.0, False, detail)


def load_official(model: torch.nn.Module, path: Path, kind: str) -> torch.nn.Module:
    """Load an official safetensors checkpoint through the converter (strict) and set eval mode.

    Args:
        model: the motionkit model to fill.
        path: the official ``.safetensors`` file.
        kind: the converter's checkpoint kind (:func:`.convert.convert_state_dict`).

    Raises:
        WeightsNotFoundError: the file is missing.
        CheckpointMismatchError: keys or shapes differ.
    """
    if not path.is_file():
        raise WeightsNotFoundError(f"checkpoint {path} not found; expected an official "
                                   "safetensors file next to its *_config.json")
    state = convert_state_dict(kind, load_file(str(path)), model, what=str(path))
    model.load_state_dict(state, strict=True)
    return model.eval()


def _standalone_motion_module(kwargs: dict) -> MotionModule:
    # The fixtures' standalone module is the stage-2 (flow-augmented) kind.
    return MotionModule(kwargs["in_channels"], **kwargs["motion_module_kwargs"], flow_augmented=True)


# Fixture file stem -> (builder from the official keywords, converter kind).
_BUILDERS: dict[str, tuple[Callable[[dict], torch.nn.Module], str]] = {
    "stage1_unet": (lambda kw: FlowUNet3DConditionModel(**kw), "stage1_unet"),
    "controlnet": (lambda kw: FlowControlNetModel(**kw), "controlnet"),
    "stage2_unet": (lambda kw: AnimationUNet3DConditionModel(**kw), "stage2_unet"),
    "motion_module": (_standalone_motion_module, "motion_modules"),
}


def load_fixture_model(folder: Path, stem: str) -> torch.nn.Module:
    """Build ``stem`` (``stage1_unet``, ``controlnet``, ``stage2_unet``, ``motion_module``) from
    ``folder/<stem>_config.json`` and load ``folder/<stem>.safetensors`` into it."""
    build, kind = _BUILDERS[stem]
    return load_official(build(read_official_config(folder / f"{stem}_config.json")), folder / f"{stem}.safetensors", kind)


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
            records.append(_failure(full, "no motionkit output corresponds to this stored tensor"))
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
        return [_failure("cases", f"{path} not found")]
    cases = _Cases(load_file(str(path)))
    models = _LazyModels(folder)
    records: list[CheckRecord] = []
    for prefix in cases.prefixes:
        family = _family(prefix)
        if family is None:
            records.append(_failure(prefix, "unknown case family (expected stage1*, stage2*, mm*, attn*)"))
            continue
        try:
            records.extend(_CASE_RUNNERS[family](cases, prefix, models, *TOLERANCES[family]))
        except (KeyError, OSError, ValueError, TypeError, RuntimeError) as exc:
            # A case that cannot even run (missing file, config the models refuse) is a failure
            # record with the reason, so the remaining cases are still reported.
            records.append(_failure(prefix, f"{type(exc).__name__}: {exc}"))
    return records


def full_size_key_checks(folder: Path, keys_path: Path | None = None) -> list[CheckRecord]:
    """Every official full-size key list of keys_full.json maps onto motionkit's models.

    Uses the converter's key maps (:func:`.keys.check_keys_full`): each official key must land
    on a model key of the same shape, built at full size on the ``meta`` device, and every
    model key must be filled. ``max_err`` counts missing + unexpected + mis-shaped keys.
    """
    candidates = [keys_path] if keys_path else [folder / "keys_full.json", folder.parent / "keys_full.json"]
    path = next((p for p in candidates if p and p.is_file()), None)
    if path is None:
        return [_failure("keys_full", f"keys_full.json not found (looked at {[str(p) for p in candidates]})")]
    records = []
    for check in check_keys_full(path):
        wrong = len(check.missing) + len(check.extra) + len(check.shape_mismatches)
        detail = f"{check.official_keys} official / {check.model_keys} model keys"
        if wrong:
            detail += f"; missing {check.missing[:3]} extra {check.extra[:3]} shapes {check.shape_mismatches[:3]}"
        records.append(CheckRecord(f"keys.{check.section}", float(wrong), 0.0, check.ok, detail))
    return records


CHECKS: list[Callable[[Path, Path | None], list[CheckRecord]]] = [forward_case_checks, full_size_key_checks]
"""The check groups run by :func:`run_checks`, in order; append new groups here."""


def command_checks() -> list[Callable[[Path, Path | None], list[CheckRecord]]]:
    """The groups the command runs: :data:`CHECKS` plus the replay of the official denoising loops.

    The loops live in :mod:`motionkit.pipelines`, a floor above the networks, so they are
    imported here, when the command runs, and never by the model modules themselves.
    """
    from motionkit.pipelines.motion_i2v.replay import parity_checks

    return [*CHECKS, parity_checks]


def run_checks(
    folder: str | Path,
    keys_path: str | Path | None = None,
    groups: list[Callable[[Path, Path | None], list[CheckRecord]]] | None = None,
) -> list[CheckRecord]:
    """Run every group of ``groups`` (default :data:`CHECKS`) on a fixture folder.

    Example:
        >>> records = run_checks("shared/fixtures/motion_i2v_official/tiny")  # doctest: +SKIP
        >>> all(r.ok for r in records)                                         # doctest: +SKIP
        True
    """
    folder = Path(folder)
    keys = Path(keys_path) if keys_path else None
    return [record for check in (CHECKS if groups is None else groups) for record in check(folder, keys)]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 = every check passed)."""
    parser = argparse.ArgumentParser(prog="python -m motionkit.models.motion_i2v.parity",
                                     description="Compare motionkit's Motion-I2V networks and denoising loops with official outputs.")
    parser.add_argument("folder", type=Path, help="fixture folder (layout of motion_i2v_official/tiny)")
    parser.add_argument("--keys", type=Path, default=None, help="keys_full.json (default: folder or its parent)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (1 is fastest on a busy machine; results differ by ~1e-6)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    records = run_checks(args.folder, args.keys, groups=command_checks())
    for record in records:
        print(record.line())
    failed = [r for r in records if not r.ok]
    print(f"{len(records) - len(failed)}/{len(records)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
