"""Learned backends that drive networks: denoising loops, windows, training."""
