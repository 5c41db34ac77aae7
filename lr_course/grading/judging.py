"""Helpers the checks use to compare a student's records with the reference.

Messages say what was found (the inputs, what came back) and never the expected value;
hints say where to look. Non-finite answers are wrong answers with a reason, not crashes.
"""

from __future__ import annotations

import numpy as np

from lr_course.grading.spec import Call, Outcome, Record, Unsupported


def show(value) -> str:
    """A short description of an argument or result, for messages."""
    if isinstance(value, np.ndarray):
        if value.size <= 4 and value.ndim <= 1:
            return np.array2string(value, precision=4, separator=", ")
        return f"an array of shape {value.shape}"
    if isinstance(value, Unsupported):
        return f"a {value.type_name}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, dict):
        return "a dict"
    if isinstance(value, (list, tuple)) and len(value) > 4:
        return f"a {type(value).__name__} of length {len(value)}"
    return repr(value)


def describe(call: Call) -> str:
    """``name(arg, ..., key=value)`` with arrays summarised."""
    parts = [show(a) for a in call.args] + [f"{k}={show(v)}" for k, v in call.kwargs.items()]
    return f"{call.function}({', '.join(parts)})"


def is_real_scalar(value) -> bool:
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind == "f"
    return isinstance(value, (float, np.floating)) and not isinstance(value, bool)


def mismatch(record: Record, expected, *, rtol=1e-7, atol=1e-12):
    """Why ``record`` does not match ``expected`` (a float or an array), or None."""
    if not record.ok:
        return f"raised {record.error}"
    got = record.value
    if np.ndim(expected) == 0 and not isinstance(expected, np.ndarray):
        if isinstance(got, np.ndarray) and got.ndim > 0:
            return f"returned an array of shape {got.shape} for a single step (expected a float)"
        if not is_real_scalar(got):
            return f"returned {show(got)} (expected a float)"
    else:
        if not isinstance(got, np.ndarray):
            return f"returned {show(got)} (expected an array of shape {np.shape(expected)})"
        if got.shape != np.shape(expected):
            return f"returned shape {got.shape}, expected shape {np.shape(expected)}"
        if got.dtype.kind != "f":
            return f"returned an array of dtype {got.dtype} (expected floats)"
    got_arr, exp_arr = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    bad = ~np.isfinite(got_arr) & np.isfinite(exp_arr)
    if bad.any():
        return f"returned a non-finite value ({show(got_arr[bad].ravel()[0])})"
    if not np.allclose(got_arr, exp_arr, rtol=rtol, atol=atol, equal_nan=True):
        return f"returned {show(got)}, which is not the right value"
    return None


def first_wrong(calls, records, reference, *, rtol=1e-7, atol=1e-12):
    """The first (call, record, expected, reason) that is wrong, or None."""
    for call, rec in zip(calls, records):
        expected = reference(*call.args, **call.kwargs)
        reason = mismatch(rec, expected, rtol=rtol, atol=atol)
        if reason:
            return call, rec, expected, reason
    return None


def values_judge(reference, hint, *, rtol=1e-7, atol=1e-12, diagnose=None, passed="correct"):
    """A judge comparing every call's result with ``reference`` on the same inputs.

    ``diagnose(call, record, expected)`` may return a sharper hint for a wrong value.
    """
    def judge(calls, records):
        wrong = first_wrong(calls, records, reference, rtol=rtol, atol=atol)
        if wrong is None:
            return Outcome(True, f"{passed} on all {len(calls)} cases")
        call, rec, expected, reason = wrong
        better = None
        if diagnose and rec.ok:
            try:
                better = diagnose(call, rec, expected)
            except Exception:  # noqa: BLE001 - a diagnosis is a bonus; odd values get none
                better = None
        if not rec.ok and "not defined" in rec.error:
            better = f"define {call.function} (run its cell) before this check"
        return Outcome(False, f"{describe(call)} {reason}", better or hint)
    return judge


def raises_judge(argument_of, hint):
    """A judge requiring every call to raise ValueError naming the bad argument.

    ``argument_of(call)`` is the name of the argument that is invalid in that call.
    """
    def judge(calls, records):
        for call, rec in zip(calls, records):
            name = argument_of(call)
            if rec.ok:
                return Outcome(False, f"{describe(call)} returned {show(rec.value)} instead of "
                                      f"raising ValueError", hint)
            if not rec.raised("ValueError"):
                return Outcome(False, f"{describe(call)} raised {rec.error_type}, not ValueError",
                               hint)
            if name not in rec.error:
                return Outcome(False, f"{describe(call)} raised ValueError, but its message does "
                                      f"not name the argument {name!r}",
                               "say which argument is wrong and what its value was")
        return Outcome(True, f"raised a clear ValueError in all {len(calls)} cases")
    return judge


def unchanged_judge(hint):
    """A judge requiring the arguments after each call to equal those passed in."""
    from lr_course.grading.spec import same

    def judge(calls, records):
        for call, rec in zip(calls, records):
            if not rec.ok:
                return Outcome(False, f"{describe(call)} raised {rec.error}", hint)
            args, kwargs = rec.args_after
            if not (same(tuple(args), tuple(call.args)) and same(kwargs, dict(call.kwargs))):
                return Outcome(False, f"{describe(call)} modified its input", hint)
        return Outcome(True, "inputs were left unchanged")
    return judge


def all_of(*judges):
    """Combine judges over the same calls: the first failure wins."""
    def judge(calls, records):
        messages = []
        for j in judges:
            outcome = j(calls, records)
            if not outcome.passed:
                return outcome
            messages.append(outcome.message)
        return Outcome(True, "; ".join(messages))
    return judge
