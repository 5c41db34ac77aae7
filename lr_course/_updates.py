"""What every optimizer of :mod:`lr_course.optimizers` shares: checking an update's arguments,
the lr of an update, the initial state, and ``step``, the update written in place.

Private to :mod:`lr_course.optimizers`; nothing here is part of the course's API.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, Union

import numpy as np

from . import _checks

Schedule = Callable[[int], float]
LearningRate = Union[float, Schedule]


def _lr_function(lr: LearningRate) -> Callable[[int], float]:
    """Turn a float or a schedule into ``lr_at(t) -> float``, checking what it returns."""
    if not callable(lr):
        value = _checks.real("lr", lr, low=0)
        return lambda t: value

    # A course Schedule is a pure function of the step, and a training loop asks for the lr of
    # each step twice (to record it, then to update): the last answer is kept for the next ask.
    # Any other callable (a ReduceOnPlateau, a learner's function) is asked every time.
    pure = type(lr) is _schedule_class()
    last = [None, 0.0]

    def lr_at(t: int) -> float:
        if pure and type(t) is int and t == last[0]:
            return last[1]
        value = lr(t)
        try:
            value = float(value)  # a numpy float64 would upcast float32 params
        except (TypeError, ValueError):
            raise ValueError(f"lr schedule must return a number, got {value!r} at step {t}") from None
        if not (math.isfinite(value) and value >= 0.0):
            raise ValueError(f"lr schedule must return a finite lr >= 0, got {value!r} at step {t}")
        if pure and type(t) is int:
            last[0], last[1] = t, value
        return value

    return lr_at


def _schedule_class():
    """:class:`lr_course.schedules.Schedule` (imported here: schedules come before optimizers)."""
    from lr_course.schedules._base import Schedule as schedule_class

    return schedule_class


def _as_float_array(x, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        return x.astype(np.float64)
    if x.dtype.kind != "f":
        raise ValueError(f"{name} must be a real float array, got dtype {x.dtype}")
    return x


def _zeros_init(*names: str, fill: float = 0.0) -> Callable[[np.ndarray], dict]:
    """An ``init`` that gives ``{"t": 0}`` plus one array per name, like params, set to fill."""

    def init(params) -> dict:
        p = _as_float_array(params, "params")
        state: dict = {"t": 0}
        for key in names:
            state[key] = np.full_like(p, fill)
        return state

    return init


def _prepare(params, grads, state) -> tuple[np.ndarray, np.ndarray, int]:
    """Check the arguments of an update; return params and grads as arrays of one float dtype, and t."""
    p = _as_float_array(params, "params")
    g = _as_float_array(grads, "grads")
    if p.shape != g.shape:
        raise ValueError(f"grads must have the shape of params {p.shape}, got {g.shape}")
    if not isinstance(state, dict) or "t" not in state:
        raise ValueError(f"state must be the dict made by init(params), got {state!r:.80}")
    t = _checks.integer("state['t']", state["t"], minimum=0)
    # float32 params stay float32: everything below computes in params' dtype.
    g = g.astype(p.dtype, copy=False)
    return p, g, t


def _state_array(state: dict, key: str, p: np.ndarray) -> np.ndarray:
    """``state[key]`` checked against params: present, of params' shape, in params' dtype."""
    if key not in state:
        raise ValueError(f"state has no {key!r}: pass the dict made by init(params) "
                         f"or returned by the previous update, got keys {sorted(state)}")
    x = np.asarray(state[key])
    if x.shape != p.shape:
        raise ValueError(f"state[{key!r}] must have the shape of params {p.shape}, got {x.shape}")
    return x.astype(p.dtype, copy=False)


def _check_in_place(params, state: dict, keys: tuple) -> None:
    """Refuse, with a ValueError naming it, an array that ``step`` could not overwrite."""
    if not isinstance(params, np.ndarray) or params.dtype.kind != "f":
        raise ValueError("step updates params in place, so params must be a numpy float "
                         f"array, got {params!r:.80} (update accepts lists and ints)")
    arrays = [("params", params)] + [(f"state[{key!r}]", state.get(key)) for key in keys]
    for i, (name, x) in enumerate(arrays):
        if not isinstance(x, np.ndarray) or x.shape != params.shape or x.dtype != params.dtype:
            raise ValueError(f"step needs {name} to be an array of params' shape {params.shape} "
                             f"and dtype {params.dtype}, got {x!r:.80}")
        if not x.flags.writeable:
            raise ValueError(f"step needs {name} to be writeable; pass a copy or use update")
        for other, y in arrays[:i]:
            if np.may_share_memory(x, y):
                raise ValueError(f"step needs {name} and {other} in separate memory")


def _pure_and_in_place(update: Callable, keys: tuple) -> tuple[Callable, Callable]:
    """``update`` with numpy's overflow warnings off, and ``step``, the same written in place.

    Divergence is part of the course: a too-large lr sends the params to inf or NaN,
    exactly as in PyTorch, and the caller (``lr_course.training``) detects it; a wall of
    RuntimeWarnings from inside the optimizer would teach nothing.
    """

    @functools.wraps(update)
    def quiet_update(params, grads, state):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            new_params, new_state = update(params, grads, state)
        # numpy gives a scalar for arithmetic on 0-d arrays: hand back arrays, as for any shape
        arrays = {key: np.asarray(value) for key, value in new_state.items() if key != "t"}
        return np.asarray(new_params), {"t": new_state["t"], **arrays}

    def step(params, grads, state):
        new_params, new_state = quiet_update(params, grads, state)  # checks the arguments
        _check_in_place(params, state, keys)
        params[...] = new_params
        for key in keys:
            state[key][...] = new_state[key]
        state["t"] = new_state["t"]

    return quiet_update, step
