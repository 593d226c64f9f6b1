"""End-to-end verbs: ``animate`` (densify + render + encode) and ``translate`` of a long video.

``animate`` is compared with the floor of the same job in plain OpenCV: ``cv2.remap`` of the
16 frames along the field motionkit predicted, encoded with the same x264 settings.
``translate`` runs in a child process (see :mod:`benchmarks.translate_child`) so that its
peak resident memory (with its ffmpeg helpers) is measured alone; the source video is a real photo panning, generated
and encoded as a stream, never held in memory.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.bench_ops import brush_and_drags, remap_all
from benchmarks.common import Row, photo, skipped_row, timed, with_load

REPO = Path(__file__).resolve().parents[1]

#: Targets of issue 13: ratios against the plain OpenCV + ffmpeg pipelines in the same run.
ANIMATE_TARGET = 0.7
TRANSLATE_TARGET = 0.7
RSS_LIMIT_MIB = 2048


def _encode_x264(frames: list[np.ndarray], path: Path, fps: float) -> None:
    import imageio_ffmpeg

    h, w = frames[0].shape[:2]
    writer = imageio_ffmpeg.write_frames(
        str(path), (w, h), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
        output_params=["-crf", "18", "-preset", "medium"], macro_block_size=1,
    )
    writer.send(None)
    for frame in frames:
        writer.send(frame)
    writer.close()


def bench_animate(frames: int, size: int, repeats: int, quick: bool, workdir: Path) -> Row:
    label = f"{frames}x{size}x{size}, 5 drags under a brush, to .mp4"
    load = os.getloadavg()[0]
    try:
        import motionkit as mk

        image = photo(size, size)
        brush, drags = brush_and_drags(size, frames)
    except Exception as exc:
        return skipped_row("animate end to end", label, "videos/s", f"unavailable: {exc}")
    out = workdir / "animate.mp4"

    def ours():
        mk.animate(image, drags, brush=brush, frames=frames).write(out)

    first = timed(ours, repeats=1, warmup=0)  # the first call after import, lazy loads included
    t_ours = first if quick else timed(ours, repeats=repeats, warmup=0)

    # The baseline re-renders along the very field motionkit predicted.
    flows = mk.predict_motion(image, drags, brush=brush, frames=frames).flow.numpy()
    reference = [np.ascontiguousarray(image.astype(np.float32))] * frames
    base_out = workdir / "baseline.mp4"

    def baseline():
        rendered = remap_all(reference, -flows)  # backward look-up: the simplest approximation
        _encode_x264([np.clip(f + 0.5, 0, 255).astype(np.uint8) for f in rendered], base_out, 8.0)

    t_base = timed(baseline, repeats=repeats, warmup=0 if quick else 1)
    return with_load(Row(
        operation="animate end to end",
        implementation="motionkit.animate (sparse + warp; frames rendered on parallel threads and encoded as they "
        "are done) + Clip.write (x264 crf 18)",
        size=label,
        unit="videos/s",
        throughput=1.0 / t_ours,
        baseline="cv2.remap of the same field + imageio-ffmpeg x264 encode",
        baseline_throughput=1.0 / t_base,
        target=f">= {ANIMATE_TARGET}x baseline",
        met=None if quick else t_base / t_ours >= ANIMATE_TARGET,
        notes=f"{t_ours:.2f} s per video (first call after import {first:.2f} s)",
        metrics={"seconds": t_ours, "first_call_seconds": first, "baseline_seconds": t_base},
    ), load)


def write_panning_video(path: Path, frames: int, height: int, width: int, fps: float = 30.0) -> None:
    """Encode ``frames`` frames of a real photo panning, one frame in memory at a time."""
    import imageio_ffmpeg

    dx = 1.0  # px per frame to the right, and a slow vertical sway
    sway = 0.05 * height
    big = photo(height + int(2 * sway) + 4, width + math.ceil(dx * frames) + 4)

    def stream():
        for t in range(frames):
            x = int(round(dx * t))
            y = int(round(sway * (1 - math.cos(2 * math.pi * t / max(frames, 1)))))
            yield np.ascontiguousarray(big[y : y + height, x : x + width])

    writer = imageio_ffmpeg.write_frames(
        str(path), (width, height), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
        output_params=["-crf", "18", "-preset", "veryfast"], macro_block_size=1,
    )
    writer.send(None)
    for frame in stream():
        writer.send(frame)
    writer.close()


def grade(frame: np.ndarray) -> np.ndarray:
    """The benchmark's edit: a warm colour grade of a ``uint8 (H, W, 3)`` RGB frame."""
    return np.clip(frame.astype(np.float32) * np.array([1.15, 1.0, 0.8], np.float32) + 10, 0, 255).astype(np.uint8)


def _first_frame_edit(video: Path, edited: Path) -> None:
    """A plausible edit of frame 0 (warm colour grade), saved as PNG."""
    import cv2
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(video))
    meta = next(reader)
    w, h = meta["size"]
    frame = np.frombuffer(next(reader), np.uint8).reshape(h, w, 3)
    reader.close()
    cv2.imwrite(str(edited), cv2.cvtColor(grade(frame), cv2.COLOR_RGB2BGR))


def translation_psnr(source: Path, outputs: list[Path]) -> list[float]:
    """PSNR (dB) of each translated video against the source graded frame by frame, the ideal result.

    The edit is a global colour grade, so carrying it through the video perfectly gives the
    graded source; decoding all of them side by side keeps one frame of each in memory.
    """
    import imageio_ffmpeg

    readers = [imageio_ffmpeg.read_frames(str(p)) for p in (source, *outputs)]
    metas = [next(r) for r in readers]
    w, h = metas[0]["size"]
    squared = np.zeros(len(outputs))
    count = 0
    try:
        for raws in zip(*readers):
            truth = grade(np.frombuffer(raws[0], np.uint8).reshape(h, w, 3)).astype(np.float32)
            for i, raw in enumerate(raws[1:]):
                squared[i] += float(np.mean((np.frombuffer(raw, np.uint8).reshape(h, w, 3).astype(np.float32) - truth) ** 2))
            count += 1
    finally:
        for r in readers:
            r.close()
    mse = squared / max(count, 1)
    return [float(10 * np.log10(255.0**2 / max(m, 1e-12))) for m in mse]


def _child(mode: str, video: Path, edited: Path, out: Path, timeout: float) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.translate_child", mode, str(video), str(edited), str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{mode} translate failed: {tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_translate(frames: int, height: int, width: int, quick: bool, workdir: Path) -> Row:
    label = f"{width}x{height}, {frames} frames"
    video, edited = workdir / "source.mp4", workdir / "edited.png"
    write_panning_video(video, frames, height, width)
    _first_frame_edit(video, edited)
    timeout = 120 if quick else 1800
    try:
        ours = _child("motionkit", video, edited, workdir / "translated.mp4", timeout)
    except Exception as exc:
        return skipped_row("translate (video-to-video)", label, "frames/s", str(exc))
    base = _child("baseline", video, edited, workdir / "baseline.mp4", timeout)
    psnr, base_psnr = translation_psnr(video, [workdir / "translated.mp4", workdir / "baseline.mp4"])
    total = ours["tree_peak_rss_mib"]
    ratio = (ours["frames"] / ours["seconds"]) / (base["frames"] / base["seconds"])
    met = ratio >= TRANSLATE_TARGET and total <= RSS_LIMIT_MIB and psnr >= base_psnr - 0.05
    return Row(
        operation="translate (video-to-video)",
        implementation="motionkit.translate (dis at a 960 px long side, patch stride 4, 3 refinement iterations, + warp, lazy clip; decode, flow, render, edit model and encode in overlapping threads) + Clip.write",
        size=label,
        unit="frames/s",
        throughput=ours["frames"] / ours["seconds"],
        baseline="streaming cv2 DIS (t->0) + cv2.remap + imageio-ffmpeg, no motionkit",
        baseline_throughput=base["frames"] / base["seconds"],
        target=f">= {TRANSLATE_TARGET}x baseline, PSNR >= baseline's, peak RSS <= {RSS_LIMIT_MIB} MiB (Python + ffmpeg helpers)",
        met=None if quick else met,
        notes=(
            f"{ours['seconds']:.1f} s wall; PSNR of the colour edit vs the graded source {psnr:.2f} dB "
            f"(baseline {base_psnr:.2f} dB); peak RSS {total:.0f} MiB in all ({ours['peak_rss_mib']:.0f} MiB Python, "
            f"ffmpeg helpers up to {ours['helper_peak_rss_mib']:.0f} MiB each); baseline {base['tree_peak_rss_mib']:.0f} MiB in all"
        ),
        metrics={
            "seconds": ours["seconds"],
            "psnr_db": psnr,
            "baseline_psnr_db": base_psnr,
            "peak_rss_mib": ours["peak_rss_mib"],
            "helper_peak_rss_mib": ours["helper_peak_rss_mib"],
            "peak_rss_total_mib": total,
            "baseline_seconds": base["seconds"],
            "baseline_peak_rss_mib": base["peak_rss_mib"],
            "baseline_peak_rss_total_mib": base["tree_peak_rss_mib"],
        },
    )


def bench_pipelines(quick: bool, repeats: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="motionkit-bench-") as tmp:
        workdir = Path(tmp)
        animate_size, translate_size = ((8, 128), (12, 72, 128)) if quick else ((16, 512), (300, 720, 1280))
        rows = []
        from benchmarks.bench_preview import bench_playback, bench_preview

        preview_size, playback_size = ((128, 8, 64), (128, 8)) if quick else ((512, 16, 256), (512, 48))
        for operation, bench in (
            ("preview (editor)", lambda: bench_preview(*preview_size, repeats, quick)),
            ("playback-rate rendering", lambda: bench_playback(*playback_size, quick)),
            ("animate end to end", lambda: bench_animate(*animate_size, repeats, quick, workdir)),
            ("translate (video-to-video)", lambda: bench_translate(*translate_size, quick, workdir)),
        ):
            try:
                rows.append(bench())
            except Exception as exc:
                rows.append(skipped_row(operation, "-", "-", f"failed: {type(exc).__name__}: {exc}"))
        return rows
