"""mkdocs hooks: the tutorials run on the current code, and the CLI reference comes from the CLI.

- **Tutorials are executed during the build.** The stored notebooks carry no outputs (a test
  checks). Before the pages are rendered, each tutorial is copied into a scratch folder of its
  own and mkdocs-jupyter executes it there (``execute: true`` in ``mkdocs.yml``, failing the
  build on an error), so every page shows the videos, pictures and tables the current code
  makes, and the files a tutorial writes (``cat.mp4`` ...) land in the scratch folder, not in
  the repository.
- **The CLI reference** (``guides/cli-reference.md``) is generated from the typer app:
  ``motionkit --help`` and every command's ``--help`` (:mod:`motionkit.cli.reference`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from mkdocs.structure.files import File, Files

CLI_REFERENCE = "guides/cli-reference.md"
_scratch: tempfile.TemporaryDirectory | None = None


def _point_at(file: File, path: Path) -> None:
    """Make ``file`` read ``path``: on mkdocs-jupyter's wrapper and on the file it wraps (each
    caches ``abs_src_path`` on its own)."""
    for holder in {id(file): file, id(getattr(file, "file", file)): getattr(file, "file", file)}.values():
        holder.abs_src_path = str(path)


def on_config(config):
    # The kernels that run the tutorials have no ipywidgets: tqdm's notice about it is not content.
    os.environ.setdefault("PYTHONWARNINGS", "ignore:IProgress not found")
    return config


def on_files(files: Files, config) -> Files:
    global _scratch
    from motionkit.cli.reference import markdown

    _scratch = tempfile.TemporaryDirectory(prefix="motionkit-docs-")
    for file in files:
        if file.src_uri.startswith("tutorials/") and file.src_uri.endswith(".ipynb"):
            folder = Path(_scratch.name) / Path(file.src_uri).stem
            folder.mkdir()
            copy = folder / Path(file.src_uri).name
            shutil.copyfile(file.abs_src_path, copy)
            _point_at(file, copy)
    files.append(File.generated(config, CLI_REFERENCE, content=markdown()))
    return files


def on_post_build(config) -> None:
    global _scratch
    if _scratch is not None:
        _scratch.cleanup()
        _scratch = None
