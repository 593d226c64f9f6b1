"""Each tutorial notebook's code cells run, in order, against the code as it is.

The cells are read from the ``.ipynb`` JSON and executed in one namespace in a temporary
folder (no Jupyter kernel needed); a cell's last expression is evaluated, as Jupyter would
for display, so a broken ``_repr_html_`` fails too.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))


def code_cells(notebook: Path) -> list[str]:
    data = json.loads(notebook.read_text(encoding="utf-8"))
    assert data["nbformat"] == 4, f"{notebook.name}: not an nbformat-4 notebook"
    cells = []
    for cell in data["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{notebook.name}: commit notebooks with outputs stripped"
            cells.append("".join(cell["source"]))
    return cells


def run_cell(source: str, namespace: dict, where: str) -> None:
    tree = ast.parse(source, filename=where)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, where, "exec"), namespace)  # noqa: S102 - our own notebooks
    if last is not None:
        value = eval(compile(ast.Expression(last.value), where, "eval"), namespace)  # noqa: S307
        if hasattr(value, "_repr_html_"):
            assert value._repr_html_()


def test_the_tutorials_are_numbered_in_order():
    assert len(NOTEBOOKS) >= 4, "the tutorials were not found"
    assert [n.name[:2] for n in NOTEBOOKS] == [f"{i:02d}" for i in range(1, len(NOTEBOOKS) + 1)]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_tutorial_runs(notebook: Path, tmp_path, monkeypatch):
    import torch

    if notebook.stem.startswith("04"):
        # The Motion-I2V text model comes from transformers, an optional extra (``.[motion-i2v]``).
        pytest.importorskip("transformers", reason="tutorial 4 needs transformers (pip install -e '.[motion-i2v]')")
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small workloads: threads only contend on a busy 2-core machine
    try:
        namespace: dict = {"__name__": f"tutorial_{notebook.stem}"}
        for index, source in enumerate(code_cells(notebook)):
            run_cell(source, namespace, f"{notebook.name}[cell {index}]")
    finally:
        torch.set_num_threads(threads)
