"""Run one fuzz target under atheris (coverage-guided, libFuzzer).

Usage (from the repository root)::

    python fuzz/fuzz.py TARGET [CORPUS_DIR ...] [--skip-known] [libFuzzer flags, e.g. -max_total_time=60]

``TARGET`` is a name from :data:`fuzz_targets.TARGETS`. Only motionkit's own modules are
instrumented for coverage (torch, numpy and OpenCV are not), so the fuzzer explores
motionkit's branches at a useful speed. A crash (an exception that is not a
``MotionkitError``) stops the run and saves the input as ``crash-<sha1>``; ``--skip-known``
ignores the findings listed in ``fuzz_targets.KNOWN_FINDINGS``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["motionkit"]):
    import motionkit.cli.parse  # noqa: F401
    import motionkit.clip  # noqa: F401
    import motionkit.io.image  # noqa: F401
    import motionkit.io.motion_files  # noqa: F401
    import motionkit.io.video  # noqa: F401
    import motionkit.mask  # noqa: F401
    import motionkit.motion  # noqa: F401
    import motionkit.trajectory  # noqa: F401

import fuzz_targets as targets  # noqa: E402


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in targets.TARGETS:
        sys.exit(f"usage: python fuzz/fuzz.py TARGET [libFuzzer args]; TARGET is one of {', '.join(targets.TARGETS)}")
    args = sys.argv[2:]
    if "--skip-known" in args:
        args.remove("--skip-known")
        target = targets.skipping_known(sys.argv[1])
    else:
        target = targets.TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *args], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
