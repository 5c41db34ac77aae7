r"""How many steps gradient descent needs to get within a tolerance, exactly and measured.

:func:`steps_to_tolerance` reads the count off the closed form of the error in the
Hessian's eigenbasis; :func:`steps_to_tolerance_empirical` runs plain gradient descent and
counts, and :func:`steps_to_tolerance_scan` does the same for many learning rates at once.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _checks
from ._common import _eigenvalue_array, _positive

__all__ = ["steps_to_tolerance", "steps_to_tolerance_empirical", "steps_to_tolerance_scan"]


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
