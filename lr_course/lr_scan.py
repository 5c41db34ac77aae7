"""Gradient descent, plain or with momentum, at many learning rates at once on a quadratic.

A lesson that scans the learning rate finely (where is the threshold? how fast does each rate
shrink the error?) runs the same small optimizer from the same start dozens of times. Run one by
one with :func:`lr_course.training.train`, each step of each run pays Python's overhead; here the
runs are the rows of one array, and a step of all of them is a handful of array operations.

The arithmetic is that of :func:`lr_course.optimizers.sgd`, operation for operation, so the
iterates equal those of ``training.train(problem, optimizers.sgd(lr=lr, momentum=..., nesterov=...),
record_params=True, blowup=None)`` run by run, bit for bit (``tests/test_lr_scan.py``). Unlike
``train`` nothing stops a diverging run: its row keeps growing (to inf, then NaN, if the run is
long enough), which a threshold scan reads as "grows".

>>> from lr_course.problems import Quadratic
>>> paths = gd_paths(Quadratic.one_d(curvature=4.0, x0=1.0), [0.1, 0.45, 0.55], num_steps=3)
>>> paths.shape                        # (step, lr, coordinate)
(4, 3, 1)
>>> paths[:, :, 0].round(4).tolist()   # monotone, oscillating, diverging: (1 - 4 lr) ** step
[[1.0, 1.0, 1.0], [0.6, -0.8, -1.2], [0.36, 0.64, 1.44], [0.216, -0.512, -1.728]]
"""

from __future__ import annotations

import numpy as np

from . import _checks

__all__ = ["gd_paths"]


def gd_paths(problem, lrs, num_steps, *, momentum=0.0, nesterov=False, params=None) -> np.ndarray:
    r"""The iterates of gradient descent (heavy-ball or Nesterov momentum optional) at every lr.

    Each row r runs, from the same start :math:`p_0`, PyTorch's SGD with learning rate
    :math:`\eta_r` = ``lrs[r]`` and momentum :math:`\mu` = ``momentum``, for t = 1, 2, ...:

    .. math::

        g_t = \nabla f(p_{t-1}), \qquad
        b_t = \begin{cases} g_1 & t = 1 \\ \mu\, b_{t-1} + g_t & t > 1 \end{cases}, \qquad
        p_t = p_{t-1} - \eta_r \begin{cases} g_t + \mu\, b_t & \text{Nesterov} \\
                                             b_t & \text{otherwise} \end{cases}

    (with :math:`\mu = 0` plain gradient descent, :math:`p_t = p_{t-1} - \eta_r g_t`).

    Args:
        problem: a quadratic, :class:`lr_course.problems.Quadratic` (``A``, ``minimum``, ``x0``,
            ``dim``): its gradient is :math:`A (p - c)`.
        lrs: the learning rates, a 1-D sequence of numbers >= 0.
        num_steps: number of updates, >= 0.
        momentum: :math:`\mu` >= 0 (0: plain gradient descent).
        nesterov: Nesterov's look-ahead form (needs momentum > 0).
        params: the common start; ``problem.x0`` if None.

    Returns:
        A float array of shape ``(num_steps + 1, len(lrs), dim)``: ``paths[t, r]`` is the params
        of run r after t updates (``paths[0, r]`` the start).

    References:
        Polyak (1964), heavy-ball momentum; Sutskever et al. (2013), ICML, for the Nesterov form
        PyTorch uses.
    """
    for attr in ("A", "minimum", "x0", "dim"):
        if not hasattr(problem, attr):
            raise ValueError(f"problem must be a Quadratic (with .{attr}), got {problem!r}")
    lrs = _checks.real_array("lrs", lrs, ndim=1)
    if np.any(lrs < 0):
        raise ValueError(f"lrs must all be >= 0, got {lrs[lrs < 0][0]!r}")
    num_steps = _checks.integer("num_steps", num_steps, minimum=0)
    momentum = _checks.real("momentum", momentum, low=0)
    nesterov = _checks.flag("nesterov", nesterov)
    if nesterov and momentum <= 0:
        raise ValueError(f"nesterov=True needs momentum > 0, got momentum={momentum!r}")
    start = np.array(problem.x0 if params is None else params, dtype=float)
    if start.shape != (problem.dim,):
        raise ValueError(f"params must be a flat array of shape ({problem.dim},), got shape {start.shape}")

    A, c = np.asarray(problem.A, dtype=float), np.asarray(problem.minimum, dtype=float)
    step = lrs[:, None]                                   # one lr per row
    paths = np.empty((num_steps + 1, lrs.size, start.size))
    paths[0] = start
    p, b = paths[0].copy(), None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, num_steps + 1):
            # A stack of matrix-vector products, one per row: the bits of A @ d for one point,
            # which is how Quadratic.loss_and_grad (and so train) computes the gradient.
            g = np.matmul(A, (p - c)[:, :, None])[:, :, 0]
            if momentum == 0:
                p = p - step * g
            else:
                b = g.copy() if b is None else momentum * b + g   # the first velocity is g itself
                p = p - step * (g + momentum * b if nesterov else b)
            paths[t] = p
    return paths
