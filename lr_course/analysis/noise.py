r"""The noise floor of SGD: the mean square error noisy gradients leave at each learning rate.

:func:`noise_floor` is where constant-lr SGD settles on a quadratic with Gaussian gradient
noise; :func:`mean_square_recursion` follows the mean square step by step under any
sequence of learning rates (a schedule), exactly.
"""

from __future__ import annotations

import numpy as np

from .. import _checks

__all__ = ["noise_floor", "mean_square_recursion"]


def noise_floor(lr, curvature, sigma):
    r"""Stationary mean square error of constant-lr SGD on a 1-D quadratic with noisy gradients.

    On :math:`f(x) = \tfrac12 \lambda x^2` with gradient :math:`\lambda x + \sigma \xi`,
    :math:`\xi \sim N(0, 1)`, one step is :math:`x \leftarrow (1 - lr\,\lambda) x - lr\,\sigma\xi`,
    so :math:`v = E[x^2]` settles where :math:`v = (1 - lr\,\lambda)^2 v + lr^2 \sigma^2`:

    .. math::  E[x^2] \to \frac{lr\,\sigma^2}{\lambda\,(2 - lr\,\lambda)}

    (``lambda`` = ``curvature``). The floor grows with lr, which is why a constant rate stalls
    and a decaying one does not. The expected loss there is ``0.5 * curvature`` times this.
    For ``lr * curvature >= 2`` there is no stationary state and the result is ``inf``.
    Each coordinate of an n-D quadratic with independent noise has its own floor; pass the
    eigenvalues as an array.

    Args:
        lr: learning rate, > 0 (scalar or array).
        curvature: lambda, > 0 (scalar or array; broadcast against lr).
        sigma: gradient-noise standard deviation, >= 0.

    Returns:
        ``E[x^2]`` in the long run (a float, or an array of the broadcast shape).

    >>> noise_floor(0.1, 1.0, 1.0)   # 0.1 / (1 * 1.9)
    0.05263157894736842
    >>> noise_floor(2.5, 1.0, 1.0)
    inf
    """
    lr_arr = _checks.real_array("lr", lr, low=0, low_open=True)
    lam = _checks.real_array("curvature", curvature, low=0, low_open=True)
    sigma = _checks.real("sigma", sigma, low=0)
    h = lr_arr * lam
    stable = h < 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = np.where(stable, lr_arr * sigma**2 / (lam * (2.0 - h)), np.inf)
    return float(floor) if floor.ndim == 0 else floor


def mean_square_recursion(lrs, curvature, sigma, v0):
    r"""Exact mean square error of SGD with noisy gradients on a quadratic, step by step.

    On :math:`f(x) = \tfrac12 \lambda x^2` with gradient :math:`\lambda x + \sigma \xi_t`,
    :math:`\xi_t \sim N(0, 1)` independent, the step :math:`x_{t+1} = (1 - lr_t \lambda) x_t
    - lr_t \sigma \xi_t` gives, for :math:`v_t = E[x_t^2]`:

    .. math::  v_{t+1} = (1 - lr_t\,\lambda)^2\, v_t + lr_t^2\, \sigma^2

    Key: ``lr_t = lrs[t]``, ``lambda = curvature``, ``v_0 = v0`` (``x0**2`` for a fixed
    start). With a constant lr, :math:`v_t` tends to :func:`noise_floor`; under a decaying
    schedule it follows the floor of the current lr with a lag. An n-D quadratic with
    independent noise per coordinate is n of these: pass the eigenvalues (and the starts)
    as arrays; the expected loss is ``0.5 * sum(curvature * v)`` over them.
    A run that diverges overflows to ``inf`` without a warning.

    Args:
        lrs: the learning rate of each step, a 1-D sequence of finite numbers >= 0.
        curvature: lambda, a finite number or an array of them (broadcast with v0).
        sigma: the standard deviation of the gradient noise, >= 0.
        v0: the mean square at step 0, >= 0 (a number or an array).

    Returns:
        The array ``[v_0, v_1, ..., v_T]`` with ``T = len(lrs)``, of shape
        ``(T + 1,) + broadcast(curvature, v0).shape``.

    >>> mean_square_recursion([0.5, 0.5], curvature=1.0, sigma=1.0, v0=4.0)  # 0.25 * 4 + 0.25
    array([4.    , 1.25  , 0.5625])
    """
    lr_arr = _checks.real_array("lrs", lrs, low=0, ndim=1)
    lam = _checks.real_array("curvature", curvature)
    sigma = _checks.real("sigma", sigma, low=0)
    v = _checks.real_array("v0", v0, low=0)
    v = np.broadcast_to(v, np.broadcast_shapes(v.shape, lam.shape))
    out = np.empty((lr_arr.size + 1,) + v.shape)
    out[0] = v
    with np.errstate(over="ignore", invalid="ignore"):
        for t, lr in enumerate(lr_arr):
            out[t + 1] = (1 - lr * lam) ** 2 * out[t] + lr**2 * sigma**2
    return out
