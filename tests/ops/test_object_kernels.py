"""The compiled moving-least-squares path of the object field against numpy's (tolerance 1e-3 px).

``layout_field`` moves an object of three or more handles with :mod:`motionkit.ops._object_kernels`
(the lattice in double precision, laid onto the field in one pass); numpy's path (complex
single-precision products, ``torch`` bilinear upsampling, a multiply-add) is what it replaced.
They must agree to 1e-3 px everywhere, and both be exactly zero where the object's alpha is.
"""

from __future__ import annotations

import numpy as np
import pytest

from motionkit.ops.objects import _Plan, layout_field, object_layout


@pytest.mark.parametrize("frames", [2, 8])
def test_the_compiled_mls_path_matches_numpys_within_a_thousandth_of_a_pixel(cat_photo, frames):
    h, w = 150, 220
    yy, xx = np.mgrid[0:h, 0:w]
    body = ((xx - 110) / 80.0) ** 2 + ((yy - 75) / 55.0) ** 2 < 1.0  # an ellipse
    arm = (np.abs(yy - 40) < 8) & (xx > 150) & (xx < 215)  # and an arm reaching to the right
    mask = body | arm
    starts = np.array([[110.0, 75.0], [70.0, 100.0], [205.0, 40.0], [150.0, 60.0]])
    rng = np.random.default_rng(int(cat_photo[10, 10, 0]))
    displacements = np.cumsum(rng.normal(0.0, 3.0, (4, frames, 2)), axis=1)
    displacements -= displacements[:, :1]
    displacements[3] = 0.0  # a pin
    moving = np.abs(displacements).max(axis=(1, 2)) > 0
    layout = object_layout([(mask, (0, 1, 2, 3))], starts, moving, (h, w), feather=3.0)
    [(weight, tracks, box, plan)] = layout.rigid
    assert plan.plan is not None  # four distinct handles: the compiled path
    compiled = layout_field(layout, starts, displacements)
    layout.rigid = [(weight, tracks, box, _Plan(None, plan.alpha, 0))]  # numpy's path
    reference = layout_field(layout, starts, displacements)
    assert np.abs(compiled - reference).max() <= 1e-3
    assert np.abs(reference).max() > 2.0  # the drags did move it
    assert (compiled[:, :, weight == 0] == 0).all() and (compiled[0] == 0).all()
    for k in range(3):  # each drag's start follows it (to the 2 px lattice's interpolation)
        x, y = starts[k].astype(int)
        assert compiled[-1, :, y, x] == pytest.approx(displacements[k, -1], abs=0.05)
