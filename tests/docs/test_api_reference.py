"""The hand-written API reference names every public member of the objects, and only real ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import motionkit as mk

API = Path(__file__).resolve().parents[2] / "docs" / "api"
PAGES = {"Clip": "clip.md", "MotionField": "motion-field.md", "Trajectory": "trajectory-mask.md", "RegionMask": "trajectory-mask.md"}


def public_members(cls: type) -> set[str]:
    """Attributes the class itself defines (not pydantic's or object's), without a leading underscore."""
    return {name for name in vars(cls) if not name.startswith("_") and name != "model_config"}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_public_member_is_documented_and_every_documented_one_exists(name: str):
    cls = getattr(mk, name)
    text = (API / PAGES[name]).read_text(encoding="utf-8")
    documented = set(re.findall(rf"`{name}\.(\w+)", text))
    assert public_members(cls) - documented == set(), f"undocumented in docs/api/{PAGES[name]}"
    assert documented - set(dir(cls)) == set(), f"documented but missing from {name}"


def test_documented_ops_functions_exist():
    import importlib

    text = (API / "ops.md").read_text(encoding="utf-8")
    for module in sorted(set(re.findall(r"`motionkit\.ops\.(\w+)`", text))):
        importlib.import_module(f"motionkit.ops.{module}")
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        heading = section.splitlines()[0].strip("` ")
        if not heading.startswith("motionkit.ops."):
            continue
        module = importlib.import_module(heading)
        for function in re.findall(r"^\| `(\w+)\(", section, flags=re.M):
            assert hasattr(module, function), f"{heading}.{function} is documented but does not exist"


def test_built_in_components_table_names_real_classes_and_options():
    import importlib
    import inspect

    text = (API / "components.md").read_text(encoding="utf-8")
    section = text.split("## Built-ins", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| [^|]+ \| `(motionkit\.[\w.]+)\.(\w+)`[^|]* \| (.+) \|$", section, flags=re.M)
    assert len(rows) >= 4
    for module, cls_name, options in rows:
        cls = getattr(importlib.import_module(module), cls_name)
        parameters = inspect.signature(cls.__init__).parameters
        for option in re.findall(r"`(\w+)(?:=|`)", options):
            assert option in parameters, f"{cls_name} has no option {option!r} (docs/api/components.md)"


def test_motion_i2v_options_table_names_real_constructor_parameters():
    import inspect

    from motionkit.pipelines.motion_i2v import MotionI2VPredictor, MotionI2VRenderer

    text = (API.parent / "guides" / "motion-i2v.md").read_text(encoding="utf-8")
    section = text.split("## Options", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    known = set(inspect.signature(MotionI2VPredictor.__init__).parameters)
    known |= set(inspect.signature(MotionI2VRenderer.__init__).parameters)
    first_cells = re.findall(r"^\| ([^|]+) \|", table, flags=re.M)  # the header row has no backticks
    names = [name for cell in first_cells for name in re.findall(r"`(\w+)`", cell)]
    assert len(names) >= 18 and "weights" in names
    assert set(names) - known == set(), "docs/guides/motion-i2v.md documents options that do not exist"
