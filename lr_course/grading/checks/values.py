"""How a returned value differs from the expected one, said in words without the value.

:func:`mismatch` compares a student's value with the solution's (structure, type, shape,
dtype, then closeness by numpy's ``allclose`` rule) and says why they differ, or returns
None; :func:`show` and :func:`describe` summarise arguments and calls for the messages. The
judges (:mod:`.compare`) build their verdicts from these.

Like the rest of :mod:`lr_course.grading.checks` this runs inside the sandbox too (a
self-check judges in the student's kernel), so it imports only numpy and its siblings.
"""

from __future__ import annotations

import numpy as np

from .calls import Call, same
from .codec import Objective, Unsupported

__all__ = ["describe", "is_int", "is_real", "mismatch", "show"]


def show(value) -> str:
    """A short description of an argument or a result, for messages."""
    if isinstance(value, np.ndarray):
        if value.size <= 4 and value.ndim <= 1:
            return np.array2string(value, precision=4, separator=", ")
        return f"an array of shape {value.shape}"
    if isinstance(value, Unsupported):
        return f"a {value.type_name}"
    if isinstance(value, Objective):
        return "objective"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, dict):
        return "a dict"
    if isinstance(value, (list, tuple)) and len(value) > 4:
        return f"a {type(value).__name__} of length {len(value)}"
    if isinstance(value, str):
        return repr(value[:40])
    return repr(value)[:60]


def describe(call: Call) -> str:
    """``name(arg, ..., key=value)`` with arrays summarised."""
    if call.kind == "rollout":
        kw = ", ".join(f"{k}={show(v)}" for k, v in call.kwargs.items())
        start = "a given state" if call.state is not None else f"{call.init}(params)"
        return (f"{len(call.grads_seq)} steps of {call.function} from {start}, params of shape "
                f"{np.shape(call.params)}" + (f", {kw}" if kw else ""))
    if call.kind == "schedule":
        return f"{call.function}(step) for step in range({call.num_steps})"
    if call.kind == "train":
        return f"training {call.problem} for {call.num_steps} steps with {call.function}"
    parts = [show(a) for a in call.args] + [f"{k}={show(v)}" for k, v in call.kwargs.items()]
    return f"{call.function}({', '.join(parts)})"


def is_real(value) -> bool:
    """A float, a numpy float or a 0-d float array (not a bool)."""
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind == "f"
    return isinstance(value, (float, np.floating)) and not isinstance(value, bool)


def is_int(value) -> bool:
    """An int or a numpy integer (not a bool)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def mismatch(got, expected, rtol: float, atol: float, where: str = "") -> str | None:
    """Why ``got`` does not match ``expected`` (structure, type, shape, value), or None.

    >>> mismatch(np.ones(2), np.ones(2), 1e-6, 0.0) is None
    True
    >>> mismatch([1.0], np.ones(1), 1e-6, 0.0)
    'a list, expected an array of shape (1,)'
    """
    at = f" in {where}" if where else ""
    if isinstance(expected, np.ndarray) and expected.ndim > 0:
        if not isinstance(got, np.ndarray):
            return f"{show(got) if not isinstance(got, list) else 'a list'}{at}, expected an " \
                   f"array of shape {expected.shape}"
        if got.shape != expected.shape:
            return f"an array of shape {got.shape}{at}, expected shape {expected.shape}"
        if expected.dtype.kind == "f" and got.dtype.kind != "f":
            return f"an array of dtype {got.dtype}{at} (expected floats)"
        if expected.dtype.kind in "iub" and got.dtype.kind not in "iub":
            return f"an array of dtype {got.dtype}{at} (expected integers)"
        return _close(got, expected, rtol, atol, at)
    if is_real(expected):
        if isinstance(got, np.ndarray) and got.ndim > 0:
            return f"an array of shape {got.shape}{at} (expected a float)"
        if not is_real(got):
            return f"{show(got)}{at} (expected a float)"
        return _close(np.asarray(got, dtype=float), np.asarray(expected, dtype=float),
                      rtol, atol, at)
    if isinstance(expected, (bool, np.bool_)):
        return None if isinstance(got, (bool, np.bool_)) and bool(got) == bool(expected) else \
            f"{show(got)}{at}, which is not right"
    if is_int(expected):
        if not is_int(got):
            return f"{show(got)}{at} (expected an int)"
        return None if int(got) == int(expected) else f"{int(got)}{at}, which is not right"
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"{show(got)}{at}, expected a dict"
        if set(got) != set(expected):
            extra = sorted(set(got) - set(expected))[:3]
            missing = sorted(set(expected) - set(got))[:3]
            words = (["missing keys " + ", ".join(map(repr, missing))] if missing else []) + \
                    (["unexpected keys " + ", ".join(map(repr, extra))] if extra else [])
            return f"a dict with {' and '.join(words)}{at}"
        for key in expected:
            reason = mismatch(got[key], expected[key], rtol, atol, f"[{key!r}]" + (at and where))
            if reason:
                return reason
        return None
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"{show(got)}{at}, expected a sequence of {len(expected)} items"
        if len(got) != len(expected):
            return f"a sequence of {len(got)} items{at}, expected {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            reason = mismatch(g, e, rtol, atol, f"item {i}" + (f" of {where}" if where else ""))
            if reason:
                return reason
        return None
    return None if same(got, expected) else f"{show(got)}{at}, which is not right"


def _close(got, expected, rtol, atol, at):
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if bad.any():
        return f"a non-finite value ({show(got[bad].ravel()[0])}){at}"
    if not _all_close(got, expected, rtol, atol):
        return f"{show(got) if got.ndim else show(float(got))}{at}, which is not the right value"
    return None


def _all_close(got, expected, rtol, atol) -> bool:
    """``np.allclose(got, expected, rtol, atol, equal_nan=True)`` for arrays of one shape.

    The same rule (finite values agree when ``|got - expected| <= atol + rtol |expected|``,
    equal infinities and NaN against NaN agree, nothing else), without ``allclose``'s broadcasting and dtype handling, which
    cost more than the comparison on the small arrays of a check (thousands per class).
    """
    with np.errstate(invalid="ignore", over="ignore"):
        near = np.isfinite(got) & np.isfinite(expected) & \
            (np.abs(got - expected) <= atol + rtol * np.abs(expected))
    return bool(np.all(near | (got == expected) | (np.isnan(got) & np.isnan(expected))))
