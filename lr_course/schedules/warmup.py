"""Warm-up and composition: :func:`linear_warmup`, :func:`join` (one schedule after another,
each counting from its own boundary) and :func:`warmup_cosine` built from them.
"""

from __future__ import annotations

import numpy as np

from lr_course import _checks
from lr_course.schedules._base import Schedule, _describe, _increasing_integers
from lr_course.schedules.decay import cosine_decay

__all__ = ["join", "linear_warmup", "warmup_cosine"]


def linear_warmup(lr_peak, warmup_steps):
    r"""Ramp linearly up to ``lr_peak``, reached at step ``warmup_steps - 1``, then hold.

    .. math::  \eta(t) = \eta_{peak} \min\left(1, \frac{t + 1}{W}\right)

    with :math:`\eta_{peak}` = ``lr_peak`` and :math:`W` = ``warmup_steps``.

    Args:
        lr_peak: the lr after warm-up, >= 0.
        warmup_steps: the number of steps of the ramp, an integer >= 1 (1: no warm-up).

    Returns:
        a :class:`Schedule`.

    Note: this is the ps1 convention: the first step already uses ``lr_peak / W`` (no step is
    wasted at lr 0). optax's ``linear_schedule(0, lr_peak, W)`` instead starts at exactly 0 at
    step 0 and reaches the peak at step ``W``, one step later. torch's
    ``LinearLR(start_factor=1/W, total_iters=W-1)`` matches ours.

    Reference: Goyal et al., Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour,
    arXiv:1706.02677.

    >>> sched = linear_warmup(lr_peak=1.0, warmup_steps=4)
    >>> [sched(t) for t in range(6)]
    [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    """
    lr_peak = _checks.real("lr_peak", lr_peak, low=0)
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, minimum=1)
    return Schedule(
        lambda step: lr_peak * np.minimum(1.0, (step + 1) / warmup_steps),
        _describe("linear_warmup", lr_peak=lr_peak, warmup_steps=warmup_steps),
    )


def join(schedules, boundaries):
    r"""Run ``schedules`` one after another, switching at ``boundaries``.

    .. math::  \eta(t) = f_{i}(t - b_{i-1}) \quad \text{for } b_{i-1} \le t < b_i,
        \quad b_{-1} = 0

    with :math:`f_i` = ``schedules[i]`` and :math:`b_i` = ``boundaries[i]``: every later piece
    counts steps from its own start, so a piece behaves as if training began there.

    Args:
        schedules: at least one schedule; each must accept an int and an int array (every
            :class:`Schedule` does).
        boundaries: ``len(schedules) - 1`` switch steps, integers >= 1, strictly increasing.

    Returns:
        a :class:`Schedule`.

    Note: optax's ``join_schedules`` semantics; torch's ``SequentialLR`` is the stateful analogue.

    >>> from lr_course.schedules import constant, step_decay
    >>> sched = join([constant(1.0), step_decay(0.5, drop_every=2)], boundaries=[3])
    >>> [sched(t) for t in range(7)]
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """
    try:
        schedules = list(schedules)
    except TypeError:
        raise ValueError(f"schedules must be a sequence of schedules, got {schedules!r}") from None
    if not schedules or not all(callable(s) for s in schedules):
        raise ValueError(f"schedules must be a non-empty sequence of schedules, got {schedules!r}")
    boundaries = _increasing_integers("boundaries", boundaries, 1)
    if len(boundaries) != len(schedules) - 1:
        raise ValueError(
            f"boundaries must have len(schedules) - 1 = {len(schedules) - 1} entries, "
            f"got {len(boundaries)}"
        )

    # A Schedule's formula is called directly: the steps are already checked (and this is
    # the per-step cost of every joined schedule in a training loop).
    formulas = [s.fn if isinstance(s, Schedule) else s for s in schedules]

    def fn(step):
        flat = step.reshape(-1)
        out = np.array(np.broadcast_to(formulas[0](flat), flat.shape), dtype=np.float64)
        for piece, start in zip(formulas[1:], boundaries):
            later = flat >= start
            if later.any():
                out[later] = piece(flat[later] - start)
        return out.reshape(step.shape)

    return Schedule(fn, _describe("join", schedules=schedules, boundaries=boundaries))


def warmup_cosine(lr_peak, warmup_steps, total_steps, lr_min=0.0):
    r"""Linear warm-up to ``lr_peak``, then cosine decay to ``lr_min`` at ``total_steps``.

    .. math::  \eta(t) = \begin{cases}
        \eta_{peak} (t + 1) / W & t < W \\
        \eta_{min} + (\eta_{peak} - \eta_{min})
        \frac{1 + \cos(\pi \min(t - W, T - W) / (T - W))}{2} & t \ge W \end{cases}

    with :math:`\eta_{peak}` = ``lr_peak``, :math:`W` = ``warmup_steps``, :math:`T` =
    ``total_steps``, :math:`\eta_{min}` = ``lr_min``: :func:`linear_warmup` and
    :func:`cosine_decay` joined at ``W`` (so steps ``W - 1`` and ``W`` both use ``lr_peak``).

    Args:
        lr_peak: the top lr, >= ``lr_min``.
        warmup_steps: the length of the ramp, an integer >= 0 (0: cosine decay only).
        total_steps: the step at which ``lr_min`` is reached (warm-up included), an integer
            > ``warmup_steps``.
        lr_min: the floor, held after ``total_steps``, in [0, ``lr_peak``].

    Returns:
        a :class:`Schedule`.

    Note: optax's ``warmup_cosine_decay_schedule`` starts its ramp at ``init_value`` (often 0)
    at step 0; this one starts at ``lr_peak / W`` (see :func:`linear_warmup`).

    >>> sched = warmup_cosine(lr_peak=1.0, warmup_steps=2, total_steps=6)
    >>> [round(sched(t), 3) for t in range(8)]
    [0.5, 1.0, 1.0, 0.854, 0.5, 0.146, 0.0, 0.0]
    """
    lr_peak = _checks.real("lr_peak", lr_peak, low=0)
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, minimum=0)
    total_steps = _checks.integer("total_steps", total_steps, minimum=warmup_steps + 1)
    lr_min = _checks.real("lr_min", lr_min, low=0, high=lr_peak,
                          rule=f"in [0, lr_peak={lr_peak!r}]")
    decay = cosine_decay(lr_peak, total_steps - warmup_steps, lr_min)
    if warmup_steps == 0:
        fn = decay.fn
    else:
        fn = join([linear_warmup(lr_peak, warmup_steps), decay], [warmup_steps]).fn
    return Schedule(
        fn,
        _describe("warmup_cosine", lr_peak=lr_peak, warmup_steps=warmup_steps,
                  total_steps=total_steps, lr_min=lr_min),
    )
