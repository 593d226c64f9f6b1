"""Per-clip time of the batch's job kinds on this machine, one torch thread (a Ray worker of 1 CPU).

Run: ``python benchmarks/measure_batch_cost.py`` (the table of docs/guides/scale.md).
"""
import json
import resource
import tempfile
import time
from pathlib import Path

import cv2
import skimage.data
import torch

import motionkit as mk
from motionkit.verbs.jobs import parse_job, run_job


def cpu():
    """CPU seconds of this process and its finished children (ffmpeg encodes and decodes in one)."""
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime


def best(f, n=3):
    """(wall s, CPU s of this process) of the fastest of n runs (the machine is shared: CPU s is the cost)."""
    times = []
    for _ in range(n):
        t, c = time.perf_counter(), cpu(); f(); times.append((time.perf_counter() - t, cpu() - c))
    return min(times, key=lambda x: x[1])


def main() -> None:
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    tmp = Path(tempfile.mkdtemp())
    photo = cv2.resize(skimage.data.chelsea(), (512, 340), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(tmp / "cat.png"), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    spec = mk.MotionSpec.from_pixels((340, 512), frames=16, fps=8, drags=[[(250, 150), (290, 160)], [(100, 250), (90, 270)]])
    spec.save(tmp / "spec.json")

    out = {}
    image = str(tmp / "cat.png")
    out["animate.compile"] = best(lambda: spec.compile(image))
    motion = spec.compile(image)
    out["animate.render(frames in memory)"] = best(lambda: mk.render(image, motion, fps=8).to_numpy())
    clip = mk.render(image, motion, fps=8); frames = clip.to_numpy()
    out["encode mp4 (16 frames)"] = best(lambda: mk.Clip.from_array(frames, fps=8).write(tmp / "enc.mp4"))
    out["animate job total"] = best(lambda: run_job(parse_job({"kind": "animate", "image": image, "spec": str(tmp / "spec.json")}), tmp / "a.mp4"))
    edited = frames[0].copy(); edited[50:150, 100:250] = 255 - edited[50:150, 100:250]
    cv2.imwrite(str(tmp / "e.png"), cv2.cvtColor(edited, cv2.COLOR_RGB2BGR))
    out["decode mp4 (16 frames)"] = best(lambda: mk.Clip.read(tmp / "a.mp4").to_numpy())
    out["flow (estimate_motion, 16 frames)"] = best(lambda: mk.estimate_motion(str(tmp / "a.mp4")).flow.sum(), n=2)
    out["translate job total"] = best(lambda: run_job(parse_job({"kind": "translate", "video": str(tmp / "a.mp4"), "edited": str(tmp / "e.png")}), tmp / "t.mp4"), n=2)
    out["check job total"] = best(lambda: run_job(parse_job({"kind": "check", "video": str(tmp / "a.mp4"), "spec": str(tmp / "spec.json")}), tmp / "r.json"), n=2)
    out["output size (bytes)"] = (tmp / "a.mp4").stat().st_size
    print(json.dumps({k: [round(x, 3) for x in v] if isinstance(v, tuple) else v for k, v in out.items()}, indent=0))


if __name__ == "__main__":
    main()
