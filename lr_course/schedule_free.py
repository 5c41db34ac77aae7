r"""Schedule-free SGD: a constant learning rate, with averaging doing the work of a decay.

A decaying schedule needs the length of training in advance. Defazio et al. (2024) keep the
rate constant and replace momentum by an interpolation and a running average:

.. math::

    y_t = (1 - \beta)\, z_t + \beta\, x_t, \qquad
    z_{t+1} = z_t - \gamma\, g(y_t), \qquad
    x_{t+1} = (1 - c_{t+1})\, x_t + c_{t+1}\, z_{t+1}

with :math:`\gamma` = ``lr``, :math:`\beta` = ``beta`` and :math:`g` a (stochastic) gradient.
The gradient is taken at :math:`y`; the point to evaluate (and to keep) is the average
:math:`x`. Here :math:`c_{t+1} = \gamma_t^2 / \sum_{i \le t} \gamma_i^2`, so ``x`` is the mean of
the iterates ``z`` after each update, weighted by the squared rate: with a constant rate
:math:`c_{t+1} = 1/(t+1)` counting updates from 1, the uniform average of the paper; with a
warm-up the small early rates weigh little (the official implementation's weighting).

Two special cases pin the method down (and ``tests/test_schedule_free.py`` checks both):
with ``beta = 0`` the gradient is taken at ``z``, which is then plain SGD, and ``x`` is its
Polyak average; with ``beta = 1`` the gradient is taken at the average itself.

Reference: A. Defazio, X. Yang, H. Mehta, K. Mishchenko, A. Khaled, A. Cutkosky, The Road
Less Scheduled, arXiv:2405.15682 (the update above; ``beta = 0.9`` is the default there).

>>> from lr_course.problems import Quadratic
>>> opt = schedule_free_sgd(lr=0.5, beta=0.9)
>>> params = np.array([1.0])
>>> state = opt.init(params)
>>> for _ in range(3):
...     params, state = opt.update(params, Quadratic([1.0]).grad(params), state)
>>> np.round(state["z"], 4).tolist(), np.round(averaged_params(state), 4).tolist()
([0.0687], [0.2729])
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from lr_course.optimizers import Optimizer

__all__ = ["schedule_free_sgd", "averaged_params", "schedule_free_runs"]


def _check_beta(beta):
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta must be a number in [0, 1], got {beta!r}")
    return float(beta)


def _check_lr(lr):
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    return float(lr)


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def schedule_free_sgd(lr=1.0, beta=0.9, warmup_steps=0):
    r"""Schedule-free SGD as an ``init`` / ``update`` pair (see the module's equations).

    ``params`` passed to and returned by ``update`` are the gradient points :math:`y`; the
    state holds the iterate ``z`` and the average ``x`` (read it with :func:`averaged_params`),
    ``t`` (updates made) and ``weight_sum`` (the sum of squared rates so far).

    Args:
        lr: the rate :math:`\gamma` after warm-up, > 0.
        beta: the interpolation :math:`\beta` in [0, 1]; 0.9 as in the paper.
        warmup_steps: ramp the rate linearly over this many updates (the first uses
            ``lr / warmup_steps``), an integer >= 0.

    Returns:
        an :class:`lr_course.optimizers.Optimizer` (``step`` is the same update done in place).

    Note: unlike ``torch.optim.SGD(momentum=...)`` there is no momentum buffer; ``beta`` plays
    its part. The ``schedulefree`` package swaps ``y`` and ``x`` into the model with
    ``optimizer.train()`` / ``optimizer.eval()``; here the caller reads ``averaged_params``.
    """
    lr = _check_lr(lr)
    beta = _check_beta(beta)
    warmup_steps = _check_count("warmup_steps", warmup_steps, 0)

    def lr_at(t):
        return lr * min(1.0, (t + 1) / warmup_steps) if warmup_steps else lr

    def init(params):
        start = np.array(params, dtype=float)
        return {"z": start.copy(), "x": start.copy(), "t": 0, "weight_sum": 0.0}

    def update(params, grads, state):
        grads = np.asarray(grads, dtype=float)
        if np.shape(params) != grads.shape:
            raise ValueError(f"params and grads must have the same shape, got {np.shape(params)} "
                             f"and {grads.shape}")
        t = state["t"]
        rate = lr_at(t)
        with np.errstate(over="ignore", invalid="ignore"):
            # 1. A plain gradient step on z, with the gradient taken at y (= params).
            z = state["z"] - rate * grads
            # 2. Fold the new z into the weighted average x.
            weight_sum = state["weight_sum"] + rate * rate
            c = rate * rate / weight_sum
            x = (1.0 - c) * state["x"] + c * z
            # 3. The next gradient point interpolates between them.
            y = (1.0 - beta) * z + beta * x
        return y, {"z": z, "x": x, "t": t + 1, "weight_sum": weight_sum}

    def step(params, grads, state):
        new_params, new_state = update(params, grads, state)
        params[...] = new_params
        state["z"][...] = new_state["z"]
        state["x"][...] = new_state["x"]
        state["t"], state["weight_sum"] = new_state["t"], new_state["weight_sum"]

    name = f"schedule-free SGD (beta {beta:g})"
    return Optimizer(init, update, lr_at, name,
                     {"lr": lr, "beta": beta, "warmup_steps": warmup_steps}, step)


def averaged_params(state):
    """The average ``x`` of a schedule-free state: the point to evaluate and to keep."""
    if not isinstance(state, dict) or "x" not in state:
        raise ValueError(f"state must be the state of schedule_free_sgd, got {state!r}")
    return np.array(state["x"])


def schedule_free_runs(lr, beta, curvature, sigma, x0, num_steps, num_runs, rng):
    r"""Mean loss at the average ``x`` of ``num_runs`` schedule-free runs on a noisy 1-D quadratic.

    The problem is lesson 03's: :math:`f(x) = \tfrac12 \lambda x^2` with gradients
    :math:`\lambda y + \sigma\xi`, :math:`\xi` standard normal. The noise is drawn as one
    ``(num_steps, num_runs)`` block from ``rng``, exactly as
    :func:`lr_course.training.noisy_sgd_runs` draws it, so the two compare on the same noise
    when given generators with the same seed.

    Args:
        lr: the constant rate, > 0; beta: the interpolation in [0, 1].
        curvature: lambda > 0; sigma: noise level >= 0; x0: the start of every run.
        num_steps: updates per run, >= 0; num_runs: runs, >= 1; rng: a numpy Generator.

    Returns:
        the mean over runs of :math:`\tfrac12\lambda x_k^2` after 0 .. num_steps updates
        (length ``num_steps + 1``).

    >>> loss = schedule_free_runs(0.5, 0.9, 1.0, 0.0, 1.0, 3, 2, np.random.default_rng(0))
    >>> np.round(loss, 4).tolist()   # no noise: 0.5 * 0.2729**2 at the end, as above
    [0.5, 0.125, 0.0703, 0.0372]
    """
    lr, beta = _check_lr(lr), _check_beta(beta)
    num_steps = _check_count("num_steps", num_steps, 0)
    num_runs = _check_count("num_runs", num_runs, 1)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {rng!r}")
    noise = sigma * rng.standard_normal((num_steps, num_runs))
    z = np.full(num_runs, float(x0))
    x = z.copy()
    mean_loss = np.empty(num_steps + 1)
    mean_loss[0] = 0.5 * curvature * float(x @ x) / num_runs
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(num_steps):
            y = (1.0 - beta) * z + beta * x
            z = z - lr * (curvature * y + noise[k])
            c = 1.0 / (k + 1)
            x = (1.0 - c) * x + c * z
            mean_loss[k + 1] = 0.5 * curvature * float(x @ x) / num_runs
    return mean_loss
