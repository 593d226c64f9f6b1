"""The documentation build's inputs: notebooks stored without outputs and runnable on the base
install, the build set to execute them, and the CLI reference generated from the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "tutorials").glob("*.ipynb"))


def mkdocs_config() -> dict:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    return yaml.load((REPO / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)


def plugin(config: dict, name: str) -> dict:
    for entry in config["plugins"]:
        if isinstance(entry, dict) and name in entry:
            return entry[name] or {}
    pytest.fail(f"mkdocs.yml has no {name} plugin")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_stored_notebooks_carry_no_outputs(notebook: Path):
    cells = [c for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    assert cells
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in cells), (
        f"{notebook.name}: store it without outputs (the docs build executes it): jupyter nbconvert --clear-output"
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_tutorials_run_on_the_base_install_or_name_their_extra(notebook: Path):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert not re.search(r"^\s*(from|import)\s+skimage\b", code, re.M), (
        f"{notebook.name} imports scikit-image, which the base install lacks; use motionkit.demo.sample_image_path()"
    )
    if re.search(r"^\s*(from|import)\s+transformers\b", code, re.M):  # the motion-i2v extra
        first = "".join(cells[0]["source"])
        assert 'pip install -e ".[motion-i2v]"' in first, f"{notebook.name}: say in the first cell which extra it needs"


def test_the_build_executes_the_tutorials_and_fails_on_an_error():
    config = mkdocs_config()
    jupyter = plugin(config, "mkdocs-jupyter")
    assert jupyter["execute"] is True and jupyter["allow_errors"] is False
    assert "docs/hooks.py" in config["hooks"]  # runs them in scratch copies and adds the CLI reference
    nav = json.dumps(config["nav"])
    assert all(f"tutorials/{n.name}" in nav for n in NOTEBOOKS)
    assert "guides/cli-reference.md" in nav


def test_the_cli_reference_lists_every_command_and_option():
    import click

    from motionkit.cli.app import COMMANDS
    from motionkit.cli.reference import commands, markdown

    page = markdown()
    listed = commands()
    assert sorted(listed) == sorted(name.replace("_", "-") for name in COMMANDS)
    for name, command in listed.items():
        assert f"\n## motionkit {name}\n" in page
        section = page.split(f"## motionkit {name}\n", 1)[1].split("\n## ", 1)[0]
        assert f"Usage: motionkit {name}" in section
        for parameter in command.params:
            if isinstance(parameter, click.Option):
                assert any(flag in section for flag in parameter.opts), f"{name}: {parameter.opts} missing"
    assert "--version" in page.split("## motionkit", 1)[0]
