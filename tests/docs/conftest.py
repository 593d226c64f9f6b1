"""A folder with the files the documentation's examples name: ``cat.png``, ``walk.mp4`` ..."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]


def make_pan_video(path: Path, frames: int = 12, size: tuple[int, int] = (120, 160), step: int = 3) -> None:
    """A real photo (scikit-image's coffee) filmed by a camera panning right, ``step`` px per frame."""
    import motionkit as mk
    from skimage import data

    photo = data.coffee()
    h, w = size
    top = 140
    shots = np.stack([photo[top : top + h, 200 - t * step : 200 - t * step + w] for t in range(frames)])
    mk.Clip.from_array(shots, fps=8).write(path)


@pytest.fixture(scope="session")
def docs_files(tmp_path_factory) -> Path:
    """``cat.png`` (the bundled 451 x 300 cat), ``walk.mp4`` (12 frames, 160 x 120) and its painted frame 0."""
    import motionkit as mk
    from motionkit.demo import sample_image_path
    from motionkit.io.image import save_image

    torch.set_num_threads(1)  # small workloads: threads only contend on a busy 2-core machine
    folder = tmp_path_factory.mktemp("docs-files")
    shutil.copy(sample_image_path(), folder / "cat.png")
    make_pan_video(folder / "walk.mp4")
    first = mk.Clip.read(folder / "walk.mp4").frame(0).copy()
    first[30:90, 50:110] = (255 - first[30:90, 50:110]) // 2 + 100  # a "painted" square
    save_image(folder / "walk_frame0_painted.png", first)
    return folder


@pytest.fixture
def docs_workspace(docs_files, tmp_path, monkeypatch) -> Path:
    """A fresh copy of :func:`docs_files` as the current directory."""
    work = tmp_path / "work"
    shutil.copytree(docs_files, work)
    monkeypatch.chdir(work)
    return work
