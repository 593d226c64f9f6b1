"""ATI's trajectories ("Any Trajectory Instruction", github.com/bytedance/ATI): a ``.pth`` of npz bytes.

Read from the project's own code:

- ``tools/trajectory_editor/app.py`` (the editor that writes them): ``store_tracks`` pads or
  cuts every drawn track to ``FIXED_LENGTH = 121`` points ``[x, y, 1]`` (padding rows are
  zeros, so a short track is invisible after its last point), stacks them as float32
  ``(N, 121, 1, 3)`` and ``array_to_npz_bytes`` multiplies the whole array by
  ``QUANT_MULTI = 8``, packs it with ``np.savez_compressed(bio, array=...)`` and writes the
  bytes with ``torch.save``. The points are pixels of the uploaded image (the canvas's
  coordinates scaled back by ``origW / canvas.width``), measured from its top-left corner.
- ``wan/utils/motion.py`` (what ``generate.py`` reads with ``--track`` or a ``track:`` line of
  ``examples/test.yaml``): ``get_tracks_inference`` does ``torch.load``, ``unzip_to_array``
  (key ``"array"``), then ``process_tracks`` divides by 8, moves the 121 samples first when
  the array is ``(N, 121, 1, 3)``, splits ``[..., :2]`` (x, y) from ``[..., 2:3]``
  (visibility), centres on ``(W / 2, H / 2)`` of the input image and divides by half its
  short side. The 121 samples are "aligned with 24 fps", the model makes 81 frames at 16 fps:
  frame 0 takes sample 0 and ``repeat_interleave(2)[1::3]`` gives frame ``k`` the sample
  ``floor(1.5 k)``.
- ``wan/modules/motion_patch.py`` samples the first frame's features at the tracks with
  ``grid_sample(align_corners=False)``: ``-1`` and ``1`` are the picture's outer edges, so
  ATI's pixel coordinates have the top-left *corner* at ``(0, 0)`` and a pixel's centre at
  ``+0.5``; motionkit's (centres at integers) are those minus half a pixel.

So :func:`read` returns the 81 frames ATI's model sees, and :func:`write` puts each frame on
the samples ATI picks for it (the samples no frame picks get the midpoint of their two
neighbours), so a written file reads back exactly and ATI sees exactly the frames given.
Positions of invisible samples mean nothing to ATI; :func:`read` holds the nearest visible
position there, so a track does not jump to the corner where the editor padded it.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

from motionkit.errors import MotionFileError

#: Tracks are pixels of the input image measured from its top-left corner (centres at +0.5).
UNITS = "corner-pixels"
#: ATI's 480p size (``--size 832*480``), (H, W); the tracks are really in the input image's pixels.
DEFAULT_SIZE = (480, 832)
#: Frames ATI's model makes from the 121 samples (Wan 2.1, 4n + 1).
FRAMES = 81
#: ATI reads exactly this many frames: a spec is resampled to them before writing.
FIXED_FRAMES = FRAMES
#: Frames per second of ATI's video.
FPS = 16.0
#: Samples per track in the file (24 fps over ATI's 5 s).
SAMPLES = 121
#: The editor's quantisation factor (``QUANT_MULTI``), applied to the whole array.
QUANT = 8.0


def sample_of_frame(frames: int = FRAMES) -> np.ndarray:
    """The file sample each video frame reads under ``process_tracks``: ``floor(1.5 k)``, ``(frames,)`` ints."""
    return np.floor(1.5 * np.arange(frames)).astype(int)


def _hold_visible(values: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """``values (T, 2)`` with invisible rows replaced by the nearest visible row before (else after) them."""
    if shown.all() or not shown.any():
        return values
    index = np.where(shown, np.arange(len(shown)), -1)
    index = np.maximum.accumulate(index)
    index[index < 0] = np.flatnonzero(shown)[0]
    return values[index]


def read(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """``(tracks float32 (81, N, 2) (x, y) corner pixels, visibility bool (81, N))`` from an ATI ``.pth``.

    Raises:
        MotionFileError: not a ``torch.save``-d npz with an ``"array"`` of ``(N, 121, 1, 3)`` or
            ``(121, N, 1, 3)`` finite numbers.
    """
    import torch

    path = Path(path)
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            array = np.asarray(npz["array"], dtype=np.float64)
    except (OSError, EOFError, RuntimeError, ValueError, KeyError, TypeError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        raise MotionFileError(f"cannot read ATI tracks {path}: a torch.save-d npz with an 'array' ({type(exc).__name__}: {exc})") from None
    if array.ndim == 4 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim != 3 or array.shape[2] != 3 or SAMPLES not in array.shape[:2] or not np.isfinite(array).all():
        raise MotionFileError(f"{path}: ATI tracks are finite (N, {SAMPLES}, 1, 3) [x, y, visible] x {QUANT:g}, got {array.shape}")
    if array.shape[1] == SAMPLES:  # (N, 121, 3) -> (121, N, 3), as process_tracks does
        array = array.transpose(1, 0, 2)
    array = array / QUANT
    picked = array[sample_of_frame()]
    shown = picked[..., 2] > 0.5
    tracks = np.stack([_hold_visible(picked[:, n, :2], shown[:, n]) for n in range(picked.shape[1])], axis=1)
    return tracks.reshape(FRAMES, -1, 2).astype(np.float32), shown


def samples_from_frames(values: np.ndarray) -> np.ndarray:
    """``(81, ...)`` per-frame values -> ``(121, ...)`` samples that ATI's pick turns back into them exactly."""
    values = np.asarray(values, dtype=np.float64)
    out = np.empty((SAMPLES, *values.shape[1:]), dtype=np.float64)
    picks = sample_of_frame(len(values))
    out[picks] = values
    unpicked = np.setdiff1d(np.arange(SAMPLES), picks)  # 2, 5, 8 ...: between frames 2j+1 and 2j+2
    out[unpicked] = 0.5 * (out[unpicked - 1] + out[unpicked + 1])
    return out


def write(path: str | os.PathLike, tracks: np.ndarray, visibility: np.ndarray | None = None) -> Path:
    """Write ``tracks (81, N, 2)`` corner pixels and ``visibility (81, N)`` as ATI's editor does, atomically.

    Raises:
        MotionFileError: not 81 frames (resample the spec first: ``spec.with_frames(81)``).
    """
    import torch

    from motionkit.io.atomic import atomic_path

    tracks = np.asarray(tracks, dtype=np.float64)
    if tracks.ndim != 3 or tracks.shape[0] != FRAMES or tracks.shape[2] != 2:
        raise MotionFileError(f"ATI tracks are {FRAMES} frames of (N, 2) points, got {tracks.shape}")
    shown = np.ones(tracks.shape[:2], bool) if visibility is None else np.asarray(visibility, dtype=bool)
    samples = samples_from_frames(np.concatenate([tracks, shown[..., None].astype(np.float64)], axis=2))
    samples[..., 2] = samples[..., 2] > 0.5  # a sample between a visible and a hidden frame: hidden
    array = (QUANT * samples.transpose(1, 0, 2)[:, :, None, :]).astype(np.float32)  # (N, 121, 1, 3)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, array=array)
    path = Path(path)
    with atomic_path(path, suffix=".pth") as tmp:
        torch.save(buffer.getvalue(), tmp)
    return path
