r"""Which learning rates are stable, and how fast they contract, on a quadratic.

Along an eigenvector of curvature :math:`\lambda` one gradient-descent step multiplies the
error by :math:`1 - lr\,\lambda`: :func:`regime` names what that does, :func:`critical_lr`
is the edge of stability (stretched by heavy-ball momentum), :func:`contraction_rate` and
:func:`momentum_contraction_rate` the worst factor per step, :func:`optimal_lr` the rate
that makes the slowest direction fastest.
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from ._common import _eigenvalue_array, _positive

__all__ = ["critical_lr", "optimal_lr", "contraction_rate", "momentum_contraction_rate",
           "regime"]

# lr * curvature within this relative distance of 1 or 2 counts as exactly 1 or 2, so that
# regime(2 / L, L) is "marginal" despite round-off in 2 / L * L.
_BOUNDARY_RTOL = 1e-9


def critical_lr(L, momentum=0.0):
    r"""The largest stable learning rate for a largest curvature ``L``.

    .. math::  lr_{crit} = \frac{2 (1 + \beta)}{L}

    with :math:`\beta` = ``momentum``. Plain gradient descent (:math:`\beta = 0`) converges iff
    ``0 < lr < 2 / L``; heavy-ball momentum (``v <- beta v + g; p <- p - lr v``, PyTorch's SGD
    convention) stretches the range to ``2 (1 + beta) / L``. At exactly ``lr_crit`` the error
    oscillates with constant amplitude.

    Note: ``ps3_tuning.critical_lr(hessian)`` takes the matrix instead of ``L`` (and has no
    momentum); here ``L`` may come from :func:`sharpness`.

    Args:
        L: the largest Hessian eigenvalue, > 0.
        momentum: heavy-ball coefficient, in [0, 1).

    Returns:
        The critical learning rate.

    Reference: B. T. Polyak, "Some methods of speeding up the convergence of iteration
    methods", USSR Comp. Math. and Math. Physics 4(5), 1964.

    >>> critical_lr(10.0), critical_lr(10.0, momentum=0.9)
    (0.2, 0.38)
    """
    L = _positive(L, "L")
    momentum = _checks.real("momentum", momentum, low=0, high=1, high_open=True)
    return (2.0 + 2.0 * momentum) / L


def optimal_lr(mu, L):
    r"""The fixed learning rate that makes gradient descent on a quadratic fastest.

    .. math::  lr^* = \frac{2}{\mu + L}, \qquad
               \rho(lr^*) = \frac{L - \mu}{L + \mu} = \frac{\kappa - 1}{\kappa + 1}

    It balances the slowest direction (:math:`1 - lr\,\mu`) against the fastest
    (:math:`lr\,L - 1`), so the contraction :math:`\rho` is the same in both.

    Args:
        mu: smallest curvature, >= 0.
        L: largest curvature, > 0 and >= mu.

    Returns:
        ``2 / (mu + L)``.

    >>> optimal_lr(1.0, 9.0)
    0.2
    """
    L = _positive(L, "L")
    mu = _checks.real("mu", mu, low=0, high=L, rule=f"in [0, L] = [0, {L}]")
    return 2.0 / (mu + L)


def contraction_rate(lr, eigenvalues):
    r"""Factor by which one gradient-descent step shrinks the error on a quadratic (worst case).

    .. math::  \rho(lr) = \max_i |1 - lr\,\lambda_i|

    with :math:`\lambda_i` = ``eigenvalues``. After k steps
    :math:`\lVert x_k - x^* \rVert \le \rho^k \lVert x_0 - x^* \rVert`, with equality when the
    error lies along the worst direction; ``rho < 1`` iff the run converges.

    Args:
        lr: the learning rate, > 0; an array gives one rate per lr (handy for plots).
        eigenvalues: the Hessian's eigenvalues (a scalar or a sequence).

    Returns:
        ``rho`` (a float, or an array shaped like ``lr``).

    >>> contraction_rate(0.1, [1.0, 10.0])
    0.9
    >>> contraction_rate(np.array([0.1, 0.2, 0.25]), [1.0, 10.0])
    array([0.9, 1. , 1.5])
    """
    lr_arr = _checks.real_array("lr", lr, low=0, low_open=True)
    lam = _eigenvalue_array(eigenvalues)
    rho = np.max(np.abs(1.0 - lr_arr[..., None] * lam), axis=-1)
    return float(rho) if rho.ndim == 0 else rho


def momentum_contraction_rate(lr, momentum, eigenvalues):
    r"""Asymptotic per-step contraction of heavy-ball momentum on a quadratic.

    Along an eigenvector with curvature :math:`\lambda` the error obeys
    :math:`e_{k+1} = (1 + \beta - lr\,\lambda) e_k - \beta e_{k-1}`, so it decays like
    :math:`|z|^k` where z is the larger-magnitude root of

    .. math::  z^2 - (1 + \beta - lr\,\lambda) z + \beta = 0

    and the rate is the worst such :math:`|z|` over the eigenvalues (``beta`` = ``momentum``).
    It is < 1 iff ``0 < lr * lambda < 2 (1 + beta)``; with ``beta = 0`` it equals
    :func:`contraction_rate`.

    Args:
        lr: learning rate, > 0.
        momentum: beta, in [0, 1).
        eigenvalues: the Hessian's eigenvalues.

    Returns:
        The spectral radius of the two-step iteration (a float).

    Reference: B. T. Polyak (1964); G. Goh, "Why Momentum Really Works", Distill (2017).

    >>> round(momentum_contraction_rate(0.1, 0.0, [1.0, 10.0]), 12)
    0.9
    >>> round(momentum_contraction_rate(0.5, 0.25, [1.0, 4.0]), 6)  # sqrt(beta) at best
    0.5
    """
    lr = _positive(lr, "lr")
    momentum = _checks.real("momentum", momentum, low=0, high=1, high_open=True)
    lam = _eigenvalue_array(eigenvalues)
    b = 1.0 + momentum - lr * lam
    disc = (b * b - 4.0 * momentum).astype(complex)
    roots = np.stack([(b + np.sqrt(disc)) / 2.0, (b - np.sqrt(disc)) / 2.0])
    return float(np.max(np.abs(roots)))


def regime(lr, curvature):
    """Name what gradient descent with ``lr`` does along a direction of curvature ``curvature``.

    With ``h = lr * curvature`` (the error is multiplied by ``1 - h`` each step):

    - ``"monotone"`` for ``h <= 1``: shrinks without changing sign (``h = 1`` lands on the
      minimum in one step);
    - ``"oscillating"`` for ``1 < h < 2``: flips sign each step, shrinking;
    - ``"marginal"`` for ``h = 2``: flips sign forever with constant amplitude (neither
      converges nor diverges);
    - ``"diverging"`` for ``h > 2``: flips sign and grows geometrically.

    Products within 1e-9 (relative) of 1 or 2 count as exactly 1 or 2, so round-off in
    ``2 / L * L`` does not change the answer.

    Args:
        lr: learning rate, > 0.
        curvature: the curvature (a Hessian eigenvalue), > 0.

    Returns:
        One of ``"monotone"``, ``"oscillating"``, ``"marginal"``, ``"diverging"``.

    >>> [regime(lr, 10.0) for lr in (0.05, 0.1, 0.15, 0.2, 0.25)]
    ['monotone', 'monotone', 'oscillating', 'marginal', 'diverging']
    """
    lr = _positive(lr, "lr")
    curvature = _positive(curvature, "curvature")
    h = lr * curvature
    if h <= 1.0 + _BOUNDARY_RTOL:
        return "monotone"
    if abs(h - 2.0) <= 2.0 * _BOUNDARY_RTOL:
        return "marginal"
    return "oscillating" if h < 2.0 else "diverging"
