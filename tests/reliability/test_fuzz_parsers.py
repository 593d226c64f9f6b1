"""The fuzz targets (``fuzz/fuzz_targets.py``) driven by hypothesis, so CI fuzzes every parser
of outside input on each run without atheris.

Inputs come from three sources: arbitrary bytes, structure-aware documents (JSON that is
almost a trajectory or a mask, option strings made of the right characters), and the seed
files of ``fuzz/seeds`` with bytes flipped, inserted or cut off. A target fails only when an
exception other than a ``MotionkitError`` escapes. The examples are derandomized, so CI sees
the same inputs on every run (a failure is reproducible, never flaky); the coverage-guided atheris runs
(``python fuzz/run.py``) go much further; what they find is pinned in
``test_fuzz_regressions.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
sys.path.insert(0, str(FUZZ))

import fuzz_targets  # noqa: E402

RUNS = settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
FEW = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def seeds(target: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((FUZZ / "seeds" / target).iterdir())]


@st.composite
def mutated(draw, target: str, max_edits: int = 6) -> bytes:
    """A seed of ``target`` with a few random byte edits: flips, insertions, deletions, a cut."""
    data = bytearray(draw(st.sampled_from(seeds(target))))
    for _ in range(draw(st.integers(1, max_edits))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[position] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and data:
            del data[position : position + draw(st.integers(1, 8))]
        elif kind == "cut":
            del data[position:]
    return bytes(data)


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(), st.text(max_size=5))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=12)
points = st.lists(st.one_of(st.lists(json_scalars, max_size=3), json_values), max_size=5)


@st.composite
def trajectory_documents(draw) -> bytes:
    doc = draw(st.one_of(
        st.fixed_dictionaries({"points": points}),
        st.fixed_dictionaries({"format": st.sampled_from(["motionkit.trajectories", "x"]), "version": json_scalars,
                               "trajectories": st.lists(st.fixed_dictionaries({"points": points}) | json_values, max_size=3)}),
        json_values,
    ))
    return json.dumps(doc).encode()


@st.composite
def mask_documents(draw) -> bytes:
    doc = {"format": draw(st.sampled_from(["motionkit.mask", "mask"])), "version": draw(st.sampled_from([1, 2, "1", None])),
           "size": draw(st.lists(json_scalars, max_size=3) | st.tuples(st.integers(-3, 70000), st.integers(-3, 70000))),
           "encoding": draw(st.sampled_from(["zlib-float32-le", "raw"])), "data": draw(st.text(max_size=40))}
    if draw(st.booleans()):
        doc[draw(st.text(max_size=4))] = draw(json_values)
    return json.dumps(doc).encode()


option_text = st.text(alphabet="0123456789,.:;-+=eEinfatpzomrox \t", max_size=40)


@RUNS
@given(st.one_of(st.binary(max_size=200), trajectory_documents(), mutated("trajectory_json")))
def test_fuzz_trajectory_json(data):
    fuzz_targets.trajectory_json(data)


@RUNS
@given(st.one_of(st.binary(max_size=200), mask_documents(), mutated("mask_json")))
def test_fuzz_mask_json(data):
    fuzz_targets.mask_json(data)


@RUNS
@given(st.one_of(option_text.map(str.encode), st.binary(max_size=60), mutated("cli_options")))
def test_fuzz_cli_options(data):
    fuzz_targets.cli_options(data)


@RUNS
@given(st.one_of(st.binary(max_size=300), mutated("motion_npz", max_edits=3)))
def test_fuzz_motion_npz(data):
    fuzz_targets.motion_npz(data)


@RUNS
@given(st.one_of(st.binary(max_size=64), mutated("motion_flo")))
def test_fuzz_motion_flo(data):
    fuzz_targets.motion_flo(data)


@FEW
@given(st.one_of(st.binary(max_size=100), mutated("image_file")))
def test_fuzz_image_file(data):
    fuzz_targets.image_file(data)


@pytest.mark.slow
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mutated("video_file", max_edits=3))
def test_fuzz_video_file(data):
    fuzz_targets.video_file(data)
