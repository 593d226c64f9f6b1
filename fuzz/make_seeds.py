"""Write the seed inputs of every fuzz target into ``fuzz/seeds/<target>/`` (small valid files).

A fuzzer starting from valid inputs mutates its way into the deep branches (a header that
parses, then a body that does not) far sooner than one starting from nothing.

Usage: ``python fuzz/make_seeds.py``
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np

SEEDS = Path(__file__).resolve().parent / "seeds"


def _write(target: str, name: str, data: bytes) -> None:
    folder = SEEDS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def main() -> None:
    import motionkit as mk
    from motionkit.io.image import save_image

    drag = mk.Trajectory.line((3.5, 4.0), (10.25, 2.0), frames=4)
    _write("trajectory_json", "line.json", drag.to_json().encode())
    _write("trajectory_json", "file.json", b'{"format": "motionkit.trajectories", "version": 1, "trajectories": [' + drag.to_json().encode() + b"]}")
    _write("mask_json", "square.json", mk.RegionMask.from_polygon([(1, 1), (6, 1), (6, 5), (1, 5)], size=(6, 8)).to_json().encode())
    _write("cli_options", "drag.txt", b"120,80:140,75:160,70")
    _write("cli_options", "camera.txt", b"pan=20,-5;zoom=1.1;rotate=3")

    field = mk.MotionField.camera(pan=(2.0, 1.0), zoom=1.1, frames=3, size=(4, 5))
    scratch = SEEDS / ".scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    field.save(scratch / "f.npz", metadata={"source": "seed"})
    _write("motion_npz", "camera.npz", (scratch / "f.npz").read_bytes())
    flow = field.flow[1].numpy()
    _write("motion_flo", "frame.flo", struct.pack("<fii", 202021.25, 5, 4) + np.ascontiguousarray(flow.transpose(1, 2, 0)).astype("<f4").tobytes())

    rgb = (np.arange(8 * 6 * 3).reshape(8, 6, 3) * 5 % 256).astype(np.uint8)
    for index, suffix in enumerate((".png", ".jpg", ".gif", ".tif", ".webp", ".bmp")):
        if suffix == ".gif":
            _save_gif(scratch / "i.gif", rgb)  # save_image writes stills; GIF is a video format there
        else:
            save_image(scratch / f"i{suffix}", rgb)
        # The first byte picks the suffix in the target.
        _write("image_file", f"seed{suffix}", bytes([index]) + (scratch / f"i{suffix}").read_bytes())
    clip = mk.Clip.from_array(np.stack([np.roll(rgb, t, axis=1) for t in range(3)]), fps=3)
    for index, suffix in enumerate((".mp4", ".webm", ".gif", ".mkv", ".avi", ".mov")):
        if suffix in (".avi", ".mov", ".mkv"):
            continue  # the same codecs as .mp4; the mutations reach them through the first byte
        clip.write(scratch / f"v{suffix}")
        _write("video_file", f"seed{suffix}", bytes([index]) + (scratch / f"v{suffix}").read_bytes())
    for path in scratch.iterdir():
        path.unlink()
    scratch.rmdir()


def _save_gif(path: Path, rgb: np.ndarray) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="GIF")
    path.write_bytes(buffer.getvalue())


if __name__ == "__main__":
    main()
