"""Training data: a folder of captioned videos, sampled as strided clips with cached flow labels.

Each sample is ``frames`` frames taken ``stride`` apart (a fixed gap, or a random gap per sample
from ``[min, max]``; the stride embedding of stage 1 learns the gap), resized to ``size``, with
the flow from frame 0 to every sampled frame estimated by a :class:`~motionkit.FlowEstimator`
(registry ``"dis"`` by default) and cached on disk, since estimating is far slower than a
training step and every epoch would repeat it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from motionkit.errors import InvalidInputError, MediaReadError
from motionkit.ops.colour import to_uint8
from motionkit.training.config import DataConfig

VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv", ".avi", ".gif")


def sample_indices(length: int, frames: int, stride: int, generator: torch.Generator | None = None) -> np.ndarray:
    """Frame indices of one clip: ``frames`` indices ``stride`` apart from a random start.

    A video shorter than ``(frames - 1) * stride + 1`` is spread over its whole length
    (as the official dataset does, with ``linspace``).

    Example:
        >>> np.diff(sample_indices(100, 4, 8, torch.Generator().manual_seed(0))).tolist()
        [8, 8, 8]
        >>> sample_indices(5, 4, 8).tolist()
        [0, 1, 3, 4]
    """
    span = min(length, (frames - 1) * stride + 1)
    start = int(torch.randint(0, length - span + 1, (1,), generator=generator))
    return np.linspace(start, start + span - 1, frames).round().astype(np.int64)


class VideoCaptionDataset(Dataset):
    """Strided clips of the videos in ``config.folder`` with captions and frame-0 flow labels.

    Items are dicts:

    - ``pixel_values``: ``(F, 3, H, W)`` float32 in [0, 1];
    - ``flow``: ``(F, 2, H, W)`` float32 pixels from frame 0 to each frame (frame 0 zero);
    - ``stride``: ``(F,)`` int64 frame gap of each frame from frame 0 (0, s, 2s, ...);
    - ``text``: the caption.

    Args:
        config: folder, size, frames, stride, estimator name, cache folder.
        estimator: a FlowEstimator object (default: the registry's ``config.flow_estimator``).

    Example:
        >>> data = VideoCaptionDataset(DataConfig(folder="videos", size=(64, 64), frames=4))  # doctest: +SKIP
        >>> data[0]["flow"].shape                                                             # doctest: +SKIP
        torch.Size([4, 2, 64, 64])
    """

    def __init__(self, config: DataConfig, estimator: Any = None) -> None:
        folder = Path(config.folder)
        if not folder.is_dir():
            raise InvalidInputError(f"training data folder {folder} does not exist; give a folder of videos with .txt captions")
        self.videos = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
        if not self.videos:
            raise InvalidInputError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) found in {folder}")
        self.config = config
        if estimator is None:
            from motionkit import registry

            estimator = registry.create("flow_estimator", config.flow_estimator)
        self.estimator = estimator
        self.cache = Path(config.flow_cache) if config.flow_cache else folder / ".flow_cache"

    def __len__(self) -> int:
        return len(self.videos)

    def caption(self, video: Path) -> str:
        """The first line of ``<video stem>.txt``, or ``""`` without one."""
        path = video.with_suffix(".txt")
        lines = path.read_text(encoding="utf-8").strip().splitlines() if path.is_file() else []
        return lines[0].strip() if lines else ""

    def _read(self, video: Path, generator: torch.Generator | None) -> tuple[np.ndarray, np.ndarray]:
        from motionkit.clip import Clip

        clip = Clip.read(video)
        low, high = self.config.stride_range
        stride = int(torch.randint(low, high + 1, (1,), generator=generator))
        indices = sample_indices(len(clip), self.config.frames, stride, generator)
        wanted = {int(i) for i in indices}
        picked: dict[int, np.ndarray] = {}
        for i, frame in enumerate(clip.iter_frames()):
            if i in wanted:
                picked[i] = frame
            if i >= indices.max():
                break
        if len(picked) < len(wanted):
            raise MediaReadError(f"{video} ended after {len(picked)} of the frames its header announced")
        return np.stack([picked[int(i)] for i in indices]), indices

    def _resize(self, frames: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0
        if tuple(x.shape[-2:]) != tuple(self.config.size):
            x = F.interpolate(x, size=tuple(self.config.size), mode="bilinear", align_corners=False, antialias=True)
        return x.clamp(0, 1)

    def _flow(self, video: Path, indices: np.ndarray, pixels: torch.Tensor) -> torch.Tensor:
        from motionkit.clip import Clip
        from motionkit.io.atomic import atomic_path

        stat = video.stat()
        key = json.dumps([str(video.resolve()), stat.st_mtime_ns, stat.st_size, indices.tolist(),
                          list(self.config.size), type(self.estimator).__name__])
        path = self.cache / f"{hashlib.sha1(key.encode()).hexdigest()}.pt"
        if path.is_file():
            return torch.load(path)
        frames = to_uint8(pixels.permute(0, 2, 3, 1)).numpy()
        flow = self.estimator.estimate(Clip.from_array(frames)).flow.float().contiguous()
        self.cache.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            torch.save(flow, tmp)
        return flow

    def __getitem__(self, index: int) -> dict[str, Any]:
        video = self.videos[index]
        frames, indices = self._read(video, None)
        pixels = self._resize(frames)
        return {
            "pixel_values": pixels,
            "flow": self._flow(video, indices, pixels),
            "stride": torch.from_numpy(indices - indices[0]),
            "text": self.caption(video),
            "video": video.name,
        }
