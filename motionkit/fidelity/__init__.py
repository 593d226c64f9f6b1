"""Parity with the official Motion-I2V release (G-U-N/Motion-I2V): fixtures, replays, the command.

motionkit's networks (:mod:`motionkit.models.motion_i2v`) and denoising loops
(:mod:`motionkit.pipelines.motion_i2v`) are checked against tensors the unchanged official
code produced on tiny checkpoints (``shared/fixtures/motion_i2v_official``). This package sits
beside ``pipelines`` on the backend floor: it imports the networks and the loops, and nothing
below imports it.

- :mod:`.fixtures`: the official checkpoints of a fixture folder, loaded through the converter.
- :mod:`.forward`: the network forward cases and the full-size key lists.
- :mod:`.replay`: the official denoising loops replayed step by step.
- :mod:`.command`: all check groups, one line per check (``python -m motionkit.fidelity DIR``).

Example:
    >>> from motionkit.fidelity import run_checks
    >>> records = run_checks("../shared/fixtures/motion_i2v_official/tiny")  # doctest: +SKIP
    >>> all(r.ok for r in records)                                           # doctest: +SKIP
    True
"""

from motionkit.fidelity.command import CHECKS, main, run_checks
from motionkit.fidelity.records import CheckRecord

__all__ = ["CHECKS", "CheckRecord", "main", "run_checks"]
