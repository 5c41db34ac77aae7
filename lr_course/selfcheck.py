"""Self-checks for the lesson exercises, and the learner's progress record.

An exercise cell in a lesson ends with a call such as::

    answer = ...   # the learner replaces the ellipsis
    check_answer("01.critical_lr", answer)

The call returns a :class:`Feedback` that renders in the notebook as what is right, what is
wrong and a hint. It never shows the expected value: the check computes it from the
exercise's own data, so the answer is not written anywhere in the notebook. An answer of
``...`` or ``None`` counts as "not answered yet".

When an exercise passes, the progress record (a small JSON file) notes it, and
:func:`show_progress` draws one bar per lesson. The record lives in
``~/.lr-course/progress.json``; the environment variable ``LR_COURSE_PROGRESS`` points it
elsewhere (a file, or a directory that will hold ``progress.json``), which the tests use so
that they never write to a learner's home. A corrupt record is backed up, reported and
replaced by a fresh one; a record that cannot be written never breaks a check.

The exercises themselves live in the package :mod:`lr_course.exercises` (one module per group
of lessons), registered with the :func:`exercise` decorator.
"""

from __future__ import annotations

import datetime
import html
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

#: Lesson number -> title, in course order; the progress table follows this order.
LESSONS = {
    "00": "Start here",
    "01": "Too small, too large",
    "02": "Adaptive methods",
    "03": "Time against accuracy",
    "04": "Schedules",
    "05": "Tuning",
    "06": "Review",
}

_RECORD_VERSION = 1


# ---------------------------------------------------------------------------------------------
# Feedback


@dataclass(frozen=True)
class Feedback:
    """The outcome of one self-check, as shown to the learner.

    Attributes:
        exercise: the exercise id, e.g. ``"01.critical_lr"``.
        title: a short human title of the exercise.
        status: ``"passed"``, ``"failed"`` or ``"unanswered"``.
        right: what the answer gets right, one sentence each.
        wrong: what the answer gets wrong, one sentence each.
        hint: a pointer towards the mistake (never the expected value), or None.
        note: a remark about the progress record (the lesson's count, or why it could not be
            saved), or None.
    """

    exercise: str
    title: str
    status: str
    right: tuple = ()
    wrong: tuple = ()
    hint: str | None = None
    note: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __str__(self) -> str:
        head = {"passed": "PASSED", "failed": "NOT YET", "unanswered": "NOT ANSWERED"}[self.status]
        lines = [f"[{head}] {self.exercise}: {self.title}"]
        lines += [f"  right: {text}" for text in self.right]
        lines += [f"  wrong: {text}" for text in self.wrong]
        if self.hint:
            lines.append(f"  hint:  {self.hint}")
        if self.note:
            lines.append(f"  note:  {self.note}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):  # IPython's plain-text display
        printer.text(str(self))

    def _repr_html_(self) -> str:
        colour = {"passed": "#1a7f37", "failed": "#b35900", "unanswered": "#57606a"}[self.status]
        head = {"passed": "Passed", "failed": "Not yet", "unanswered": "Not answered yet"}[self.status]
        items = [f"<li>&#10004; {html.escape(t)}</li>" for t in self.right]
        items += [f"<li>&#10008; {html.escape(t)}</li>" for t in self.wrong]
        if self.hint:
            items.append(f"<li><b>Hint:</b> {html.escape(self.hint)}</li>")
        if self.note:
            items.append(f"<li><i>{html.escape(self.note)}</i></li>")
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 10px">'
            f'<b style="color:{colour}">{head}</b> &mdash; {html.escape(self.title)} '
            f'<code>{html.escape(self.exercise)}</code>'
            f'<ul style="margin:4px 0">{"".join(items)}</ul></div>'
        )


class NotAnswered(Exception):
    """Raised by a check when the answer is still the template (e.g. a function returning None)."""


class Verdict:
    """What a check function fills in: right and wrong statements and the first hint."""

    def __init__(self):
        self.right: list[str] = []
        self.wrong: list[str] = []
        self.hint: str | None = None

    def ok(self, text: str) -> None:
        self.right.append(text)

    def bad(self, text: str, hint: str | None = None) -> None:
        self.wrong.append(text)
        if hint and self.hint is None:
            self.hint = hint

    def expect(self, condition: bool, right: str, wrong: str, hint: str | None = None) -> bool:
        """Record ``right`` if the condition holds, else ``wrong`` (and the hint)."""
        if condition:
            self.ok(right)
        else:
            self.bad(wrong, hint)
        return bool(condition)


# ---------------------------------------------------------------------------------------------
# The registry of exercises


@dataclass(frozen=True)
class Exercise:
    """One self-checked exercise.

    Attributes:
        id: ``"<lesson>.<name>"``, e.g. ``"01.critical_lr"``; the lesson part keys the progress.
        title: a short human title.
        check: ``check(answer, verdict)``; fills the :class:`Verdict`, passes when nothing is wrong.
    """

    id: str
    title: str
    check: Callable[[Any, Verdict], None] = field(repr=False)

    @property
    def lesson(self) -> str:
        return self.id.split(".", 1)[0]


#: Every registered exercise, by id.
EXERCISES: dict[str, Exercise] = {}


def exercise(exercise_id: str, title: str):
    """Register the decorated ``check(answer, verdict)`` function as an exercise.

    Args:
        exercise_id: ``"<lesson>.<name>"`` where ``<lesson>`` is a key of :data:`LESSONS`.
        title: a short human title.

    Returns:
        A decorator that registers the function and returns it unchanged.
    """
    lesson = exercise_id.split(".", 1)[0]
    if "." not in exercise_id or lesson not in LESSONS:
        raise ValueError(f"exercise_id must look like '01.name' with a known lesson, got {exercise_id!r}")

    def register(check):
        if exercise_id in EXERCISES:
            raise ValueError(f"exercise_id {exercise_id!r} is registered twice")
        EXERCISES[exercise_id] = Exercise(exercise_id, title, check)
        return check

    return register


def _registry() -> dict[str, Exercise]:
    # The exercise definitions import this module, so they are loaded on first use.
    import lr_course.exercises  # noqa: F401

    return EXERCISES


def check_answer(exercise_id: str, answer: Any, *, record: bool = True) -> Feedback:
    """Check a learner's answer to an exercise, without revealing the expected one.

    Args:
        exercise_id: the exercise, e.g. ``"01.critical_lr"``.
        answer: the learner's value or function; ``...`` or ``None`` means "not answered yet".
        record: whether a pass is written to the progress record.

    Returns:
        A :class:`Feedback`; as the last line of a cell it renders as right / wrong / hint.

    >>> check_answer("00.one_step", ..., record=False).status
    'unanswered'
    """
    registry = _registry()
    if exercise_id not in registry:
        known = ", ".join(sorted(registry))
        raise ValueError(f"exercise_id must be one of {known}; got {exercise_id!r}")
    ex = registry[exercise_id]
    if answer is None or answer is Ellipsis:
        return Feedback(
            ex.id, ex.title, "unanswered",
            hint="Replace the `...` with your answer and run the cell again.",
        )
    verdict = Verdict()
    try:
        # numpy warnings from a learner's diverging code are part of the answer, not noise.
        with np.errstate(all="ignore"):
            ex.check(answer, verdict)
    except NotAnswered as reason:
        return Feedback(ex.id, ex.title, "unanswered", hint=str(reason) or None)
    except Exception as error:  # a learner's function may raise anything
        verdict.bad(f"checking your answer raised {type(error).__name__}: {error}",
                    "Run your code on a small example first and read the error message.")
    status = "failed" if verdict.wrong or not verdict.right else "passed"
    note = None
    if record and status == "passed":
        note = _record_pass(ex.id)
    return Feedback(ex.id, ex.title, status, tuple(verdict.right), tuple(verdict.wrong),
                    verdict.hint if status == "failed" else None, note)


# ---------------------------------------------------------------------------------------------
# Helpers for check functions


def as_number(answer: Any, verdict: Verdict, what: str = "your answer") -> float | None:
    """The answer as a finite float, or None after telling the learner why it is not one."""
    try:
        if isinstance(answer, (str, bytes)):
            raise TypeError("a string is not a number")
        value = float(np.asarray(answer, dtype=float).reshape(()))
    except (TypeError, ValueError):
        verdict.bad(f"{what} should be a single number, got {type(answer).__name__}",
                    "Give one float, e.g. `answer = 0.5`, not a list or a string.")
        return None
    if not math.isfinite(value):
        verdict.bad(f"{what} is {value}, not a finite number", "Check for a division by zero.")
        return None
    return value


def is_function(answer: Any, verdict: Verdict, name: str) -> bool:
    """Whether the answer is a function, after telling the learner what to pass if it is not."""
    if callable(answer):
        return True
    verdict.bad(f"the answer should be your function `{name}`, got {type(answer).__name__}",
                f"Pass the function itself: `check_answer(..., {name})`, without calling it.")
    return False


def call_answer(function, *args):
    """Call a learner's function; a None result means the template is not filled in yet."""
    result = function(*args)
    if result is None:
        raise NotAnswered("Your function returns None: replace the `...` with your code "
                          "and end it with a `return`.")
    return result


def relative_error(value: float, expected: float) -> float:
    """|value - expected| / |expected| (absolute error when expected is 0)."""
    scale = abs(expected) if expected != 0 else 1.0
    return abs(value - expected) / scale


def check_number(verdict: Verdict, value: float, expected: float, *, rtol: float,
                 mistakes: dict | None = None, what: str = "your value") -> bool:
    """Compare a number with the expected one; name a known mistake instead of the answer.

    Args:
        verdict: the verdict to fill.
        value: the learner's number.
        expected: the right number (never shown).
        rtol: the relative tolerance.
        mistakes: ``{wrong_value: hint}`` for typical slips; the closest match gives the hint.
        what: how to call the value in the feedback.

    Returns:
        Whether the value is within ``rtol`` of ``expected``.
    """
    if relative_error(value, expected) <= rtol:
        verdict.ok(f"{what} is right (within {rtol:.0%})" if rtol >= 0.01 else f"{what} is right")
        return True
    for wrong_value, hint in (mistakes or {}).items():
        if relative_error(value, wrong_value) <= rtol:
            verdict.bad(f"{what} matches a common slip", hint)
            return False
    direction = "too large" if value > expected else "too small"
    verdict.bad(f"{what} is {direction}", "Go back to the formula in the lesson and redo it step by step.")
    return False


# ---------------------------------------------------------------------------------------------
# The progress record


def progress_path() -> Path:
    """Where the progress record lives: ``$LR_COURSE_PROGRESS`` or ``~/.lr-course/progress.json``.

    ``LR_COURSE_PROGRESS`` may name the JSON file itself or a directory to hold it.
    """
    env = os.environ.get("LR_COURSE_PROGRESS")
    if not env:
        return Path.home() / ".lr-course" / "progress.json"
    path = Path(env).expanduser()
    if path.is_dir() or env.endswith(("/", os.sep)):
        return path / "progress.json"
    return path


def _fresh_record() -> dict:
    return {"version": _RECORD_VERSION, "exercises": {}}


def _valid(record: Any) -> bool:
    return (isinstance(record, dict) and record.get("version") == _RECORD_VERSION
            and isinstance(record.get("exercises"), dict)
            and all(isinstance(v, dict) for v in record["exercises"].values()))


def load_progress(path: Path | str | None = None) -> dict:
    """Read the progress record; a missing one is empty, a corrupt one is backed up and reset.

    Args:
        path: the record file; default :func:`progress_path`.

    Returns:
        ``{"version": 1, "exercises": {id: {"passed_at": iso-time, "passes": n}}}``.
    """
    path = Path(path) if path is not None else progress_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _fresh_record()
    except OSError as error:
        print(f"lr-course: cannot read the progress record {path} ({error}); "
              "starting from an empty one.", file=sys.stderr)
        return _fresh_record()
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if _valid(record):
        return record
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.corrupt-{stamp}")
    try:
        os.replace(path, backup)
        where = f"kept a copy as {backup}"
    except OSError as error:
        where = f"could not keep a copy ({error})"
    print(f"lr-course: the progress record {path} was unreadable; {where} and started a fresh one.",
          file=sys.stderr)
    return _fresh_record()


def _save(record: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)  # atomic: a crash never leaves half a record


def _record_pass(exercise_id: str, path: Path | None = None) -> str:
    """Note a pass in the record; returns a note for the learner (progress, or why not saved)."""
    path = Path(path) if path is not None else progress_path()
    record = load_progress(path)
    entry = record["exercises"].setdefault(exercise_id, {})
    entry.setdefault("passed_at", datetime.datetime.now().isoformat(timespec="seconds"))
    entry["passes"] = int(entry.get("passes", 0)) + 1
    try:
        _save(record, path)
    except OSError as error:
        return f"your progress could not be saved to {path} ({error})"
    lesson = exercise_id.split(".", 1)[0]
    ids = [i for i in _registry() if i.split(".", 1)[0] == lesson]
    done = sum(i in record["exercises"] for i in ids)
    return f"saved: {done} of {len(ids)} exercises of lesson {lesson} passed"


def reset_progress(path: Path | str | None = None) -> None:
    """Forget every recorded pass (the file is replaced by an empty record)."""
    _save(_fresh_record(), Path(path) if path is not None else progress_path())


@dataclass(frozen=True)
class ProgressRow:
    lesson: str
    title: str
    done: int
    total: int


@dataclass(frozen=True)
class ProgressReport:
    """Exercises passed per lesson; renders as a table of bars in a notebook."""

    rows: tuple
    path: Path

    @property
    def done(self) -> int:
        return sum(r.done for r in self.rows)

    @property
    def total(self) -> int:
        return sum(r.total for r in self.rows)

    def __str__(self) -> str:
        lines = [f"Your progress ({self.done}/{self.total} exercises), recorded in {self.path}"]
        for r in self.rows:
            width = 10
            filled = round(width * r.done / r.total) if r.total else 0
            bar = "#" * filled + "." * (width - filled)
            count = f"{r.done}/{r.total}" if r.total else "no exercises yet"
            lines.append(f"  {r.lesson} {r.title:<22} [{bar}] {count}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))

    def _repr_html_(self) -> str:
        cells = []
        for r in self.rows:
            share = r.done / r.total if r.total else 0.0
            count = f"{r.done}/{r.total}" if r.total else "&ndash;"
            cells.append(
                f"<tr><td>{r.lesson}</td><td>{html.escape(r.title)}</td>"
                f'<td><div style="width:160px;background:#eaeef2;height:10px">'
                f'<div style="width:{share * 100:.0f}%;background:#1a7f37;height:10px"></div></div></td>'
                f"<td>{count}</td></tr>"
            )
        return (
            f"<b>Your progress: {self.done}/{self.total} exercises</b>"
            f"<table>{''.join(cells)}</table>"
            f"<small>recorded in <code>{html.escape(str(self.path))}</code></small>"
        )


def progress_report(path: Path | str | None = None) -> ProgressReport:
    """Count the passed exercises of each lesson.

    Args:
        path: the record file; default :func:`progress_path`.

    Returns:
        A :class:`ProgressReport` with one row per lesson of :data:`LESSONS`.
    """
    path = Path(path) if path is not None else progress_path()
    passed = load_progress(path)["exercises"]
    rows = []
    for lesson, title in LESSONS.items():
        ids = [i for i, ex in _registry().items() if ex.lesson == lesson]
        rows.append(ProgressRow(lesson, title, sum(i in passed for i in ids), len(ids)))
    return ProgressReport(tuple(rows), path)


def show_progress(path: Path | str | None = None) -> None:
    """Display the progress table (rich in a notebook, plain text elsewhere)."""
    report = progress_report(path)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: no IPython installed
        print(report)
        return
    if get_ipython() is None:
        print(report)
    else:
        display(report)
