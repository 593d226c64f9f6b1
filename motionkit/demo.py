"""``motionkit demo``: animate the bundled cat photo with the classical backend.

It shows the whole idea in one run: drags become a dense motion field, a camera move is
composed on top, the field is rendered, and a side-by-side GIF puts the input, the motion's
colour coding and the output next to each other. Pins hold points still in the scene; the
camera move, composed after the object motion, moves them with everything else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

#: The bundled photo (scikit-image's "Chelsea the cat", CC0; see ``motionkit/assets/README.md``).
SAMPLE_IMAGE = "chelsea.png"

#: The preset: the cat turns its head up and to the right; pins hold its chin and the bottom
#: corners still *in the scene*. The camera then films the scene: the zoom moves every pixel,
#: pinned ones too (up to 14 px at the corners), as a real camera would. A pin holds a point
#: against the object motion, not against the camera.
DEMO_DRAGS = (
    ((265.0, 240.0), (289.0, 229.0)),  # nose
    ((172.0, 115.0), (193.0, 105.0)),  # left eye
    ((322.0, 137.0), (343.0, 128.0)),  # right eye
)
DEMO_PINS = ((40.0, 285.0), (425.0, 285.0), (225.0, 295.0))
DEMO_CAMERA = {"zoom": 1.06}
DEMO_FRAMES = 16
DEMO_FPS = 8.0


@dataclass
class DemoReport:
    """What :func:`run_demo` wrote and how long it took (seconds of wall time)."""

    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def sample_image_path() -> Path:
    """Path of the bundled sample photo (a ``uint8`` 451 x 300 RGB PNG)."""
    return Path(str(resources.files("motionkit") / "assets" / SAMPLE_IMAGE))


def run_demo(output_dir: str | Path = "motionkit-demo", *, progress: bool = False) -> DemoReport:
    """Animate the sample photo and write ``demo.mp4``, ``motion.mp4`` and ``side_by_side.gif``.

    Args:
        output_dir: folder for the three files (created if missing).
        progress: show progress bars while writing.

    Returns:
        A :class:`DemoReport` listing the files written and the time taken.
    """
    import motionkit as mk

    started = time.perf_counter()
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)

    image = mk.Clip.read(sample_image_path()).frame(0)  # uint8 (H, W, 3); every verb takes it
    trajectories = [mk.Trajectory.line(start, end, frames=DEMO_FRAMES, easing="ease-in-out") for start, end in DEMO_DRAGS]
    trajectories += [mk.Trajectory.pin(point, frames=DEMO_FRAMES) for point in DEMO_PINS]
    motion = mk.predict_motion(image, trajectories, camera=DEMO_CAMERA, frames=DEMO_FRAMES)
    video = mk.render(image, motion, fps=DEMO_FPS)
    preview = motion.visualize(style="color", fps=DEMO_FPS)

    report = DemoReport()
    for name, clip in (("demo.mp4", video), ("motion.mp4", preview)):
        clip.write(out / name, progress=progress)
        report.files.append(out / name)
    still = mk.Clip.from_image(image, frames=DEMO_FRAMES, fps=DEMO_FPS)
    side = mk.Clip.hstack([c.resized(scale=0.5) for c in (still, preview, video)])
    side.write(out / "side_by_side.gif", progress=progress)
    report.files.append(out / "side_by_side.gif")
    report.seconds = time.perf_counter() - started
    return report
