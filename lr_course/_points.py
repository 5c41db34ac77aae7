"""Points and grids as the problems and the 2-D surfaces take them, checked and read-only.

Private to :mod:`lr_course.problems` and :mod:`lr_course.surfaces` (the grading sandbox copies
all three, and :mod:`lr_course._checks`).
"""

from __future__ import annotations

import numpy as np


def _as_point(params, dim, name="params"):
    """Return ``params`` as a float64 array of shape ``(dim,)``, or raise ValueError."""
    x = np.asarray(params, dtype=float)
    if x.shape != (dim,):
        raise ValueError(f"{name} must be a flat array of shape ({dim},), got shape {x.shape}")
    return x


def _as_points(params, dim, name="params"):
    """Return ``params`` as a float64 array of shape ``(dim, ...)`` (one point or a grid)."""
    x = np.asarray(params, dtype=float)
    if x.ndim == 0 or x.shape[0] != dim:
        raise ValueError(
            f"{name} must have shape ({dim},) or ({dim}, ...) for a grid, got shape {x.shape}"
        )
    return x


def _scalar_or_array(value, x):
    """A Python float for a single point, an array for a grid."""
    return float(value) if x.ndim == 1 else value




def _read_only(array):
    array = np.array(array, dtype=float)
    array.setflags(write=False)
    return array
