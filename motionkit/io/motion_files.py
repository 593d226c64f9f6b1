"""Motion fields on disk: motionkit's ``.npz`` and Middlebury ``.flo`` (one frame per file).

``.npz`` holds ``flow`` (``float32 (T, 2, H, W)`` pixels), ``format_version`` and, optionally,
``metadata`` (a JSON object as a string). Reading back gives exactly the saved numbers.

``.flo`` (Middlebury, Baker et al. 2011) is little-endian: the float32 magic ``202021.25``
(the bytes ``PIEH``), int32 width, int32 height, then ``H * W`` pairs of float32 ``(u, v)``
row by row. It holds one frame; a field is saved as ``frame_0001.flo`` ... one file per
frame ``t >= 1`` (the flow from frame 0 to frame ``t``; frame 0 is zero and not written).

Every write is atomic (:mod:`motionkit.io.atomic`); every unreadable or malformed file raises
:class:`~motionkit.errors.MotionFileError` naming the file and the problem.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from motionkit.errors import InvalidInputError, MediaWriteError, MotionFileError, MotionkitError
from motionkit.io.atomic import atomic_dir, atomic_path
from motionkit.limits import MAX_FIELD_BYTES

FORMAT_VERSION = 1
FLO_MAGIC = 202021.25
_FLO_HEADER = np.dtype([("magic", "<f4"), ("width", "<i4"), ("height", "<i4")])
_MAX_FLO_SIDE = 1 << 16  # larger headers are corrupt files, not images


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an operating-system failure while writing ``path`` (a full disk, a lost mount) into
    :class:`MediaWriteError`; :func:`atomic_path` has already removed the partial file."""
    try:
        yield
    except MotionkitError:
        raise
    except OSError as exc:
        raise MediaWriteError(f"cannot write {path}: {exc.strerror or exc}") from exc


def save_npz(path: str | os.PathLike, flow: np.ndarray, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``flow`` (``(T, 2, H, W)``) and optional JSON-serialisable ``metadata`` to ``path``.

    Example:
        >>> save_npz("wave.npz", np.zeros((2, 2, 4, 4), np.float32), {"prompt": "waves"})  # doctest: +SKIP
    """
    path = Path(path)
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidInputError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        meta = json.dumps(metadata if metadata is not None else {}, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"metadata must be a JSON-serialisable dict of finite values ({exc})") from exc
    with writing(path), atomic_path(path) as tmp:
        with open(tmp, "wb") as f:  # a file object, so numpy does not append its own ".npz"
            np.savez_compressed(
                f,
                flow=np.ascontiguousarray(flow, dtype=np.float32),
                format_version=np.int64(FORMAT_VERSION),
                metadata=np.array(meta),
            )
    return path


def _read_member(archive: zipfile.ZipFile, name: str, path: Path, *, max_bytes: int) -> np.ndarray:
    """One ``.npy`` member of an ``.npz``, its header checked before any data is allocated."""
    info = archive.getinfo(name)
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise MotionFileError(f"{path}: member {name!r} uses .npy format {version}, expected 1.0 or 2.0")
        if dtype.hasobject:
            raise MotionFileError(f"{path}: member {name!r} holds Python objects; motion files hold numbers only")
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if nbytes > max_bytes:
            raise MotionFileError(f"{path}: member {name!r} declares {shape} {dtype} ({nbytes / 2**30:.3g} GiB), more than a motion file may hold")
        if info.file_size != f.tell() + nbytes:
            raise MotionFileError(f"{path}: member {name!r} holds {info.file_size - f.tell()} bytes of data, its header declares {nbytes}")
        data = f.read(nbytes)
    if len(data) != nbytes:
        raise MotionFileError(f"{path}: member {name!r} is truncated")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def load_npz(path: str | os.PathLike) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a field saved by :func:`save_npz`: ``(flow float32 (T, 2, H, W), metadata dict)``.

    The archive is checked before anything large is allocated: a member whose header declares
    more than :data:`MAX_FIELD_BYTES` or more data than the file holds is refused.

    Raises:
        MotionFileError: missing, not an ``.npz``, corrupt, without ``flow`` and
            ``format_version``, the wrong dtype or shape, or a newer format version.
    """
    path = Path(path)
    if not path.is_file():
        raise MotionFileError(f"motion file {path} does not exist (expected an .npz written by MotionField.save)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if not {"flow.npy", "format_version.npy"} <= names:
                raise MotionFileError(f"{path} is an .npz without 'flow' and 'format_version'; was it written by MotionField.save?")
            version = _read_member(archive, "format_version.npy", path, max_bytes=64)
            if version.shape != () or version.dtype.kind not in "iu":
                raise MotionFileError(f"{path}: 'format_version' must be one integer, found {version.dtype} {version.shape}")
            if int(version) > FORMAT_VERSION:
                raise MotionFileError(f"{path} has format version {int(version)}; this motionkit reads up to {FORMAT_VERSION}, upgrade it")
            flow = _read_member(archive, "flow.npy", path, max_bytes=MAX_FIELD_BYTES)
            meta = _read_member(archive, "metadata.npy", path, max_bytes=1 << 24) if "metadata.npy" in names else None
    except MotionFileError:
        raise
    except Exception as exc:
        # Arbitrary bytes can fail inside zipfile, zlib or numpy in many ways (bad offsets,
        # reserved deflate blocks, unparsable headers); each means "not a valid motion file".
        raise MotionFileError(f"{path} is not a readable .npz motion file ({type(exc).__name__}: {exc})") from exc
    if flow.dtype != np.dtype("<f4") or flow.ndim != 4 or flow.shape[1] != 2:
        raise MotionFileError(f"{path}: 'flow' must be float32 (T, 2, H, W), found {flow.dtype} {flow.shape}")
    metadata: dict[str, Any] = {}
    if meta is not None:
        if meta.shape != () or meta.dtype.kind != "U":
            raise MotionFileError(f"{path}: metadata must be one JSON string, found {meta.dtype} {meta.shape}")
        try:
            metadata = json.loads(str(meta[()]))
        except (ValueError, RecursionError) as exc:
            raise MotionFileError(f"{path}: metadata is not a JSON string ({exc})") from exc
        if not isinstance(metadata, dict):
            raise MotionFileError(f"{path}: metadata must be a JSON object, found {type(metadata).__name__}")
    return np.array(flow), metadata


def write_flo(path: str | os.PathLike, flow: np.ndarray) -> Path:
    """Write one frame ``(2, H, W)`` (pixels) as a Middlebury ``.flo`` file, atomically."""
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[0] != 2:
        raise InvalidInputError(f".flo holds one frame (2, H, W), got {flow.shape}")
    _, h, w = flow.shape
    header = np.array([(FLO_MAGIC, w, h)], dtype=_FLO_HEADER)
    path = Path(path)
    with writing(path), atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(header.tobytes())
            f.write(np.ascontiguousarray(flow.transpose(1, 2, 0), dtype="<f4").tobytes())
    return path


def read_flo(path: str | os.PathLike) -> np.ndarray:
    """Read one Middlebury ``.flo`` file -> ``float32 (2, H, W)`` pixels."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MotionFileError(f"cannot read .flo file {path}: {exc.strerror or exc}") from exc
    if len(raw) < _FLO_HEADER.itemsize:
        raise MotionFileError(f"{path} is too short ({len(raw)} bytes) to be a .flo file")
    header = np.frombuffer(raw, dtype=_FLO_HEADER, count=1)[0]
    if header["magic"] != np.float32(FLO_MAGIC):
        raise MotionFileError(f"{path} is not a Middlebury .flo file: its first 4 bytes are {raw[:4]!r}, expected b'PIEH'")
    w, h = int(header["width"]), int(header["height"])
    if not (0 < w <= _MAX_FLO_SIDE and 0 < h <= _MAX_FLO_SIDE):
        raise MotionFileError(f"{path}: implausible .flo size {w} x {h}; the file is corrupt")
    expected = _FLO_HEADER.itemsize + 8 * w * h
    if len(raw) != expected:
        raise MotionFileError(f"{path}: a {w} x {h} .flo file has {expected} bytes, this one has {len(raw)} (truncated or padded)")
    data = np.frombuffer(raw, dtype="<f4", offset=_FLO_HEADER.itemsize).reshape(h, w, 2)
    return data.transpose(2, 0, 1).astype(np.float32)


def save_flo_frames(folder: str | os.PathLike, flow: np.ndarray) -> list[Path]:
    """Write frames 1..T-1 of ``flow`` (``(T, 2, H, W)``) as ``folder/frame_0001.flo`` ...

    The folder appears complete or not at all. An existing folder is replaced only if it
    holds nothing but ``.flo`` files (a previous export); anything else there is refused so
    that no unrelated file is ever deleted.
    """
    folder = Path(folder)
    if flow.shape[0] < 2:
        raise InvalidInputError("a one-frame field has no motion to write as .flo (frame 0 is always zero)")
    if folder.is_dir():
        others = [p.name for p in folder.iterdir() if p.suffix.lower() != ".flo"]
        if others:
            raise MediaWriteError(
                f"{folder} exists and holds files other than .flo ({', '.join(sorted(others)[:3])}...); "
                "choose a new or empty folder"
            )
    names = []
    with writing(folder), atomic_dir(folder) as tmp:
        for t in range(1, flow.shape[0]):
            write_flo(tmp / f"frame_{t:04d}.flo", flow[t])
            names.append(folder / f"frame_{t:04d}.flo")
    return names


def _natural_key(path: Path) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def load_flo_frames(source: str | os.PathLike | Sequence[str | os.PathLike]) -> np.ndarray:
    """Read ``.flo`` frames 1..T-1 (a folder, in natural name order; one file; or a list of files).

    Returns:
        ``float32 (T, 2, H, W)`` with a zero frame 0 prepended.
    """
    if isinstance(source, (str, os.PathLike)) and Path(source).is_file():
        paths = [Path(source)]  # one .flo file: a two-frame field
    elif isinstance(source, (str, os.PathLike)):
        folder = Path(source)
        if not folder.is_dir():
            raise MotionFileError(f"{folder} does not exist; pass a folder of .flo files, one .flo file or a list of files")
        paths = sorted((p for p in folder.iterdir() if p.suffix.lower() == ".flo"), key=_natural_key)
        if not paths:
            raise MotionFileError(f"{folder} holds no .flo files")
    else:
        paths = [Path(p) for p in source]
        if not paths:
            raise MotionFileError("no .flo files given")
    frames = [read_flo(p) for p in paths]
    sizes = {f.shape for f in frames}
    if len(sizes) > 1:
        raise MotionFileError(f".flo frames differ in size ({sorted(sizes)}); they must come from one field")
    return np.stack([np.zeros_like(frames[0]), *frames])
