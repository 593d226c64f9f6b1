"""The forward warp's compiled inversion (splat of ``-f``, upsampling, Newton refinement)
against its numpy/OpenCV version, on a real photo moved by a zoom-rotate-swirl field."""

from __future__ import annotations

import numpy as np
import pytest

from motionkit.ops import forward_warp

pytestmark = pytest.mark.skipif(forward_warp._kernels is None, reason="numba is not installed")


def numpy_path(fn, *args, **kwargs):
    kernels, forward_warp._kernels = forward_warp._kernels, None
    try:
        return fn(*args, **kwargs)
    finally:
        forward_warp._kernels = kernels


@pytest.fixture(scope="module")
def scene():
    from benchmarks.common import photo, smooth_flows

    flows = smooth_flows(8, 320, 384, seed=3)  # long side 384 > work_size 256: the reduced-resolution path
    return photo(320, 384).astype(np.float32) / 255.0, flows


@pytest.mark.parametrize("use_metric", [False, True])
def test_compiled_splat_inverse_gives_the_bincount_sums(scene, use_metric):
    _, flows = scene
    flow = np.ascontiguousarray(flows[7])
    metric = np.hypot(flow[0], flow[1]) if use_metric else None
    inv, cover = forward_warp.splat_inverse_numpy(flow, metric)
    ref_inv, ref_cover = numpy_path(forward_warp.splat_inverse_numpy, flow, metric)
    np.testing.assert_allclose(cover, ref_cover, atol=1e-5)
    np.testing.assert_allclose(inv, ref_inv, atol=1e-4)
    assert (cover == 0).any() and (cover > 0.5).mean() > 0.9  # holes at the border, covered inside


@pytest.mark.parametrize("frame", [1, 4, 7])
@pytest.mark.parametrize("work_size", [256, 512])
def test_compiled_source_map_agrees_with_opencv_refinement(scene, frame, work_size):
    _, flows = scene
    flow = np.ascontiguousarray(flows[frame])
    forward_warp._last_map.key = None
    src, unseen = forward_warp.source_map_numpy(flow, work_size=work_size)
    forward_warp._last_map.key = None
    ref_src, ref_unseen = numpy_path(forward_warp.source_map_numpy, flow, work_size=work_size)
    forward_warp._last_map.key = None
    diff = np.abs(src - ref_src)
    # OpenCV's remap rounds its weights to 1/32 px; the kernel's bilinear look-ups are exact.
    assert np.percentile(diff, 99) < 0.01 and diff.max() < 0.1
    assert (unseen != ref_unseen).mean() < 1e-3
    # And it is an inverse: q's source moves back onto q (residual under the 0.05 px accuracy).
    import cv2

    forward = cv2.remap(np.ascontiguousarray(flow.transpose(1, 2, 0)), src[..., 0], src[..., 1], cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
    grid = forward_warp.remap_grid(*flow.shape[1:])
    residual = np.hypot(*(src + forward - grid).transpose(2, 0, 1))[~unseen]
    assert np.median(residual) < 0.02 and np.percentile(residual, 95) < 0.06


def test_compiled_warp_moves_the_photo_like_the_numpy_path(scene):
    image, flows = scene
    out, unseen = forward_warp.warp_frame_numpy(image, np.ascontiguousarray(flows[6]))
    forward_warp._last_map.key = None
    ref, ref_unseen = numpy_path(forward_warp.warp_frame_numpy, image, np.ascontiguousarray(flows[6]))
    forward_warp._last_map.key = None
    assert np.abs(out - ref).mean() < 1e-4 and np.percentile(np.abs(out - ref), 99.9) < 0.02
    assert (unseen != ref_unseen).mean() < 1e-3


@pytest.mark.parametrize("factor", [2, 5])
def test_block_downscale_is_opencv_area_resize(scene, factor):
    import cv2

    from motionkit.ops import _inverse_kernels

    _, flows = scene
    flow = np.ascontiguousarray(flows[5][:, : 320 // factor * factor, : 384 // factor * factor])
    h, w = flow.shape[1:]
    small, metric = _inverse_kernels.box_downscale(flow, factor, 2.0)
    ref = cv2.resize(flow.transpose(1, 2, 0), (w // factor, h // factor), interpolation=cv2.INTER_AREA) / factor
    ref_metric = cv2.resize(np.hypot(flow[0], flow[1]) * 2.0, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(small, ref.transpose(2, 0, 1), atol=1e-5)
    np.testing.assert_allclose(metric, ref_metric, atol=1e-4)
