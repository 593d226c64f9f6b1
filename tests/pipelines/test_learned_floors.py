"""The learned backend's floors, read from the code: models import only ops, io, errors and limits;
pipelines, fidelity and training import down (objects, components, registry, models), never
``classical`` beside them nor the verbs, cli or fidelity above them.

Function-local and ``TYPE_CHECKING`` imports count too (a circle through a local import is still
a circle); relative imports are resolved against the file's package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "motionkit"


def motionkit_imports(package: str) -> dict[str, set[str]]:
    """``{file: {imported motionkit module, ...}}`` for every file of ``motionkit/<package>``."""
    found: dict[str, set[str]] = {}
    for path in sorted((PACKAGE / package).rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        here = parts[:-1]
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                module = ".".join([*base, node.module] if node.module else base)
                # `from motionkit import registry` imports motionkit.registry, not the front door.
                names |= {f"{module}.{alias.name}" for alias in node.names}
        found[str(path.relative_to(PACKAGE.parent))] = {n for n in names if n == "motionkit" or n.startswith("motionkit.")}
    return found


def offending(package: str, allowed: tuple[str, ...]) -> dict[str, set[str]]:
    """The imports of ``motionkit/<package>`` outside the ``allowed`` module prefixes."""
    def ok(name: str) -> bool:
        return any(name == prefix or name.startswith(prefix + ".") for prefix in allowed)

    bad = {file: {n for n in names if not ok(n)} for file, names in motionkit_imports(package).items()}
    return {file: names for file, names in bad.items() if names}


BOTTOM = ("motionkit.errors", "motionkit.limits", "motionkit.ops", "motionkit.io")
OBJECTS = ("motionkit.clip", "motionkit.motion", "motionkit.mask", "motionkit.trajectory", "motionkit.components",
           "motionkit.learned", "motionkit.registry")  # learned: the shared options, on the components' floor


@pytest.mark.parametrize("package, allowed", [
    ("models", BOTTOM),
    ("pipelines", BOTTOM + OBJECTS + ("motionkit.models",)),
    ("training", BOTTOM + OBJECTS + ("motionkit.models", "motionkit.pipelines")),
    ("fidelity", BOTTOM + OBJECTS + ("motionkit.models", "motionkit.pipelines")),
])
def test_imports_point_down(package, allowed):
    assert offending(package, allowed + (f"motionkit.{package}",)) == {}
