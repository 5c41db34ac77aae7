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

The map (everything is importable from ``lr_course.schedules``):

- ``_base``: :class:`Schedule`, the argument checks, :func:`constant`;
- ``decay``: :func:`step_decay`, :func:`multistep_decay`, :func:`piecewise_constant`,
  :func:`exponential_decay`, :func:`inverse_time_decay`, :func:`polynomial_decay`,
  :func:`cosine_decay`, :func:`cosine_warm_restarts`;
- ``warmup``: :func:`linear_warmup`, :func:`join`, :func:`warmup_cosine`;
- ``cyclical``: :func:`cyclic`, :func:`one_cycle`;
- ``plateau``: :class:`ReduceOnPlateau`, the one stateful object: it reacts to a metric, so it
  cannot be a function of the step alone.

>>> sched = cosine_decay(lr0=0.1, total_steps=100)
>>> sched
cosine_decay(lr0=0.1, total_steps=100, lr_min=0.0)
>>> sched(0), sched(50), sched(100), sched(1000)
(0.1, 0.05, 0.0, 0.0)
>>> sched(np.arange(0, 101, 25)).round(4)
array([0.1   , 0.0854, 0.05  , 0.0146, 0.    ])
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (the doctest above uses it)

from lr_course.schedules._base import Schedule, constant
from lr_course.schedules.cyclical import cyclic, one_cycle
from lr_course.schedules.decay import (cosine_decay, cosine_warm_restarts, exponential_decay,
                                       inverse_time_decay, multistep_decay, piecewise_constant,
                                       polynomial_decay, step_decay)
from lr_course.schedules.plateau import ReduceOnPlateau
from lr_course.schedules.warmup import join, linear_warmup, warmup_cosine

__all__ = [
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

