r"""Warmup-stable-decay (WSD): warm up, hold the peak rate for most of training, then cool down.

A cosine schedule must know the length of training in advance; WSD holds a constant rate for
as long as wanted and only the final cool-down depends on when training stops, so one long
run at the peak can branch off cool-downs at several budgets. It lives in its own file so
that the lesson on the research frontier (lesson 07) adds a schedule without touching the
others; import it as ``from lr_course.schedules.wsd import warmup_stable_decay``.

References: S. Hu et al., MiniCPM: Unveiling the Potential of Small Language Models with
Scalable Training Strategies, arXiv:2404.06395 (the name and the schedule); A. Hägele et al.,
Scaling Laws and Compute-Optimal Training Beyond Fixed Training Durations, arXiv:2405.18392
(the cool-down shapes, among them ``1 - sqrt``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from lr_course.schedules._base import Schedule

__all__ = ["warmup_stable_decay", "DECAY_SHAPES"]

#: How the cool-down falls from 1 to 0 as its progress p goes from 0 to 1.
DECAY_SHAPES = {
    "linear": lambda p: 1.0 - p,
    "sqrt": lambda p: 1.0 - np.sqrt(p),
    "cosine": lambda p: 0.5 * (1.0 + np.cos(np.pi * p)),
}


def _count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _rate(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def warmup_stable_decay(lr_peak, total_steps, decay_steps, warmup_steps=0, lr_min=0.0,
                        shape="linear"):
    r"""Linear warm-up to ``lr_peak``, a constant plateau, then a cool-down to ``lr_min``.

    .. math::

        \eta(t) = \begin{cases}
            \eta_{peak}\,(t + 1) / W & t < W \\
            \eta_{peak} & W \le t < T - D \\
            \eta_{min} + (\eta_{peak} - \eta_{min})\, s\!\left(\frac{t - (T - D) + 1}{D}\right)
                & T - D \le t < T \\
            \eta_{min} & t \ge T
        \end{cases}

    with :math:`W` = ``warmup_steps``, :math:`T` = ``total_steps``, :math:`D` =
    ``decay_steps`` and :math:`s` the ``shape`` (``"linear"``: :math:`1 - p`, ``"sqrt"``:
    :math:`1 - \sqrt p`, ``"cosine"``: :math:`(1 + \cos \pi p)/2`). The warm-up follows the
    course's ``linear_warmup`` (the first step already uses ``lr_peak / W``); the cool-down
    reaches ``lr_min`` exactly at the last step ``T - 1`` and holds it afterwards.

    Args:
        lr_peak: the plateau's lr, >= 0.
        total_steps: the length of training T, an integer >= 1.
        decay_steps: the length D of the cool-down, in ``[1, T - W]``.
        warmup_steps: the length W of the warm-up, an integer >= 0 (0: none).
        lr_min: the final lr, in ``[0, lr_peak]``.
        shape: ``"linear"``, ``"sqrt"`` or ``"cosine"``.

    Returns:
        a :class:`~lr_course.schedules.Schedule`.

    Note: libraries differ on the warm-up's first value (some start from lr 0 at step 0); this
    one starts at ``lr_peak / W`` like the course's ``linear_warmup`` and ps1.

    >>> sched = warmup_stable_decay(lr_peak=1.0, total_steps=10, decay_steps=4, warmup_steps=2)
    >>> [round(sched(t), 2) for t in range(11)]
    [0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    lr_peak = _rate("lr_peak", lr_peak)
    lr_min = _rate("lr_min", lr_min)
    if lr_min > lr_peak:
        raise ValueError(f"lr_min must be <= lr_peak = {lr_peak}, got {lr_min!r}")
    total_steps = _count("total_steps", total_steps, 1)
    warmup_steps = _count("warmup_steps", warmup_steps, 0)
    decay_steps = _count("decay_steps", decay_steps, 1)
    if warmup_steps + decay_steps > total_steps:
        raise ValueError(f"decay_steps must be <= total_steps - warmup_steps = "
                         f"{total_steps - warmup_steps}, got {decay_steps!r}")
    if shape not in DECAY_SHAPES:
        raise ValueError(f"shape must be one of {', '.join(map(repr, DECAY_SHAPES))}, got {shape!r}")
    fall = DECAY_SHAPES[shape]
    decay_start = total_steps - decay_steps

    def formula(step):
        # 1. Warm-up ramp (all ones when there is no warm-up).
        ramp = np.minimum(1.0, (step + 1) / max(warmup_steps, 1))
        # 2. Cool-down progress: 0 on the plateau, 1 from the last step on.
        progress = np.clip((step - decay_start + 1) / decay_steps, 0.0, 1.0)
        cooled = lr_min + (lr_peak - lr_min) * fall(progress)
        return np.where(step < warmup_steps, lr_peak * ramp, cooled)

    description = (f"warmup_stable_decay(lr_peak={lr_peak!r}, total_steps={total_steps!r}, "
                   f"decay_steps={decay_steps!r}, warmup_steps={warmup_steps!r}, "
                   f"lr_min={lr_min!r}, shape={shape!r})")
    return Schedule(formula, description)
