"""motionkit's benchmarks: throughput against baselines measured in the same run on the same data.

Run ``python -m benchmarks.run`` (full) or ``python -m benchmarks.run --quick`` (CI size);
see ``benchmarks/README.md``.
"""
