r"""Learning-rate schedules: pure functions of the step, and their composition.

A schedule is built by a factory that checks its arguments once and returns a
:class:`Schedule`, a callable ``schedule(step) -> lr`` with no hidden state:

- ``step`` is an int >= 0 (the result is a Python float) or an integer array (the result is
  a float64 array of the same shape), so ``schedule(np.arange(T))`` plots directly;
- ``step`` counts from 0: ``schedule(0)`` is the lr of the very first update;
- a negative or non-integer step raises ``ValueError``.

Where :mod:`torch.optim.lr_scheduler` has the same schedule, the values match it: the lr that
torch uses at step ``k`` (after ``k`` calls to ``scheduler.step()``) is ``schedule(k)``, which
``tests/test_schedules.py`` checks against recorded torch traces. Where the libraries disagree
the docstring says which convention is ours (``cosine_decay`` holds its final value, as optax
and Keras do; torch's ``CosineAnnealingLR`` keeps cycling).

:class:`ReduceOnPlateau` is the one stateful object: it reacts to a metric, so it cannot be a
function of the step alone. :data:`SCHEDULES` maps a name to a factory for the explorers.

>>> sched = cosine_decay(lr0=0.1, total_steps=100)
>>> sched
cosine_decay(lr0=0.1, total_steps=100, lr_min=0.0)
>>> sched(0), sched(50), sched(100), sched(1000)
(0.1, 0.05, 0.0, 0.0)
>>> sched(np.arange(0, 101, 25)).round(4)
array([0.1   , 0.0854, 0.05  , 0.0146, 0.    ])
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "SCHEDULES",
    "ReduceOnPlateau",
    "Schedule",
    "constant",
    "cosine_decay",
    "cosine_warm_restarts",
    "cyclic",
    "exponential_decay",
    "inverse_time_decay",
    "join",
    "linear_warmup",
    "multistep_decay",
    "one_cycle",
    "piecewise_constant",
    "polynomial_decay",
    "step_decay",
    "warmup_cosine",
]


# --- the schedule object and argument checks --------------------------------------------------


class Schedule:
    """A ``step -> lr`` function that knows how it was made.

    Args:
        fn: the formula, called with an int64 array of steps >= 0 (any shape) and returning
            float values of the same shape. Only factories in this module should build one.
        description: what ``repr`` shows, e.g. ``"step_decay(lr0=0.1, drop_every=30, ...)"``.

    Returns (when called with ``step``):
        a Python float for an int step; a float64 array of the step array's shape otherwise.

    >>> constant(0.1)(np.array([[0, 1], [2, 3]])).shape
    (2, 2)
    >>> constant(0.1)(-1)
    Traceback (most recent call last):
    ...
    ValueError: step must be >= 0, got -1
    """

    def __init__(self, fn, description):
        self.fn = fn
        self.description = description
        self.__name__ = description.split("(", 1)[0]

    def __call__(self, step):
        if isinstance(step, (int, np.integer)) and not isinstance(step, bool):
            if step < 0:
                raise ValueError(f"step must be >= 0, got {step}")
            # A 1-element array, not a 0-d one: numpy may take a different (SIMD) code path for
            # arrays, and an int call must give exactly the array call's value.
            # Underflow to 0 is the right answer for a long decay, not a warning.
            with np.errstate(under="ignore"):
                return float(self.fn(np.array([step], dtype=np.int64))[0])
        steps = np.asarray(step)
        if steps.dtype.kind not in "iu":
            raise ValueError(f"step must be an int or an integer array, got {step!r}")
        if steps.size and steps.min() < 0:
            raise ValueError(f"step must be >= 0, got {int(steps.min())}")
        with np.errstate(under="ignore"):
            values = self.fn(steps.astype(np.int64, copy=False))
        return np.broadcast_to(np.asarray(values, dtype=np.float64), steps.shape).copy()

    def __repr__(self):
        return self.description


def _describe(name, **kwargs):
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def _number(name, value, ok=lambda v: True, rule="a finite number"):
    """Return ``value`` as a float if it is finite and ``ok``, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or not ok(value):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return value


def _lr(name, value):
    return _number(name, value, lambda v: v >= 0, "a finite number >= 0")


def _integer(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _increasing_integers(name, values, minimum, strict=True):
    """A list of integers >= ``minimum`` in increasing (or, if not strict, non-decreasing) order."""
    try:
        values = list(values)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of integers, got {values!r}") from None
    for v in values:
        _integer(f"each of {name}", v, minimum)
    values = [int(v) for v in values]
    pairs = list(zip(values, values[1:]))
    if any(a >= b for a, b in pairs) if strict else any(a > b for a, b in pairs):
        order = "strictly increasing" if strict else "in non-decreasing order"
        raise ValueError(f"{name} must be {order}, got {values!r}")
    return values


# --- constant and step-wise schedules ---------------------------------------------------------


def constant(lr):
    """The same lr at every step.

    Args:
        lr: the learning rate, a finite number >= 0.

    Returns:
        a :class:`Schedule` with ``schedule(step) = lr``.

    >>> constant(0.01)(123)
    0.01
    """
    lr = _lr("lr", lr)
    return Schedule(lambda step: np.full(step.shape, lr), _describe("constant", lr=lr))


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
    lr0 = _lr("lr0", lr0)
    drop_every = _integer("drop_every", drop_every, 1)
    factor = _number("factor", factor, lambda v: 0 < v <= 1, "in (0, 1]")
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
    lr0 = _lr("lr0", lr0)
    milestones = _increasing_integers("milestones", milestones, 1, strict=False)
    factor = _number("factor", factor, lambda v: 0 < v <= 1, "in (0, 1]")
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
        values = [_lr("each of values", v) for v in values]
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
    lr0 = _lr("lr0", lr0)
    decay_rate = _number("decay_rate", decay_rate, lambda v: 0 < v <= 1, "in (0, 1]")
    decay_steps = _number("decay_steps", decay_steps, lambda v: v > 0, "> 0")
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
    lr0 = _lr("lr0", lr0)
    decay_rate = _number("decay_rate", decay_rate, lambda v: v >= 0, "a finite number >= 0")
    decay_steps = _number("decay_steps", decay_steps, lambda v: v > 0, "> 0")
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
    lr0 = _lr("lr0", lr0)
    total_steps = _integer("total_steps", total_steps, 1)
    lr_end = _lr("lr_end", lr_end)
    power = _number("power", power, lambda v: v > 0, "> 0")
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
    lr0 = _lr("lr0", lr0)
    total_steps = _integer("total_steps", total_steps, 1)
    lr_min = _number("lr_min", lr_min, lambda v: 0 <= v <= lr0, f"in [0, lr0={lr0!r}]")
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
    lr0 = _lr("lr0", lr0)
    period = _integer("period", period, 1)
    period_mult = _integer("period_mult", period_mult, 1)
    lr_min = _number("lr_min", lr_min, lambda v: 0 <= v <= lr0, f"in [0, lr0={lr0!r}]")

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


# --- warmup and composition -------------------------------------------------------------------


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
    lr_peak = _lr("lr_peak", lr_peak)
    warmup_steps = _integer("warmup_steps", warmup_steps, 1)
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
    lr_peak = _lr("lr_peak", lr_peak)
    warmup_steps = _integer("warmup_steps", warmup_steps, 0)
    total_steps = _integer("total_steps", total_steps, warmup_steps + 1)
    lr_min = _number("lr_min", lr_min, lambda v: 0 <= v <= lr_peak, f"in [0, lr_peak={lr_peak!r}]")
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


# --- cyclical schedules -----------------------------------------------------------------------


def cyclic(lr_min, lr_max, step_size_up, step_size_down=None, mode="triangular", gamma=1.0):
    r"""Cyclical learning rate: triangles between ``lr_min`` and ``lr_max``.

    .. math::  \eta(t) = \eta_{min} + (\eta_{max} - \eta_{min})\, h(t)\, a(t)

    where :math:`h` rises linearly from 0 to 1 over ``step_size_up`` steps and falls back over
    ``step_size_down`` steps, and the amplitude scale :math:`a` is 1 (``"triangular"``),
    :math:`2^{-(c-1)}` in cycle :math:`c = 1, 2, \ldots` (``"triangular2"``, halved each cycle), or
    :math:`\gamma^t` (``"exp_range"``); :math:`\eta_{min}` = ``lr_min``, :math:`\eta_{max}` =
    ``lr_max``, :math:`\gamma` = ``gamma``.

    Args:
        lr_min: the bottom of every cycle, >= 0.
        lr_max: the top of the first cycle, >= ``lr_min``.
        step_size_up: steps from bottom to top, an integer >= 1.
        step_size_down: steps from top back to bottom, an integer >= 1; ``step_size_up`` if None.
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: the per-step amplitude factor of ``"exp_range"``, in (0, 1].

    Returns:
        a :class:`Schedule`.

    Note: torch's ``CyclicLR(base_lr=lr_min, max_lr=lr_max, ...)`` with its default
    ``scale_mode`` (per cycle for the triangles, per step for ``exp_range``).

    Reference: Smith, Cyclical Learning Rates for Training Neural Networks, arXiv:1506.01186.

    >>> sched = cyclic(lr_min=0.1, lr_max=1.0, step_size_up=2, mode="triangular2")
    >>> [round(sched(t), 3) for t in range(9)]
    [0.1, 0.55, 1.0, 0.55, 0.1, 0.325, 0.55, 0.325, 0.1]
    """
    lr_min = _lr("lr_min", lr_min)
    lr_max = _number("lr_max", lr_max, lambda v: v >= lr_min, f">= lr_min={lr_min!r}")
    step_size_up = _integer("step_size_up", step_size_up, 1)
    if step_size_down is not None:
        step_size_down = _integer("step_size_down", step_size_down, 1)
    mode = _choice("mode", mode, ("triangular", "triangular2", "exp_range"))
    gamma = _number("gamma", gamma, lambda v: 0 < v <= 1, "in (0, 1]")
    # torch's arithmetic, step for step, so the traces agree to the last bits.
    total = float(step_size_up + (step_size_up if step_size_down is None else step_size_down))
    up_fraction = step_size_up / total

    def fn(step):
        cycle = np.floor(1 + step / total)
        x = 1.0 + step / total - cycle
        height = np.where(x <= up_fraction, x / up_fraction, (x - 1) / (up_fraction - 1))
        if mode == "triangular":
            scale = 1.0
        elif mode == "triangular2":
            scale = 1 / 2.0 ** (cycle - 1)
        else:
            scale = gamma ** step.astype(np.float64)
        return lr_min + (lr_max - lr_min) * height * scale

    return Schedule(
        fn,
        _describe("cyclic", lr_min=lr_min, lr_max=lr_max, step_size_up=step_size_up,
                  step_size_down=step_size_down, mode=mode, gamma=gamma),
    )


def one_cycle(lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
              anneal="cos", three_phase=False):
    r"""One cycle: warm up to ``lr_max``, then anneal far below the starting lr.

    .. math::
        \eta_{start} = \eta_{max} / d, \qquad \eta_{end} = \eta_{start} / d_f

    Two phases (default): ``eta_start -> eta_max`` over steps ``0 .. pct_start * T - 1``, then
    ``eta_max -> eta_end`` until step ``T - 1``. With ``three_phase``: up, back down to
    ``eta_start`` symmetrically, then ``eta_start -> eta_end``. Each phase interpolates with
    half a cosine (``anneal="cos"``) or a straight line (``"linear"``); :math:`\eta_{max}` =
    ``lr_max``, :math:`T` = ``total_steps``, :math:`d` = ``div_factor``, :math:`d_f` =
    ``final_div_factor``.

    Args:
        lr_max: the peak lr, >= 0.
        total_steps: the length of the cycle, an integer >= 2.
        pct_start: the fraction of ``total_steps`` spent rising, in (0, 1) (at most 0.5 with
            ``three_phase``), with ``pct_start * total_steps > 1``.
        div_factor: ``lr_max / (lr at step 0)``, >= 1.
        final_div_factor: ``(lr at step 0) / (final lr)``, >= 1.
        anneal: ``"cos"`` or ``"linear"``.
        three_phase: use the symmetric three-phase form (fast.ai's original).

    Returns:
        a :class:`Schedule`; from step ``total_steps - 1`` on it holds the final lr.

    Note: torch's ``OneCycleLR(max_lr, total_steps, pct_start, anneal_strategy=anneal, ...)``
    for steps ``0 .. T-1``; torch raises past ``T`` (and extrapolates at ``T``) where this holds.

    Reference: Smith & Topin, Super-Convergence, arXiv:1708.07120.

    >>> sched = one_cycle(lr_max=1.0, total_steps=10, pct_start=0.4, anneal="linear")
    >>> round(sched(0), 3), round(sched(3), 3), f"{sched(9):.3g}", sched(20) == sched(9)
    (0.04, 1.0, '4e-06', True)
    """
    lr_max = _lr("lr_max", lr_max)
    total_steps = _integer("total_steps", total_steps, 2)
    pct_start = _number("pct_start", pct_start, lambda v: 0 < v < (0.5 if three_phase else 1),
                        "in (0, 0.5)" if three_phase else "in (0, 1)")
    div_factor = _number("div_factor", div_factor, lambda v: v >= 1, ">= 1")
    final_div_factor = _number("final_div_factor", final_div_factor, lambda v: v >= 1, ">= 1")
    anneal = _choice("anneal", anneal, ("cos", "linear"))
    lr_start = lr_max / div_factor
    lr_end = lr_start / final_div_factor
    # Phase ends as torch places them (floats, and the off-by-one in the middle phase).
    rise_end = float(pct_start * total_steps) - 1
    if three_phase:
        phases = [(rise_end, lr_start, lr_max),
                  (float(2 * pct_start * total_steps) - 2, lr_max, lr_start),
                  (total_steps - 1, lr_start, lr_end)]
    else:
        phases = [(rise_end, lr_start, lr_max), (total_steps - 1, lr_max, lr_end)]
    starts = [0.0] + [end for end, _, _ in phases[:-1]]
    # torch divides by each phase's length; a rise shorter than one step makes it zero or less.
    if any(end - start <= 0 for (end, _, _), start in zip(phases, starts)):
        raise ValueError(
            f"pct_start must make pct_start * total_steps > 1, got pct_start={pct_start!r} "
            f"with total_steps={total_steps}"
        )

    def interpolate(start_lr, end_lr, pct):
        if anneal == "cos":
            return end_lr + (start_lr - end_lr) / 2.0 * (np.cos(np.pi * pct) + 1)
        return (end_lr - start_lr) * pct + start_lr

    def fn(step):
        t = np.minimum(step, total_steps - 1)
        out = np.empty(step.shape)
        done = np.zeros(step.shape, dtype=bool)
        for (end, start_lr, end_lr), start in zip(phases, starts):
            here = ~done & (t <= end)
            out = np.where(here, interpolate(start_lr, end_lr, (t - start) / (end - start)), out)
            done |= here
        return out

    return Schedule(
        fn,
        _describe("one_cycle", lr_max=lr_max, total_steps=total_steps, pct_start=pct_start,
                  div_factor=div_factor, final_div_factor=final_div_factor, anneal=anneal,
                  three_phase=bool(three_phase)),
    )


# --- the stateful one -------------------------------------------------------------------------


class ReduceOnPlateau:
    """Cut the lr by ``factor`` when a metric has stopped improving for ``patience`` checks.

    Call :meth:`step` once per evaluation with the metric (say a validation loss); it returns
    the lr to use until the next call, also kept in :attr:`lr`. The rule, per call:

    1. the metric *improves* if it beats the best so far by more than ``threshold``
       (``"rel"``: ``metric < best * (1 - threshold)`` in ``"min"`` mode; ``"abs"``:
       ``metric < best - threshold``; mirrored for ``"max"``); otherwise it is a bad check;
    2. during a cooldown bad checks are not counted;
    3. after more than ``patience`` bad checks in a row, ``lr <- max(lr * factor, lr_min)``
       (skipped if that changes the lr by less than ``eps``) and a cooldown of ``cooldown``
       checks starts.

    A NaN metric (a diverged run) never improves, so it counts as a bad check.

    Args:
        lr0: the starting lr, >= 0.
        factor: the multiplier at each cut, in (0, 1).
        patience: the bad checks tolerated before a cut, an integer >= 0.
        threshold: the smallest change that counts as an improvement, >= 0.
        threshold_mode: ``"rel"`` (a fraction of the best) or ``"abs"``.
        mode: ``"min"`` (lower is better, a loss) or ``"max"`` (an accuracy).
        cooldown: checks to wait after a cut before counting again, an integer >= 0.
        lr_min: the lr never goes below this, >= 0.
        eps: cuts smaller than this are skipped, >= 0.

    Note: the semantics and defaults of torch's ``ReduceLROnPlateau(min_lr=lr_min)``; Keras's
    ``ReduceLROnPlateau`` counts patience slightly differently (it cuts after ``patience`` bad
    epochs, torch after ``patience + 1``).

    Calling the object, ``plateau(step)``, returns the current :attr:`lr` whatever the step,
    so it can be handed to an optimizer wherever a schedule goes.

    >>> plateau = ReduceOnPlateau(lr0=1.0, factor=0.5, patience=1)
    >>> [plateau.step(loss) for loss in [3.0, 2.0, 2.0, 2.0, 2.0, 2.0]]
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]
    >>> plateau(1000)
    0.25
    """

    def __init__(self, lr0, factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 mode="min", cooldown=0, lr_min=0.0, eps=1e-8):
        self.lr = _lr("lr0", lr0)
        self.factor = _number("factor", factor, lambda v: 0 < v < 1, "in (0, 1)")
        self.patience = _integer("patience", patience, 0)
        self.threshold = _number("threshold", threshold, lambda v: v >= 0, "a finite number >= 0")
        self.threshold_mode = _choice("threshold_mode", threshold_mode, ("rel", "abs"))
        if self.threshold_mode == "rel" and self.threshold >= 1:
            # best * (1 - threshold) would be inf * 0 = NaN at the start: nothing could improve.
            raise ValueError(f"threshold must be < 1 when threshold_mode='rel', got {threshold!r}")
        self.mode = _choice("mode", mode, ("min", "max"))
        self.cooldown = _integer("cooldown", cooldown, 0)
        self.lr_min = _lr("lr_min", lr_min)
        self.eps = _number("eps", eps, lambda v: v >= 0, "a finite number >= 0")
        self.best = math.inf if mode == "min" else -math.inf  # the best metric seen so far
        self.num_bad_steps = 0  # bad checks in a row, outside cooldown
        self.cooldown_counter = 0  # checks left in the current cooldown

    def _improves(self, metric):
        if self.mode == "min":
            bar = self.best * (1 - self.threshold) if self.threshold_mode == "rel" \
                else self.best - self.threshold
            return metric < bar
        bar = self.best * (1 + self.threshold) if self.threshold_mode == "rel" \
            else self.best + self.threshold
        return metric > bar

    def step(self, metric):
        """Record one evaluation of the metric and return the lr to use next."""
        try:
            metric = float(metric)
        except (TypeError, ValueError):
            raise ValueError(f"metric must be a number, got {metric!r}") from None
        if self._improves(metric):
            self.best, self.num_bad_steps = metric, 0
        else:
            self.num_bad_steps += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_steps = 0
        if self.num_bad_steps > self.patience:
            new_lr = max(self.lr * self.factor, self.lr_min)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter, self.num_bad_steps = self.cooldown, 0
        return self.lr

    def __call__(self, step):
        """The current lr (the step is checked but otherwise ignored: the metric decides)."""
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
            raise ValueError(f"step must be an int >= 0, got {step!r}")
        return self.lr

    def __repr__(self):
        return (f"ReduceOnPlateau(lr={self.lr!r}, best={self.best!r}, "
                f"num_bad_steps={self.num_bad_steps}, cooldown_counter={self.cooldown_counter})")


#: name -> factory, for the explorers (``join`` needs schedules, so it is not listed).
SCHEDULES = {
    "constant": constant,
    "step_decay": step_decay,
    "multistep_decay": multistep_decay,
    "piecewise_constant": piecewise_constant,
    "exponential_decay": exponential_decay,
    "inverse_time_decay": inverse_time_decay,
    "polynomial_decay": polynomial_decay,
    "cosine_decay": cosine_decay,
    "cosine_warm_restarts": cosine_warm_restarts,
    "linear_warmup": linear_warmup,
    "warmup_cosine": warmup_cosine,
    "cyclic": cyclic,
    "one_cycle": one_cycle,
}
