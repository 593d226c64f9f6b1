"""MotionField: construction, algebra, edits and the parametric constructors on analytic fields."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from motionkit import MotionField, RegionMask
from motionkit.errors import InvalidInputError, NonFiniteError, ShapeMismatchError, TooLargeError
from motionkit.ops import field as field_ops
from motionkit.ops.warp import backward_warp, pixel_grid

H, W, T = 24, 32, 5


def translation(dx: float, dy: float, frames: int = T, size=(H, W)) -> MotionField:
    """Constant translation reaching (dx, dy) at the last frame, linearly."""
    s = torch.linspace(0, 1, frames).view(frames, 1, 1, 1)
    flow = torch.tensor([dx, dy], dtype=torch.float32).view(1, 2, 1, 1) * s
    return MotionField(flow.expand(frames, 2, *size))


def zoom_field(z: float, size=(H, W)) -> MotionField:
    """Two frames: zoom by z about the image centre."""
    h, w = size
    c = torch.tensor([(w - 1) / 2, (h - 1) / 2]).view(2, 1, 1)
    rel = pixel_grid(h, w) - c
    return MotionField(torch.stack([torch.zeros(2, h, w), (z - 1) * rel]))


def interior(t: torch.Tensor, margin: int = 4) -> torch.Tensor:
    return t[..., margin:-margin, margin:-margin]


# --- construction ------------------------------------------------------------------------


def test_constructor_copies_and_converts():
    src = np.zeros((T, 2, H, W), np.float64)
    src[1:, 0] = 2.0
    field = MotionField(src)
    src[1:, 0] = 99.0  # the caller's array is not shared
    assert field.flow.dtype == torch.float32
    assert field.flow[1, 0].max().item() == 2.0
    tensor = torch.zeros(T, 2, H, W)
    field2 = MotionField(tensor)
    tensor[1] = 5.0
    assert field2.flow.abs().max().item() == 0.0
    assert (field.frames, field.height, field.width, field.size, len(field)) == (T, H, W, (H, W), T)
    assert field.numpy().shape == (T, 2, H, W)


def test_repr_names_shape_and_magnitude():
    text = repr(translation(3, 4))
    assert "frames=5" in text and "(24, 32)" in text and "5.00" in text


@pytest.mark.parametrize("shape", [(T, 3, H, W), (2, H, W), (0, 2, H, W), (T, 2, 0, W)])
def test_bad_shapes_refused(shape):
    with pytest.raises(ShapeMismatchError):
        MotionField(torch.zeros(shape))


def test_non_finite_and_moving_frame0_refused():
    flow = torch.zeros(T, 2, H, W)
    flow[2, 0, 3, 3] = float("nan")
    with pytest.raises(NonFiniteError):
        MotionField(flow)
    flow = torch.ones(T, 2, H, W)
    with pytest.raises(InvalidInputError, match="frame 0"):
        MotionField(flow)
    with pytest.raises(InvalidInputError):
        MotionField("not a field")


def test_zeros_and_size_checks():
    z = MotionField.zeros(3, (8, 9))
    assert z.flow.shape == (3, 2, 8, 9) and z.magnitude().max() == 0
    with pytest.raises(InvalidInputError):
        MotionField.zeros(0, (8, 9))
    with pytest.raises(TooLargeError):
        MotionField.zeros(2, (100000, 100000))
    with pytest.raises(TooLargeError, match="GiB"):  # refused before allocating 120 GiB
        MotionField.camera(frames=4000, size=(2000, 2000))
    with pytest.raises(InvalidInputError):
        MotionField.zeros(2.5, (8, 9))


# --- algebra -----------------------------------------------------------------------------


def test_add_sub_neg_mul_follow_their_definitions():
    a, b = translation(3, 1), translation(-1, 2)
    assert (a + b).allclose(translation(2, 3), atol=1e-6)
    assert (a - b).allclose(translation(4, -1), atol=1e-6)
    assert (-a).allclose(translation(-3, -1), atol=1e-6)
    assert (a * 2).allclose(translation(6, 2), atol=1e-6)
    assert (0.5 * a).allclose(translation(1.5, 0.5), atol=1e-6)
    weights = [0.0, 1.0, 0.0, 2.0, 1.0]
    weighted = a * weights
    for t, w in enumerate(weights):
        assert torch.allclose(weighted.flow[t], a.flow[t] * w)
    assert (a * torch.tensor(weights)).allclose(weighted)


def test_algebra_errors():
    a = translation(1, 1)
    with pytest.raises(ShapeMismatchError):
        a + translation(1, 1, size=(H + 1, W))
    with pytest.raises(ShapeMismatchError):
        a + translation(1, 1, frames=T + 1)
    with pytest.raises(ShapeMismatchError):
        a * [1.0, 2.0]
    with pytest.raises(NonFiniteError):
        a * float("inf")


def test_equality_is_by_value():
    assert translation(1, 2) == translation(1, 2)
    assert translation(1, 2) != translation(1, 3)


# --- compose -------------------------------------------------------------------------------


def test_compose_two_translations_adds_them():
    out = translation(3, -2).compose(translation(1.5, 4))
    assert out.allclose(translation(4.5, 2), atol=1e-5)


def test_compose_translation_then_zoom_matches_analytic_chain():
    d = torch.tensor([2.0, -1.0]).view(2, 1, 1)
    shift = MotionField(torch.stack([torch.zeros(2, H, W), d.expand(2, H, W)]))
    z = 1.25
    c = torch.tensor([(W - 1) / 2, (H - 1) / 2]).view(2, 1, 1)
    p = pixel_grid(H, W)
    # p -> p + d, then zoom about c: c + z (p + d - c)
    expected = c + z * (p + d - c) - p
    out = shift.compose(zoom_field(z))
    assert torch.allclose(interior(out.flow[1]), interior(expected), atol=1e-4)
    # order matters: zoom first, then translate, differs by (z - 1) d
    other = zoom_field(z).compose(shift)
    assert torch.allclose(interior(out.flow[1] - other.flow[1]), interior((z - 1) * d.expand(2, H, W)), atol=1e-4)


# --- edits ---------------------------------------------------------------------------------


def test_masked_freezes_outside_exactly():
    a = translation(3, 2)
    mask = torch.zeros(H, W)
    mask[:, : W // 2] = 1.0
    out = a.masked(mask)
    assert out.flow[:, :, :, W // 2 :].abs().max().item() == 0.0
    assert torch.equal(out.flow[:, :, :, : W // 2], a.flow[:, :, :, : W // 2])
    assert out == a.masked(RegionMask(mask))
    with pytest.raises(ShapeMismatchError):
        a.masked(torch.ones(H, W + 1))


def test_resize_rescales_vectors():
    out = translation(3, -2).resize((H * 2, W * 3))
    assert out.size == (H * 2, W * 3)
    assert out.allclose(translation(9, -4, size=(H * 2, W * 3)), atol=1e-5)
    down = translation(4, 4).resize((H // 2, W // 4))
    assert down.allclose(translation(1, 2, size=(H // 2, W // 4)), atol=1e-5)


def test_resize_keeps_a_zoom_a_zoom():
    small = MotionField.camera(zoom=1.5, frames=3, size=(H, W))
    big = small.resize((2 * H, 2 * W))
    expected = MotionField.camera(zoom=1.5, frames=3, size=(2 * H, 2 * W))
    assert torch.allclose(interior(big.flow, 4), interior(expected.flow, 4), atol=1e-3)


def test_smooth_keeps_frame0_and_linear_motion():
    linear = translation(8, -4, frames=9)
    out = linear.smooth(temporal_sigma=1.0)
    assert out.flow[0].abs().max().item() == 0.0
    # a linear ramp is its own odd reflection at frame 0, so away from the end it is unchanged
    assert torch.allclose(out.flow[:5], linear.flow[:5], atol=1e-5)
    # a jump is spread over neighbouring frames
    step = torch.zeros(9, 2, H, W)
    step[4:, 0] = 6.0
    soft = MotionField(step).smooth(temporal_sigma=1.0).flow[:, 0, 0, 0]
    assert 0 < soft[3] < 3 < soft[4] < 6
    # space: a constant field is unchanged, a sharp edge is softened
    assert MotionField(step).smooth(spatial_sigma=2.0).allclose(MotionField(step), atol=1e-5)
    edge = torch.zeros(2, 2, H, W)
    edge[1, 0, :, W // 2 :] = 4.0
    blurred = MotionField(edge).smooth(spatial_sigma=2.0).flow[1, 0, 0]
    assert 0 < blurred[W // 2 - 1] < 2 < blurred[W // 2] < 4
    with pytest.raises(InvalidInputError):
        linear.smooth(spatial_sigma=-1)


def test_reverse_of_a_pan_is_the_opposite_pan_with_reversed_timing():
    pan = MotionField.camera(pan=(6, -3), frames=T, size=(H, W))
    assert pan.reverse().allclose(MotionField.camera(pan=(-6, 3), frames=T, size=(H, W)), atol=1e-4)
    eased = MotionField.camera(pan=(6, 0), frames=T, size=(H, W), easing="ease-in").reverse()
    expected = MotionField.camera(pan=(-6, 0), frames=T, size=(H, W), easing="ease-out")
    assert eased.allclose(expected, atol=1e-4)


@pytest.mark.parametrize(
    "forward, backward",
    [
        (dict(zoom=1.25), dict(zoom=1 / 1.25)),
        (dict(zoom=2.5), dict(zoom=1 / 2.5)),  # strong zooms and turns need Newton, not fixed-point steps
        (dict(rotate=90), dict(rotate=-90)),
        (dict(zoom=0.5, rotate=30), dict(zoom=2.0, rotate=-30)),
    ],
)
def test_reverse_undoes_zoom_and_rotation(forward, backward):
    size = (41, 61)
    rev = MotionField.camera(frames=3, size=size, **forward).reverse()
    expected = MotionField.camera(frames=3, size=size, **backward)
    # where the inverse reads inside the image (near the centre for a zoom-out inverse)
    assert torch.allclose(rev.flow[-1][:, 14:-14, 24:-24], expected.flow[-1][:, 14:-14, 24:-24], atol=1e-3)


def test_loop_frames_are_forward_then_back():
    a = translation(4, 0, frames=4)
    looped = a.loop()
    assert looped.frames == 6
    order = [0, 1, 2, 3, 2, 1]
    for i, t in enumerate(order):
        assert torch.equal(looped.flow[i], a.flow[t])
    closed = a.loop(closed=True)
    assert closed.frames == 7 and closed.flow[-1].abs().max() == 0


def test_magnitude():
    m = translation(3, 4).magnitude()
    assert m.shape == (T, H, W)
    assert torch.allclose(m[-1], torch.full((H, W), 5.0))


# --- camera --------------------------------------------------------------------------------


def test_camera_pan_moves_photo_content(cat_photo):
    image = torch.from_numpy(cat_photo).permute(2, 0, 1).float() / 255
    h, w = image.shape[-2:]
    dx, dy = 12, -7
    field = MotionField.camera(pan=(dx, dy), frames=4, size=(h, w))
    assert torch.allclose(field.flow[-1], torch.tensor([dx, dy], dtype=torch.float32).view(2, 1, 1).expand(2, h, w))
    # render the last frame: each output pixel q shows the frame-0 pixel q - pan (an exact inverse for a pan)
    frame = backward_warp(image, -field.flow[-1:])[0]
    ys, xs = slice(20, h - 20), slice(20, w - 20)
    moved = frame[:, ys.start + dy : ys.stop + dy, xs.start + dx : xs.stop + dx]
    assert torch.allclose(moved, image[:, ys, xs], atol=1e-5)


def test_camera_zoom_magnifies_photo_content_about_the_centre(cat_photo):
    image = torch.from_numpy(cat_photo[:299]).permute(2, 0, 1).float() / 255  # odd sides: the centre is a pixel
    h, w = image.shape[-2:]
    cx, cy = (w - 1) // 2, (h - 1) // 2
    field = MotionField.camera(zoom=2.0, frames=3, size=(h, w))
    # render the last frame by reading frame 0 through the field's inverse
    frame = backward_warp(image, field_ops.invert(field.flow[-1:]))[0]
    assert torch.allclose(frame[:, cy, cx], image[:, cy, cx], atol=1e-5)  # the centre stays put
    for dx, dy in [(10, 0), (-7, 12), (30, -25)]:  # content d from the centre appears 2 d from it
        assert torch.allclose(frame[:, cy + 2 * dy, cx + 2 * dx], image[:, cy + dy, cx + dx], atol=1e-4)


def test_camera_zoom_keeps_centre_and_scales_distance():
    h, w, z = 41, 61, 1.6
    f = MotionField.camera(zoom=z, frames=5, size=(h, w))
    cx, cy = (w - 1) // 2, (h - 1) // 2
    assert f.flow[:, :, cy, cx].abs().max().item() < 1e-5
    d = 10  # a point d pixels right of and below the centre
    end = torch.tensor([cx + d, cy + d]) + f.flow[-1, :, cy + d, cx + d]
    assert torch.allclose(end - torch.tensor([cx, cy]), torch.tensor([z * d, z * d]), atol=1e-4)
    # steady zoom rate: the middle frame magnifies by sqrt(z)
    mid = f.flow[2, 0, cy, cx + d].item() + d
    assert math.isclose(mid, math.sqrt(z) * d, rel_tol=1e-5)


def test_camera_rotate_is_counter_clockwise_on_screen():
    f = MotionField.camera(rotate=90, frames=2, size=(21, 21))
    # a point 5 px right of the centre ends 5 px above it (y points down)
    assert torch.allclose(f.flow[1, :, 10, 15], torch.tensor([-5.0, -5.0]), atol=1e-5)


def test_camera_easing_and_center():
    lin = MotionField.camera(pan=(10, 0), frames=5, size=(8, 8))
    ease_in = MotionField.camera(pan=(10, 0), frames=5, size=(8, 8), easing="ease-in")
    assert ease_in.flow[2, 0, 0, 0] < lin.flow[2, 0, 0, 0] == 5.0
    assert ease_in.flow[-1, 0, 0, 0] == 10.0
    corner = MotionField.camera(zoom=2.0, frames=2, size=(8, 8), center=(0, 0))
    assert corner.flow[1, :, 0, 0].abs().max() == 0 and corner.flow[1, 0, 0, 3] == 3.0


@pytest.mark.parametrize(
    "kwargs",
    [dict(size=None), dict(zoom=0.0), dict(zoom=float("nan")), dict(easing="bounce"), dict(frames=0), dict(size=(0, 5))],
)
def test_camera_bad_arguments(kwargs):
    args = dict(frames=3, size=(8, 8)) | kwargs
    with pytest.raises(InvalidInputError):
        MotionField.camera(**args)


# --- velocity integration ------------------------------------------------------------------


def test_from_velocity_constant_drift_is_linear():
    v = torch.zeros(2, H, W)
    v[0], v[1] = 0.75, -0.5
    f = MotionField.from_velocity(v, frames=6)
    for t in range(6):
        assert torch.allclose(f.flow[t, 0], torch.full((H, W), 0.75 * t), atol=1e-5)
        assert torch.allclose(f.flow[t, 1], torch.full((H, W), -0.5 * t), atol=1e-5)


def test_from_velocity_vortex_keeps_points_on_their_circles():
    n, omega, frames = 65, 0.08, 12
    c = (n - 1) / 2
    p = pixel_grid(n, n)
    rel = p - c
    v = omega * torch.stack([-rel[1], rel[0]])  # rotation about the centre
    f = MotionField.from_velocity(v, frames=frames)
    ys, xs = np.mgrid[20:45:4, 20:45:4]  # points whose circles stay inside the image
    for t in (1, frames - 1):
        end = rel[:, ys, xs] + f.flow[t][:, ys, xs]
        r0 = torch.linalg.vector_norm(rel[:, ys, xs], dim=0)
        r1 = torch.linalg.vector_norm(end, dim=0)
        assert torch.allclose(r1, r0, atol=1e-3)
        moved = r0 > 3
        angle = torch.atan2(end[1], end[0]) - torch.atan2(rel[1, ys, xs], rel[0, ys, xs])
        angle = torch.remainder(angle + math.pi, 2 * math.pi) - math.pi
        assert torch.allclose(angle[moved], torch.full_like(angle[moved], omega * t), atol=1e-3)


def test_from_velocity_mask_stops_particles():
    v = torch.zeros(2, H, W)
    v[0] = 1.0
    mask = torch.zeros(H, W)
    mask[:, :10] = 1.0
    f = MotionField.from_velocity(v, frames=4, mask=mask)
    assert f.flow[:, :, :, 12:].abs().max().item() == 0.0
    assert torch.allclose(f.flow[1, 0, :, :8], torch.ones(H, 8), atol=1e-5)
    with pytest.raises(ShapeMismatchError):
        MotionField.from_velocity(torch.zeros(3, H, W))
    with pytest.raises(ShapeMismatchError):
        MotionField.from_velocity(v, mask=torch.ones(H, W + 2))


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda f: f.compose(torch.zeros(T, 2, H, W)), InvalidInputError),
        (lambda f: f.compose(translation(1, 1, frames=T + 1)), ShapeMismatchError),
        (lambda f: f.resize((0, 5)), InvalidInputError),
        (lambda f: f.resize((2.5, 5)), InvalidInputError),
        (lambda f: f.smooth(temporal_sigma=float("nan")), InvalidInputError),
        (lambda f: f.masked(torch.full((H, W), 2.0)), InvalidInputError),
        (lambda f: f.masked(torch.ones(H)), ShapeMismatchError),
        (lambda f: MotionField.from_velocity(torch.full((2, H, W), float("inf"))), NonFiniteError),
        (lambda f: MotionField.from_velocity(torch.zeros(2, H, W), frames=0), InvalidInputError),
        (lambda f: MotionField.camera(frames=3, size=(8, 8), center=(float("nan"), 0)), InvalidInputError),
        (lambda f: f.visualize(max_magnitude=-1.0), InvalidInputError),  # refused before any frame is drawn
    ],
)
def test_bad_arguments_raise_motionkit_errors(call, error):
    with pytest.raises(error):
        call(translation(2, 1))
