"""The :class:`Schedule` callable, the trivial :func:`constant` schedule, and what every factory shares.

A factory checks its arguments once with :mod:`lr_course._checks` (a bad one raises
``ValueError`` naming it and its value), then wraps a vectorised formula in a
:class:`Schedule`, which checks the steps.
"""

from __future__ import annotations

import numpy as np

from lr_course import _checks

__all__ = ["Schedule", "constant"]


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


def _increasing_integers(name, values, minimum, strict=True):
    """A list of integers >= ``minimum`` in increasing (or, if not strict, non-decreasing) order."""
    try:
        values = list(values)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of integers, got {values!r}") from None
    for v in values:
        _checks.integer(f"each of {name}", v, minimum=minimum)
    values = [int(v) for v in values]
    pairs = list(zip(values, values[1:]))
    if any(a >= b for a, b in pairs) if strict else any(a > b for a, b in pairs):
        order = "strictly increasing" if strict else "in non-decreasing order"
        raise ValueError(f"{name} must be {order}, got {values!r}")
    return values


def constant(lr):
    """The same lr at every step.

    Args:
        lr: the learning rate, a finite number >= 0.

    Returns:
        a :class:`Schedule` with ``schedule(step) = lr``.

    >>> constant(0.01)(123)
    0.01
    """
    lr = _checks.real("lr", lr, low=0)
    return Schedule(lambda step: np.full(step.shape, lr), _describe("constant", lr=lr))
