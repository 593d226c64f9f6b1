"""The built documentation site: tutorial pages show what their cells made, the API pages the
signatures of the five objects, and the CLI reference every command.

The site is the one ``.ci/run`` builds (``MOTIONKIT_SITE``: all four tutorials executed);
without it, a reduced site is built here (tutorial 1 only, not strict), which takes a minute
or more, so these tests are marked slow.
"""

from __future__ import annotations

import html
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import motionkit as mk

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
BUILD = """
import sys
from mkdocs.commands.build import build
from mkdocs.config import load_config

exclude = "griffe_motionkit.py\\nhooks.py\\ntutorials/02_*.ipynb\\ntutorials/03_*.ipynb\\ntutorials/04_*.ipynb\\n"
config = load_config("mkdocs.yml", site_dir=sys.argv[1], strict=False, exclude_docs=exclude)
build(config)
"""


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    given = os.environ.get("MOTIONKIT_SITE")
    if given:
        return Path(given)
    pytest.importorskip("mkdocs_jupyter", reason="the docs extra builds the site: pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    # The repository under test first on the path, for mkdocstrings and for the kernels that run the tutorials.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", BUILD, str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]*>", "", fragment))).strip()


def test_the_first_tutorial_shows_its_videos_pictures_and_printed_values(site):
    tutorial = page(site, "tutorials/01_animate_a_photo")
    videos = re.findall(r'<video[^>]*src="data:video/mp4;base64,[A-Za-z0-9+/=]{1000,}"', tutorial)
    pictures = re.findall(r'<img[^>]*src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', tutorial)
    assert len(videos) >= 4 and len(pictures) >= 2  # motion, arrows, render, side by side, animate; the overlay, the brush
    printed = text_of(tutorial)
    assert "MotionField(frames=16, size=(300, 451)" in printed and "RegionMask(size=(300, 451)" in printed
    assert "Traceback" not in printed and "IProgress not found" not in printed


def test_every_built_tutorial_shows_outputs(site):
    built = sorted(p.parent.name for p in (site / "tutorials").glob("*/index.html"))
    assert built, "no tutorial pages were built"
    for name in built:
        assert re.search(r'<video[^>]*src="data:video/mp4;base64,', page(site, f"tutorials/{name}")), name
    if os.environ.get("MOTIONKIT_SITE"):
        assert len(built) == len(list((REPO / "tutorials").glob("*.ipynb")))


def signatures(site: Path) -> list[str]:
    found = []
    for api_page in (site / "api").rglob("index.html"):
        found += [text_of(s) for s in re.findall(r'<div class="doc-signature[^"]*"[^>]*>(.*?)</div>', api_page.read_text(encoding="utf-8"), re.S)]
    return found


@pytest.mark.parametrize("cls", [mk.Clip, mk.MotionField, mk.Trajectory, mk.RegionMask, mk.Renderer], ids=lambda c: c.__name__)
def test_the_api_reference_shows_the_signatures_of_the_five_objects(site, cls):
    shown = signatures(site)
    wanted = {}
    if "__init__" in vars(cls) and any(not p.startswith("_") for p in inspect.signature(cls).parameters):
        wanted[cls.__name__] = cls
    for name in dir(cls):
        member = inspect.getattr_static(cls, name)
        target = getattr(cls, name)
        if name.startswith("_") or isinstance(member, property) or not callable(target):
            continue
        if getattr(target, "__module__", "").startswith("motionkit"):  # not pydantic's BaseModel methods
            wanted[name] = target
    assert len(wanted) >= 3
    missing = []
    for name, target in wanted.items():
        parameters = [p for p in inspect.signature(target).parameters if p not in ("self", "cls")]
        rendered = [s for s in shown if s.startswith(f"{name}(")]
        if not any(all(re.search(rf"\b{re.escape(p)}\b", s) for p in parameters) for s in rendered):
            missing.append(f"{name}({', '.join(parameters)})")
    assert missing == [], f"{cls.__name__}: signatures missing from the API pages"


def test_the_cli_reference_page_lists_every_command(site):
    from motionkit.cli.reference import commands

    reference = text_of(page(site, "guides/cli-reference"))
    for name in commands():
        assert f"motionkit {name}" in reference and f"Usage: motionkit {name} [OPTIONS]" in reference
