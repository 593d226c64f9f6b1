"""Backward warp, forward splat and densification against plain OpenCV / numpy baselines.

All three run on the same data as their baseline: 16 frames of a real photo panning and a
smooth zoom-rotate-swirl motion (:func:`benchmarks.common.smooth_flows`), float32 on both
sides so that neither pays a conversion the other does not.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import Row, panning_frames, skipped_row, smooth_flows, timed


def remap_all(frames_hwc: list[np.ndarray], flows: np.ndarray) -> list[np.ndarray]:
    """The baseline: ``cv2.remap`` of every frame at ``p + flow(p)`` (bilinear, border replicate).

    Building the absolute look-up maps from the displacement is part of the work, as it is
    inside ``backward_warp``.
    """
    import cv2

    h, w = frames_hwc[0].shape[:2]
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    return [
        cv2.remap(img, xs + flow[0], ys + flow[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        for img, flow in zip(frames_hwc, flows)
    ]


class OpsData:
    """Frames and flows shared by the warp and splat benchmarks, in each side's native layout."""

    def __init__(self, frames: int, size: int) -> None:
        import torch

        self.frames, self.size = frames, size
        rgb = panning_frames(frames, size, size)
        self.flows_np = smooth_flows(frames, size, size)
        self.frames_hwc = [np.ascontiguousarray(f.astype(np.float32) / 255.0) for f in rgb]
        self.frames_t = torch.from_numpy(np.stack(self.frames_hwc)).permute(0, 3, 1, 2).contiguous()
        self.flows_t = torch.from_numpy(self.flows_np)
        self.label = f"{frames}x{size}x{size} RGB"
        self._remap_seconds: float | None = None

    def remap_seconds(self, repeats: int) -> float:
        """The baseline's time, measured once per run so that every row compares with the same number."""
        if self._remap_seconds is None:
            self._remap_seconds = timed(lambda: remap_all(self.frames_hwc, self.flows_np), repeats=repeats)
        return self._remap_seconds


def _vs_remap(data: OpsData, operation: str, implementation: str, seconds: float, min_ratio: float, quick: bool,
              repeats: int, **fields) -> Row:
    """A row comparing ``seconds`` for the 16 frames with ``cv2.remap`` on the same data."""
    base = data.remap_seconds(repeats)
    row = Row(
        operation=operation,
        implementation=implementation,
        size=fields.pop("size", data.label),
        unit="frames/s",
        throughput=data.frames / seconds,
        baseline="cv2.remap (bilinear, backward)",
        baseline_throughput=data.frames / base,
        target=f">= {min_ratio}x baseline",
        **fields,
    )
    row.metrics.update({"seconds": seconds, "baseline_seconds": base})
    row.met = None if quick else row.ratio >= min_ratio
    return row


def bench_backward_warp(data: OpsData, repeats: int, quick: bool) -> Row:
    import motionkit.ops.warp as warp_module
    from motionkit.ops.warp import backward_warp

    def ours():
        return backward_warp(data.frames_t, data.flows_t, padding="border")

    out = ours().permute(0, 2, 3, 1).numpy()
    ref = np.stack(remap_all(data.frames_hwc, data.flows_np))
    # The same operation on both sides: interior pixels must agree (OpenCV's fixed-point
    # interpolation weights are 1/32 px, hence the tolerance).
    diff = float(np.abs(out[:, 2:-2, 2:-2] - ref[:, 2:-2, 2:-2]).max())
    seconds = timed(ours, repeats=repeats)
    # The same call through grid_sample (what CUDA tensors and gradients run), on 2 frames.
    part = slice(0, 2)
    mine = backward_warp(data.frames_t[part], data.flows_t[part], padding="border")
    kernels, warp_module._kernels = warp_module._kernels, None
    try:
        ref_torch = backward_warp(data.frames_t[part], data.flows_t[part], padding="border")
    finally:
        warp_module._kernels = kernels
    vs_torch = float((mine - ref_torch).abs().max())
    compiled = "compiled kernel (numba) on CPU" if kernels is not None else "torch grid_sample (numba missing)"
    row = _vs_remap(
        data, "backward warp", f"motionkit.ops.warp.backward_warp ({compiled}; grid_sample on CUDA / with gradients)",
        seconds, 0.5, quick, repeats, metrics={"max_abs_diff_vs_baseline": diff, "max_abs_diff_vs_grid_sample": vs_torch},
        notes=f"max abs diff vs grid_sample {vs_torch:.1e} (tests/ops/test_warp_kernel.py)",
    )
    if row.met is not None:
        row.met = row.met and vs_torch <= 1e-5
    return row


#: Targets of issue 13, as ratios against ``cv2.remap`` on the same data in the same run.
SPLAT_TARGET = 0.3
RENDERER_TARGET = 0.35


def bench_splat(data: OpsData, repeats: int, quick: bool) -> list[Row]:
    """The differentiable splat in both normalised modes, checked against today's torch path."""
    import torch

    import motionkit.ops.splat as splat_module
    from motionkit.ops.splat import splat

    metric = torch.from_numpy(np.hypot(data.flows_np[:, 0], data.flows_np[:, 1])[:, None].copy())
    compiled = "numba kernels" if splat_module._kernels is not None else "torch scatter_add (numba missing)"
    rows = []
    for mode in ("avg", "softmax"):
        kwargs = {"mode": mode, "metric": metric if mode == "softmax" else None}
        seconds = timed(lambda: splat(data.frames_t, data.flows_t, **kwargs), repeats=repeats)
        # The same call through the pure-torch path (what CUDA tensors run), on 2 frames.
        part = slice(0, 2)
        ours = splat(data.frames_t[part], data.flows_t[part], mode=mode, metric=None if mode == "avg" else metric[part])
        kernels, splat_module._kernels = splat_module._kernels, None
        try:
            ref = splat(data.frames_t[part], data.flows_t[part], mode=mode, metric=None if mode == "avg" else metric[part])
        finally:
            splat_module._kernels = kernels
        diff = float((ours - ref).abs().max())
        implementation = f"motionkit.ops.splat.splat, {mode} mode (bilinear, differentiable; {compiled})"
        operation = "forward splat" if mode == "avg" else "forward splat (softmax)"
        row = _vs_remap(data, operation, implementation, seconds, SPLAT_TARGET, quick, repeats,
                        notes=f"max abs diff vs the torch path {diff:.1e} (gradcheck: tests/ops/test_splat_kernels.py)",
                        metrics={"max_abs_diff_vs_torch": diff})
        if row.met is not None:
            row.met = row.met and diff <= 1e-5
        rows.append(row)
    return [*rows, _bench_renderer_frames(data, repeats, quick), bench_inversion(repeats, quick)]


def _bench_renderer_frames(data: OpsData, repeats: int, quick: bool) -> Row:
    """The classical ``warp`` renderer's frame path: what ``animate`` and ``translate`` really run."""
    import motionkit as mk

    try:
        renderer = mk.Renderer.get("warp")
        render_frame = renderer.render_frame
        image = data.frames_t[0]
        render_frame(image, data.flows_t[1])
    except Exception as exc:  # the classical backend may not be there yet
        return skipped_row("forward splat (renderer frame path)", data.label, "frames/s", f"warp renderer unavailable: {exc}")

    def ours():
        for t in range(data.frames):
            render_frame(image, data.flows_t[t])

    implementation = (
        "WarpRenderer.render_frame: inverts the field by a softmax splat of the flow (reduced resolution, "
        "Newton refinement and miss test in one compiled pass), fills holes by push-pull, then cv2.remap of the image"
    )
    return _vs_remap(
        data, "forward splat (renderer frame path)", implementation, timed(ours, repeats=repeats), RENDERER_TARGET, quick, repeats,
        size=f"{data.frames}x{data.size}x{data.size} RGB, one reference image", notes="includes occlusion handling and hole filling",
    )


def bench_inversion(repeats: int, quick: bool) -> Row:
    """The field inversion alone (``source_map_numpy``) at 1280x720: what video-to-video pays per frame.

    Against ``cv2.remap`` of one 720p RGB frame along the same field (the warp that follows
    it), with the CPU time per frame beside the wall time (steadier on a shared machine).
    """
    import time

    import cv2

    from motionkit.ops import forward_warp

    h, w = (288, 512) if quick else (720, 1280)
    flows = smooth_flows(4, h, w)[1:]
    rgb = panning_frames(1, h, w)[0].astype(np.float32) / 255.0

    def ours():
        for flow in flows:
            forward_warp._last_map.key = None  # a new field each time: no reuse of the kept map
            forward_warp.source_map_numpy(flow)

    ours()
    start = time.process_time()
    ours()
    cpu_ms = (time.process_time() - start) * 1000 / len(flows)
    seconds = timed(ours, repeats=repeats)
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    base = timed(lambda: [cv2.remap(rgb, xs + f[0], ys + f[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) for f in flows],
                 repeats=repeats)
    row = Row(
        operation="field inversion (frame path, video size)",
        implementation="motionkit.ops.forward_warp.source_map_numpy: block-mean downscale, softmax splat of -f, push-pull, "
                       "compiled upsampling + Newton refinement + miss test, speckle pass",
        size=f"{w}x{h} zoom-rotate-swirl field",
        unit="frames/s",
        throughput=len(flows) / seconds,
        baseline="cv2.remap of one RGB frame along the same field",
        baseline_throughput=len(flows) / base,
        metrics={"seconds": seconds, "baseline_seconds": base, "cpu_ms_per_frame": cpu_ms},
        notes=f"{cpu_ms:.1f} ms CPU a frame",
    )
    return row


def brush_and_drags(size: int, frames: int):
    """A brush over the central region and 5 drags inside it (pixels), as a user would paint them."""
    import motionkit as mk

    s = size
    brush = mk.RegionMask.from_polygon([(0.15 * s, 0.15 * s), (0.85 * s, 0.15 * s), (0.85 * s, 0.85 * s), (0.15 * s, 0.85 * s)], size=(s, s))
    starts = [(0.3, 0.3), (0.7, 0.3), (0.5, 0.5), (0.3, 0.7), (0.7, 0.7)]
    moves = [(0.05, 0.02), (-0.04, 0.03), (0.0, -0.05), (0.03, -0.03), (-0.02, -0.04)]
    drags = [
        mk.Trajectory.line((x * s, y * s), ((x + dx) * s, (y + dy) * s), frames=frames)
        for (x, y), (dx, dy) in zip(starts, moves)
    ]
    return brush, drags


def shepard_baseline(starts: np.ndarray, disp: np.ndarray, size: int) -> np.ndarray:
    """Plain inverse-distance (Shepard) interpolation of ``disp (K, T, 2)`` into ``(T, 2, H, W)``."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    d2 = (xx[None] - starts[:, 0, None, None]) ** 2 + (yy[None] - starts[:, 1, None, None]) ** 2
    inv = 1.0 / (d2 + 1e-6)
    weights = inv / inv.sum(axis=0, keepdims=True)
    return np.einsum("ktc,khw->tchw", disp.astype(np.float32), weights.astype(np.float32), optimize=True)


def bench_densify(frames: int, size: int, repeats: int, quick: bool) -> Row:
    label = f"5 drags -> {frames}x2x{size}x{size}"
    try:
        import motionkit as mk

        brush, drags = brush_and_drags(size, frames)
        predictor = mk.registry.create("predictor", "sparse")
        from motionkit.io.image import image_to_tensor

        image = image_to_tensor(panning_frames(1, size, size)[0])
    except Exception as exc:
        return skipped_row("densify (sparse predictor)", label, "fields/s", f"unavailable: {exc}")

    def ours():
        return predictor.predict(image, drags, brush, frames=frames, size=(size, size))

    field = ours()
    starts = np.array([np.asarray(d.points)[0] for d in drags], np.float32)
    disp = np.stack([np.asarray(d.points) - np.asarray(d.points)[0] for d in drags]).astype(np.float32)
    t_ours = timed(ours, repeats=repeats)
    t_base = timed(lambda: shepard_baseline(starts, disp, size), repeats=repeats)
    return Row(
        operation="densify (sparse predictor)",
        implementation="SparsePredictor 'sparse' (edge-aware distances, falloff, feathered brush)",
        size=label,
        unit="fields/s",
        throughput=1.0 / t_ours,
        baseline="numpy Shepard interpolation, same points (no edges, no brush)",
        baseline_throughput=1.0 / t_base,
        metrics={"seconds": t_ours, "baseline_seconds": t_base, "field_shape": list(field.flow.shape)},
    )
