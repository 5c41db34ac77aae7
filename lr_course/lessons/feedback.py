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
from typing import Any, Callable

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


#: Wrong numeric answers after which feedback stops saying "too large" or "too small": with the
#: direction every time, any number is found by bisection in about ten tries.
DIRECTION_TRIES = 2


class Verdict:
    """What a check function fills in: right and wrong statements and the first hint.

    Args:
        attempt: how many times this exercise has been checked in this session, this one
            included (1 for the first); numeric checks use it to stop leaking a direction.
    """

    def __init__(self, attempt: int = 1):
        self.attempt = attempt
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


def as_number(answer: Any, verdict: Verdict, what: str = "your answer", *,
              returned: bool = False) -> float | None:
    """The answer as a finite float, or None after telling the learner why it is not one.

    Args:
        answer: what the learner gave (or what their function returned, with ``returned``).
        verdict: the verdict to fill.
        what: how to call the value in the feedback.
        returned: the value came back from the learner's function, so the hint is about a
            ``return`` statement rather than an ``answer = ...`` line.

    Returns:
        The float, or None when it is not one (the verdict says why).
    """
    try:
        if isinstance(answer, (str, bytes)):
            raise TypeError("a string is not a number")
        value = float(np.asarray(answer, dtype=float).reshape(()))
    except (TypeError, ValueError):
        hint = ("Make your function end with `return` of one float, e.g. `return float(value)`, "
                "not a list, an array of several entries or a string." if returned else
                "Give one float, e.g. `answer = 0.5`, not a list or a string.")
        verdict.bad(f"{what} should be a single number, got {type(answer).__name__}", hint)
        return None
    if not math.isfinite(value):
        hint = ("Run your function by hand on this case and look for an overflow or a division by zero."
                if returned else "Check for a division by zero.")
        verdict.bad(f"{what} is {value}, not a finite number", hint)
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

    Only the first :data:`DIRECTION_TRIES` wrong tries say "too large" or "too small"; later
    ones say only that the value is not within the tolerance, so bisection gains nothing.

    >>> v = Verdict(attempt=3)
    >>> check_number(v, 0.3, 0.25, rtol=0.01)
    False
    >>> v.wrong
    ['your value is not within 1% of the right value']
    """
    if relative_error(value, expected) <= rtol:
        verdict.ok(f"{what} is right (within {rtol:.0%})" if rtol >= 0.01 else f"{what} is right")
        return True
    for wrong_value, hint in (mistakes or {}).items():
        if relative_error(value, wrong_value) <= rtol:
            verdict.bad(f"{what} matches a common slip", hint)
            return False
    hint = "Go back to the formula in the lesson and redo it step by step."
    if verdict.attempt <= DIRECTION_TRIES:
        verdict.bad(f"{what} is {'too large' if value > expected else 'too small'}", hint)
    else:
        verdict.bad(f"{what} is not within {_percent(rtol)} of the right value", hint)
    return False


def _percent(rtol: float) -> str:
    return f"{rtol:.0%}" if rtol >= 0.01 else f"{rtol:.1e} (relative)"


def check_prediction(verdict: Verdict, answer: Any, read_run: Callable[[Any, Verdict], float | None], *,
                     rtol: float, what: str, where: str) -> bool:
    """A predict-run-check answer: the prediction and the reading, against the learner's own run.

    The learner predicts a number with a formula of the lesson, runs the experiment with the
    package, reads the number off the run and passes all three as
    ``{"prediction": p, "reading": r, "run": run}``. The check asks ``read_run`` whether the run
    is the experiment the exercise asks for and what it shows; the reading must match it, and
    the prediction must land within ``rtol`` of it.

    Args:
        verdict: the verdict to fill.
        answer: the learner's dict.
        read_run: ``read_run(run, verdict) -> value``; returns None (after ``verdict.bad``)
            when the run is not the experiment asked for.
        rtol: how close (relative) the prediction must be to the run.
        what: the quantity, e.g. ``"the weight after 10 steps"``.
        where: where in the run to read it, e.g. ``"history.final_params[0]"`` (the hint).

    Returns:
        Whether everything agrees.

    >>> v = Verdict()
    >>> check_prediction(v, {"prediction": 2.0, "reading": 2.0, "run": [1.0, 2.0]},
    ...                  lambda run, verdict: run[-1], rtol=0.01, what="the last entry", where="run[-1]")
    True
    """
    keys = {"prediction", "reading", "run"}
    if not isinstance(answer, dict) or set(answer) != keys:
        verdict.bad('give a dict {"prediction": ..., "reading": ..., "run": ...}',
                    "Fill in the three entries of the template: your prediction, the number you "
                    "read off your run, and the run itself.")
        return False
    if any(answer[key] is Ellipsis or answer[key] is None for key in keys):
        raise NotAnswered("Fill in all three entries (prediction, reading, run), then run the cell again.")
    prediction = as_number(answer["prediction"], verdict, "your prediction")
    reading = as_number(answer["reading"], verdict, "your reading")
    if prediction is None or reading is None:
        return False
    shown = read_run(answer["run"], verdict)
    if shown is None:
        return False
    if not math.isfinite(shown):
        verdict.bad(f"your run does not show a finite value of {what}",
                    "Rerun the experiment exactly as the exercise describes it.")
        return False
    good = verdict.expect(relative_error(reading, shown) <= 1e-6,
                          f"you read {what} correctly off your run",
                          f"your reading is not what your run shows for {what}",
                          f"Read it from `{where}`.")
    good &= verdict.expect(relative_error(prediction, shown) <= rtol,
                           f"your prediction is within {_percent(rtol)} of your run",
                           f"your prediction is not within {_percent(rtol)} of your run",
                           "Redo the prediction with the lesson's formula before looking at the run.")
    return good


def as_history(run, verdict: Verdict, num_steps: int, *, params: bool = False):
    """The learner's run as a ``training.History`` of ``num_steps`` steps, or None after saying why not.

    Args:
        run: what the learner passed as their run.
        verdict: the verdict to fill.
        num_steps: the number of steps the exercise asks for.
        params: whether the run must have recorded its params.

    Returns:
        The run, or None (the verdict says what is wrong with it).
    """
    needed = ("loss", "lr", "final_params") + (("params",) if params else ())
    if not all(hasattr(run, name) for name in needed):
        verdict.bad("the run should be the History that training.train returned",
                    "Pass the result of training.train itself as \"run\".")
        return None
    if len(run.loss) != num_steps + 1:
        verdict.bad(f"your run made {len(run.loss) - 1} steps, the exercise asks for {num_steps}",
                    "Use the num_steps of the exercise.")
        return None
    if params and run.params is None:
        verdict.bad("your run did not record its params", "Pass record_params=True to training.train.")
        return None
    return run


def as_constant_lr_run(run, verdict: Verdict, num_steps: int, *, loss0: float, experiment: str,
                       hint: str, lr: float | None = None, params: bool = False):
    """The learner's run if it is the exercise's constant-lr experiment, or None after saying why.

    The shared reading of the lessons' predict-run-check answers that pass a
    ``training.train`` History: :func:`as_history` first, then the run must keep one lr (``lr``
    if the exercise names it, the learner's own otherwise) and start at the loss ``loss0`` of
    the exercise's problem and start.

    Args:
        run: what the learner passed as their run.
        verdict: the verdict to fill.
        num_steps: the number of steps the exercise asks for.
        loss0: the loss at the start of the exercise's experiment.
        experiment: the experiment in a few words, e.g. ``"constant lr, curvature 4, w0 = 1"``.
        hint: how to set that experiment up.
        lr: the lr the exercise asks for; None when the learner picks it.
        params: whether the run must have recorded its params.

    Returns:
        The run, or None (the verdict says what is wrong with it).

    >>> from lr_course import optimizers, problems, training
    >>> run = training.train(problems.Quadratic.one_d(2.0, x0=3.0), optimizers.sgd(lr=0.1), num_steps=10)
    >>> v = Verdict()
    >>> as_constant_lr_run(run, v, 10, loss0=9.0, experiment="...", hint="...", lr=0.1) is run
    True
    >>> as_constant_lr_run(run, v, 10, loss0=2.0, experiment="curvature 4", hint="...") is None
    True
    """
    run = as_history(run, verdict, num_steps, params=params)
    if run is None:
        return None
    expected = float(run.lr[0]) if lr is None else lr
    if not (np.allclose(run.lr[:-1], expected) and np.isclose(run.loss[0], loss0)):
        verdict.bad(f"your run is not the experiment of the exercise ({experiment})", hint)
        return None
    return run


def as_array(run, verdict: Verdict, shape: tuple, *, what: str, hint: str,
             start: float | None = None, off_start: tuple[str, str] | None = None):
    """The learner's run as a float array of ``shape``, or None after saying why not.

    The shared reading of the predict-run-check answers that pass an array (the ``mean_loss``
    of ``training.noisy_sgd_runs``, draws of ``search.log_uniform``).

    Args:
        run: what the learner passed as their run.
        verdict: the verdict to fill.
        shape: the shape the exercise's experiment returns.
        what: what the run should be, e.g. ``"the mean_loss array of 600 steps that
            noisy_sgd_runs returned"`` (said as "the run should be ...").
        hint: how to produce it.
        start: if given, the first entry the experiment starts at (checked with ``np.isclose``).
        off_start: ``(message, hint)`` for a run that does not start at ``start``; by default the
            same words as for a wrong shape.

    Returns:
        The array, or None (the verdict says what is wrong with it).

    >>> v = Verdict()
    >>> as_array([0.5, 0.4], v, (2,), what="two losses", hint="...", start=0.5).tolist()
    [0.5, 0.4]
    >>> as_array("text", v, (2,), what="two losses", hint="...") is None
    True
    """
    try:
        values = np.asarray(run, dtype=float)
    except (TypeError, ValueError):
        values = None
    if values is None or values.shape != tuple(shape):
        verdict.bad(f"the run should be {what}", hint)
        return None
    if start is not None and not np.isclose(values.flat[0], start):
        message, start_hint = off_start or (f"the run should be {what}", hint)
        verdict.bad(message, start_hint)
        return None
    return values
