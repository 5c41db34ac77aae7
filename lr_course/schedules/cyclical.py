"""Cyclical schedules: :func:`cyclic` (triangles between two rates) and :func:`one_cycle`."""

from __future__ import annotations

import numpy as np

from lr_course import _checks
from lr_course.schedules._base import Schedule, _describe

__all__ = ["cyclic", "one_cycle"]


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
    lr_min = _checks.real("lr_min", lr_min, low=0)
    lr_max = _checks.real("lr_max", lr_max, low=lr_min,
                          rule=f"a finite number >= lr_min={lr_min!r}")
    step_size_up = _checks.integer("step_size_up", step_size_up, minimum=1)
    if step_size_down is not None:
        step_size_down = _checks.integer("step_size_down", step_size_down, minimum=1)
    mode = _checks.choice("mode", mode, ("triangular", "triangular2", "exp_range"))
    gamma = _checks.real("gamma", gamma, low=0, high=1, low_open=True)
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
    lr_max = _checks.real("lr_max", lr_max, low=0)
    total_steps = _checks.integer("total_steps", total_steps, minimum=2)
    three_phase = _checks.flag("three_phase", three_phase)
    pct_start = _checks.real("pct_start", pct_start, low=0, high=0.5 if three_phase else 1,
                             low_open=True, high_open=True)
    div_factor = _checks.real("div_factor", div_factor, low=1)
    final_div_factor = _checks.real("final_div_factor", final_div_factor, low=1)
    anneal = _checks.choice("anneal", anneal, ("cos", "linear"))
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
