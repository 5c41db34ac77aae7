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
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks

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

# lr * curvature within this relative distance of 1 or 2 counts as exactly 1 or 2, so that
# regime(2 / L, L) is "marginal" despite round-off in 2 / L * L.
_BOUNDARY_RTOL = 1e-9


def _positive(value, name):
    return _checks.real(name, value, low=0, low_open=True)


def _eigenvalue_array(eigenvalues, name="eigenvalues"):
    lam = _checks.real_array(name, eigenvalues).ravel()
    if lam.size == 0:
        raise ValueError(f"{name} must be a non-empty sequence of finite numbers, got {eigenvalues}")
    return lam


# --------------------------------------------------------------------------- curvature


def _power_iteration(hvp, v, num_iters, tol, shift=0.0):
    """Rayleigh quotient of (H - shift I) after power iteration from v (unit norm)."""
    estimate = math.nan
    for _ in range(num_iters):
        w = np.asarray(hvp(v), dtype=float) - shift * v
        new_estimate = float(v @ w)
        norm = float(np.linalg.norm(w))
        if not math.isfinite(norm):
            raise ValueError("hvp returned a non-finite vector; is params finite?")
        if norm == 0.0:
            return 0.0  # v lies in the null space: H v = 0
        v = w / norm
        if abs(new_estimate - estimate) <= tol * max(abs(new_estimate), 1e-300):
            return new_estimate
        estimate = new_estimate
    return estimate


def top_eigenvalue(hvp, dim, *, rng=None, num_iters=200, tol=1e-10):
    r"""Estimate the largest eigenvalue of a symmetric matrix H known only through ``v -> H v``.

    Power iteration: start from a random unit vector and repeat
    :math:`v \leftarrow H v / \lVert H v \rVert`; the Rayleigh quotient :math:`v^\top H v`
    converges to the eigenvalue of largest magnitude. If that one is negative (an indefinite
    Hessian, e.g. a network far from a minimum), a second run on :math:`H - \lambda_1 I`
    (whose spectrum is shifted to be >= 0) recovers the largest *algebraic* eigenvalue, the one
    that limits a stable learning rate.

    Convergence is geometric in the ratio of the two largest eigenvalues; with a tiny gap the
    estimate is still between them, so it is accurate to about the gap.

    Args:
        hvp: ``hvp(v) -> H @ v`` for a float vector ``v`` of length ``dim``; H symmetric.
        dim: length of the vectors, >= 1.
        rng: a ``numpy.random.Generator`` for the start vector; ``default_rng(0)`` if None, so
            repeated calls agree.
        num_iters: maximum Hessian-vector products per run, >= 1.
        tol: stop when the estimate changes by less than ``tol`` relative to itself.

    Returns:
        The estimate of :math:`\lambda_{max}(H)` (a float).

    Reference: R. von Mises and H. Pollaczek-Geiringer (1929); for networks, e.g. Cohen et al.,
    "Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability",
    arXiv:2103.00065.

    >>> H = np.diag([1.0, 3.0, 10.0])
    >>> round(top_eigenvalue(lambda v: H @ v, 3), 6)
    10.0
    >>> round(top_eigenvalue(lambda v: np.diag([-5.0, 2.0]) @ v, 2), 6)
    2.0
    """
    dim = _checks.integer("dim", dim, minimum=1)
    num_iters = _checks.integer("num_iters", num_iters, minimum=1)
    tol = _checks.real("tol", tol, low=0)
    rng = np.random.default_rng(0) if rng is None else _checks.generator(rng, allow_none=True)
    v0 = rng.standard_normal(dim)
    v0 /= np.linalg.norm(v0)
    # Overflow in hvp (huge params) should surface as our ValueError, not as a warning.
    with np.errstate(over="ignore", invalid="ignore"):
        lam1 = _power_iteration(hvp, v0, num_iters, tol)
        if lam1 >= 0:
            return lam1
        # Dominant eigenvalue is negative: H - lam1 I is positive semi-definite and its top
        # eigenvalue is lam_max - lam1.
        return lam1 + _power_iteration(hvp, v0, num_iters, tol, shift=lam1)


def sharpness(problem, params=None, **kwargs):
    """Return the top eigenvalue of a problem's Hessian at ``params`` (its "sharpness").

    Gradient descent is stable near ``params`` only for ``lr < 2 / sharpness``.

    Args:
        problem: anything with ``hvp(params, v)`` and ``dim`` (every course problem and model).
        params: the point; ``problem.x0`` if None.
        **kwargs: passed to :func:`top_eigenvalue` (``rng``, ``num_iters``, ``tol``).

    Returns:
        The largest eigenvalue of the Hessian at ``params``.

    >>> from lr_course.problems import Quadratic
    >>> round(sharpness(Quadratic([0.5, 4.0], rotation=0.3)), 6)
    4.0
    """
    params = problem.x0 if params is None else np.asarray(params, dtype=float)
    return top_eigenvalue(lambda v: problem.hvp(params, v), int(problem.dim), **kwargs)


# --------------------------------------------------------------------------- step sizes


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


# --------------------------------------------------------------------------- speed


def _first_hit(g, target, s):
    """Smallest integer k >= 1 with g(k) <= target, where g(k) = sum_i a_i s_i^k, g(0) > target.

    Each term is convex in k, so g first decreases then (if some s_i > 1) increases; the set
    where g <= target is an interval of integers, possibly empty.
    """
    if np.all(s <= 1.0):  # g never increases: bisect on [1, hi] with g(hi) <= target
        hi = 1
        while g(hi) > target:
            if g(2 * hi) >= g(hi):  # stopped decreasing (all s = 1, or stuck above target)
                return math.inf
            hi *= 2
            if hi > 2**62:
                return math.inf
    else:  # find the minimiser of the convex g by doubling, then bisect on [0, k_min]
        hi = 1
        while g(hi + 1) < g(hi) and hi < 2**62:
            hi *= 2
        lo_m, hi_m = 0, hi  # g(k+1) - g(k) is nondecreasing; find first k with it >= 0
        while lo_m < hi_m:
            mid = (lo_m + hi_m) // 2
            if g(mid + 1) >= g(mid):
                hi_m = mid
            else:
                lo_m = mid + 1
        if g(lo_m) > target:
            return math.inf
        hi = lo_m
    lo = 0  # invariant: g(lo) > target >= g(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if g(mid) <= target:
            hi = mid
        else:
            lo = mid
    return hi


def steps_to_tolerance(lr, eigenvalues, tol, x0=None, *, measure="distance"):
    r"""Number of gradient-descent steps a quadratic needs to get within ``tol`` (exact).

    In the Hessian's eigenbasis the error after k steps is exactly
    :math:`e_i^{(k)} = (1 - lr\,\lambda_i)^k\,e_i^{(0)}`, so the two measures are

    .. math::

        \text{distance: } \lVert x_k - x^* \rVert = \Big(\sum_i (1 - lr\,\lambda_i)^{2k}
        (e_i^{(0)})^2\Big)^{1/2}, \qquad
        \text{loss: } f(x_k) - f^* = \tfrac12 \sum_i \lambda_i (1 - lr\,\lambda_i)^{2k}
        (e_i^{(0)})^2

    and the answer is the first k at which the measure is <= ``tol`` (found by bisection on
    this closed form; no simulation). Plotted against lr it is a U-shaped curve with its bottom
    near :func:`optimal_lr`. A diverging run can still pass below ``tol`` on its way in (its
    fast directions shrink before its unstable ones grow), and then that first step is returned.

    Args:
        lr: learning rate, > 0.
        eigenvalues: the curvatures :math:`\lambda_i` (all > 0).
        tol: tolerance, > 0 (a distance or a loss gap, see ``measure``).
        x0: the initial error :math:`x_0 - x^*` expressed in the eigenbasis (for a
            ``Quadratic`` q: ``q.Q.T @ (q.x0 - q.minimum)``); all ones if None.
        measure: ``"distance"`` (to the minimiser) or ``"loss"`` (above the minimum).

    Returns:
        The number of steps (an int; 0 if ``x0`` is already within ``tol``), or ``math.inf``
        if the measure never gets to ``tol``.

    >>> steps_to_tolerance(0.1, [1.0], 1e-3, x0=[1.0])   # 0.9**k <= 1e-3
    66
    >>> steps_to_tolerance(0.25, [1.0, 10.0], 1e-3)
    inf
    """
    lr = _positive(lr, "lr")
    tol = _positive(tol, "tol")
    lam = _eigenvalue_array(eigenvalues)
    if np.any(lam <= 0):
        raise ValueError(f"eigenvalues must all be > 0, got {lam.tolist()}")
    e0 = np.ones_like(lam) if x0 is None else _checks.real_array("x0", x0).ravel()
    if e0.shape != lam.shape:
        raise ValueError(f"x0 must be {lam.size} finite numbers (one per eigenvalue), got {x0}")
    if measure == "distance":
        weights, target = e0**2, tol**2
    elif measure == "loss":
        weights, target = 0.5 * lam * e0**2, tol
    else:
        _checks.choice("measure", measure, ("distance", "loss"))
    keep = weights > 0
    a, s = weights[keep], (1.0 - lr * lam[keep]) ** 2

    def g(k):
        with np.errstate(over="ignore"):
            return float(np.sum(a * s**k))

    if g(0) <= target:
        return 0
    return _first_hit(g, target, s)


def steps_to_tolerance_empirical(problem, lr, tol, max_steps=10_000, *, params=None,
                                 measure="distance"):
    """Run plain gradient descent and count the steps until it is within ``tol``.

    The measured twin of :func:`steps_to_tolerance`: the update is ``x <- x - lr * grad(x)``
    on any problem with a known ``minimum`` (e.g. a ``Quadratic``), without an optimizer
    object, so nothing but the learning rate is involved.

    Args:
        problem: has ``grad``, ``x0``, ``minimum`` (and ``loss`` for ``measure="loss"``).
        lr: learning rate, > 0.
        tol: tolerance, > 0.
        max_steps: give up after this many steps, >= 0.
        params: start; ``problem.x0`` if None.
        measure: ``"distance"`` to ``problem.minimum`` or ``"loss"`` above its loss.

    Returns:
        The first step count k with the measure <= ``tol`` (an int), or ``math.inf`` if that
        does not happen within ``max_steps`` steps (or the run overflows).

    >>> from lr_course.problems import Quadratic
    >>> steps_to_tolerance_empirical(Quadratic.one_d(1.0, x0=1.0), 0.1, 1e-3)
    66
    """
    lr = _positive(lr, "lr")
    tol, max_steps, measure, x, x_star, f_star = _tolerance_run(problem, tol, max_steps,
                                                                params, measure)

    def error(x):
        if measure == "distance":
            return float(np.linalg.norm(x - x_star))
        return problem.loss(x) - f_star

    with np.errstate(all="ignore"):
        for k in range(max_steps + 1):
            err = error(x)
            if err <= tol:
                return k
            if not math.isfinite(err):
                return math.inf
            x = x - lr * problem.grad(x)
    return math.inf


def _tolerance_run(problem, tol, max_steps, params, measure) -> tuple:
    """The checked arguments of a steps-to-tolerance run and where it starts and ends:
    ``(tol, max_steps, measure, start, x_star, f_star)``."""
    tol = _positive(tol, "tol")
    max_steps = _checks.integer("max_steps", max_steps, minimum=0)
    measure = _checks.choice("measure", measure, ("distance", "loss"))
    start = np.array(problem.x0 if params is None else params, dtype=float)
    x_star = np.asarray(problem.minimum, dtype=float)
    return tol, max_steps, measure, start, x_star, (problem.loss(x_star) if measure == "loss"
                                                    else 0.0)


def steps_to_tolerance_scan(problem, lrs, tol, max_steps=10_000, *, params=None,
                            measure="distance"):
    """:func:`steps_to_tolerance_empirical` at many learning rates, as one array computation.

    Every lr runs the same plain gradient descent, ``x <- x - lr * grad(x)``, from the same
    start; the runs are the columns of one ``(dim, len(lrs))`` array, so each step is one
    matrix product instead of one Python loop per lr. A run leaves the array once it is within
    ``tol`` or has overflowed. The counts are those of the one-lr function, run by run.

    Args:
        problem: as for :func:`steps_to_tolerance_empirical`, whose ``grad`` (and ``loss`` for
            ``measure="loss"``) also accepts a stack of points of shape ``(dim, n)``, one point
            a column, as :class:`lr_course.problems.Quadratic` does.
        lrs: learning rates, each > 0.
        tol, max_steps, params, measure: as for :func:`steps_to_tolerance_empirical`.

    Returns:
        A float array, one count per lr: the first step k with the measure <= ``tol``, or
        ``inf`` where that does not happen within ``max_steps`` steps (or the run overflows).

    >>> from lr_course.problems import Quadratic
    >>> steps_to_tolerance_scan(Quadratic.one_d(1.0, x0=1.0), [0.1, 1.0, 2.5], 1e-3)
    array([66.,  1., inf])
    """
    lrs = np.asarray(lrs, dtype=float).ravel()
    for lr in lrs:
        _positive(lr, "lr")
    tol, max_steps, measure, start, x_star, f_star = _tolerance_run(problem, tol, max_steps,
                                                                    params, measure)

    counts = np.full(lrs.size, math.inf)
    running = np.arange(lrs.size)                    # the lrs still running, by index
    x = np.repeat(start[:, None], lrs.size, axis=1)  # one column per running lr
    with np.errstate(all="ignore"):
        for k in range(max_steps + 1):
            if measure == "distance":
                err = np.sqrt(np.sum((x - x_star[:, None]) ** 2, axis=0))
            else:
                err = np.asarray(problem.loss(x), dtype=float).reshape(-1) - f_star
            hit = err <= tol
            counts[running[hit]] = k
            keep = ~hit & np.isfinite(err)           # an overflowed run stays at inf
            running, x = running[keep], x[:, keep]
            if running.size == 0:
                break
            x = x - lrs[running] * problem.grad(x)
    return counts


# --------------------------------------------------------------------------- noise


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
