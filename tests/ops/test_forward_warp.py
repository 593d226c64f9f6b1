"""Forward warping by inversion: pixels land where the field sends them, on every device."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops.forward_warp import (
    source_map,
    source_map_numpy,
    splat_inverse,
    splat_inverse_numpy,
    warp_frame,
    warp_frame_numpy,
)


def _image(h=20, w=24, seed=0):
    return torch.rand(3, h, w, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_integer_shift_lands_every_pixel_exactly_and_reports_the_uncovered_strip(device, dtype):
    image = _image().to(device, dtype)
    flow = torch.zeros(2, 20, 24, device=device)
    flow[0], flow[1] = 3.0, -2.0  # source (x, y) lands at (x + 3, y - 2)
    out, unseen = warp_frame(image, flow)
    assert out.dtype == dtype and out.device.type == device.type and unseen.device.type == device.type
    assert unseen.dtype == torch.bool
    torch.testing.assert_close(out[:, :-2, 3:], image[:, 2:, :-3], atol=1e-3 if dtype == torch.float16 else 1e-5, rtol=0)
    assert unseen[:, :3].all() and unseen[-2:].all() and not unseen[:-2, 3:].any()


def test_zero_flow_returns_the_image_bit_for_bit(device):
    image = _image().to(device)
    out, unseen = warp_frame(image, torch.zeros(2, 20, 24, device=device))
    assert torch.equal(out, image) and not unseen.any()


def test_mask_zero_keeps_the_input_exactly(device):
    image = _image().to(device)
    flow = torch.full((2, 20, 24), 2.0, device=device)
    mask = torch.zeros(20, 24, device=device)
    mask[:, 12:] = 1.0
    out, _ = warp_frame(image, flow, mask)
    assert torch.equal(out[:, :, :12], image[:, :, :12])
    assert not torch.equal(out[:, :, 12:], image[:, :, 12:])


def test_tensor_and_numpy_paths_agree_bit_for_bit(device):
    image = _image(40, 50, seed=1)
    flow = torch.zeros(2, 40, 50)
    flow[0, 10:30, 10:30] = 6.5  # a square moves over a still background: occlusion and holes
    flow[1] += torch.linspace(0, 2, 50)
    for fill in ("background", "stretch"):
        out, unseen = warp_frame(image.to(device), flow.to(device), fill=fill, work_size=32)
        ref, ref_unseen = warp_frame_numpy(image.numpy().transpose(1, 2, 0).copy(), flow.numpy(), fill=fill, work_size=32)
        np.testing.assert_array_equal(out.cpu().numpy().transpose(1, 2, 0), ref)
        np.testing.assert_array_equal(unseen.cpu().numpy(), ref_unseen)


def test_splat_inverse_inverts_a_shift_and_leaves_holes_empty(device):
    flow = torch.zeros(2, 6, 6, device=device)
    flow[0] = 2.0
    inverse, coverage = splat_inverse(flow)
    assert inverse.device.type == device.type
    assert inverse[:, :, 2:].cpu().eq(torch.tensor([-2.0, 0.0]).view(2, 1, 1)).all()
    assert coverage[:, :2].eq(0).all() and coverage[:, 2:].eq(1).all() and inverse[:, :, :2].eq(0).all()
    np.testing.assert_array_equal(inverse.cpu().numpy(), splat_inverse_numpy(flow.cpu().numpy())[0])


def test_softmax_metric_lets_the_larger_value_win_a_collision():
    flow = torch.zeros(2, 1, 4)
    flow[0, 0, 0] = 2.0  # pixel 0 lands on pixel 2, which stays
    metric = torch.tensor([[10.0, 0.0, 0.0, 0.0]])  # weight e^0 against e^-10
    inverse, _ = splat_inverse(flow, metric)
    assert inverse[0, 0, 2] == pytest.approx(-2.0, abs=1e-3)  # pixel 2 now shows pixel 0
    averaged, _ = splat_inverse(flow)
    assert averaged[0, 0, 2] == pytest.approx(-1.0)


def test_source_map_is_channels_first_and_matches_its_twin(device):
    flow = torch.full((2, 8, 8), 2.0, device=device)
    src, unseen = source_map(flow)
    assert src.shape == (2, 8, 8) and src.device.type == device.type
    assert src[:, 4, 4].tolist() == [2.0, 2.0]
    ref, ref_unseen = source_map_numpy(flow.cpu().numpy())
    np.testing.assert_array_equal(src.cpu().numpy().transpose(1, 2, 0), ref)
    np.testing.assert_array_equal(unseen.cpu().numpy(), ref_unseen)


def test_bad_shapes_and_settings_are_refused():
    with pytest.raises(ShapeMismatchError):
        warp_frame(torch.rand(3, 4, 4), torch.zeros(2, 4, 5))
    with pytest.raises(ShapeMismatchError):
        warp_frame(torch.rand(3, 4, 4), torch.zeros(2, 4, 4), torch.ones(4, 5))
    with pytest.raises(ShapeMismatchError):
        source_map(torch.zeros(3, 4, 4))
    with pytest.raises(InvalidInputError):
        warp_frame(torch.rand(3, 4, 4), torch.zeros(2, 4, 4), fill="smear")
    with pytest.raises(InvalidInputError):
        source_map(torch.zeros(2, 4, 4), work_size=4)


def test_the_same_field_inverted_twice_reuses_the_map_and_a_changed_one_does_not(monkeypatch):
    import motionkit.ops.forward_warp as fw

    calls = []
    inner = fw._source_map_numpy
    monkeypatch.setattr(fw, "_source_map_numpy", lambda flow, **kw: calls.append(1) or inner(flow, **kw))
    monkeypatch.setattr(fw, "_last_map", fw._LastMap())
    flow = np.zeros((2, 24, 32), np.float32)
    flow[0, 8:16, 8:16] = 3.0
    first, _ = fw.source_map_numpy(flow)
    again, _ = fw.source_map_numpy(flow.copy())         # equal values, another array: reused
    assert len(calls) == 1 and again is first
    flow[1, 10, 10] = 0.5                               # one value differs: inverted anew
    changed, _ = fw.source_map_numpy(flow)
    assert len(calls) == 2 and not np.array_equal(changed, first)
    fw.source_map_numpy(flow, work_size=16)             # other settings: inverted anew
    assert len(calls) == 3
    with pytest.raises(ValueError):
        first[0, 0, 0] = 1.0                            # the shared map cannot be edited by a caller


def test_an_image_warped_along_many_frames_is_converted_once_and_again_after_an_edit(monkeypatch):
    import motionkit.ops.forward_warp as fw

    monkeypatch.setattr(fw, "_last_image", fw._LastImage())
    image = torch.rand(3, 16, 20)
    flow = torch.zeros(2, 16, 20)
    flow[0] = 2.0
    first = fw._channels_last(image)
    assert fw._channels_last(image) is first                      # the same unchanged tensor: reused
    assert fw._channels_last(image.clone()) is not first          # another tensor: converted anew
    image[0, 0, 0] = 0.25                                         # edited in place: converted anew
    assert fw._channels_last(image)[0, 0, 0] == pytest.approx(0.25)
    out, _ = fw.warp_frame(image, flow)
    assert torch.allclose(out[:, :, 2:], image[:, :, :-2], atol=1e-5)   # the moved pixels, not a stale copy
