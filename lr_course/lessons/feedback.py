"""What a self-check says: the verdict a check fills in, and the feedback the learner sees.

A check function receives the learner's answer and a :class:`Verdict`; it records what is
right and what is wrong (with the first hint) and never the expected value. The helpers below
turn an answer into a number or call a learner's function safely; :func:`check_number`
compares a number with the expected one and names typical slips. :class:`Feedback` is the
frozen result, rendered as text or HTML in the notebook.

This module is a leaf: it imports numpy only, and the lesson modules import it.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import numpy as np


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
