"""The argument checks the analysis modules share (each a ValueError naming the argument)."""

from __future__ import annotations

from .. import _checks


def _positive(value, name):
    """``value`` as a float, refused unless finite and > 0."""
    return _checks.real(name, value, low=0, low_open=True)


def _eigenvalue_array(eigenvalues, name="eigenvalues"):
    """``eigenvalues`` as a flat float array, refused if empty or not finite."""
    lam = _checks.real_array(name, eigenvalues).ravel()
    if lam.size == 0:
        raise ValueError(f"{name} must be a non-empty sequence of finite numbers, got {eigenvalues}")
    return lam
