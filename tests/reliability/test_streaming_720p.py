"""A 720p, 300-frame video streams through estimate -> ``field * 0.5`` -> render -> mp4 within 2 GB.

The user-visible proof of the streaming MotionField: the two-line form
``field = clip.estimate_motion(); renderer.render(edited, field * 0.5)`` on a long HD video.
It runs in a child process so that the peak resident memory of the whole process tree
(Python plus the ffmpeg decoder and encoder, sampled together every 50 ms by
``benchmarks.translate_child.TreeMemory``) belongs to this work alone.

Where the time goes: writing the synthetic video (x264, ~20 s), then per frame the DIS
"ultrafast" flow at 1280x720, the warp renderer's inversion (at 256 px) and full-resolution
Newton refinement and remap, decoding and encoding. Measured on the shared 2-core CPU under
a load of about 4: 211 s for the streaming child (0.7 s a frame), 3 min 51 s for the test;
peak RSS of the process tree 861 MiB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

import motionkit as mk

HEIGHT, WIDTH, FRAMES = 720, 1280, 300
STEP = (2.0, 1.0)  # px per frame (right, down): 598 px right and 299 down by the last frame

CHILD = textwrap.dedent("""
    import json, sys, time
    from benchmarks.translate_child import TreeMemory
    import motionkit as mk

    source, edited, out = sys.argv[1:]
    start = time.perf_counter()
    with TreeMemory() as tree:
        clip = mk.Clip.read(source)
        field = clip.estimate_motion(preset="ultrafast")
        assert field.is_lazy
        rendered = mk.Renderer.get("warp").render(mk.Clip.read(edited).frame(0), field * 0.5, fps=clip.fps)
        rendered.write(out)
    print(json.dumps({"tree_peak_rss_mib": tree.peak_kib / 1024, "frames": len(rendered), "seconds": time.perf_counter() - start}))
""")


def texture(height: int, width: int) -> np.ndarray:
    """Smooth random colour blobs: trackable by flow and by template matching alike."""
    rng = np.random.default_rng(7)
    small = rng.integers(0, 255, (height // 16 + 2, width // 16 + 2, 3), np.uint8)
    return cv2.GaussianBlur(cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC), (0, 0), 2.0)


def write_source(path: Path) -> np.ndarray:
    """Write the panning video lazily (the test never holds it); return the big texture it pans over."""
    dx, dy = STEP
    big = texture(HEIGHT + int(dy * FRAMES) + 8, WIDTH + int(dx * FRAMES) + 8)
    x0, y0 = int(dx * FRAMES), int(dy * FRAMES)

    def frames():
        for t in range(FRAMES):
            # Content moves right/down: the window onto the texture moves left/up.
            x, y = x0 - round(dx * t), y0 - round(dy * t)
            yield np.ascontiguousarray(big[y : y + HEIGHT, x : x + WIDTH])

    mk.Clip.from_frames(frames, FRAMES, (HEIGHT, WIDTH), fps=30).write(path, quality=9)
    return big


def locate(frame: np.ndarray, patch: np.ndarray) -> tuple[int, int]:
    scores = cv2.matchTemplate(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY), cv2.TM_CCOEFF_NORMED)
    _, _, _, (x, y) = cv2.minMaxLoc(scores)
    return x, y


@pytest.mark.slow
def test_720p_300_frames_stream_through_a_halved_field_within_2_gb(tmp_path):
    source, edited, out = tmp_path / "pan720.mp4", tmp_path / "edited.png", tmp_path / "halved.mp4"
    write_source(source)
    first = mk.Clip.read(source).frame(0)
    cv2.imwrite(str(edited), first)  # RGB saved as BGR: the edit is a channel swap
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", CHILD, str(source), str(edited), str(out)],
                            capture_output=True, text=True, env=env, cwd=root, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"720p x {FRAMES}: {report['seconds']:.0f} s streaming, peak RSS of the process tree {report['tree_peak_rss_mib']:.0f} MiB")
    assert report["frames"] == FRAMES
    assert report["tree_peak_rss_mib"] <= 2048, report

    # A patch from the middle of frame 0 is tracked by template matching in the source and the output.
    patch_at = (560, 300)
    patch = first[patch_at[1] : patch_at[1] + 96, patch_at[0] : patch_at[0] + 96]
    swapped = np.ascontiguousarray(patch[..., ::-1])
    t = 200
    src_frame = mk.Clip.read(source).frame(t)
    out_frame = mk.Clip.read(out).frame(t)
    sx, sy = locate(src_frame, patch)
    ox, oy = locate(out_frame, swapped)
    moved_source = (sx - patch_at[0], sy - patch_at[1])
    moved_output = (ox - patch_at[0], oy - patch_at[1])
    assert moved_source == (round(STEP[0] * t), round(STEP[1] * t)), moved_source
    assert abs(moved_output[0] - moved_source[0] / 2) <= 2 and abs(moved_output[1] - moved_source[1] / 2) <= 2, (moved_source, moved_output)
