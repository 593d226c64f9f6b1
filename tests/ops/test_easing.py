"""Easings: progress runs from 0 at frame 0 to 1 at the last frame; frame counts use the one validator."""

from __future__ import annotations

import numpy as np
import pytest

from motionkit.errors import InvalidInputError, TooLargeError
from motionkit.limits import MAX_FRAMES
from motionkit.ops.easing import EASINGS, check_easing, ease, progress


@pytest.mark.parametrize("name", list(EASINGS))
def test_every_easing_hits_both_ends(name):
    s = progress(9, name)
    assert s[0] == 0.0 and s[-1] == pytest.approx(1.0)


def test_linear_values_and_one_frame():
    assert progress(5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert progress(1).tolist() == [0.0]
    assert float(ease(0.5, "linear")) == 0.5


def test_frame_counts_and_names_are_checked():
    with pytest.raises(InvalidInputError):
        progress(0)
    with pytest.raises(InvalidInputError):
        progress(2.5)
    with pytest.raises(TooLargeError):
        progress(MAX_FRAMES + 1)
    with pytest.raises(InvalidInputError, match="unknown easing"):
        check_easing("bounce")
    assert np.all(np.diff(progress(16, "ease-in-out")) >= 0)
