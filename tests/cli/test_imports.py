"""The CLI is a shell over the public API: it imports nothing of motionkit's insides."""

from __future__ import annotations

import ast
from pathlib import Path

import motionkit

CLI = Path(motionkit.__file__).parent / "cli"
#: What a CLI module may import from motionkit: the front door, the CLI's own modules, the errors,
#: and the service's public module (its optional dependencies stay out of ``import motionkit``).
ALLOWED = ("motionkit", "motionkit.errors", "motionkit.serve")


def motionkit_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every import of a ``motionkit`` module in ``path`` (at any depth of the file)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            # `from motionkit import clip` would reach a submodule through the front door
            if node.module == "motionkit":
                found += [(node.lineno, f"motionkit.{alias.name}") for alias in node.names
                          if alias.name not in ("errors", "registry") and alias.name not in motionkit.__all__]
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append((node.lineno, "relative import"))
    return [(line, name) for line, name in found if name.split(".")[0] == "motionkit" or name == "relative import"]


def test_cli_modules_import_only_the_public_api():
    files = sorted(CLI.rglob("*.py"))
    assert len(files) >= 10, "the CLI's modules were not found"
    wrong = [
        f"{path.relative_to(CLI.parent)}:{line}: {name}"
        for path in files
        for line, name in motionkit_imports(path)
        if name not in ALLOWED and not name.startswith("motionkit.cli")
    ]
    assert wrong == [], "the CLI must use the public API only"


def test_the_check_catches_an_inside_import(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from motionkit.io.image import image_to_tensor\n    import motionkit.training\n", encoding="utf-8")
    assert [name for _, name in motionkit_imports(sneaky)] == ["motionkit.io.image", "motionkit.training"]
