"""Functional core: plain functions on tensors, no motionkit objects.

Conventions (see ``docs/conventions.md``): images ``float32 (N, C, H, W)`` in [0, 1]; flows
``(N, 2, H, W)`` in pixels, channel 0 = dx (right), channel 1 = dy (down); pixel centres at
integer coordinates. This package imports nothing of motionkit but :mod:`motionkit.errors`.
"""
