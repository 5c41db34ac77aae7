r"""Sharpness during training: full-batch gradient descent that also tracks the top Hessian eigenvalue.

Classical analysis (lesson 01) says gradient descent with rate ``lr`` is stable only where the
sharpness, the largest eigenvalue of the Hessian, is below ``2 / lr``. Cohen et al. (2021)
tracked the sharpness *during* training and found two things: it keeps rising while the loss
falls ("progressive sharpening"), and once it reaches ``2 / lr`` it stops there and hovers,
while the loss goes on falling, non-monotonically ("the edge of stability").
:func:`track_sharpness` is the instrument that measures this on the course's problems.

The top eigenvalue is measured every ``every`` steps by power iteration on Hessian-vector
products, warm-started from the previous eigenvector: the Hessian changes little between two
measurements, so a few products per measurement are enough (``tests/test_sharpness.py`` checks
the estimates against a cold, long power iteration and against exact eigenvalues).

Reference: J. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar, Gradient Descent on Neural
Networks Typically Occurs at the Edge of Stability, ICLR 2021, arXiv:2103.00065.

>>> from lr_course.problems import Quadratic
>>> run = track_sharpness(Quadratic([1.0, 4.0]), lr=0.1, num_steps=20, every=10)
>>> run.steps.tolist(), np.round(run.sharpness, 6).tolist()
([0, 10, 20], [4.0, 4.0, 4.0])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["SharpnessRun", "track_sharpness", "warm_power_iteration"]


def warm_power_iteration(hvp, v, num_iters):
    r"""Refine an estimate of the top eigenpair of a symmetric H by ``num_iters`` power steps.

    .. math::  v \leftarrow H v / \lVert H v \rVert, \qquad \lambda = v^\top H v

    Args:
        hvp: ``hvp(v) -> H @ v``.
        v: the start vector (any non-zero vector; the previous eigenvector when warm-starting).
        num_iters: the number of Hessian-vector products, >= 1.

    Returns:
        ``(eigenvalue, unit_vector)``: the Rayleigh quotient of the last iterate, and it.
        Power iteration finds the eigenvalue of largest magnitude; near a minimum that is the
        largest one.

    >>> H = np.diag([1.0, 2.0, 5.0])
    >>> value, vec = warm_power_iteration(lambda x: H @ x, np.ones(3), 60)
    >>> round(value, 8), np.round(np.abs(vec), 6).tolist()
    (5.0, [0.0, 0.0, 1.0])
    """
    if isinstance(num_iters, bool) or not isinstance(num_iters, (int, np.integer)) or num_iters < 1:
        raise ValueError(f"num_iters must be an integer >= 1, got {num_iters!r}")
    v = np.array(v, dtype=float)
    norm = float(np.linalg.norm(v))
    if not (math.isfinite(norm) and norm > 0):
        raise ValueError(f"v must be a finite, non-zero vector, got norm {norm}")
    v /= norm
    value = math.nan
    for _ in range(num_iters):
        w = np.asarray(hvp(v), dtype=float)
        value = float(v @ w)
        norm = float(np.linalg.norm(w))
        if not (math.isfinite(norm) and norm > 0):
            return value, v
        v = w / norm
    return value, v


@dataclass
class SharpnessRun:
    """What :func:`track_sharpness` recorded.

    Attributes:
        lr: the learning rate of the run.
        loss: the full-batch loss before each update and after the last, ``num_steps + 1``
            entries (fewer if the run diverged).
        steps: the steps at which the sharpness was measured (0, every, 2 every, ...).
        sharpness: the top Hessian eigenvalue at those steps.
        final_params: the params after the last update made.
        diverged: whether the loss became non-finite or exceeded ``blowup`` times the start.
    """

    lr: float
    loss: np.ndarray
    steps: np.ndarray
    sharpness: np.ndarray
    final_params: np.ndarray
    diverged: bool = False

    @property
    def threshold(self) -> float:
        """``2 / lr``, the sharpness above which gradient descent is unstable on a quadratic."""
        return 2.0 / self.lr

    def sharpness_between(self, start, stop):
        """The measurements taken at steps in ``[start, stop)``."""
        keep = (self.steps >= start) & (self.steps < stop)
        return self.sharpness[keep]


def track_sharpness(problem, lr, num_steps, *, every=10, params=None, num_iters=20,
                    first_iters=200, rng=None, blowup=1e6):
    r"""Run full-batch gradient descent and measure the sharpness every ``every`` steps.

    .. math::

        \theta_{k+1} = \theta_k - \eta \nabla L(\theta_k), \qquad
        S_k = \lambda_{max}\big(\nabla^2 L(\theta_k)\big) \text{ for } k = 0, e, 2e, \dots

    with :math:`\eta` = ``lr`` and :math:`e` = ``every``.

    Args:
        problem: anything with ``loss_and_grad(params)``, ``hvp(params, v)``, ``dim`` and
            ``x0`` (every course problem; ``width_mlp.WidthMLP`` for the lesson).
        lr: the constant learning rate, > 0.
        num_steps: the number of gradient-descent updates, >= 0.
        every: measure the sharpness every this many steps (and at the end), >= 1.
        params: the start; ``problem.x0`` if None. Never modified.
        num_iters: Hessian-vector products per measurement after the first, >= 1.
        first_iters: products for the first (cold) measurement, >= 1.
        rng: a ``numpy.random.Generator`` for the first power-iteration vector;
            ``default_rng(0)`` if None.
        blowup: stop, marking the run diverged, if the loss exceeds ``blowup`` times the
            starting loss (or becomes non-finite).

    Returns:
        A :class:`SharpnessRun`.
    """
    lr = float(lr)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    for name, value, low in (("num_steps", num_steps, 0), ("every", every, 1),
                             ("num_iters", num_iters, 1), ("first_iters", first_iters, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    rng = np.random.default_rng(0) if rng is None else rng
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator or None, got {rng!r}")
    theta = np.array(problem.x0 if params is None else params, dtype=float)
    vec = rng.standard_normal(theta.size)
    losses, steps, values = [], [], []
    diverged, limit = False, None
    with np.errstate(all="ignore"):
        for k in range(num_steps + 1):
            value, grads = problem.loss_and_grad(theta)
            value = float(value)
            losses.append(value)
            if limit is None:
                limit = blowup * max(abs(value), 1e-12)
            if not math.isfinite(value) or value > limit:
                diverged = True
                break
            if k % every == 0 or k == num_steps:
                iters = first_iters if not steps else num_iters
                top, vec = warm_power_iteration(lambda u: problem.hvp(theta, u), vec, iters)
                steps.append(k)
                values.append(top)
            if k < num_steps:
                theta = theta - lr * grads
    return SharpnessRun(lr=lr, loss=np.array(losses), steps=np.array(steps, dtype=int),
                        sharpness=np.array(values), final_params=theta, diverged=diverged)
