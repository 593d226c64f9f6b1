"""Optical-flow estimators: speed at 512x512 and accuracy on real data with ground truth.

Accuracy uses the Middlebury "motorcycle" stereo pair that scikit-image ships
(``skimage.data.stereo_motorcycle()``: left, right, disparity). A pixel at ``(x, y)`` in the
left view is at ``(x - d, y)`` in the right view, so the true flow from left to right is
``(-d, 0)``. Errors are measured on pixels with a finite disparity: the mean end-point error
(EPE, pixels) and the share of pixels whose end point is off by more than 3 px.
Every built-in motionkit estimator is measured beside raw OpenCV DIS at its three presets.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import Row, skipped_row, timed

DIS_PRESETS = ("ultrafast", "fast", "medium")


def motorcycle(quick: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Left, right (uint8 RGB), true flow ``(2, H, W)`` and validity mask; halved in quick mode."""
    import cv2
    from skimage import data

    left, right, disparity = data.stereo_motorcycle()
    valid = np.isfinite(disparity)
    disparity = np.where(valid, disparity, 0.0).astype(np.float32)
    if quick:
        h, w = left.shape[0] // 2, left.shape[1] // 2
        left = cv2.resize(left, (w, h), interpolation=cv2.INTER_AREA)
        right = cv2.resize(right, (w, h), interpolation=cv2.INTER_AREA)
        # Nearest keeps invalid pixels out of the halved mask; disparities halve with the width.
        valid = cv2.resize(valid.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
        disparity = cv2.resize(disparity, (w, h), interpolation=cv2.INTER_NEAREST) / 2.0
    truth = np.stack([-disparity, np.zeros_like(disparity)])
    return left, right, truth, valid


def flow_errors(flow: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> dict[str, float]:
    """Mean end-point error (px) and share of valid pixels off by more than 3 px."""
    epe = np.sqrt(((flow - truth) ** 2).sum(axis=0))[valid]
    return {"epe_px": float(epe.mean()), "over_3px": float((epe > 3.0).mean())}


def raw_dis(preset: str):
    """``(left, right) -> (2, H, W)`` flow with OpenCV's DIS on grayscale, as a user would call it."""
    import cv2

    dis = cv2.DISOpticalFlow_create(getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{preset.upper()}"))

    def estimate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
        return dis.calc(ga, gb, None).transpose(2, 0, 1)

    return estimate


def motionkit_estimator(name: str):
    """``(left, right) -> (2, H, W)`` flow through the registered estimator's public ``estimate``."""
    import motionkit as mk

    estimator = mk.registry.create("flow_estimator", name)

    def estimate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        field = estimator.estimate(mk.Clip.from_array(np.stack([a, b]), fps=1))
        return field.flow[1].numpy()

    return estimate


def _speed_pair(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The motorcycle pair resized to ``size`` x ``size`` for the speed measurement."""
    import cv2
    from skimage import data

    left, right, _ = data.stereo_motorcycle()
    return (cv2.resize(left, (size, size), interpolation=cv2.INTER_AREA), cv2.resize(right, (size, size), interpolation=cv2.INTER_AREA))


def bench_flow(size: int, repeats: int, quick: bool) -> list[Row]:
    left, right, truth, valid = motorcycle(quick)
    speed_a, speed_b = _speed_pair(size)
    accuracy_size = f"accuracy at {left.shape[1]}x{left.shape[0]}"
    label = f"{size}x{size} pair; {accuracy_size}"

    measured: dict[str, tuple[float, dict[str, float]]] = {}
    for preset in DIS_PRESETS:
        fn = raw_dis(preset)
        seconds = timed(lambda: fn(speed_a, speed_b), repeats=repeats)
        measured[f"cv2 DIS {preset}"] = (1.0 / seconds, flow_errors(fn(left, right), truth, valid))
    base_name = "cv2 DIS medium"
    base_speed = measured[base_name][0]

    rows = []
    import motionkit as mk

    names = [n for n, origin in mk.registry.available().get("flow_estimator", {}).items() if origin == "motionkit"]
    for name in names or ["dis", "farneback"]:
        try:
            fn = motionkit_estimator(name)
            errors = flow_errors(fn(left, right), truth, valid)
            seconds = timed(lambda: fn(speed_a, speed_b), repeats=repeats)
        except Exception as exc:
            rows.append(skipped_row(f"flow: {name}", label, "pairs/s", f"estimator {name!r} unavailable: {exc}"))
            continue
        rows.append(
            Row(
                operation=f"flow: {name}",
                implementation=f"motionkit estimator {name!r} (Clip in, MotionField out)",
                size=label,
                unit="pairs/s",
                throughput=1.0 / seconds,
                baseline=base_name,
                baseline_throughput=base_speed,
                notes=f"EPE {errors['epe_px']:.2f} px, >3px {100 * errors['over_3px']:.1f} %",
                metrics=errors,
            )
        )
    for name, (speed, errors) in measured.items():
        rows.append(
            Row(
                operation=f"flow: {name} (raw)",
                implementation=f"cv2.DISOpticalFlow preset {name.split()[-1]} on grayscale",
                size=label,
                unit="pairs/s",
                throughput=speed,
                baseline=base_name,
                baseline_throughput=base_speed,
                notes=f"EPE {errors['epe_px']:.2f} px, >3px {100 * errors['over_3px']:.1f} %",
                metrics=errors,
            )
        )
    return rows
