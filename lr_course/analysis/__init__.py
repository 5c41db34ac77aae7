r"""What theory predicts about a learning rate: curvature, stability, speed and noise.

Everything here is about gradient descent on a quadratic (or on a model near a point, where
the quadratic is its second-order Taylor model). With curvature :math:`\lambda` along an
eigenvector of the Hessian, one step multiplies the error along it by :math:`1 - lr\,\lambda`:

=====================================  =================  ================================
``h = lr * curvature``                 ``regime``         the error along that direction
=====================================  =================  ================================
``0 < h <= 1``                         ``"monotone"``     shrinks without changing sign
``1 < h < 2``                          ``"oscillating"``  flips sign each step and shrinks
``h == 2`` (to 1e-9 relative)          ``"marginal"``     flips sign, constant amplitude
``h > 2``                              ``"diverging"``    flips sign and grows
=====================================  =================  ================================

So gradient descent converges iff ``0 < lr < 2 / L`` (``L`` the largest curvature), the error
shrinks by :func:`contraction_rate` per step, and the rate that makes the slowest direction
fastest is :func:`optimal_lr` ``= 2 / (mu + L)``.

The curvature of a real model comes from :func:`top_eigenvalue`: power iteration using only
Hessian-vector products, so the Hessian is never formed.

The functions live in one module per idea: :mod:`.curvature` (power iteration),
:mod:`.stability` (step-size bounds, regimes, contraction), :mod:`.speed` (steps to a
tolerance) and :mod:`.noise` (the SGD noise floor); all are importable from here.
"""

from __future__ import annotations

from .curvature import sharpness, top_eigenvalue
from .noise import mean_square_recursion, noise_floor
from .speed import steps_to_tolerance, steps_to_tolerance_empirical, steps_to_tolerance_scan
from .stability import (contraction_rate, critical_lr, momentum_contraction_rate, optimal_lr,
                        regime)

__all__ = [
    "top_eigenvalue",
    "sharpness",
    "critical_lr",
    "optimal_lr",
    "contraction_rate",
    "momentum_contraction_rate",
    "regime",
    "steps_to_tolerance",
    "steps_to_tolerance_empirical",
    "steps_to_tolerance_scan",
    "noise_floor",
    "mean_square_recursion",
]
