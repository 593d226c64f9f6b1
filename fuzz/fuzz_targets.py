"""The fuzz targets: one function per parser of outside input, bytes in, nothing out.

Each target feeds arbitrary bytes to a motionkit entry point that reads outside input. A
target "passes" an input when motionkit accepts it or refuses it with a
:class:`motionkit.errors.MotionkitError`; any other exception escaping is a crash (a bug: a
traceback instead of a clear error). The same functions run under atheris (coverage-guided,
``fuzz/run.py``) and under hypothesis in the test suite (``tests/reliability/test_fuzz_parsers.py``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from motionkit.errors import MotionkitError

_SCRATCH = Path(tempfile.mkdtemp(prefix="motionkit-fuzz-"))


def _scratch_file(data: bytes, suffix: str) -> Path:
    """Write ``data`` to a reused scratch file (fuzzers run millions of inputs; no temp litter)."""
    path = _SCRATCH / f"input{suffix}"
    path.write_bytes(data)
    return path


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def trajectory_json(data: bytes) -> None:
    """``Trajectory.from_json`` on raw bytes and text, and ``load_trajectories`` on a file."""
    from motionkit.trajectory import Trajectory, load_trajectories

    for document in (data, _text(data)):
        try:
            trajectory = Trajectory.from_json(document)
        except MotionkitError:
            continue
        # What was accepted must survive its own round trip exactly.
        assert Trajectory.from_json(trajectory.to_json()) == trajectory
    try:
        load_trajectories(_scratch_file(data, ".json"))
    except MotionkitError:
        pass


def mask_json(data: bytes) -> None:
    """``RegionMask.from_json`` on raw bytes."""
    from motionkit.mask import RegionMask

    try:
        mask = RegionMask.from_json(data)
    except MotionkitError:
        return
    assert RegionMask.from_json(mask.to_json()) == mask


def cli_options(data: bytes) -> None:
    """The CLI's ``--drag``, ``--pin`` and ``--camera`` parsers on arbitrary text."""
    from motionkit.cli.parse import parse_camera, parse_drag, parse_point

    text = _text(data)
    for parse in (parse_drag, parse_point, lambda t: parse_camera(t.split(";"))):
        try:
            parse(text)
        except MotionkitError:
            pass


def motion_npz(data: bytes) -> None:
    """``MotionField.load`` and ``load_metadata`` on arbitrary bytes saved as ``.npz``."""
    from motionkit.motion import MotionField

    path = _scratch_file(data, ".npz")
    for load in (MotionField.load, MotionField.load_metadata):
        try:
            load(path)
        except MotionkitError:
            pass


def motion_flo(data: bytes) -> None:
    """``MotionField.load_flo`` on arbitrary bytes saved as one ``.flo`` frame."""
    from motionkit.motion import MotionField

    try:
        MotionField.load_flo([_scratch_file(data, ".flo")])
    except MotionkitError:
        pass


def image_file(data: bytes) -> None:
    """``load_image`` and ``RegionMask.from_image`` on arbitrary bytes under common image suffixes."""
    from motionkit.io.image import load_image
    from motionkit.mask import RegionMask

    suffix = (".png", ".jpg", ".gif", ".tif", ".webp", ".bmp")[data[0] % 6] if data else ".png"
    path = _scratch_file(data[1:], suffix)
    for read in (load_image, RegionMask.from_image):
        try:
            read(path)
        except MotionkitError:
            pass


def video_file(data: bytes) -> None:
    """``Clip.read`` and a full decode on arbitrary bytes under common video suffixes."""
    from motionkit.clip import Clip

    suffix = (".mp4", ".webm", ".gif", ".mkv", ".avi", ".mov")[data[0] % 6] if data else ".mp4"
    try:
        clip = Clip.read(_scratch_file(data[1:], suffix))
        count = sum(1 for _ in clip.iter_frames())
    except MotionkitError:
        return
    assert count == len(clip), f"probe counted {len(clip)} frames, decoding gave {count}"


TARGETS: dict[str, Callable[[bytes], None]] = {
    "trajectory_json": trajectory_json,
    "mask_json": mask_json,
    "cli_options": cli_options,
    "motion_npz": motion_npz,
    "motion_flo": motion_flo,
    "image_file": image_file,
    "video_file": video_file,
}


#: Findings already reported to their owners, per target, as the escaping exception's
#: qualified type name. ``python fuzz/run.py --skip-known`` ignores them so that a run can
#: get past a known crash and look for new ones; each is pinned by a test in
#: ``tests/reliability/test_fuzz_regressions.py``.
KNOWN_FINDINGS: dict[str, tuple[str, ...]] = {
    "motion_npz": ("zlib.error",),
    "image_file": ("PIL.Image.DecompressionBombError",),
}


def skipping_known(name: str) -> Callable[[bytes], None]:
    """``TARGETS[name]`` with the :data:`KNOWN_FINDINGS` of that target swallowed."""
    target, known = TARGETS[name], KNOWN_FINDINGS.get(name, ())

    def run(data: bytes) -> None:
        try:
            target(data)
        except Exception as exc:
            if f"{type(exc).__module__}.{type(exc).__qualname__}" not in known:
                raise

    return run
