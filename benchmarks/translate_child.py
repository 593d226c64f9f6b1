"""Run one video-to-video translation in this (child) process and report time and peak memory.

Run by ``bench_pipeline`` as ``python -m benchmarks.translate_child MODE VIDEO EDITED OUT``,
so that the peak resident memory it reports belongs to the translation alone, not to the
benchmark that started it. Prints one JSON line: wall seconds, frames, and in MiB this
process's peak RSS (``VmHWM``) and the peak of the whole process tree (this process plus
its ffmpeg decoder and encoder, summed at the same instant, sampled every 50 ms).

``getrusage`` is not used: on Linux its ``ru_maxrss`` survives ``exec``, so a child started
by a large parent would report the parent's peak, and an ffmpeg helper forked from Python
would report Python's size at the fork.

MODE ``motionkit`` runs ``motionkit.translate(...).write(...)``; MODE ``baseline`` runs the
plain streaming pipeline a user could write with OpenCV and imageio-ffmpeg (decode, DIS flow
from frame t back to frame 0, ``cv2.remap`` of the edited frame, encode with the same x264
settings) without importing motionkit or torch.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time


def _baseline(video: str, edited: str, out: str) -> int:
    import cv2
    import imageio_ffmpeg
    import numpy as np

    reader = imageio_ffmpeg.read_frames(video)
    meta = next(reader)
    width, height = meta["size"]
    paint = cv2.cvtColor(cv2.imread(edited, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    xs = np.arange(width, dtype=np.float32)[None, :]
    ys = np.arange(height, dtype=np.float32)[:, None]
    writer = imageio_ffmpeg.write_frames(
        out, (width, height), fps=meta["fps"], codec="libx264", pix_fmt_out="yuv420p",
        output_params=["-crf", "18", "-preset", "medium"], macro_block_size=1,
    )
    writer.send(None)
    first = None
    count = 0
    for raw in reader:
        frame = np.frombuffer(raw, np.uint8).reshape(height, width, 3)
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        if first is None:
            first = gray
            out_frame = paint
        else:
            back = dis.calc(gray, first, None)  # where each pixel of frame t was in frame 0
            out_frame = cv2.remap(paint, xs + back[..., 0], ys + back[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        writer.send(np.ascontiguousarray(np.clip(out_frame + 0.5, 0, 255).astype(np.uint8)))
        count += 1
    writer.close()
    return count


def _motionkit(video: str, edited: str, out: str) -> int:
    import motionkit as mk

    clip = mk.translate(video, edited)
    clip.write(out)
    return len(clip)


def _status_kib(pid: int | str, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:  # the process ended between listing and reading
        pass
    return 0


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    stat = fh.read()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                out.append(int(entry))
    return out


class TreeMemory:
    """Samples the resident memory of this process and its children in a background thread."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval, self.peak_kib, self.helper_peak_kib = interval, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            helpers = [_status_kib(pid, "VmRSS") for pid in _children(me)]
            self.helper_peak_kib = max([self.helper_peak_kib, *helpers])
            self.peak_kib = max(self.peak_kib, _status_kib(me, "VmRSS") + sum(helpers))
            self._stop.wait(self.interval)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main(argv: list[str]) -> None:
    mode, video, edited, out = argv
    # Import the heavy libraries before the clock starts: the wall time is the work's.
    import os

    import cv2
    import numpy  # noqa: F401

    threads = os.environ.get("MOTIONKIT_BENCH_THREADS")
    if threads:
        cv2.setNumThreads(int(threads))
    if mode == "motionkit":
        import torch

        import motionkit  # noqa: F401

        if threads:
            torch.set_num_threads(int(threads))
    start = time.perf_counter()
    with TreeMemory() as tree:
        frames = (_motionkit if mode == "motionkit" else _baseline)(video, edited, out)
    seconds = time.perf_counter() - start
    print(json.dumps({
        "seconds": seconds,
        "frames": frames,
        "peak_rss_mib": _status_kib("self", "VmHWM") / 1024,
        "tree_peak_rss_mib": tree.peak_kib / 1024,
        "helper_peak_rss_mib": tree.helper_peak_kib / 1024,
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
