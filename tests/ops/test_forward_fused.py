"""The renderer's fused inversion (splat with torn sources skipped, miss test inside the
refinement kernel) against the passes it replaced, on real photos moved by real drags."""

from __future__ import annotations

import numpy as np
import pytest

import motionkit as mk
from motionkit.ops import _inverse_refine, forward_warp

pytestmark = pytest.mark.skipif(forward_warp._kernels is None, reason="numba is not installed")


def numpy_splat(flow, metric, skip):
    kernels, forward_warp._kernels = forward_warp._kernels, None
    try:
        return forward_warp.splat_inverse_numpy(flow, metric, skip=skip)
    finally:
        forward_warp._kernels = kernels


def unfused_refine(flow, inv, cover):
    """The refinement before its miss test was fused (the reference): the compiled pass, then a
    ``cv2.remap`` of the field and a norm mark the misses, then the blur rule the speckles."""
    import cv2

    from motionkit.ops.grid import remap_grid

    as32 = [np.ascontiguousarray(a, np.float32) for a in (flow, inv, cover)]
    src, unseen = forward_warp._kernels.refine_inverse(*as32, accuracy=_inverse_refine.ACCURACY,
                                                       hole_weight=_inverse_refine.HOLE_WEIGHT)
    h, w = unseen.shape
    forward = np.ascontiguousarray(flow.transpose(1, 2, 0), np.float32)
    landed = src + cv2.remap(forward, src[..., 0], src[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    unseen = unseen | (((landed - remap_grid(h, w)) ** 2).sum(-1) > _inverse_refine.UNRESOLVED**2)
    return src, unseen | (cv2.blur(unseen.astype(np.float32), (3, 3)) > 0.6)


@pytest.fixture(scope="module", params=[(256, "object"), (512, "object")], ids=["256", "512"])
def dragged(request, coffee_photo, cat_photo):
    """A photo at ``side`` px with a field of two drags and a pin (frame 15 of 16), and its image."""
    import cv2

    side, mode = request.param
    photo = coffee_photo if side == 512 else cat_photo
    image = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA)
    s = side / 256
    drags = [mk.Trajectory.line((120 * s, 110 * s), (150 * s, 96 * s), frames=16),
             mk.Trajectory.line((70 * s, 180 * s), (62 * s, 200 * s), frames=16), mk.Trajectory([(200 * s, 60 * s)] * 16)]
    predictor = mk.registry.create("predictor", "sparse", mode=mode)
    motion = mk.predict_motion(image, drags, frames=16, predictor=predictor)
    return image.astype(np.float32) / 255.0, np.ascontiguousarray(motion.flow[15].numpy())


def test_compiled_splat_skips_torn_sources_like_the_bincount_path(dragged):
    from motionkit.ops.plate import torn

    _, flow = dragged
    skip = torn(flow)
    assert 0 < skip.sum() < skip.size // 10, "the drag's outline tears some sources apart"
    metric = np.hypot(flow[0], flow[1])
    inv, cover = forward_warp.splat_inverse_numpy(flow, metric, skip=skip)
    ref_inv, ref_cover = numpy_splat(flow, metric, skip)
    np.testing.assert_allclose(cover, ref_cover, atol=1e-5)
    np.testing.assert_allclose(inv, ref_inv, atol=1e-4)
    # and the skipped sources really are left out: splatting them too changes the holes
    _, with_torn = forward_warp.splat_inverse_numpy(flow, metric)
    assert (with_torn != cover).any()


def _inputs(flow):
    h, w = flow.shape[1:]
    scale = max(h, w) / 256
    small = flow if scale <= 1 else forward_warp._kernels.box_downscale(flow, int(scale), 1.0)[0]
    inv, cover = forward_warp.splat_inverse_numpy(small, np.hypot(small[0], small[1]))
    return forward_warp.push_pull_numpy(inv.transpose(1, 2, 0), np.clip(cover, 0.0, 1.0)), cover


def test_fused_miss_test_is_the_exact_bilinear_check(dragged):
    """The kernel marks a pixel whose inverse misses by more than UNRESOLVED px, with the
    residual computed exactly; the replaced check used cv2.remap, whose 1/32 px weights
    move the residual by up to a pixel on a drag's steep outline."""
    from scipy.ndimage import map_coordinates

    _, flow = dragged
    h, w = flow.shape[1:]
    inv, cover = _inputs(flow)
    src, unseen = forward_warp._kernels.refine_inverse(flow, inv, cover, accuracy=_inverse_refine.ACCURACY,
                                                       hole_weight=_inverse_refine.HOLE_WEIGHT, unresolved=_inverse_refine.UNRESOLVED)
    base_src, base = forward_warp._kernels.refine_inverse(flow, inv, cover, accuracy=_inverse_refine.ACCURACY,
                                                          hole_weight=_inverse_refine.HOLE_WEIGHT)
    assert np.array_equal(src, base_src)
    grid = np.dstack(np.meshgrid(np.arange(w), np.arange(h))).astype(np.float64)
    at = [src[..., 1].astype(np.float64), src[..., 0].astype(np.float64)]
    exact = np.stack([map_coordinates(flow[c].astype(np.float64), at, order=1, mode="nearest") for c in range(2)], -1)
    miss = np.sqrt(((src + exact - grid) ** 2).sum(-1))
    assert (unseen != (base | (miss > _inverse_refine.UNRESOLVED))).sum() <= 2
    assert (miss > _inverse_refine.UNRESOLVED).sum() > 50, "the drags leave pixels no source reaches"
    # Against the replaced check: where the two disagree, cv2.remap's rounding is larger
    # than the pixel's distance from the threshold.
    import cv2

    landed = src + cv2.remap(np.ascontiguousarray(flow.transpose(1, 2, 0)), src[..., 0], src[..., 1], cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    rounded = np.sqrt(((landed - grid) ** 2).sum(-1))
    differ = unseen != (base | (rounded > _inverse_refine.UNRESOLVED))
    assert differ.mean() < 0.002
    assert np.all(np.abs(rounded - miss)[differ] + 1e-4 >= np.abs(miss - _inverse_refine.UNRESOLVED)[differ])


def test_rendered_frame_matches_the_unfused_path_but_at_the_holes_outline(dragged, monkeypatch):
    import cv2

    image, flow = dragged
    forward_warp._last_map.key = None
    ours, ours_unseen = forward_warp.warp_frame_numpy(image, flow, fill="stretch")
    monkeypatch.setattr(forward_warp, "_refine_fused", unfused_refine)
    forward_warp._last_map.key = None
    ref, ref_unseen = forward_warp.warp_frame_numpy(image, flow, fill="stretch")
    forward_warp._last_map.key = None
    differ = np.any(ours != ref, axis=-1)
    assert differ.mean() < 0.005 and (ours_unseen != ref_unseen).mean() < 0.002
    # every differing pixel lies at the outline of a hole of either path
    near = cv2.dilate((ours_unseen | ref_unseen).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert near[differ].all()
    # Where the drag moved the photo, the frame moved: not a no-op.
    assert np.abs(ours - image).max() > 0.2


def test_compiled_despeckle_is_the_blur_rule_exactly(dragged):
    """The compiled speckle test is ``unseen | (cv2.blur(unseen, 3x3) > 0.6)``, border included."""
    import cv2

    _, flow = dragged
    forward_warp._last_map.key = None
    inv, cover = _inputs(flow)
    _, unseen = forward_warp._kernels.refine_inverse(flow, inv, cover, accuracy=_inverse_refine.ACCURACY,
                                                     hole_weight=_inverse_refine.HOLE_WEIGHT, unresolved=_inverse_refine.UNRESOLVED)
    rng = np.random.default_rng(0)
    for mask in (unseen, rng.random(unseen.shape) < 0.5, rng.random((7, 1)) < 0.6, rng.random((1, 9)) < 0.7):
        expected = mask | (cv2.blur(mask.astype(np.float32), (3, 3)) > 0.6)
        assert np.array_equal(forward_warp._kernels.despeckle(mask), expected)
    assert (forward_warp._kernels.despeckle(unseen) != unseen).any(), "the drag leaves speckles to close"


def test_newton_on_the_bilinear_patch_lands_the_sources(dragged):
    """Refined sources move back onto their targets: of the pixels shown, at most 0.5 % miss
    by more than 0.05 px (exact bilinear check), and the misses left are the drag's tears."""
    from scipy.ndimage import map_coordinates

    _, flow = dragged
    h, w = flow.shape[1:]
    forward_warp._last_map.key = None
    src, unseen = forward_warp.source_map_numpy(flow)
    forward_warp._last_map.key = None
    at = [src[..., 1].astype(np.float64), src[..., 0].astype(np.float64)]
    exact = np.stack([map_coordinates(flow[c].astype(np.float64), at, order=1, mode="nearest") for c in range(2)], -1)
    grid = np.dstack(np.meshgrid(np.arange(w), np.arange(h)))
    miss = np.sqrt(((src + exact - grid) ** 2).sum(-1))[~unseen]
    assert (miss > _inverse_refine.ACCURACY).mean() < 0.005
    assert np.median(miss) < 0.01
    # without refinement (accuracy never reached) many more pixels miss: the steps did the work
    inv, cover = _inputs(flow)
    raw, raw_unseen = forward_warp._kernels.refine_inverse(flow, inv, cover, accuracy=1e9, hole_weight=_inverse_refine.HOLE_WEIGHT)
    at = [raw[..., 1].astype(np.float64), raw[..., 0].astype(np.float64)]
    exact = np.stack([map_coordinates(flow[c].astype(np.float64), at, order=1, mode="nearest") for c in range(2)], -1)
    raw_miss = np.sqrt(((raw + exact - grid) ** 2).sum(-1))[~raw_unseen]
    assert (raw_miss > _inverse_refine.ACCURACY).mean() > 3 * (miss > _inverse_refine.ACCURACY).mean()
