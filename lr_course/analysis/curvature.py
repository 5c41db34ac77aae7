r"""Curvature without the Hessian: its top eigenvalue by power iteration on ``v -> H v``.

:func:`top_eigenvalue` needs only Hessian-vector products, so the Hessian of a model is never
formed; :func:`sharpness` applies it to a problem or model at a point. The result ``L`` is
what limits a stable learning rate (:func:`lr_course.analysis.critical_lr`).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _checks

__all__ = ["top_eigenvalue", "sharpness"]


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
