"""Shared pieces of the benchmarks: timing, the machine description, test data, result rows.

Every benchmark produces :class:`Row` objects; ``run.py`` prints them as one table and writes
them as Markdown and JSON. Test data are real photos (scikit-image's public-domain images),
never noise, so that flow and rendering behave as they do on user content.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

#: Environment variable carrying ``--threads`` into the benchmark's child processes.
THREADS_ENV = "MOTIONKIT_BENCH_THREADS"


@dataclass
class Row:
    """One line of the results table.

    ``throughput`` and ``baseline_throughput`` share ``unit`` (e.g. frames/s); ``ratio`` is
    motionkit over baseline, so above 1 means motionkit is faster. ``target`` is a readable
    goal and ``met`` whether this run reached it (``None``: no target, or quick mode).
    """

    operation: str
    implementation: str
    size: str
    unit: str
    throughput: float | None = None
    baseline: str = ""
    baseline_throughput: float | None = None
    target: str = ""
    met: bool | None = None
    notes: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    skipped: str = ""

    @property
    def ratio(self) -> float | None:
        if self.throughput is None or not self.baseline_throughput:
            return None
        return self.throughput / self.baseline_throughput

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ratio"] = self.ratio
        return out


def with_load(row: Row, load: float) -> Row:
    """``row`` noting the 1-minute load average ``load`` its benchmark started at (notes and metrics)."""
    row.metrics["load_1m_at_start"] = round(load, 2)
    row.notes = f"{row.notes}; load {load:.2f}" if row.notes else f"load {load:.2f}"
    return row


def timed(fn: Callable[[], Any], *, repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs after ``warmup`` runs.

    The median rather than the minimum: a shared 2-core machine has noisy neighbours and the
    median is what a user sees; the warm-up excludes one-time costs (lazy imports, caches).
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    """CPU model, usable cores, RAM and library versions of this run."""
    import cv2
    import torch

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    info = {
        "cpu": _cpu_model(),
        "cores": cores,
        "ram_gib": _ram_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "opencv": cv2.__version__,
        "opencv_threads": cv2.getNumThreads(),
        "numpy": np.__version__,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        # Other work on the machine slows every row; the load says how quiet the run was.
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
    }
    try:
        import motionkit

        info["motionkit"] = motionkit.__version__
    except Exception as exc:  # the benchmark must still describe the machine
        info["motionkit"] = f"import failed: {exc}"
    return info


def photo(height: int, width: int) -> np.ndarray:
    """scikit-image's coffee photo resized to cover ``(height, width)`` and centre-cropped, uint8 RGB."""
    import cv2
    from skimage import data

    src = data.coffee()
    scale = max(height / src.shape[0], width / src.shape[1])
    resized = cv2.resize(src, (math.ceil(src.shape[1] * scale), math.ceil(src.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    y0 = (resized.shape[0] - height) // 2
    x0 = (resized.shape[1] - width) // 2
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])


def panning_frames(frames: int, height: int, width: int, step: float = 3.0) -> np.ndarray:
    """``(T, H, W, 3) uint8``: a window panning right and down across a real photo."""
    margin = int(math.ceil(step * frames)) + 2
    big = photo(height + margin, width + margin)
    out = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        o = int(round(step * t))
        out[t] = big[o : o + height, o : o + width]
    return out


def smooth_flows(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """``(T, 2, H, W) float32`` plausible motion: a growing zoom-and-rotate camera plus a local swirl.

    Displacements reach about 5 % of the image side by the last frame, the range image
    animation produces; frame 0 is zero like every motionkit field.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    sx, sy = rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height
    swirl = np.exp(-(((xx - sx) ** 2 + (yy - sy) ** 2) / (2 * (0.15 * min(height, width)) ** 2)))
    out = np.zeros((frames, 2, height, width), np.float32)
    for t in range(1, frames):
        u = t / max(frames - 1, 1)
        zoom, angle = 1.0 + 0.06 * u, math.radians(3.0 * u)
        c, s = math.cos(angle) * zoom, math.sin(angle) * zoom
        out[t, 0] = (c - 1) * (xx - cx) - s * (yy - cy) + 0.02 * width * u
        out[t, 1] = s * (xx - cx) + (c - 1) * (yy - cy)
        out[t, 0] += -0.04 * min(height, width) * u * swirl * (yy - sy) / (0.15 * min(height, width))
        out[t, 1] += 0.04 * min(height, width) * u * swirl * (xx - sx) / (0.15 * min(height, width))
    return out


def skipped_row(operation: str, size: str, unit: str, reason: str, **kwargs: Any) -> Row:
    """A row that could not run here (a missing component, no GPU), with the reason."""
    return Row(operation=operation, implementation="-", size=size, unit=unit, skipped=reason, **kwargs)
