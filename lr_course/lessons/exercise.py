"""One lesson's exercises: registered with a decorator, checked into a :class:`Feedback`.

A lesson module makes one :class:`ExerciseSet` and decorates its check functions::

    EXERCISES = ExerciseSet("01", "Too small, too large")

    @EXERCISES.add("critical_lr", "the largest stable learning rate")
    def _critical_lr(answer, verdict):
        ...

``EXERCISES.check("01.critical_lr", answer)`` runs the check, writes a pass to the progress
record and says how many of the lesson's exercises have passed. Nothing here imports a lesson,
so the lessons import this module and never the other way round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from lr_course.lessons.feedback import Feedback, NotAnswered, Verdict
from lr_course.lessons.progress import record_pass


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


class ExerciseSet:
    """The exercises of one lesson, in the order they appear in it.

    Args:
        lesson: the two-digit lesson number, e.g. ``"01"``.
        title: the lesson's title, shown in the progress table.

    >>> demo = ExerciseSet("99", "A demo lesson")
    >>> @demo.add("double", "twice a number")
    ... def _double(answer, verdict):
    ...     verdict.expect(answer == 4, "4 is twice 2", "not twice 2")
    >>> demo.check("99.double", 4, record=False).status
    'passed'
    """

    def __init__(self, lesson: str, title: str):
        if not re.fullmatch(r"\d\d", str(lesson)):
            raise ValueError(f"lesson must be two digits such as '01', got {lesson!r}")
        self.lesson = lesson
        self.title = title
        self.exercises: dict[str, Exercise] = {}
        self.attempts: dict[str, int] = {}  # checks of each exercise in this session

    def add(self, name: str, title: str):
        """Register the decorated ``check(answer, verdict)`` as exercise ``"<lesson>.<name>"``.

        Args:
            name: lower-case words joined by ``_``, unique in the lesson.
            title: a short human title.

        Returns:
            A decorator that registers the function and returns it unchanged.
        """
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
            raise ValueError(f"name must be lower-case words joined by '_', got {name!r}")
        exercise_id = f"{self.lesson}.{name}"

        def register(check):
            if exercise_id in self.exercises:
                raise ValueError(f"exercise_id {exercise_id!r} is registered twice")
            self.exercises[exercise_id] = Exercise(exercise_id, title, check)
            return check

        return register

    def check(self, exercise_id: str, answer: Any, *, record: bool = True,
              path: Path | str | None = None) -> Feedback:
        """Check a learner's answer without revealing the expected one.

        Args:
            exercise_id: one of this lesson's exercises, e.g. ``"01.critical_lr"``.
            answer: the learner's value or function; ``...`` or ``None`` means "not answered yet".
            record: whether a pass is written to the progress record.
            path: the record file; default :func:`lr_course.lessons.progress.progress_path`.

        Returns:
            A :class:`Feedback`; as the last line of a cell it renders as right / wrong / hint.
        """
        if exercise_id not in self.exercises:
            known = ", ".join(self.exercises)
            raise ValueError(f"exercise_id must be one of {known}; got {exercise_id!r}")
        ex = self.exercises[exercise_id]
        if answer is None or answer is Ellipsis:
            return Feedback(ex.id, ex.title, "unanswered",
                            hint="Replace the `...` with your answer and run the cell again.")
        self.attempts[exercise_id] = self.attempts.get(exercise_id, 0) + 1
        verdict = Verdict(attempt=self.attempts[exercise_id])
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
            saved, reason = record_pass(ex.id, path)
            if saved is None:
                note = reason
            else:
                done = sum(i in saved["exercises"] for i in self.exercises)
                note = f"saved: {done} of {len(self.exercises)} exercises of lesson {self.lesson} passed"
        return Feedback(ex.id, ex.title, status, tuple(verdict.right), tuple(verdict.wrong),
                        verdict.hint if status == "failed" else None, note)
