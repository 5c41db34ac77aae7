"""Lesson support: each lesson's self-checked exercises, and the learner's progress.

An exercise cell in a lesson ends with a call such as::

    answer = ...   # the learner replaces the ellipsis
    check_answer("01.critical_lr", answer)

The call returns a :class:`~lr_course.lessons.feedback.Feedback` that renders as what is
right, what is wrong and a hint; it never shows the expected value, which the check computes
from the exercise's own data. A pass lands in the progress record, drawn by :func:`show_progress`.

Layout (imports go one way, top to bottom):

- this package: the course's lessons in order, :func:`check_answer`, the progress table;
- ``lessonNN``: one module per lesson, holding ``EXERCISES`` (an
  :class:`~lr_course.lessons.exercise.ExerciseSet`); lesson 06's also holds the review quiz;
- :mod:`~lr_course.lessons.exercise`: the set and its check; then the leaves
  :mod:`~lr_course.lessons.feedback` (verdict and feedback) and
  :mod:`~lr_course.lessons.progress` (the record), which import nothing of the course.

A new lesson is one new module ``lessonNN.py`` with its ``EXERCISES`` and its name added to
:data:`LESSON_MODULES`.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any

from lr_course.lessons.exercise import Exercise, ExerciseSet
from lr_course.lessons.feedback import Feedback
from lr_course.lessons import progress as _progress

__all__ = ["LESSON_MODULES", "check_answer", "exercise_sets", "exercises", "forget_attempts", "show_progress",
           "progress_report", "reset_progress", "load_progress", "Feedback"]

#: The lesson modules, in course order (the progress table follows it).
LESSON_MODULES = ("lesson00", "lesson01", "lesson02", "lesson03", "lesson04", "lesson05", "lesson06",
                  "lesson07")

load_progress = _progress.load_progress
reset_progress = _progress.reset_progress


@functools.cache
def exercise_sets() -> tuple[ExerciseSet, ...]:
    """Each lesson's :class:`ExerciseSet`, in course order (the modules load on first use)."""
    sets = tuple(importlib.import_module(f"{__name__}.{name}").EXERCISES for name in LESSON_MODULES)
    lessons = [s.lesson for s in sets]
    assert len(set(lessons)) == len(lessons), f"two modules claim the same lesson: {lessons}"
    return sets


def exercises() -> dict[str, Exercise]:
    """Every exercise of the course, by id, in course order.

    >>> "01.critical_lr" in exercises()
    True
    """
    return {i: ex for s in exercise_sets() for i, ex in s.exercises.items()}


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
    for s in exercise_sets():
        if exercise_id in s.exercises:
            return s.check(exercise_id, answer, record=record)
    known = ", ".join(exercises())
    raise ValueError(f"exercise_id must be one of {known}; got {exercise_id!r}")


def forget_attempts() -> None:
    """Start every exercise's count of tries afresh (as a new kernel would); the tests use it."""
    for s in exercise_sets():
        s.attempts.clear()


def progress_report(path: Path | str | None = None) -> _progress.ProgressReport:
    """Count the passed exercises of each lesson (one row per lesson, in course order)."""
    return _progress.progress_report([(s.lesson, s.title, list(s.exercises)) for s in exercise_sets()], path)


def show_progress(path: Path | str | None = None) -> None:
    """Display the progress table (rich in a notebook, plain text elsewhere)."""
    _progress.display_report(progress_report(path))
