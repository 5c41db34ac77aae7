"""Reference solution of ps1_schedules (COURSE.md "Graded assignments"); judging side only.

Every function takes ``step`` as an int >= 0 or an integer numpy array and returns a float,
or a float array of the same shape. Inputs are never modified.
"""

import math

import numpy as np


def _steps(step):
    arr = np.asarray(step)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"step must be an int or an integer array, got {step!r}")
    if np.any(arr < 0):
        raise ValueError(f"step must be >= 0, got {step!r}")
    return arr


def _result(value, step):
    value = np.asarray(value, dtype=float)
    return float(value) if np.ndim(step) == 0 else value


def step_decay(lr0, step, drop_every, factor=0.5):
    """lr0 * factor ** floor(step / drop_every).

    >>> step_decay(0.1, 5, drop_every=2)
    0.025
    """
    if drop_every < 1:
        raise ValueError(f"drop_every must be >= 1, got {drop_every}")
    if not 0 < factor <= 1:
        raise ValueError(f"factor must be in (0, 1], got {factor}")
    t = _steps(step)
    return _result(lr0 * factor ** (t // drop_every), step)


def exponential_decay(lr0, step, decay_rate, decay_steps, staircase=False):
    """lr0 * decay_rate ** (step / decay_steps), the exponent floored when staircase."""
    if not 0 < decay_rate <= 1:
        raise ValueError(f"decay_rate must be in (0, 1], got {decay_rate}")
    if not decay_steps > 0:
        raise ValueError(f"decay_steps must be > 0, got {decay_steps}")
    t = _steps(step)
    exponent = t / decay_steps
    if staircase:
        exponent = np.floor(exponent)
    return _result(lr0 * decay_rate ** exponent, step)


def inverse_time_decay(lr0, step, decay_rate, decay_steps=1, staircase=False):
    """lr0 / (1 + decay_rate * step / decay_steps), step / decay_steps floored when staircase."""
    if not decay_rate >= 0:
        raise ValueError(f"decay_rate must be >= 0, got {decay_rate}")
    if not decay_steps > 0:
        raise ValueError(f"decay_steps must be > 0, got {decay_steps}")
    t = _steps(step)
    ratio = t / decay_steps
    if staircase:
        ratio = np.floor(ratio)
    return _result(lr0 / (1 + decay_rate * ratio), step)


def cosine_decay(lr0, step, total_steps, lr_min=0.0):
    """lr_min + (lr0 - lr_min) * (1 + cos(pi * min(step, total_steps) / total_steps)) / 2."""
    if not total_steps >= 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    if not 0 <= lr_min <= lr0:
        raise ValueError(f"lr_min must be in [0, lr0], got {lr_min}")
    t = np.minimum(_steps(step), total_steps)
    return _result(lr_min + (lr0 - lr_min) * (1 + np.cos(math.pi * t / total_steps)) / 2, step)


def linear_warmup(lr_peak, step, warmup_steps):
    """lr_peak * min(1, (step + 1) / warmup_steps)."""
    if not warmup_steps >= 1:
        raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps}")
    t = _steps(step)
    return _result(lr_peak * np.minimum(1.0, (t + 1) / warmup_steps), step)
