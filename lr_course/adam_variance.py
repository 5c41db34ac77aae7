r"""Why Adam needs a warm-up: the adaptive step is wildly variable in the first few steps.

Adam divides each step by :math:`\sqrt{\hat v_t}`, the square root of a bias-corrected running
mean of squared gradients. Liu et al. (2019) look at the factor itself,
:math:`\psi_t = 1/\sqrt{\hat v_t}`, when the gradients are noise: at step 1 it is
:math:`1/|g_1|`, which has no finite variance, and it only settles as more squares enter the
average. A warm-up keeps the learning rate small exactly while :math:`\psi_t` is unreliable.
RAdam makes that precise. Treating :math:`\hat v_t` as a mean of :math:`\rho_t` squared normals,

.. math::

    \rho_\infty = \frac{2}{1 - \beta_2} - 1, \qquad
    \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t},

it skips the adaptive factor while :math:`\rho_t \le 4` and otherwise multiplies the step by

.. math::

    r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\,\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\,\rho_t}},

which grows from 0 towards 1: an automatic warm-up.

If :math:`\hat v_t` is exactly the mean of :math:`k` squared :math:`N(0, \sigma^2)` draws, then
:math:`\psi = \sqrt{k} / (\sigma \sqrt{\chi^2_k})` and, from the moments of the chi-square law,

.. math::

    \operatorname{Var}[\psi] = \frac{k}{\sigma^2}\left(\frac{1}{k - 2}
        - \frac{\Gamma\big(\tfrac{k - 1}{2}\big)^2}{2\, \Gamma\big(\tfrac{k}{2}\big)^2}\right)
    \qquad (k > 2),

infinite for :math:`k \le 2` and about :math:`1 / (2 k \sigma^2)` for large :math:`k`
(:func:`psi_variance`).

Reference: L. Liu, H. Jiang, P. He, W. Chen, X. Liu, J. Gao, J. Han, On the Variance of the
Adaptive Learning Rate and Beyond, ICLR 2020, arXiv:1908.03265.

>>> round(float(radam_rho(1, 0.999)), 6), round(float(radam_rho(10**6, 0.999)), 3)
(1.0, 1999.0)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["adaptive_factors", "radam_rho", "radam_rectification", "psi_variance"]


def _beta2(beta2):
    if isinstance(beta2, bool) or not isinstance(beta2, numbers.Real) or not 0.0 < beta2 < 1.0:
        raise ValueError(f"beta2 must be a number in (0, 1), got {beta2!r}")
    return float(beta2)


def _steps(t):
    steps = np.asarray(t)
    if steps.dtype.kind not in "iu" or (steps.size and steps.min() < 1):
        raise ValueError(f"t must be an integer >= 1 or an array of them (steps count from 1), got {t!r}")
    return steps.astype(float)


def adaptive_factors(num_steps, num_runs, beta2=0.999, sigma=1.0, rng=None):
    r"""Adam's adaptive factor :math:`\psi_t = 1/\sqrt{\hat v_t}` over many runs of pure-noise gradients.

    Each run sees gradients :math:`g_t \sim N(0, \sigma^2)` on one parameter and keeps Adam's
    second moment (``eps = 0``):

    .. math::

        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \qquad
        \hat v_t = v_t / (1 - \beta_2^t), \qquad \psi_t = 1 / \sqrt{\hat v_t}.

    Args:
        num_steps: steps per run, >= 1.
        num_runs: independent runs, >= 1.
        beta2: Adam's second-moment decay, in (0, 1).
        sigma: the noise level, > 0.
        rng: a ``numpy.random.Generator``; ``default_rng(0)`` if None.

    Returns:
        an array of shape ``(num_steps, num_runs)``; row ``t - 1`` holds :math:`\psi_t`.

    >>> psi = adaptive_factors(1, 3, rng=np.random.default_rng(1))
    >>> g = np.random.default_rng(1).standard_normal((1, 3))
    >>> bool(np.allclose(psi, 1 / np.abs(g)))   # step 1: exactly 1/|g_1|
    True
    """
    for name, value in (("num_steps", num_steps), ("num_runs", num_runs)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    beta2 = _beta2(beta2)
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or not (sigma > 0 and math.isfinite(sigma)):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    rng = np.random.default_rng(0) if rng is None else rng
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator or None, got {rng!r}")
    grads = sigma * rng.standard_normal((num_steps, num_runs))
    v = np.zeros(num_runs)
    out = np.empty((num_steps, num_runs))
    with np.errstate(divide="ignore"):
        for k in range(num_steps):
            v = beta2 * v + (1.0 - beta2) * grads[k] ** 2
            out[k] = 1.0 / np.sqrt(v / (1.0 - beta2 ** (k + 1)))
    return out


def radam_rho(t, beta2=0.999):
    r"""RAdam's :math:`\rho_t`, the effective number of squared gradients in :math:`\hat v_t`.

    Args:
        t: the step, an integer >= 1 (or an integer array).
        beta2: Adam's second-moment decay, in (0, 1).

    Returns:
        :math:`\rho_t` (a float, or an array of the shape of ``t``); it starts at 1 and rises
        towards :math:`\rho_\infty = 2 / (1 - \beta_2) - 1`.

    >>> np.round(radam_rho(np.array([1, 2, 5]), 0.999), 4).tolist()
    [1.0, 1.9995, 4.996]
    """
    beta2 = _beta2(beta2)
    steps = _steps(t)
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    power = beta2 ** steps
    value = rho_inf - 2.0 * steps * power / (1.0 - power)
    return float(value) if np.ndim(t) == 0 else value


def radam_rectification(t, beta2=0.999):
    r"""RAdam's rectification :math:`r_t`, or 0 where :math:`\rho_t \le 4` (no adaptive step there).

    >>> radam_rectification(4, 0.999), round(radam_rectification(5, 0.999), 4)
    (0.0, 0.0173)
    """
    beta2 = _beta2(beta2)
    rho = np.asarray(radam_rho(t, beta2), dtype=float)
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    safe = np.where(rho > 4.0, rho, 5.0)
    r = np.sqrt((safe - 4.0) * (safe - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * safe))
    r = np.where(rho > 4.0, r, 0.0)
    return float(r) if np.ndim(t) == 0 else r


def psi_variance(k, sigma=1.0):
    r"""The variance of :math:`\sqrt{k}/(\sigma\sqrt{\chi^2_k})`: of :math:`\psi` when
    :math:`\hat v` is the mean of ``k`` squared :math:`N(0, \sigma^2)` draws.

    Args:
        k: degrees of freedom, a number > 0 (RAdam plugs in :math:`\rho_t`, not an integer).
        sigma: the noise level, > 0.

    Returns:
        the variance; ``inf`` for ``k <= 2``.

    >>> round(psi_variance(1000.0) * 2 * 1000, 3)   # about 1 / (2 k sigma^2) for large k
    1.004
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Real) or not (k > 0 and math.isfinite(k)):
        raise ValueError(f"k must be a finite number > 0, got {k!r}")
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or not (sigma > 0 and math.isfinite(sigma)):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    if k <= 2:
        return math.inf
    k = float(k)
    mean_sq = 1.0 / (k - 2.0)                                   # E[1 / chi2_k]
    mean = math.exp(math.lgamma((k - 1) / 2) - math.lgamma(k / 2)) / math.sqrt(2.0)  # E[1/sqrt(chi2_k)]
    return k * (mean_sq - mean * mean) / sigma ** 2
