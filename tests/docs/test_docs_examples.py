"""Every ```python block of the documentation runs against the code as it is.

Blocks of one page run in order in one namespace (like a notebook), in a folder holding the
files the examples name (see ``conftest.py``). ``motionkit ...`` lines of ```bash blocks run
through the CLI in the same folder. A block preceded by ``<!-- not run: reason -->`` is
skipped: only examples that need model weights or a network may carry it.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md"))
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>\w+)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
SKIP = re.compile(r"<!--\s*not run:\s*(?P<reason>[^>]+?)\s*-->\s*$")


def blocks(page: Path) -> list[tuple[str, str, int, str | None]]:
    """``(language, code, line, skip reason)`` for every fenced block of ``page``."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip().splitlines()
        skip = SKIP.search(before[-1]) if before else None
        code = textwrap.dedent(match["body"])
        found.append((match["lang"], code, text.count("\n", 0, match.start()) + 1, skip and skip["reason"]))
    return found


def cli_commands(code: str) -> list[list[str]]:
    """The ``motionkit ...`` commands of a shell block (continuation lines joined, comments dropped)."""
    joined = code.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["motionkit"]:
            commands.append(words[1:])
    return commands


def test_docs_pages_exist():
    assert PAGES, f"no Markdown pages under {DOCS}"
    assert (DOCS / "conventions.md").is_file()


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_examples_run(page: Path, docs_workspace: Path, monkeypatch):
    from typer.testing import CliRunner

    from motionkit import registry
    from motionkit.cli.app import app

    # Pages that show how to register a component must not leave it behind for other tests.
    monkeypatch.setattr(registry, "_components", {kind: dict(names) for kind, names in registry._components.items()})
    monkeypatch.setattr(registry, "_origin", dict(registry._origin))
    monkeypatch.setattr(registry, "_plugins", None)  # plugins found now register into the copies above

    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for lang, code, line, skip in blocks(page):
        if skip:
            continue
        where = f"{page.relative_to(DOCS)}:{line}"
        if lang == "python":
            exec(compile(code, where, "exec"), namespace)  # noqa: S102 - the docs are ours
        elif lang in ("bash", "console", "sh"):
            for args in cli_commands(code):
                result = CliRunner().invoke(app, args, catch_exceptions=False)
                assert result.exit_code == 0, f"{where}: motionkit {shlex.join(args)}\n{result.output}"
