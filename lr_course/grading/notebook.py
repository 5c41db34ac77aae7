"""The in-notebook check: what a graded test cell (or a student) calls.

A test cell holds only calls like ``check("ps1.step_decay.values", step_decay)`` (the
first argument a string literal, so the hardened engine can read the ids with ``ast``
without running the cell). Here, in the student's kernel, the check draws fresh cases,
runs them in-process through :func:`lr_course.grading.spec.execute`, judges them against
the reference, prints a short report on stdout and raises ``AssertionError`` on failure,
so nbgrader scores the cell 0. Nothing is written to stderr (nbgrader zeroes a test cell
that writes to stderr, even for a harmless numpy warning).
"""

from __future__ import annotations

import inspect
import secrets

import numpy as np

from lr_course.grading import spec


def _namespace(check, functions, named):
    if len(functions) > len(check.functions):
        raise TypeError(f"check {check.id!r} takes {len(check.functions)} function(s) "
                        f"({', '.join(check.functions)}), got {len(functions)}")
    namespace = dict(zip(check.functions, functions))
    namespace.update(named)
    missing = [n for n in check.functions if n not in namespace]
    if missing:
        # Fall back to the caller's globals, like a student running a cell by hand.
        frame = inspect.currentframe()
        while frame is not None and frame.f_globals.get("__name__", "").startswith(
                "lr_course.grading"):
            frame = frame.f_back
        caller = frame.f_globals if frame is not None else {}
        for name in missing:
            if name in caller:
                namespace[name] = caller[name]
    return namespace


def format_outcome(check, outcome) -> str:
    """The report printed for one check: what was checked, the verdict, a hint."""
    mark = "PASS" if outcome.passed else "FAIL"
    lines = [f"[{mark}] {check.description}", f"       {outcome.message}"]
    if not outcome.passed and outcome.hint:
        lines.append(f"       hint: {outcome.hint}")
    for w in outcome.warnings:
        lines.append(f"       note: numpy warned '{w}' (reported, not penalised)")
    return "\n".join(lines)


def check(check_id: str, *functions, seed=None, **named):
    """Run the registered check ``check_id`` on the student's functions; raise if it fails.

    Args:
        check_id: a registered id such as ``"ps2.adam_update.first_step"``.
        *functions: the student's functions, in the order of ``Check.functions``
            (any left out are looked up in the caller's globals).
        seed: seeds the cases (default: fresh each run, so answers cannot be hard-coded).
        **named: functions by name instead of by position.

    Returns:
        The :class:`~lr_course.grading.spec.Outcome` (when it passed).

    Raises:
        AssertionError: the check failed (its report is printed first).
    """
    checks = spec.CHECKS
    if check_id not in checks:
        raise KeyError(f"no check named {check_id!r}")
    found = checks[check_id]
    namespace = _namespace(found, functions, named)
    rng = np.random.default_rng(secrets.randbits(64) if seed is None else seed)
    outcome = spec.run_check(found, namespace, rng)
    print(format_outcome(found, outcome), flush=True)
    if not outcome.passed:
        raise AssertionError(f"{check_id}: {outcome.message}")
    return outcome
