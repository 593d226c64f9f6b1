"""Throughput of ``motionkit.run_batch`` on a local Ray of 2 CPUs: N animate jobs (512x340, 16 frames).

Run: ``python benchmarks/measure_batch_ray.py 8`` (needs ``motionkit[batch]``; numbers in docs/guides/scale.md).
"""
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import ray
import skimage.data

import motionkit as mk


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    photo = cv2.resize(skimage.data.chelsea(), (512, 340), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(tmp / "cat.png"), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    mk.MotionSpec.from_pixels((340, 512), frames=16, fps=8, drags=[[(250, 150), (290, 160)], [(100, 250), (90, 270)]]).save(tmp / "spec.json")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    (tmp / "jobs.jsonl").write_text("".join(json.dumps({"kind": "animate", "image": "cat.png", "spec": "spec.json"}) + "\n" for _ in range(n)))
    t = time.perf_counter(); ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False); init = time.perf_counter() - t
    t = time.perf_counter(); s = mk.run_batch(tmp / "jobs.jsonl", tmp / "out", progress=False); run = time.perf_counter() - t
    t = time.perf_counter(); s2 = mk.run_batch(tmp / "jobs.jsonl", tmp / "out", progress=False); rerun = time.perf_counter() - t
    per_job = [json.loads((tmp / "out" / str(i) / "status.json").read_text())["seconds"] for i in range(1, n + 1)]
    print(json.dumps({"jobs": n, "ray_init_s": round(init, 2), "batch_s": round(run, 2), "done": len(s.done),
                      "job_seconds_in_worker": per_job, "rerun_all_skipped_s": round(rerun, 3), "skipped": len(s2.skipped)}))


if __name__ == "__main__":
    main()
