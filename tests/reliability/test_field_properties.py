"""Properties of the motion-field algebra and of the JSON forms, checked on generated inputs.

Hypothesis draws the fields, trajectories and masks; each property is one a user relies on
when editing motion: adding or chaining "no motion" changes nothing, resizing there and back
keeps a smooth field, and what is saved as JSON comes back bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import motionkit as mk

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

finite = st.floats(min_value=-500, max_value=500, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def fields(draw, max_frames: int = 4, max_side: int = 12) -> mk.MotionField:
    """Arbitrary (rough) fields: any finite float32 vectors, frame 0 zero."""
    t = draw(st.integers(1, max_frames))
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    flow = draw(arrays(np.float32, (t, 2, h, w), elements=finite))
    flow[0] = 0.0
    return mk.MotionField(flow)


@st.composite
def smooth_fields(draw, low: int = 8, high: int = 40, even: bool = False):
    """Band-limited fields: one plane wave per channel and frame, wavelengths of 16 px or more.

    Returns the field, the amplitude ``A`` (px) and the largest angular frequency ``w``
    (radians per pixel): bilinear resampling errors scale like ``A w^2`` inside the image
    and ``A w`` at the border, where the edge value is extended.
    """
    t = draw(st.integers(2, 3))
    h, w = draw(st.integers(low, high)), draw(st.integers(low, high))
    if even:  # halving then doubling returns to the same grid only for even sides
        h, w = h - h % 2, w - w % 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    flow = np.zeros((t, 2, h, w), np.float32)
    amplitude = draw(st.floats(0.5, 20.0))
    omega = 0.0
    for f in range(1, t):
        for c in range(2):
            fx, fy = draw(st.floats(-1 / 16, 1 / 16)), draw(st.floats(-1 / 16, 1 / 16))
            phase = draw(st.floats(0, 2 * math.pi))
            flow[f, c] = amplitude * np.sin(2 * math.pi * (fx * xx + fy * yy) + phase)
            omega = max(omega, 2 * math.pi * math.hypot(fx, fy))
    return mk.MotionField(flow), amplitude, omega


@FAST
@given(fields())
def test_adding_the_zero_field_is_the_identity(field):
    zero = mk.MotionField.zeros(field.frames, field.size)
    assert field + zero == field
    assert zero + field == field
    assert field - zero == field


@FAST
@given(fields())
def test_scaling_by_one_and_subtracting_itself(field):
    assert field * 1.0 == field
    assert field - field == mk.MotionField.zeros(field.frames, field.size)


@FAST
@given(fields())
def test_composing_with_the_zero_field_is_the_identity(field):
    zero = mk.MotionField.zeros(field.frames, field.size)
    # zero after field: the second displacement is 0 wherever the first ends.
    assert field.compose(zero) == field
    # field after zero: field is read at the unmoved pixel centres, i.e. exactly (up to the
    # float rounding of pixel -> normalised -> pixel coordinates inside grid_sample).
    tolerance = 1e-5 * max(1.0, float(field.flow.abs().max()))
    assert zero.compose(field).allclose(field, atol=tolerance)


@FAST
@given(smooth_fields(), st.sampled_from([2, 3]))
def test_upsizing_and_back_preserves_a_smooth_field(case, factor):
    field, amplitude, omega = case
    h, w = field.size
    back = field.resize((h * factor, w * factor)).resize((h, w))
    assert back.size == field.size
    diff = (back.flow - field.flow).abs()
    # Bilinear up then antialiased down: a second-order error inside, first-order at the edge.
    inside = diff[..., 1:-1, 1:-1].max().item() if min(h, w) > 2 else 0.0
    assert inside <= 0.3 * amplitude * omega**2 + 1e-4, f"interior error {inside:.4f} px (A={amplitude:.2f}, w={omega:.3f})"
    assert diff.max().item() <= 0.8 * amplitude * omega + 1e-4, f"border error {diff.max().item():.4f} px"


@FAST
@given(smooth_fields(low=24, high=48, even=True))
def test_downsizing_and_back_preserves_a_smooth_field(case):
    field, amplitude, omega = case
    h, w = field.size
    back = field.resize((h // 2, w // 2)).resize((h, w))
    # Two coarse pixels (four fine ones) at each edge see the extended border value.
    inside = (back.flow - field.flow)[..., 4:-4, 4:-4].abs().max().item()
    assert inside <= 1.2 * amplitude * omega**2 + 1e-4, f"interior error {inside:.4f} px (A={amplitude:.2f}, w={omega:.3f})"


@FAST
@given(smooth_fields())
def test_resize_rescales_the_vectors(case):
    field, amplitude, omega = case
    h, w = field.size
    uniform = mk.MotionField(torch.stack([torch.zeros(2, h, w), torch.stack([torch.full((h, w), 3.0), torch.full((h, w), -2.0)])]))
    resized = uniform.resize((2 * h, 3 * w))
    # dx scales with the width, dy with the height, everywhere.
    assert torch.allclose(resized.flow[1, 0], torch.full((2 * h, 3 * w), 9.0))
    assert torch.allclose(resized.flow[1, 1], torch.full((2 * h, 3 * w), -4.0))
    doubled = field.resize((2 * h, 2 * w))
    np.testing.assert_allclose(doubled.flow.mean(dim=(2, 3)), 2 * field.flow.mean(dim=(2, 3)), atol=2 * amplitude * omega + 1e-4)


coordinates = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(coordinates, coordinates), min_size=1, max_size=40))
def test_trajectory_json_round_trip_is_exact(points):
    trajectory = mk.Trajectory(points)
    back = mk.Trajectory.from_json(trajectory.to_json())
    assert back == trajectory
    np.testing.assert_array_equal(np.asarray(back.points), np.asarray(points, dtype=np.float64))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.lists(st.tuples(coordinates, coordinates), min_size=1, max_size=8), min_size=0, max_size=5))
def test_trajectory_file_round_trip_is_exact(tmp_path_factory, paths):
    from motionkit.trajectory import load_trajectories, save_trajectories

    trajectories = [mk.Trajectory(p) for p in paths]
    path = tmp_path_factory.mktemp("traj") / "drags.json"
    save_trajectories(path, trajectories)
    assert load_trajectories(path) == trajectories


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 24).flatmap(lambda h: st.integers(1, 24).flatmap(
    lambda w: arrays(np.float32, (h, w), elements=st.floats(0.0, 1.0, width=32)))))
def test_mask_json_round_trip_is_exact(values):
    mask = mk.RegionMask(values)
    back = mk.RegionMask.from_json(mask.to_json())
    assert back == mask
    np.testing.assert_array_equal(back.numpy(), values)


@settings(max_examples=15, deadline=None)
@given(fields(max_frames=3, max_side=9))
def test_npz_and_flo_round_trips_are_exact(tmp_path_factory, field):
    folder = tmp_path_factory.mktemp("field")
    field.save(folder / "f.npz")
    assert mk.MotionField.load(folder / "f.npz") == field
    if field.frames > 1:
        field.save_flo(folder / "flo")
        assert mk.MotionField.load_flo(folder / "flo") == field
