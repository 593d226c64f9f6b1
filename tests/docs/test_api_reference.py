"""The API reference is generated from the docstrings: it must reach every public name, point
only at real objects, and find a docstring on every public member of the objects."""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
import textwrap
from pathlib import Path

import pytest

import motionkit as mk

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
API = DOCS / "api"
DIRECTIVE = re.compile(r"^:::[ \t]+(?P<target>[\w.]+)[ \t]*$", re.M)
ITEM = re.compile(r"^    (?P<names>\w+(?:,\s*\w+)*)(?:\s*\([^)]*\))?:")


def directives() -> dict[str, list[str]]:
    """``{target: [pages]}`` for every ``::: target`` block of the documentation."""
    found: dict[str, list[str]] = {}
    for page in sorted(DOCS.rglob("*.md")):
        for target in DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            found.setdefault(target, []).append(str(page.relative_to(DOCS)))
    return found


def resolve(target: str):
    """The object a dotted ``target`` names: the longest importable module, then attributes."""
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ModuleNotFoundError(target)


def test_the_reference_has_directives():
    assert len(directives()) >= 10, "the API pages should pull their members from the docstrings (::: blocks)"


@pytest.mark.parametrize("target", sorted(directives()))
def test_every_directive_names_a_real_object(target: str):
    try:
        resolve(target)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"::: {target} on {', '.join(directives()[target])} names nothing: {exc}")


def test_every_public_name_is_in_the_reference():
    documented = []
    for target in directives():
        obj = resolve(target)
        documented.append(obj)
        if inspect.ismodule(obj):  # a module's block renders the public names it defines
            documented += [v for k, v in vars(obj).items() if not k.startswith("_") and inspect.getmodule(v) is obj]
    missing = [name for name in mk.__all__ if not any(getattr(mk, name) is obj for obj in documented)]
    assert missing == [], "public names with no ::: block in docs/: " + ", ".join(missing)


# Gaps in files this test does not own, each with the fix that closes it. Strict: once fixed,
# the case passes, the xfail fails, and the entry must go.
KNOWN_GAPS: dict[str, str] = {}


def _objects() -> list[type]:
    """The value objects and the component protocols, with the public classes they are built from."""
    import motionkit.components as components

    classes = [mk.Clip, mk.MotionField, mk.Trajectory, mk.RegionMask]
    classes += [value for name, value in sorted(vars(components).items())
                if inspect.isclass(value) and value.__module__ == components.__name__ and not name.startswith("_")]
    for cls in list(classes):  # mixins (MotionField = value + algebra + constructors + files ...)
        classes += [base for base in cls.__mro__[1:] if base.__module__.startswith("motionkit.")
                    and not base.__name__.startswith("_") and base not in classes]
    return classes


def _case(cls: type, gaps: dict[str, str]):
    name = cls.__name__
    return pytest.param(cls, id=name, marks=[pytest.mark.xfail(reason=gaps[name], strict=True)] if name in gaps else [])


@pytest.mark.parametrize("cls", [_case(cls, {}) for cls in _objects()])
def test_every_class_the_objects_are_built_from_has_a_block(cls: type):
    # A class's block shows only the members it defines itself; each mixin needs its own block.
    documented = [resolve(target) for target in directives()]
    assert any(obj is cls for obj in documented), f"{cls.__module__}.{cls.__qualname__} has no ::: block in docs/"


def documented_in_class_docstring(cls: type) -> set[str]:
    """Names an ``Args:``/``Attributes:`` item of the class docstring documents (``a, b:`` counts for both)."""
    names: set[str] = set()
    section = None
    for line in (inspect.getdoc(cls) or "").splitlines():
        if line and not line[0].isspace():
            section = line.rstrip(":") if line.endswith(":") else None
        elif section in ("Args", "Arguments", "Attributes", "Parameters") and (item := ITEM.match(line)):
            names |= set(re.split(r",\s*", item["names"]))
    return names


def attribute_docstrings(cls: type) -> set[str]:
    """Class-body names followed by a string literal (the attribute docstrings the reference shows)."""
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    found = set()
    for statement, following in zip(body, body[1:]):
        targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
        if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant) and isinstance(following.value.value, str):
            found |= {t.id for t in targets if isinstance(t, ast.Name)}
    return found


def own_public_members(cls: type) -> list[str]:
    """What the class itself defines, without a leading underscore: methods, properties, attributes, fields."""
    names = dict.fromkeys(name for name in vars(cls) if not name.startswith("_"))
    names.update(dict.fromkeys(name for name in vars(cls).get("__annotations__", {}) if not name.startswith("_")))
    names.pop("model_config", None)
    return list(names)


def member_docstring(cls: type, name: str) -> str | None:
    value = vars(cls).get(name)
    if isinstance(value, (classmethod, staticmethod)):
        value = value.__func__
    if inspect.isfunction(value) or isinstance(value, (property, functools.cached_property)):
        return value.__doc__
    return None


@pytest.mark.parametrize("cls", [_case(cls, KNOWN_GAPS) for cls in _objects()])
def test_every_public_member_of_the_objects_has_a_docstring(cls: type):
    assert inspect.getdoc(cls), f"{cls.__name__} has no docstring"
    public = own_public_members(cls)
    assert public, f"{cls.__name__} has no public members?"
    # Fields a class documents in its own Args/Attributes (pydantic fields, dataclass fields) count.
    documented = attribute_docstrings(cls) | documented_in_class_docstring(cls)
    bare = [name for name in public if not member_docstring(cls, name) and name not in documented]
    assert bare == [], f"{cls.__name__} members without a docstring (the reference hides them): {', '.join(bare)}"


@pytest.mark.parametrize("target", sorted(t for t in directives() if inspect.ismodule(resolve(t))))
def test_every_function_and_class_of_a_documented_module_has_a_docstring(target: str):
    module = resolve(target)
    defined = {name: value for name, value in vars(module).items() if not name.startswith("_")
               and (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ == module.__name__}
    bare = sorted(name for name, value in defined.items() if not inspect.getdoc(value) or value.__doc__ is None)
    assert bare == [], f"{target}: no docstring (the reference hides them): {', '.join(bare)}"


def test_every_ops_module_has_a_block_on_the_ops_page():
    import pkgutil

    import motionkit.ops

    modules = {f"motionkit.ops.{m.name}" for m in pkgutil.iter_modules(motionkit.ops.__path__) if not m.name.startswith("_")}
    text = (API / "ops.md").read_text(encoding="utf-8")
    assert modules - set(DIRECTIVE.findall(text)) == set(), "ops modules missing from docs/api/ops.md"


def test_built_in_components_table_names_real_classes_and_options():
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
    from motionkit.pipelines.motion_i2v import MotionI2VPredictor, MotionI2VRenderer

    text = (DOCS / "guides" / "motion-i2v.md").read_text(encoding="utf-8")
    section = text.split("## Options", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    known = set(inspect.signature(MotionI2VPredictor.__init__).parameters)
    known |= set(inspect.signature(MotionI2VRenderer.__init__).parameters)
    first_cells = re.findall(r"^\| ([^|]+) \|", table, flags=re.M)  # the header row has no backticks
    names = [name for cell in first_cells for name in re.findall(r"`(\w+)`", cell)]
    assert len(names) >= 18 and "weights" in names
    assert set(names) - known == set(), "docs/guides/motion-i2v.md documents options that do not exist"
