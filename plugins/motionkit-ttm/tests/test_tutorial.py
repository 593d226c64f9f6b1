"""The plugin's tutorial notebook runs, cell by cell, against the code as it is (as tests/docs does for motionkit's)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "tutorial" / "time_to_move.ipynb"


def test_the_tutorial_runs(tmp_path, monkeypatch, capsys):
    data = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cells = [cell for cell in data["cells"] if cell["cell_type"] == "code"]
    assert cells and not any(cell.get("outputs") for cell in cells), "commit the notebook with outputs stripped"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "tutorial"}
    for index, cell in enumerate(cells):
        tree = ast.parse("".join(cell["source"]), filename=f"cell {index}")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, f"cell {index}", "exec"), namespace)  # noqa: S102 - our own notebook
        if last is not None:
            eval(compile(ast.Expression(last.value), f"cell {index}", "eval"), namespace)  # noqa: S307
    printed = capsys.readouterr().out
    assert "9 frames at (32, 32)" in printed and "no ttm-wan weights" in printed
    sdedit = next(line for line in printed.splitlines() if line.startswith("plain"))
    dual = next(line for line in printed.splitlines() if line.startswith("dual"))
    assert dual.split(":", 1)[1].strip().startswith("[0.0, 0.0, 0.0, 0.0") and not sdedit.split(":", 1)[1].strip().startswith("[0.0, 0.0")
