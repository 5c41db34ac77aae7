"""The checks of a person's arguments that every teaching module shares.

Each check returns the value in the type the caller computes with, or raises a ``ValueError``
that names the argument, states the rule and shows the value given::

    lr = real("lr", lr, low=0)                 # a finite float >= 0
    beta1 = real("beta1", beta1, low=0, high=1, high_open=True)
    num_steps = integer("num_steps", num_steps, minimum=0)

The rules are strict about type on purpose: ``True`` is not the number 1, the string ``"0.1"``
is not a number, and a float such as ``3.0`` is not a count. A numpy scalar or a 0-d numpy
array counts as a number.

Stdlib and numpy only: the grading sandbox copies this file beside ``problems.py``.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["real", "real_array", "integer", "flag", "choice", "generator", "function"]


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    """The rule in words: ``"a finite number"``, ``">= 0"``, ``"in (0, 1]"``, ..."""
    if low is None and high is None:
        return "a finite number"
    if high is None:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"a finite number {'<' if high_open else '<='} {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def _within(x, low, high, low_open: bool, high_open: bool):
    """Whether x (a float or an array) lies within the bounds, elementwise."""
    ok = np.isfinite(x)
    if low is not None:
        ok = ok & ((x > low) if low_open else (x >= low))
    if high is not None:
        ok = ok & ((x < high) if high_open else (x <= high))
    return ok


def real(name: str, value: Any, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False, rule: str | None = None) -> float:
    """``value`` as a Python float, if it is a finite real number within the bounds.

    Args:
        name: the argument's name, for the message.
        value: what the person passed.
        low, high: the bounds (None: unbounded on that side).
        low_open, high_open: whether the bound itself is excluded.
        rule: the rule in words, where the bounds come from other arguments
            (``"in [0, lr0=0.1]"``); by default it is written from the bounds.

    Returns:
        ``float(value)``.

    >>> real("lr", 0.1, low=0)
    0.1
    >>> real("beta1", 1.0, low=0, high=1, high_open=True)
    Traceback (most recent call last):
    ...
    ValueError: beta1 must be in [0, 1), got 1.0
    """
    rule = rule or _interval(low, high, low_open, high_open)
    is_array_scalar = isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"
    if isinstance(value, (bool, np.bool_)) or not (isinstance(value, numbers.Real) or is_array_scalar):
        raise ValueError(f"{name} must be a number ({rule}), got {value!r}")
    x = float(value)
    if not _within(x, low, high, low_open, high_open):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return x


def real_array(name: str, value: Any, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False, ndim: int | None = None) -> np.ndarray:
    """``value`` as a float64 array whose entries are finite real numbers within the bounds.

    Args:
        name, low, high, low_open, high_open: as in :func:`real`, for every entry.
        value: a number, a sequence or an array of real numbers.
        ndim: the number of dimensions it must have (None: any).

    Returns:
        ``np.asarray(value, dtype=float)`` (a new array unless value already is one).

    >>> real_array("lrs", [0.1, 0.2], low=0, low_open=True)
    array([0.1, 0.2])
    >>> real_array("lrs", [0.1, 0.0], low=0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: lrs must hold only numbers > 0 (a finite number > 0), got [0.1, 0.0]
    """
    rule = _interval(low, high, low_open, high_open)
    x = np.asarray(value)
    if x.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold only numbers ({rule}), got {value!r:.200}")
    x = x.astype(float, copy=False)
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {x.shape}")
    if not np.all(_within(x, low, high, low_open, high_open)):
        bounds = rule.replace("a finite number ", "")
        raise ValueError(f"{name} must hold only numbers {bounds} ({rule}), got {value!r:.200}")
    return x


def integer(name: str, value: Any, minimum: int | None = None, *, allow_none: bool = False) -> int | None:
    """``value`` as a Python int, if it is an integer (not a bool, not a float) >= minimum.

    Args:
        name: the argument's name, for the message.
        value: what the person passed; None passes through when ``allow_none``.
        minimum: the smallest value allowed (None: any).
        allow_none: whether None is a valid value.

    Returns:
        ``int(value)``, or None.

    >>> integer("num_steps", 3, minimum=0)
    3
    >>> integer("num_steps", 2.0, minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: num_steps must be an integer >= 0, got 2.0
    """
    if value is None and allow_none:
        return None
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer))
            or (minimum is not None and value < minimum)):
        rule = "an integer" + (f" >= {minimum}" if minimum is not None else "")
        raise ValueError(f"{name} must be {rule}{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


def flag(name: str, value: Any) -> bool:
    """``value`` as a bool, if it is True or False (a numpy bool too; not 0, 1 or "yes").

    >>> flag("nesterov", np.True_)
    True
    >>> flag("nesterov", "yes")
    Traceback (most recent call last):
    ...
    ValueError: nesterov must be True or False, got 'yes'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def choice(name: str, value: Any, options: Sequence) -> Any:
    """``value`` itself, if it is one of ``options``.

    >>> choice("mode", "max", ("min", "max"))
    'max'
    >>> choice("mode", "best", ("min", "max"))
    Traceback (most recent call last):
    ...
    ValueError: mode must be one of 'min', 'max', got 'best'
    """
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value


def generator(value: Any, name: str = "rng", *, allow_none: bool = False):
    """``value`` itself, if it is a ``numpy.random.Generator`` (or None when allowed).

    >>> generator(0)
    Traceback (most recent call last):
    ...
    ValueError: rng must be a numpy.random.Generator (np.random.default_rng(seed)), got 0
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, np.random.Generator):
        raise ValueError(f"{name} must be a numpy.random.Generator (np.random.default_rng(seed))"
                         f"{' or None' if allow_none else ''}, got {value!r}")
    return value


def function(name: str, value: Any, what: str = "a function", *,
             allow_none: bool = False) -> Callable | None:
    """``value`` itself, if it is callable (or None when allowed).

    >>> function("callback", 3, allow_none=True)
    Traceback (most recent call last):
    ...
    ValueError: callback must be a function or None, got 3
    """
    if value is None and allow_none:
        return None
    if not callable(value):
        raise ValueError(f"{name} must be {what}{' or None' if allow_none else ''}, got {value!r}")
    return value
