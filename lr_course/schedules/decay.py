"""Decaying schedules: step-wise (step, multistep, piecewise constant) and smooth (exponential,
inverse-time, polynomial, cosine, cosine with warm restarts).
"""

from __future__ import annotations

import numpy as np

from lr_course import _checks
from lr_course.schedules._base import Schedule, _describe, _increasing_integers

__all__ = ["cosine_decay", "cosine_warm_restarts", "exponential_decay", "inverse_time_decay",
           "multistep_decay", "piecewise_constant", "polynomial_decay", "step_decay"]


# --- step-wise schedules ----------------------------------------------------------------------


def step_decay(lr0, drop_every, factor=0.5):
    r"""Multiply the lr by ``factor`` every ``drop_every`` steps.

    .. math::  \eta(t) = \eta_0 \, \gamma^{\lfloor t / k \rfloor}

    with :math:`\eta_0` = ``lr0``, :math:`k` = ``drop_every``, :math:`\gamma` = ``factor``.
    This is the graded ps1 function ``step_decay(lr0, step, drop_every, factor)`` with the step
    moved out of the argument list: ``step_decay(lr0, k, f)(step)`` equals it.

    Args:
        lr0: the lr for the first ``drop_every`` steps, >= 0.
        drop_every: the number of steps between drops, an integer >= 1.
        factor: the multiplier at each drop, in (0, 1].

    Returns:
        a :class:`Schedule`.

    Note: torch's ``StepLR(step_size=drop_every, gamma=factor)``; its default gamma is 0.1.

    >>> sched = step_decay(lr0=0.1, drop_every=10)
    >>> sched(9), sched(10), sched(25)
    (0.1, 0.05, 0.025)
    """
    lr0 = _checks.real("lr0", lr0, low=0)
    drop_every = _checks.integer("drop_every", drop_every, minimum=1)
    factor = _checks.real("factor", factor, low=0, high=1, low_open=True)
    return Schedule(
        lambda step: lr0 * factor ** (step // drop_every),
        _describe("step_decay", lr0=lr0, drop_every=drop_every, factor=factor),
    )


def multistep_decay(lr0, milestones, factor=0.1):
    r"""Multiply the lr by ``factor`` at each milestone step.

    .. math::  \eta(t) = \eta_0 \, \gamma^{\#\{m_i \le t\}}

    with :math:`\eta_0` = ``lr0``, :math:`m_i` = ``milestones``, :math:`\gamma` = ``factor``.

    Args:
        lr0: the lr before the first milestone, >= 0.
        milestones: the steps at which the lr drops, integers >= 1 in non-decreasing order (a
            repeated milestone drops twice, as in torch).
        factor: the multiplier at each milestone, in (0, 1].

    Returns:
        a :class:`Schedule`.

    Note: torch's ``MultiStepLR(milestones, gamma=factor)``.

    >>> sched = multistep_decay(lr0=1.0, milestones=[3, 5])
    >>> [round(sched(t), 3) for t in range(7)]
    [1.0, 1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
    """
    lr0 = _checks.real("lr0", lr0, low=0)
    milestones = _increasing_integers("milestones", milestones, 1, strict=False)
    factor = _checks.real("factor", factor, low=0, high=1, low_open=True)
    edges = np.array(milestones, dtype=np.int64)
    return Schedule(
        lambda step: lr0 * factor ** np.searchsorted(edges, step, side="right"),
        _describe("multistep_decay", lr0=lr0, milestones=milestones, factor=factor),
    )


def piecewise_constant(boundaries, values):
    r"""``values[i]`` from step ``boundaries[i-1]`` up to (not including) ``boundaries[i]``.

    .. math::  \eta(t) = v_i \quad \text{for } b_{i-1} \le t < b_i, \quad b_{-1} = 0,\ b_n = \infty

    with :math:`b_i` = ``boundaries`` and :math:`v_i` = ``values``.

    Args:
        boundaries: the steps where the value changes, integers >= 1, strictly increasing.
        values: the lrs, each >= 0; ``len(values) == len(boundaries) + 1``.

    Returns:
        a :class:`Schedule`.

    Note: the new value starts *at* the boundary, as in torch's ``MultiStepLR``. Keras's
    ``PiecewiseConstantDecay`` switches one step later (it uses ``step > boundary``); optax's
    ``piecewise_constant_schedule`` takes multiplicative scales instead of values.

    >>> sched = piecewise_constant([2, 4], [0.1, 0.01, 0.001])
    >>> [sched(t) for t in range(5)]
    [0.1, 0.1, 0.01, 0.01, 0.001]
    """
    boundaries = _increasing_integers("boundaries", boundaries, 1)
    try:
        values = [_checks.real("each of values", v, low=0) for v in values]
    except TypeError:
        raise ValueError(f"values must be a sequence of numbers, got {values!r}") from None
    if len(values) != len(boundaries) + 1:
        raise ValueError(
            f"values must have len(boundaries) + 1 = {len(boundaries) + 1} entries, "
            f"got {len(values)}"
        )
    edges, table = np.array(boundaries, dtype=np.int64), np.array(values)
    return Schedule(
        lambda step: table[np.searchsorted(edges, step, side="right")],
        _describe("piecewise_constant", boundaries=boundaries, values=values),
    )


# --- smooth decays ----------------------------------------------------------------------------


def exponential_decay(lr0, decay_rate, decay_steps=1, staircase=False):
    r"""Multiply the lr by ``decay_rate`` every ``decay_steps`` steps, smoothly or in stairs.

    .. math::  \eta(t) = \eta_0 \, r^{t / s} \qquad (\text{staircase: } r^{\lfloor t/s \rfloor})

    with :math:`\eta_0` = ``lr0``, :math:`r` = ``decay_rate``, :math:`s` = ``decay_steps``.

    Args:
        lr0: the lr at step 0, >= 0.
        decay_rate: the multiplier per ``decay_steps`` steps, in (0, 1].
        decay_steps: the number of steps over which the lr is multiplied by ``decay_rate``, > 0.
        staircase: floor the exponent, so the lr changes only every ``decay_steps`` steps.

    Returns:
        a :class:`Schedule`.

    Note: Keras's ``ExponentialDecay`` and optax's ``exponential_decay`` (with
    ``transition_steps=decay_steps``, no ``transition_begin``) use this convention; torch's
    ``ExponentialLR(gamma)`` is ``decay_steps=1``.

    >>> sched = exponential_decay(lr0=1.0, decay_rate=0.5, decay_steps=2)
    >>> sched(2), round(sched(3), 4)
    (0.5, 0.3536)
    >>> exponential_decay(1.0, 0.5, 2, staircase=True)(3)
    0.5
    """
    lr0 = _checks.real("lr0", lr0, low=0)
    decay_rate = _checks.real("decay_rate", decay_rate, low=0, high=1, low_open=True)
    decay_steps = _checks.real("decay_steps", decay_steps, low=0, low_open=True)
    staircase = _checks.flag("staircase", staircase)
    if staircase:
        fn = lambda step: lr0 * decay_rate ** np.floor(step / decay_steps)  # noqa: E731
    else:
        fn = lambda step: lr0 * decay_rate ** (step / decay_steps)  # noqa: E731
    return Schedule(
        fn,
        _describe("exponential_decay", lr0=lr0, decay_rate=decay_rate, decay_steps=decay_steps,
                  staircase=bool(staircase)),
    )


def inverse_time_decay(lr0, decay_rate, decay_steps=1, staircase=False):
    r"""Decay the lr like 1/t: ``lr0 / (1 + decay_rate * step / decay_steps)``.

    .. math::  \eta(t) = \frac{\eta_0}{1 + r\, t / s} \qquad
        (\text{staircase: } t/s \to \lfloor t/s \rfloor)

    with :math:`\eta_0` = ``lr0``, :math:`r` = ``decay_rate``, :math:`s` = ``decay_steps``.
    A 1/t decay is the classic Robbins-Monro condition for SGD to converge despite noise.

    Args:
        lr0: the lr at step 0, >= 0.
        decay_rate: how fast the lr falls, >= 0 (0 gives a constant lr).
        decay_steps: the time unit of the decay, > 0.
        staircase: floor ``step / decay_steps``.

    Returns:
        a :class:`Schedule`.

    Note: Keras's ``InverseTimeDecay``; torch and optax have no built-in equivalent.

    >>> sched = inverse_time_decay(lr0=1.0, decay_rate=1.0, decay_steps=10)
    >>> sched(10), sched(30)
    (0.5, 0.25)
    """
    lr0 = _checks.real("lr0", lr0, low=0)
    decay_rate = _checks.real("decay_rate", decay_rate, low=0)
    decay_steps = _checks.real("decay_steps", decay_steps, low=0, low_open=True)
    staircase = _checks.flag("staircase", staircase)
    if staircase:
        fn = lambda step: lr0 / (1 + decay_rate * np.floor(step / decay_steps))  # noqa: E731
    else:
        fn = lambda step: lr0 / (1 + decay_rate * step / decay_steps)  # noqa: E731
    return Schedule(
        fn,
        _describe("inverse_time_decay", lr0=lr0, decay_rate=decay_rate, decay_steps=decay_steps,
                  staircase=bool(staircase)),
    )


def polynomial_decay(lr0, total_steps, lr_end=0.0, power=1.0):
    r"""Go from ``lr0`` to ``lr_end`` along a polynomial in ``total_steps`` steps, then hold.

    .. math::  \eta(t) = \eta_{end} + (\eta_0 - \eta_{end})
        \left(1 - \frac{\min(t, T)}{T}\right)^{p}

    with :math:`\eta_0` = ``lr0``, :math:`\eta_{end}` = ``lr_end``, :math:`T` = ``total_steps``,
    :math:`p` = ``power`` (``power=1`` is a straight line).

    Args:
        lr0: the lr at step 0, >= 0.
        total_steps: the step at which ``lr_end`` is reached, an integer >= 1.
        lr_end: the lr from ``total_steps`` on, >= 0 (it may exceed ``lr0``: a ramp up).
        power: the exponent, > 0.

    Returns:
        a :class:`Schedule`.

    Note: torch's ``PolynomialLR(total_iters=total_steps, power=power)`` is ``lr_end=0``;
    optax's ``polynomial_schedule(init_value, end_value, power, transition_steps)`` is this.

    >>> sched = polynomial_decay(lr0=1.0, total_steps=4, lr_end=0.2)
    >>> [round(sched(t), 2) for t in range(6)]
    [1.0, 0.8, 0.6, 0.4, 0.2, 0.2]
    """
    lr0 = _checks.real("lr0", lr0, low=0)
    total_steps = _checks.integer("total_steps", total_steps, minimum=1)
    lr_end = _checks.real("lr_end", lr_end, low=0)
    power = _checks.real("power", power, low=0, low_open=True)
    return Schedule(
        lambda step: lr_end
        + (lr0 - lr_end) * (1.0 - np.minimum(step, total_steps) / total_steps) ** power,
        _describe("polynomial_decay", lr0=lr0, total_steps=total_steps, lr_end=lr_end,
                  power=power),
    )


def cosine_decay(lr0, total_steps, lr_min=0.0):
    r"""Half a cosine from ``lr0`` down to ``lr_min`` over ``total_steps`` steps, then hold.

    .. math::  \eta(t) = \eta_{min} + (\eta_0 - \eta_{min})
        \, \frac{1 + \cos(\pi \min(t, T) / T)}{2}

    with :math:`\eta_0` = ``lr0``, :math:`\eta_{min}` = ``lr_min``, :math:`T` = ``total_steps``.

    Args:
        lr0: the lr at step 0, >= ``lr_min``.
        total_steps: the step at which ``lr_min`` is reached, an integer >= 1.
        lr_min: the floor, held from ``total_steps`` on, in [0, ``lr0``].

    Returns:
        a :class:`Schedule`.

    Note: like optax's ``cosine_decay_schedule`` and Keras's ``CosineDecay`` (``alpha`` there is
    ``lr_min / lr0``), this *holds* ``lr_min`` after ``total_steps``. torch's
    ``CosineAnnealingLR(T_max=total_steps, eta_min=lr_min)`` agrees up to ``total_steps`` but
    then keeps going along the cosine, climbing back to ``lr0`` at ``2 * total_steps``; use
    :func:`cosine_warm_restarts` for deliberate restarts.

    Reference: Loshchilov & Hutter, SGDR: Stochastic Gradient Descent with Warm Restarts,
    arXiv:1608.03983.

    >>> sched = cosine_decay(lr0=1.0, total_steps=10, lr_min=0.1)
    >>> sched(0), sched(5), sched(10), sched(15)
    (1.0, 0.55, 0.1, 0.1)
    """
    lr0 = _checks.real("lr0", lr0, low=0)
    total_steps = _checks.integer("total_steps", total_steps, minimum=1)
    lr_min = _checks.real("lr_min", lr_min, low=0, high=lr0, rule=f"in [0, lr0={lr0!r}]")
    return Schedule(
        lambda step: lr_min
        + (lr0 - lr_min) * (1 + np.cos(np.pi * np.minimum(step, total_steps) / total_steps)) / 2,
        _describe("cosine_decay", lr0=lr0, total_steps=total_steps, lr_min=lr_min),
    )


def cosine_warm_restarts(lr0, period, period_mult=1, lr_min=0.0):
    r"""Cosine decay that restarts at ``lr0``; each period ``period_mult`` times the last.

    .. math::  \eta(t) = \eta_{min} + (\eta_0 - \eta_{min})\, \frac{1 + \cos(\pi t_c / T_c)}{2}

    where cycle :math:`c` starts at step :math:`P (m^c - 1) / (m - 1)` (:math:`cP` when
    :math:`m = 1`), lasts :math:`T_c = P m^c` steps, and :math:`t_c` counts the steps since its
    start; :math:`\eta_0` = ``lr0``, :math:`\eta_{min}` = ``lr_min``, :math:`P` = ``period``,
    :math:`m` = ``period_mult``. The lr never quite reaches ``lr_min``: the restart comes first.

    Args:
        lr0: the lr at the start of every cycle, >= ``lr_min``.
        period: the length of the first cycle, an integer >= 1.
        period_mult: the growth of each cycle's length, an integer >= 1.
        lr_min: the floor, in [0, ``lr0``].

    Returns:
        a :class:`Schedule`.

    Note: torch's ``CosineAnnealingWarmRestarts(T_0=period, T_mult=period_mult,
    eta_min=lr_min)`` stepped once per step; optax's ``sgdr_schedule`` builds the same from
    a list of cycles.

    Reference: Loshchilov & Hutter, SGDR, arXiv:1608.03983.

    >>> sched = cosine_warm_restarts(lr0=1.0, period=4, period_mult=2)
    >>> [round(sched(t), 3) for t in (0, 2, 3, 4, 8, 11, 12)]
    [1.0, 0.5, 0.146, 1.0, 0.5, 0.038, 1.0]
    """
    lr0 = _checks.real("lr0", lr0, low=0)
    period = _checks.integer("period", period, minimum=1)
    period_mult = _checks.integer("period_mult", period_mult, minimum=1)
    lr_min = _checks.real("lr_min", lr_min, low=0, high=lr0, rule=f"in [0, lr0={lr0!r}]")

    def fn(step):
        if period_mult == 1:
            t_cur, t_len = step % period, period
        else:
            # Cycle starts as exact Python ints, only those a step can reach (no overflow).
            top = int(step.max(initial=0))
            starts, start, length = [], 0, period
            while start <= top:
                starts.append(start)
                start, length = start + length, length * period_mult
            cycle = np.searchsorted(np.array(starts, dtype=np.int64), step, side="right") - 1
            t_cur = step - np.array(starts, dtype=np.int64)[cycle]
            t_len = period * np.power(float(period_mult), cycle)
        return lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * t_cur / t_len)) / 2

    return Schedule(
        fn,
        _describe("cosine_warm_restarts", lr0=lr0, period=period, period_mult=period_mult,
                  lr_min=lr_min),
    )
