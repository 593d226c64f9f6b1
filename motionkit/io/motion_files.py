"""Motion fields on disk: motionkit's ``.npz`` and Middlebury ``.flo`` (one frame per file).

``.npz`` (format version 2, written by :func:`save_npz`) holds ``format_version``, a
``header`` (JSON: ``frames``, ``height``, ``width``, ``dtype``, ``reference``), ``metadata``
(a JSON object) and one compressed member per frame, ``frame_000000.npy`` ... each
``(2, H, W)`` pixels in ``float32`` (exact) or ``float16`` (half the size; every value within
``|v| / 2048`` px). One member per frame lets a reader stream the field (:func:`open_npz`,
``MotionField.load(path, lazy=True)``) and a writer save a lazy field without holding it.
Version 1 (one ``flow`` member, ``float32 (T, 2, H, W)``) still loads, exactly.

``.flo`` (Middlebury, Baker et al. 2011) is little-endian: the float32 magic ``202021.25``
(the bytes ``PIEH``), int32 width, int32 height, then ``H * W`` pairs of float32 ``(u, v)``
row by row. It holds one frame; a field is saved as ``frame_0001.flo`` ... one file per
frame ``t >= 1`` (the flow from frame 0 to frame ``t``; frame 0 is zero and not written).

Every write is atomic (:mod:`motionkit.io.atomic`); every unreadable or malformed file raises
:class:`~motionkit.errors.MotionFileError` naming the file and the problem.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from motionkit.errors import (
    InvalidInputError,
    MediaWriteError,
    MotionFileError,
    MotionkitError,
)
from motionkit.io.atomic import atomic_dir, atomic_path
from motionkit.limits import MAX_FIELD_BYTES

#: The format :func:`save_npz` writes; :func:`open_npz` reads this one and every earlier one.
FORMAT_VERSION = 2
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


def flow_dtype(dtype: Any) -> np.dtype:
    """The storage dtype named by ``dtype``: float32 (exact) or float16 (half the size).

    Accepts ``"float32"``/``"float16"`` (``"half"``), numpy or torch dtypes.

    Raises:
        InvalidInputError: any other dtype.
    """
    name = str(dtype).replace("torch.", "")
    name = {"half": "float16", "float": "float32", "single": "float32"}.get(name, name)
    if name not in ("float32", "float16"):
        raise InvalidInputError(f"motion fields are saved as float32 or float16, got dtype {dtype!r}")
    return np.dtype(f"<f{2 if name == 'float16' else 4}")


def _metadata_json(metadata: dict[str, Any] | None) -> str:
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidInputError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        return json.dumps(metadata if metadata is not None else {}, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"metadata must be a JSON-serialisable dict of finite values ({exc})") from exc


def _write_member(archive: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    with archive.open(name, "w", force_zip64=True) as f:
        np.lib.format.write_array(f, np.asarray(array), allow_pickle=False)


def _frame_name(t: int) -> str:
    return f"frame_{t:06d}.npy"


def save_npz(
    path: str | os.PathLike,
    flow: np.ndarray | Iterable[np.ndarray],
    metadata: dict[str, Any] | None = None,
    *,
    dtype: Any = "float32",
    reference: int = 0,
) -> Path:
    """Write a field as a format-version-2 ``.npz``: one compressed member per frame, atomically.

    Args:
        path: the target (any suffix).
        flow: ``(T, 2, H, W)`` pixels, or an iterable of ``(2, H, W)`` frames (streamed: one
            frame in memory at a time).
        metadata: a JSON-serialisable dict stored beside the field.
        dtype: ``"float32"`` (exact) or ``"float16"`` (under half the size; each value
            rounded to 11 significant bits, i.e. within ``|v| / 2048`` px, 0.031 px at 64 px,
            and within 3e-8 px near zero).
        reference: the field's reference frame index (:attr:`MotionField.reference`, the frame whose
            motion is zero); :func:`open_npz` gives it back (0 for files that do not store it).

    Raises:
        InvalidInputError: bad metadata or dtype, frames of mixed shapes, or a value beyond
            float16's range (65504 px) when ``dtype="float16"``.
        MediaWriteError: the folder is missing or not writable.

    Example:
        >>> save_npz("wave.npz", np.zeros((2, 2, 4, 4), np.float32), {"prompt": "waves"})  # doctest: +SKIP
    """
    path = Path(path)
    meta = _metadata_json(metadata)
    store = flow_dtype(dtype)
    with writing(path), atomic_path(path) as tmp:
        # A file object, so numpy's writer never appends its own ".npz" to the name.
        with open(tmp, "wb") as f, zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            shape = None
            count = 0
            for frame in flow:
                frame = np.asarray(frame, dtype=np.float32)
                if shape is None:
                    shape = frame.shape
                    if frame.ndim != 3 or frame.shape[0] != 2:
                        raise InvalidInputError(f"a motion field frame is (2, H, W) pixels, got {frame.shape}")
                elif frame.shape != shape:
                    raise InvalidInputError(f"frame {count} is {frame.shape}, frame 0 was {shape}; one field has one size")
                if store.itemsize == 2:
                    peak = float(np.abs(frame).max(initial=0.0))
                    if not peak <= float(np.finfo(np.float16).max):
                        raise InvalidInputError(
                            f"frame {count} moves {peak:.6g} px, beyond float16's range (65504); save it as float32"
                        )
                _write_member(archive, _frame_name(count), frame.astype(store))
                count += 1
            if shape is None:
                raise InvalidInputError("a motion field needs at least one frame, got none")
            header = {"frames": count, "height": shape[1], "width": shape[2], "dtype": store.name, "reference": int(reference)}
            _write_member(archive, "format_version.npy", np.int64(FORMAT_VERSION))
            _write_member(archive, "header.npy", np.array(json.dumps(header)))
            _write_member(archive, "metadata.npy", np.array(meta))
    return path


@contextlib.contextmanager
def _member(archive: zipfile.ZipFile, name: str, path: Path, *, max_bytes: int) -> Iterator[tuple[Any, tuple, np.dtype, bool]]:
    """Open one ``.npy`` member, its header checked before any data is read: ``(file, shape, dtype, fortran)``."""
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
        yield f, tuple(shape), dtype, fortran


def _read_exact(f: Any, nbytes: int, name: str, path: Path) -> bytes:
    data = f.read(nbytes)
    if len(data) != nbytes:
        raise MotionFileError(f"{path}: member {name!r} is truncated")
    return data


def _read_member(archive: zipfile.ZipFile, name: str, path: Path, *, max_bytes: int) -> np.ndarray:
    """One ``.npy`` member of an ``.npz``, its header checked before any data is allocated."""
    with _member(archive, name, path, max_bytes=max_bytes) as (f, shape, dtype, fortran):
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        data = _read_exact(f, nbytes, name, path)
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


@dataclasses.dataclass(frozen=True)
class NpzField:
    """What :func:`open_npz` learns from a motion file's headers, without reading its frames.

    Attributes:
        path: the file.
        version: its format version (1: one ``flow`` member; 2: one member per frame).
        frames: T.
        size: ``(H, W)`` pixels.
        dtype: the stored dtype (``float32`` or ``float16``); frames are read back as float32.
        reference: the reference frame index stored with the field (0 for version 1).
        metadata: the stored JSON object.
    """

    path: Path
    version: int
    frames: int
    size: tuple[int, int]
    dtype: np.dtype
    reference: int
    metadata: dict[str, Any]

    def iter_frames(self) -> Iterator[np.ndarray]:
        """Yield the frames as ``float32 (2, H, W)`` pixels, one member (or one slice) at a time."""
        with _reading(self.path), zipfile.ZipFile(self.path) as archive:
            if self.version == 1:
                with _member(archive, "flow.npy", self.path, max_bytes=MAX_FIELD_BYTES) as (f, shape, dtype, fortran):
                    if fortran:  # not written by motionkit; frames are not contiguous
                        yield from np.asarray(_read_member(archive, "flow.npy", self.path, max_bytes=MAX_FIELD_BYTES), np.float32)
                        return
                    step = int(np.prod(shape[1:])) * dtype.itemsize
                    for _ in range(shape[0]):
                        frame = np.frombuffer(_read_exact(f, step, "flow.npy", self.path), dtype=dtype).reshape(shape[1:])
                        yield frame.astype(np.float32)
                return
            expected = (2, *self.size)
            for t in range(self.frames):
                name = _frame_name(t)
                frame = _read_member(archive, name, self.path, max_bytes=MAX_FIELD_BYTES)
                if frame.shape != expected or frame.dtype != self.dtype:
                    raise MotionFileError(f"{self.path}: member {name!r} is {frame.dtype} {frame.shape}, the header says {self.dtype} {expected}")
                yield frame.astype(np.float32)


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    try:
        yield
    except MotionFileError:
        raise
    except Exception as exc:
        # Arbitrary bytes can fail inside zipfile, zlib or numpy in many ways (bad offsets,
        # reserved deflate blocks, unparsable headers); each means "not a valid motion file".
        raise MotionFileError(f"{path} is not a readable .npz motion file ({type(exc).__name__}: {exc})") from exc


def _json_member(archive: zipfile.ZipFile, name: str, path: Path) -> Any:
    value = _read_member(archive, name, path, max_bytes=1 << 24)
    if value.shape != () or value.dtype.kind != "U":
        raise MotionFileError(f"{path}: {name[:-4]} must be one JSON string, found {value.dtype} {value.shape}")
    try:
        out = json.loads(str(value[()]))
    except (ValueError, RecursionError) as exc:
        raise MotionFileError(f"{path}: {name[:-4]} is not a JSON string ({exc})") from exc
    if not isinstance(out, dict):
        raise MotionFileError(f"{path}: {name[:-4]} must be a JSON object, found {type(out).__name__}")
    return out


def _v2_header(archive: zipfile.ZipFile, names: set[str], path: Path) -> tuple[int, tuple[int, int], np.dtype, int]:
    if "header.npy" not in names:
        raise MotionFileError(f"{path} has format version 2 but no 'header'; it is damaged")
    header = _json_member(archive, "header.npy", path)
    try:
        frames, size = int(header["frames"]), (int(header["height"]), int(header["width"]))
        dtype, reference = flow_dtype(header["dtype"]), int(header.get("reference", 0))
    except (KeyError, TypeError, ValueError, InvalidInputError) as exc:
        raise MotionFileError(f"{path}: its header {header} is not a motion field's ({exc})") from None
    if frames < 1 or min(size) < 1:
        raise MotionFileError(f"{path}: its header declares {frames} frames of {size[0]}x{size[1]}")
    if not 0 <= reference < frames:
        raise MotionFileError(f"{path}: its header names frame {reference} the reference, but the field has frames 0..{frames - 1}")
    limits_bytes = frames * 2 * size[0] * size[1] * 4
    if limits_bytes > MAX_FIELD_BYTES:
        raise MotionFileError(f"{path}: its header declares {frames} frames of {size[0]}x{size[1]} ({limits_bytes / 2**30:.3g} GiB), more than a motion file may hold")
    missing = [t for t in range(frames) if _frame_name(t) not in names]
    if missing:
        raise MotionFileError(f"{path}: frames {missing[:5]}{'...' if len(missing) > 5 else ''} of {frames} are missing; the file is damaged")
    return frames, size, dtype, reference


def open_npz(path: str | os.PathLike) -> NpzField:
    """Read a motion file's headers (version 1 or 2) and check them; frames are read later.

    Raises:
        MotionFileError: missing, not an ``.npz``, corrupt, without ``format_version`` (and
            ``flow`` or per-frame members), a wrong dtype or shape, or a newer format version.
    """
    path = Path(path)
    if not path.is_file():
        raise MotionFileError(f"motion file {path} does not exist (expected an .npz written by MotionField.save)")
    with _reading(path), zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "format_version.npy" not in names or not ({"flow.npy", "header.npy", "frame_000000.npy"} & names):
            raise MotionFileError(f"{path} is an .npz without 'flow' and 'format_version'; was it written by MotionField.save?")
        version = _read_member(archive, "format_version.npy", path, max_bytes=64)
        if version.shape != () or version.dtype.kind not in "iu":
            raise MotionFileError(f"{path}: 'format_version' must be one integer, found {version.dtype} {version.shape}")
        version = int(version)
        if version > FORMAT_VERSION:
            raise MotionFileError(f"{path} has format version {version}; this motionkit reads up to {FORMAT_VERSION}, upgrade it")
        if version >= 2:
            frames, size, dtype, reference = _v2_header(archive, names, path)
        else:
            if "flow.npy" not in names:
                raise MotionFileError(f"{path} is an .npz without 'flow' and 'format_version'; was it written by MotionField.save?")
            with _member(archive, "flow.npy", path, max_bytes=MAX_FIELD_BYTES) as (_, shape, dtype, _):
                pass
            if dtype != np.dtype("<f4") or len(shape) != 4 or shape[1] != 2 or min(shape) < 1:
                raise MotionFileError(f"{path}: 'flow' must be float32 (T, 2, H, W), found {dtype} {shape}")
            frames, size, reference = shape[0], (shape[2], shape[3]), 0
        metadata = _json_member(archive, "metadata.npy", path) if "metadata.npy" in names else {}
    return NpzField(path, version, frames, size, dtype, reference, metadata)


def load_npz(path: str | os.PathLike) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a field saved by :func:`save_npz` (or a version-1 file): ``(flow float32 (T, 2, H, W), metadata)``.

    The archive is checked before anything large is allocated: a member whose header declares
    more than :data:`MAX_FIELD_BYTES` or more data than the file holds is refused.

    Raises:
        MotionFileError: see :func:`open_npz`; also a member that is truncated or corrupt.
    """
    field = open_npz(path)
    flow = np.empty((field.frames, 2, *field.size), np.float32)
    for t, frame in enumerate(field.iter_frames()):
        flow[t] = frame
    return flow, field.metadata


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
