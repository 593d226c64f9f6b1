"""One local Ray (2 CPUs) for the batch tests, and the inputs of a mixed JOBS file made once."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="batch runs need Ray: pip install 'motionkit[batch]'")

import motionkit as mk


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of 2 CPUs for a test module (starting one takes ~20 s). Module scope, not
    package: tests/batch is no Python package, so a "package" fixture would live to the end of
    the session and Ray's processes would outlast these tests."""
    # Workers import motionkit from this tree, as the test process does.
    root = str(Path(__file__).resolve().parents[2])
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
    # Ray installs its own SIGTERM/SIGINT handlers in the driver and stops its processes
    # asynchronously; later tests check that nothing of theirs is left in this process.
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    _reap_children(timeout=30.0)


def _children() -> list[int]:
    """Pids of this process's running (not zombie) children."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2 :].split()
        if int(rest[1]) == os.getpid() and rest[0] != "Z":
            found.append(int(pid))
    return found


def _reap_children(timeout: float) -> None:
    """Wait for Ray's processes to exit after shutdown, then stop any left and collect them."""
    deadline = time.monotonic() + timeout
    while _children() and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in _children():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG) != (0, 0):  # collect the exited ones
            pass


@pytest.fixture(scope="package")
def inputs(tmp_path_factory, cat_photo) -> Path:
    """A folder with a small photo, a spec, a saved field, a video with its edited frame 0, a corrupt image."""
    import cv2

    folder = tmp_path_factory.mktemp("batch_inputs")
    photo = cv2.resize(cat_photo, (160, 106), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(folder / "cat.png"), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    spec = mk.MotionSpec.from_pixels((106, 160), frames=6, fps=8, drags=[[(80, 50), (90, 52)]])
    spec.save(folder / "spec.json")
    spec.compile(str(folder / "cat.png")).save(folder / "motion.npz")
    mk.render(str(folder / "cat.png"), spec.compile(str(folder / "cat.png")), fps=8).write(folder / "shot.mp4")
    edited = mk.Clip.read(folder / "shot.mp4").frame(0).copy()
    edited[20:60, 30:90] = 255 - edited[20:60, 30:90]  # a visible edit on frame 0
    cv2.imwrite(str(folder / "shot_frame0.png"), cv2.cvtColor(edited, cv2.COLOR_RGB2BGR))
    rng = np.random.default_rng(0)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 300, dtype=np.uint8).tobytes())
    return folder
