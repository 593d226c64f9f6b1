"""The house's shape: imports point down the floors of DESIGN.md, no circles, no oversized rooms.

The floors are the import-linter contracts in ``pyproject.toml`` (``[tool.importlinter]``);
this test runs them, and checks with grimp's import graph that no module of ``motionkit``
reaches itself through run-time imports (type-only imports do not count: they never run).
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "motionkit"
#: A module past this many lines is asking to be split (STYLE.md).
MAX_LINES = 450


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("motionkit", exclude_type_checking_imports=True, cache_dir=None)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_module_imports_itself_through_others(graph):
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_planted_circle():
    planted = grimp.ImportGraph()
    for importer, imported in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "d")]:
        planted.add_import(importer=importer, imported=imported)
    assert _cycles(planted) == [["a", "b", "c"]]


def test_import_contracts_hold(monkeypatch, capfd):
    from importlinter.cli import lint_imports

    monkeypatch.chdir(REPO)
    status = lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True, no_logo=True)
    assert status == 0, capfd.readouterr().out[-4000:]


def test_the_bottom_floor_imports_nothing_of_motionkit_above_it(graph):
    for floor in ("motionkit.ops", "motionkit.io"):
        for module in graph.find_descendants(floor) | {floor}:
            for imported in graph.find_modules_directly_imported_by(module):
                if imported.startswith("motionkit"):
                    assert imported.startswith((floor, "motionkit.errors", "motionkit.limits", "motionkit.pixels")), f"{module} imports {imported}"


def test_no_module_is_a_room_too_big_to_read():
    sizes = {path.relative_to(REPO).as_posix(): len(path.read_text(encoding="utf-8").splitlines()) for path in PACKAGE.rglob("*.py")}
    assert {path: n for path, n in sizes.items() if n > MAX_LINES} == {}
