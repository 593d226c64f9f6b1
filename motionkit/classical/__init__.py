"""The weight-free classical backend: densification, warp rendering, OpenCV optical flow."""
