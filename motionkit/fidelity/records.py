"""One parity check as a record, and the elementwise comparison that makes most of them."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class CheckRecord:
    """One parity check: ``max_err`` is the max abs difference (or a mismatch count for keys).

    ``ok`` means every element satisfied ``|a - b| <= atol + rtol * |b|`` (``tol`` = atol).

    Example:
        >>> CheckRecord("stage2.out", 1.5e-6, 1e-4, True).line()
        'PASS  stage2.out                                   max_err=1.500e-06  tol=1e-04'
    """

    name: str
    max_err: float
    tol: float
    ok: bool
    detail: str = ""

    def line(self) -> str:
        """One human-readable line."""
        status = "PASS" if self.ok else "FAIL"
        return f"{status}  {self.name:<44} max_err={self.max_err:.3e}  tol={self.tol:.0e}  {self.detail}".rstrip()


def compare(name: str, actual: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float) -> CheckRecord:
    """Compare two tensors elementwise (``allclose`` semantics) into a :class:`CheckRecord`."""
    if tuple(actual.shape) != tuple(expected.shape):
        return CheckRecord(name, float("inf"), atol, False, f"shape {tuple(actual.shape)} != {tuple(expected.shape)}")
    actual, expected = actual.detach().double(), expected.detach().double()
    diff = (actual - expected).abs()
    ok = bool((diff <= atol + rtol * expected.abs()).all())
    return CheckRecord(name, float(diff.max()) if diff.numel() else 0.0, atol, ok, f"rtol={rtol:.0e}")


def within(name: str, actual: torch.Tensor, expected: torch.Tensor, tol: float) -> CheckRecord:
    """A check that the largest absolute difference is at most ``tol`` (the loop replays' criterion)."""
    if actual.shape != expected.shape:
        return CheckRecord(f"{name} (shape {tuple(actual.shape)} != {tuple(expected.shape)})", float("inf"), tol, False)
    err = float((actual.double() - expected.double()).abs().max()) if actual.numel() else 0.0
    return CheckRecord(name, err, tol, err <= tol)


def failure(name: str, detail: str) -> CheckRecord:
    """A check that could not run, with the reason."""
    return CheckRecord(name, float("inf"), 0.0, False, detail)
