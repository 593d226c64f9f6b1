"""Bad motion inputs: mismatched sizes, NaN/Inf, trajectories off the image, absurd sizes and
frame counts, malformed JSON and corrupt motion files.

Each is refused with a ``motionkit.errors`` exception whose message names the problem, through
the Python API and, where the CLI takes that input, through the CLI (exit 1, one line). No call
leaves an output or a temporary file behind, and inputs (files and arrays) are not modified:
array inputs are made read-only, so an in-place write would fail loudly.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile

import numpy as np
import pytest
import torch

import motionkit as mk
from motionkit.errors import (
    MotionFileError,
    NonFiniteError,
    OutOfBoundsError,
    ShapeMismatchError,
    TooLargeError,
)
from motionkit.io.image import image_to_tensor

H, W = 72, 96


@pytest.fixture
def photo(small_photo) -> np.ndarray:
    image = small_photo.copy()
    image.setflags(write=False)
    return image


@pytest.fixture
def photo_file(tmp_path, small_photo):
    import cv2

    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), cv2.cvtColor(small_photo, cv2.COLOR_RGB2BGR))
    return path


def drag(frames: int = 4) -> mk.Trajectory:
    return mk.Trajectory.line((40, 30), (48, 28), frames=frames)


# --- sizes that do not match ---------------------------------------------------------------


def test_a_brush_of_another_size_is_refused(photo, photo_file, tmp_path, unchanged, cli_error):
    import cv2

    small_brush = mk.RegionMask.full((H // 2, W // 2))
    brush_file = tmp_path / "brush.png"
    cv2.imwrite(str(brush_file), np.full((H // 2, W // 2), 255, np.uint8))
    unchanged.snapshot()
    for call in (lambda: mk.animate(photo, [drag()], brush=small_brush), lambda: mk.predict_motion(photo, [drag()], brush=small_brush)):
        with pytest.raises(ShapeMismatchError, match="brush"):
            call()
    cli_error(["animate", photo_file, "--drag", "40,30:48,28", "--brush", brush_file, "-o", tmp_path / "out.mp4"], "brush")
    unchanged()


def test_a_field_or_mask_of_another_size_is_refused_by_the_renderer(photo, photo_file, tmp_path, unchanged, cli_error):
    renderer = mk.Renderer.get("warp")
    image = image_to_tensor(photo)
    field = mk.MotionField.camera(pan=(4.0, 0.0), frames=3, size=(H, W))
    wrong_field = mk.MotionField.camera(pan=(4.0, 0.0), frames=3, size=(H - 8, W))
    wrong_field.save(tmp_path / "wrong.npz")
    unchanged.snapshot()
    with pytest.raises(ShapeMismatchError):
        renderer.render(image, wrong_field)
    with pytest.raises(ShapeMismatchError):
        renderer.render(image, field, mk.RegionMask.full((H, W - 1)))
    cli_error(["render", photo_file, tmp_path / "wrong.npz", "-o", tmp_path / "out.mp4"], "resize")
    unchanged()


def test_field_algebra_refuses_fields_of_other_shapes():
    a = mk.MotionField.camera(pan=(2.0, 1.0), frames=3, size=(H, W))
    for other in (mk.MotionField.zeros(3, (H, W + 1)), mk.MotionField.zeros(4, (H, W))):
        for op in (lambda: a + other, lambda: a - other, lambda: a.compose(other)):
            with pytest.raises(ShapeMismatchError):
                op()
    with pytest.raises(ShapeMismatchError):
        a.masked(mk.RegionMask.full((H + 1, W)))
    with pytest.raises(ShapeMismatchError):
        a * [1.0, 2.0]  # per-frame weights of the wrong length


def test_an_edited_frame_of_another_size_is_refused_by_translate(video_file, photo, tmp_path, unchanged, cli_error):
    import cv2

    video = video_file()
    edited = tmp_path / "edited.png"
    cv2.imwrite(str(edited), np.ascontiguousarray(photo[:-2]))
    unchanged.snapshot()
    with pytest.raises(ShapeMismatchError, match="edited first frame"):
        mk.translate(video, edited)
    cli_error(["translate", video, edited, "-o", tmp_path / "out.mp4"], "edited first frame")
    unchanged()


# --- NaN and infinity ----------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_fields_are_refused(bad, photo, photo_file, tmp_path, unchanged, cli_error):
    flow = np.zeros((3, 2, H, W), np.float32)
    flow[2, 0, 10, 10] = bad
    flow.setflags(write=False)
    with pytest.raises(NonFiniteError):
        mk.MotionField(flow)
    with pytest.raises(NonFiniteError):
        mk.MotionField(torch.from_numpy(flow.copy()))
    # The same numbers arriving from disk: .npz written by hand, .flo written by another tool.
    np.savez(tmp_path / "bad.npz", flow=flow, format_version=np.int64(1), metadata=np.array("{}"))
    (tmp_path / "flo").mkdir()
    header = struct.pack("<fii", 202021.25, W, H)
    (tmp_path / "flo" / "frame_0001.flo").write_bytes(header + np.zeros((H, W, 2), "<f4").tobytes())
    (tmp_path / "flo" / "frame_0002.flo").write_bytes(header + np.ascontiguousarray(flow[2].transpose(1, 2, 0)).astype("<f4").tobytes())
    unchanged.snapshot()
    with pytest.raises(NonFiniteError):
        mk.MotionField.load(tmp_path / "bad.npz")
    with pytest.raises(NonFiniteError):
        mk.MotionField.load_flo(tmp_path / "flo")
    with pytest.raises(NonFiniteError):
        mk.Renderer.get("warp").render_frame(image_to_tensor(photo), torch.from_numpy(flow[2].copy()))
    cli_error(["render", photo_file, tmp_path / "bad.npz", "-o", tmp_path / "out.mp4"], "NaN")
    unchanged()


def test_non_finite_trajectories_and_options_are_refused(photo_file, tmp_path, unchanged, cli_error):
    for points in ([(np.nan, 1.0)], [(1.0, 2.0), (np.inf, 2.0)]):
        with pytest.raises(NonFiniteError):
            mk.Trajectory(points)
    unchanged.snapshot()
    cli_error(["animate", photo_file, "--drag", "nan,30:48,28", "-o", tmp_path / "out.mp4"], "--drag")
    cli_error(["animate", photo_file, "--drag", "40,30:inf,28", "-o", tmp_path / "out.mp4"], "--drag")
    cli_error(["animate", photo_file, "--camera", "zoom=nan", "-o", tmp_path / "out.mp4"], "--camera")
    unchanged()


# --- trajectories off the image --------------------------------------------------------------


@pytest.mark.parametrize("start", [(-30.0, 10.0), (W + 40.0, 10.0), (10.0, -0.6), (10.0, H + 0.5)])
def test_a_drag_starting_outside_the_image_is_refused(start, photo, photo_file, tmp_path, unchanged, cli_error):
    outside = mk.Trajectory.line(start, (start[0] + 5, start[1]), frames=4)
    unchanged.snapshot()
    with pytest.raises(OutOfBoundsError, match="outside"):
        mk.predict_motion(photo, [drag(), outside])
    with pytest.raises(OutOfBoundsError, match="outside"):
        mk.animate(photo, [outside])
    cli_error(["animate", photo_file, "--drag", f"{start[0]},{start[1]}:{start[0] + 5},{start[1]}", "-o", tmp_path / "out.mp4"], "outside")
    cli_error(["animate", photo_file, "--pin", f"{start[0]},{start[1]}", "-o", tmp_path / "out.mp4"], "outside")
    unchanged()


# --- absurd sizes and frame counts, refused before anything is allocated ------------------------


def test_absurd_frame_counts_are_refused_by_the_verbs(photo, photo_file, tmp_path, unchanged, cli_error):
    unchanged.snapshot()
    with pytest.raises(TooLargeError):
        mk.animate(photo, frames=10**9)
    with pytest.raises(TooLargeError):
        mk.predict_motion(photo, frames=10**9)
    with pytest.raises(TooLargeError):
        mk.Clip.from_image(photo, frames=10**12)
    cli_error(["animate", photo_file, "--frames", str(10**9), "-o", tmp_path / "out.mp4"], "frames")
    unchanged()


def test_absurd_image_sizes_are_refused():
    for make in (
        lambda: mk.MotionField.zeros(2, (10**6, 10**6)),
        lambda: mk.RegionMask.full((10**6, 10**6)),
        lambda: mk.RegionMask.from_polygon([(0, 0), (5, 0), (5, 5)], size=(10**6, 10**6)),
        lambda: mk.MotionField.camera(pan=(1.0, 0.0), frames=2, size=(10**6, 10**6)),
    ):
        with pytest.raises(TooLargeError):
            make()


# Each of these asks for terabytes; refusing them must not start by trying to allocate them.
ABSURD_FRAME_COUNTS = {
    "MotionField.zeros": lambda: mk.MotionField.zeros(10**7, (512, 512)),
    "MotionField.camera": lambda: mk.MotionField.camera(pan=(1.0, 0.0), frames=10**7, size=(512, 512)),
    "Trajectory.line": lambda: mk.Trajectory.line((1, 1), (5, 5), frames=10**12),
    "Trajectory.from_points": lambda: mk.Trajectory.from_points([(1, 1), (5, 5)], frames=10**12),
    "Trajectory.resample": lambda: mk.Trajectory.line((1, 1), (5, 5), frames=4).resample(10**12),
}


@pytest.mark.parametrize("name", sorted(ABSURD_FRAME_COUNTS))
def test_absurd_frame_counts_are_refused_by_the_value_objects(name):
    import tracemalloc

    tracemalloc.start()  # numpy reports its buffers here: the refusal must come before any
    try:
        with pytest.raises(TooLargeError):
            ABSURD_FRAME_COUNTS[name]()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"{peak / 2**20:.0f} MiB allocated before refusing"


def test_an_npz_declaring_an_absurd_array_is_refused(tmp_path, unchanged):
    """A 200-byte .npz whose header claims a (10^5, 2, 4096, 4096) float32 field (13 TB)."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 2, 4096, 4096), }"
    header += " " * (118 - len(header)) + "\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 64
    version = io.BytesIO()
    np.save(version, np.int64(1))
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        archive.writestr("flow.npy", npy)
        archive.writestr("format_version.npy", version.getvalue())
    unchanged.snapshot()
    with pytest.raises((TooLargeError, MotionFileError)):
        mk.MotionField.load(tmp_path / "huge.npz")
    unchanged()


def test_a_flo_declaring_an_absurd_size_is_refused(tmp_path):
    (tmp_path / "huge.flo").write_bytes(struct.pack("<fii", 202021.25, 60000, 60000) + b"\0" * 16)
    with pytest.raises((TooLargeError, MotionFileError)):
        mk.MotionField.load_flo([tmp_path / "huge.flo"])


# --- malformed JSON ----------------------------------------------------------------------------

MALFORMED_TRAJECTORIES = {
    "not JSON": "{points: [[1, 2]]",
    "empty document": "",
    "bad UTF-8": b"\xff\xfe\x00",
    "a list": "[[1, 2]]",
    "no points": '{"pts": [[1, 2]]}',
    "extra key": '{"points": [[1, 2]], "speed": 3}',
    "empty points": '{"points": []}',
    "one number per point": '{"points": [[1], [2]]}',
    "three numbers per point": '{"points": [[1, 2, 3]]}',
    "ragged": '{"points": [[1, 2], [3]]}',
    "null point": '{"points": [null]}',
    "object point": '{"points": [{"x": 1, "y": 2}]}',
    "NaN": '{"points": [[NaN, 1]]}',
    "Infinity": '{"points": [[1, -Infinity]]}',
    "overflowing float": '{"points": [[1e999, 1]]}',
    "string coordinate": '{"points": [["1", 2]]}',
    "boolean coordinate": '{"points": [[true, 2]]}',
    "integer too long to convert": '{"points": [[1' + "0" * 400 + ", 2]]}",
    "integer beyond Python's digit limit": '{"points": [[1' + "0" * 5000 + ", 2]]}",
    "nesting beyond the recursion limit": "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.parametrize("name", sorted(MALFORMED_TRAJECTORIES))
def test_malformed_trajectory_json_is_refused(name, tmp_path, unchanged):
    from motionkit.trajectory import load_trajectories

    text = MALFORMED_TRAJECTORIES[name]
    with pytest.raises(MotionFileError):
        mk.Trajectory.from_json(text)
    body = text if isinstance(text, bytes) else text.encode()
    if not body:
        return  # an empty item is an empty list in a file, which is valid
    # The same document as an item of a trajectory file.
    (tmp_path / "drags.json").write_bytes(b'{"format": "motionkit.trajectories", "version": 1, "trajectories": [' + body + b"]}")
    unchanged.snapshot()
    with pytest.raises(MotionFileError):
        load_trajectories(tmp_path / "drags.json")
    unchanged()


MALFORMED_FILES = {
    "truncated": b'{"format": "motionkit.trajectories", "version": 1, "trajectories": [{"points": [[1, 2]',
    "wrong format name": b'{"format": "something.else", "version": 1, "trajectories": []}',
    "future version": b'{"format": "motionkit.trajectories", "version": 99, "trajectories": []}',
    "trajectories not a list": b'{"format": "motionkit.trajectories", "version": 1, "trajectories": 5}',
    "binary": bytes(range(256)),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_FILES))
def test_malformed_trajectory_files_are_refused(name, tmp_path, unchanged):
    from motionkit.trajectory import load_trajectories

    (tmp_path / "drags.json").write_bytes(MALFORMED_FILES[name])
    unchanged.snapshot()
    with pytest.raises(MotionFileError):
        load_trajectories(tmp_path / "drags.json")
    unchanged()


def _mask_doc(**overrides) -> str:
    import base64
    import zlib

    doc = {"format": "motionkit.mask", "version": 1, "size": [2, 2], "encoding": "zlib-float32-le",
           "data": base64.b64encode(zlib.compress(np.ones(4, "<f4").tobytes())).decode()}
    doc.update(overrides)
    return json.dumps(doc)


MALFORMED_MASKS = {
    "not JSON": "{size: 2",
    "wrong size": _mask_doc(size=[3, 3]),
    "size claims 4e8 pixels": _mask_doc(size=[20000, 20000]),
    "zero size": _mask_doc(size=[0, 2]),
    "not base64": _mask_doc(data="%%%"),
    "not zlib": _mask_doc(data="aGVsbG8="),
    "unknown encoding": _mask_doc(encoding="png"),
    "future version": _mask_doc(version=2),
    "NaN values": _mask_doc(data=__import__("base64").b64encode(__import__("zlib").compress(np.full(4, np.nan, "<f4").tobytes())).decode()),
    "values above 1": _mask_doc(data=__import__("base64").b64encode(__import__("zlib").compress(np.full(4, 7.0, "<f4").tobytes())).decode()),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_MASKS))
def test_malformed_mask_json_is_refused(name):
    with pytest.raises(MotionFileError):
        mk.RegionMask.from_json(MALFORMED_MASKS[name])


def test_inputs_are_not_modified_by_successful_calls(photo, tmp_path):
    """Read-only inputs go through every verb: nothing writes into a caller's array."""
    trajectories = [drag()]
    brush = mk.RegionMask.from_polygon([(20, 10), (80, 10), (80, 60), (20, 60)], size=(H, W))
    brush_before = brush.numpy().copy()
    motion = mk.predict_motion(photo, trajectories, brush=brush)
    flow_before = motion.flow.clone()
    mk.animate(photo, trajectories, brush=brush, camera={"zoom": 1.05})
    mk.Renderer.get("warp").render(image_to_tensor(photo), motion, brush)
    assert torch.equal(motion.flow, flow_before)
    np.testing.assert_array_equal(brush.numpy(), brush_before)
    assert trajectories == [drag()]
