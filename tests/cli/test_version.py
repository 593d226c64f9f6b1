"""One version number, in pyproject.toml: `motionkit --version` and `motionkit.__version__` read it from the metadata."""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

import motionkit
from motionkit.cli import main

REPO = Path(__file__).resolve().parents[2]


def pyproject_version() -> str:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)["project"]["version"]
    return re.search(r'^version = "([^"]+)"', text, re.M).group(1)


def test_version_flag_prints_the_package_version(capsys):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out == f"motionkit {importlib.metadata.version('motionkit')}\n"
    assert re.fullmatch(r"motionkit \d+\.\d+\.\d+\S*\n", out)


def test_the_one_number_is_pyprojects():
    assert motionkit.__version__ == importlib.metadata.version("motionkit") == pyproject_version()
    source = (Path(motionkit.__file__)).read_text(encoding="utf-8")
    assert not re.search(r"__version__\s*=\s*[\"']", source), "the version must not be written a second time"


def test_without_installed_metadata_the_version_says_so(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert motionkit._version() == "0+unknown"
