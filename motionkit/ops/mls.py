"""How the pixels of one object follow its handles: translation, similarity or rigid MLS.

An object moved by ``K`` handles (drags and pins; a pin is a handle whose target never moves)
is deformed as rigidly as its handles allow:

- ``K == 1``: a **translation** by the handle's displacement;
- ``K == 2``: the **similarity** (rotation, uniform scale, translation) that carries both
  handles exactly onto their targets (a pin and a drag turn and scale the object about the pin);
- ``K >= 3``: **moving least squares, rigid** (Schaefer, McPhail and Warren 2006, "Image
  deformation using moving least squares"): every pixel ``v`` gets the rotation and translation
  that best carry the handles onto their targets, each handle weighted by
  ``w_i(v) = 1 / |p_i - v|^(2 alpha)``, so a pixel follows the handles near it and a part
  between two handles bends like a joint while the rest stays rigid.

In complex numbers (``x + iy``) the MLS-rigid map is short: with the weighted centroids
``p*(v) = sum w_i p_i / sum w_i`` and ``q*`` (the same for the targets), ``p^_i = p_i - p*``
and ``m(v) = sum_i c_i(v) q_i`` where ``c_i = w_i conj(p^_i) / sum_j w_j |p^_j|^2``,
``f(v) = q* + (v - p*) m / |m|``. The weights ``w_i`` and ``c_i`` do not depend on time and
``q*``, ``m = sum_i c_i (q_i - q*)`` are linear in the targets, so ``T`` frames cost two ``(T, K) x (K, N)`` complex
matrix products and one normalisation, the same structure as the densifier's blend.
(``m`` without the normalisation is MLS-similarity; at frame 0, ``m == 1`` exactly.)

Example:
    >>> import numpy as np
    >>> starts = np.array([[0.0, 0.0]]); disp = np.array([[[0.0, 0.0], [3.0, 1.0]]])
    >>> handle_motion(starts, disp, np.array([[5.0, 5.0]]))[1].tolist()    # one handle: a translation
    [[3.0, 1.0]]
"""

from __future__ import annotations

import numpy as np

from motionkit.errors import InvalidInputError, ShapeMismatchError

#: Handles closer than this (pixels) count as one point.
_COINCIDENT = 1e-3


def handle_motion(starts: np.ndarray, displacements: np.ndarray, points: np.ndarray, *, alpha: float = 1.0) -> np.ndarray:
    """Displacement of ``points`` when an object's handles move: ``(T, N, 2)`` pixels.

    Args:
        starts: ``(K, 2)`` handle positions (x, y) in frame 0, pixels; ``K >= 1``.
        displacements: ``(K, T, 2)`` each handle's displacement from frame 0 (zeros = a pin).
        points: ``(N, 2)`` pixel positions (x, y) of the object's pixels in frame 0.
        alpha: MLS weight exponent for ``K >= 3`` (``1 / d^(2 alpha)``); larger is more local.

    Returns:
        ``float32 (T, N, 2)``: where each point goes minus where it was; the handles themselves
        move exactly by their displacements; all zero when every handle is a pin.

    Example:
        >>> starts = np.array([[0.0, 0.0], [10.0, 0.0]])
        >>> disp = np.array([[[0, 0], [0, 0]], [[0, 0], [-10, 10]]], float)   # pin + drag: turn 90 deg
        >>> handle_motion(starts, disp, np.array([[5.0, 0.0]]))[1].round(6).tolist()
        [[-5.0, 5.0]]
    """
    starts = np.asarray(starts, np.float64).reshape(-1, 2)
    displacements = np.asarray(displacements, np.float64)
    points = np.asarray(points, np.float64).reshape(-1, 2)
    k = len(starts)
    if k == 0:
        raise InvalidInputError("an object needs at least one handle (a drag or a pin) to move it")
    if displacements.ndim != 3 or displacements.shape[0] != k or displacements.shape[2] != 2:
        raise ShapeMismatchError(f"displacements must be (K={k}, T, 2), got {tuple(displacements.shape)}")
    if not alpha > 0:
        raise InvalidInputError(f"alpha must be > 0, got {alpha!r}")
    p = starts[:, 0] + 1j * starts[:, 1]  # (K,)
    v = points[:, 0] + 1j * points[:, 1]  # (N,)
    groups = _coincident_groups(p)
    if len(groups) >= 3:
        return rigid_motion(_plan(p, v, groups, alpha), starts, displacements)
    q = _targets(starts, displacements, groups)
    p = np.array([p[g[0]] for g in groups])
    if len(p) == 1:
        moved = np.broadcast_to((q[:, 0] - p[0])[:, None], (q.shape[0], len(v)))
    else:
        # The similarity through both handles: z -> q0 + (z - p0) (q1 - q0) / (p1 - p0).
        m = (q[:, 1] - q[:, 0]) / (p[1] - p[0])  # (T,)
        moved = q[:, :1] + (v[None] - p[0]) * m[:, None] - v[None]
    return _as_xy(moved, displacements)


class RigidPlan:
    """What MLS-rigid needs of the handles' start points and the pixels, before any target is known.

    The weights ``w_i(v)`` and ``c_i(v)`` (``K x N``) depend only on the handles' starts and the
    points, so an edit that moves only the drags' ends re-uses them (:func:`rigid_plan`), and
    :func:`rigid_motion` does the two ``(T, K) x (K, N)`` products of each call.
    """

    __slots__ = ("c", "csum", "groups", "origin", "points", "relative", "w")

    def __init__(self, groups, origin, w, c, csum, relative, points) -> None:
        self.groups, self.origin, self.w, self.c, self.csum = groups, origin, w, c, csum
        self.relative, self.points = relative, points

    @property
    def nbytes(self) -> int:
        return int(self.w.nbytes + self.c.nbytes + self.csum.nbytes + self.relative.nbytes + self.points.nbytes)


def rigid_plan(starts: np.ndarray, points: np.ndarray, *, alpha: float = 1.0) -> RigidPlan | None:
    """The MLS-rigid weights of ``(N, 2)`` points for ``(K, 2)`` handle starts; None under three distinct handles."""
    starts = np.asarray(starts, np.float64).reshape(-1, 2)
    points = np.asarray(points, np.float64).reshape(-1, 2)
    if not alpha > 0:
        raise InvalidInputError(f"alpha must be > 0, got {alpha!r}")
    p = starts[:, 0] + 1j * starts[:, 1]
    groups = _coincident_groups(p)
    if len(groups) < 3:
        return None
    return _plan(p, points[:, 0] + 1j * points[:, 1], groups, alpha)


def rigid_motion(plan: RigidPlan, starts: np.ndarray, displacements: np.ndarray) -> np.ndarray:
    """``float32 (T, N, 2)``: :func:`handle_motion` of the plan's points, from a :func:`rigid_plan` of ``starts``."""
    displacements = np.asarray(displacements, np.float64)
    q32 = plan_targets(plan, starts, displacements).astype(np.complex64)
    qstar = q32 @ plan.w  # (T, N)
    # m = sum c_i (q_i - q*): the q* term vanishes analytically (sum c_i = 0) but not in floating
    # point where one weight dwarfs the others; keeping it makes m == 1 at frame 0 to rounding.
    m = q32 @ plan.c
    m -= qstar * plan.csum
    norm = np.abs(m)
    np.divide(m, norm, out=m, where=norm > 1e-12)
    m[norm <= 1e-12] = 1.0
    m *= plan.relative
    m += qstar
    m -= plan.points
    return _as_xy(m, displacements)


def plan_targets(plan: RigidPlan, starts: np.ndarray, displacements: np.ndarray) -> np.ndarray:
    """``complex128 (T, G)``: the targets of a :func:`rigid_plan`'s handle groups, about its origin."""
    starts = np.asarray(starts, np.float64).reshape(-1, 2)
    return _targets(starts, np.asarray(displacements, np.float64), plan.groups) - plan.origin


def _as_xy(moved: np.ndarray, displacements: np.ndarray) -> np.ndarray:
    """Complex ``(T, N)`` displacements as ``float32 (T, N, 2)``; a frame where no handle moved is still, exactly."""
    out = np.empty(moved.shape + (2,), np.float32)
    out[..., 0], out[..., 1] = moved.real, moved.imag
    out[~np.abs(displacements).any(axis=(0, 2))] = 0.0
    return out


def _coincident_groups(p: np.ndarray) -> list[list[int]]:
    """Indices of handles on one point (within ``_COINCIDENT`` px), in first-seen order."""
    keep: list[complex] = []
    groups: list[list[int]] = []
    for i in range(len(p)):
        for j, kp in enumerate(keep):
            if abs(p[i] - kp) < _COINCIDENT:
                groups[j].append(i)
                break
        else:
            keep.append(p[i])
            groups.append([i])
    return groups


def _targets(starts: np.ndarray, displacements: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """``complex (T, G)`` targets of the handle groups (a group's targets averaged)."""
    q = starts[:, None] + displacements  # (K, T, 2) targets
    q = (q[..., 0] + 1j * q[..., 1]).T  # (T, K)
    return np.stack([np.mean([q[:, i] for i in g], axis=0) for g in groups], axis=1)


def _plan(p: np.ndarray, v: np.ndarray, groups: list[list[int]], alpha: float) -> RigidPlan:
    """The weights of the MLS-rigid map (see the module docstring).

    The weights (``K x N``) are computed in double precision; the ``T x N`` products, most of
    the cost on a large object, run in single precision about the handles' centroid (so that
    coordinates stay small and the result is good to about 1e-4 px).
    """
    p = np.array([p[g[0]] for g in groups])
    origin = p.mean()
    p, v = p - origin, v - origin
    d2 = np.abs(p[:, None] - v[None]) ** 2  # (K, N)
    w = 1.0 / np.maximum(d2, 0.25) ** alpha  # within half a pixel of a handle: that handle
    w /= w.sum(axis=0, keepdims=True)  # normalised: p* = sum w p
    pstar = (w * p[:, None]).sum(axis=0)  # (N,)
    phat = p[:, None] - pstar[None]
    c = w * np.conj(phat)
    c /= np.maximum((w * np.abs(phat) ** 2).sum(axis=0, keepdims=True), 1e-12)
    return RigidPlan(
        groups,
        origin,
        w.astype(np.complex64),
        c.astype(np.complex64),
        c.sum(axis=0).astype(np.complex64)[None],
        (v - pstar).astype(np.complex64)[None],
        v.astype(np.complex64)[None],
    )
