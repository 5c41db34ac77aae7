"""Feedback a student can learn from: per test, what was checked, the verdict, a hint.

Rendered from a :class:`~lr_course.grading.engine.SubmissionResult` only, which holds the
checks' descriptions, messages and hints (written not to reveal expected values) and never
the test cells' code: hidden tests stay hidden, expected values stay unknown. A class's
feedback comes from nbgrader's generate_feedback on the autograded notebooks, whose test
cells carry these reports; ``lr-course check`` prints :func:`format_report` (or
:func:`check_summary` as JSON), which add the engine's flags and whether the code ran
isolated, since there the student is also the one running it.
"""

from __future__ import annotations

from lr_course.grading.escape import terminal

__all__ = ["format_report", "check_summary"]


def _run_note(result) -> str:
    """How the run went, when that matters: stopped early, or not isolated."""
    sandbox = result.sandbox or {}
    note = ""
    if sandbox.get("reason") not in (None, "ok") and sandbox.get("runs"):
        note = sandbox["runs"][0]["detail"]
    if sandbox.get("isolated") is False:
        note = (note + "; " if note else "") + "not isolated (ran without bubblewrap)"
    return note


def check_summary(result, notebook) -> dict:
    """The JSON of ``lr-course check --json``: the notebook, the result's fields, a note.

    The keys: ``notebook`` (the path given), then the
    :class:`~lr_course.grading.engine.SubmissionResult`'s fields but ``student`` (``assignment``,
    ``status``, ``reason``, ``score``, ``max_score``, ``tests``, ``notes``, ``cell_errors``,
    ``flags``, ``sandbox``, ``digest``, ``seed``, ``seconds``, ``compute_seconds``), and
    ``note`` (how the run went, when that matters); the command adds ``tests_run`` ("all
    tests" or "visible tests only"). A self-check has no student: the
    engine's ``student`` there is only the notebook's file name, which keys the self-check's
    seed, so it is left out rather than passed off as an id (``seed`` says which inputs ran).

    >>> from lr_course.grading.engine import SubmissionResult
    >>> summary = check_summary(SubmissionResult("mine", "ps1_schedules", "graded"), "mine.ipynb")
    >>> summary["notebook"], summary["assignment"], "student" in summary
    ('mine.ipynb', 'ps1_schedules', False)
    """
    fields = result.to_dict()
    del fields["student"]
    return {"notebook": str(notebook), **fields, "note": _run_note(result)}


def format_report(result, notebook) -> str:
    """The plain-text report ``lr-course check`` prints: failures, hints, flags, the score.

    >>> from lr_course.grading.engine import CheckResult, SubmissionResult, TestResult
    >>> check = CheckResult("c", "step_decay's values", False, "wrong from step 40 on",
    ...                     "halve once per drop, not twice")
    >>> result = SubmissionResult("me", "ps1_schedules", "graded", score=0.0, max_score=2.0,
    ...     tests=[TestResult("test_step_decay", 2.0, 0.0, False, True, [check])],
    ...     sandbox={"reason": "ok", "isolated": True})
    >>> print(format_report(result, "mine.ipynb"))
    mine.ipynb: ps1_schedules
      FAIL test_step_decay (hidden): 0/2
          - step_decay's values: wrong from step 40 on
            hint: halve once per drop, not twice
    score: 0/2
    """
    t_ = terminal   # everything but our own fixed words may hold the student's text
    lines = [f"{t_(notebook)}: {t_(result.assignment)}"]
    if result.status != "graded":
        lines.append(f"  not graded: {t_(result.reason)}")
    for t in result.tests:
        tag = " (hidden)" if t.hidden else ""
        lines.append(f"  {'PASS' if t.passed else 'FAIL'} {t_(t.grade_id)}{tag}: "
                     f"{t.score:g}/{t.points:g}")
        for c in t.checks:
            if not c.passed:
                lines.append(f"      - {t_(c.description)}: {t_(c.message)}")
                if c.hint:
                    lines.append(f"        hint: {t_(c.hint)}")
            for w in c.warnings:
                lines.append(f"        note: numpy warned '{t_(w)}' (not penalised)")
    lines += [f"  note: {t_(n)}" for n in result.notes]
    lines += [f"  error in your {t_(e)}" for e in result.cell_errors]
    for f in result.flags:
        where = "" if f.cell is None else f" in code cell {t_(f.cell)}" + \
            ("" if f.line is None else f", line {t_(f.line)}")
        lines.append(f"  flagged{where}: {t_(f.message)} ({t_(f.code)})")
    if _run_note(result):
        lines.append(f"  note: {t_(_run_note(result))}")
    lines.append(f"score: {result.score:g}/{result.max_score:g}")
    return "\n".join(lines)
