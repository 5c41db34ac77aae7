"""The learner's progress record: which exercises passed, kept in a small JSON file.

The record lives in ``~/.lr-course/progress.json``; the environment variable
``LR_COURSE_PROGRESS`` points it elsewhere (a file, or a directory that will hold
``progress.json``), which the tests use so that they never write to a learner's home. A
corrupt record is backed up, reported and replaced by a fresh one; a record that cannot be
written never breaks a check. Writes are atomic (a temporary file, then a rename).

This module is a leaf: it imports the standard library only and knows nothing of the
exercises; the lesson registry (:mod:`lr_course.lessons`) passes it the lessons to count.
"""

from __future__ import annotations

import datetime
import html
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_RECORD_VERSION = 1


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


def record_pass(exercise_id: str, path: Path | str | None = None) -> tuple[dict | None, str | None]:
    """Note a pass of an exercise in the record.

    Args:
        exercise_id: the exercise, e.g. ``"01.critical_lr"``.
        path: the record file; default :func:`progress_path`.

    Returns:
        ``(record, None)`` with the updated record once saved, or ``(None, reason)`` when it
        could not be written (a check never fails because of its record).
    """
    path = Path(path) if path is not None else progress_path()
    record = load_progress(path)
    entry = record["exercises"].setdefault(exercise_id, {})
    entry.setdefault("passed_at", datetime.datetime.now().isoformat(timespec="seconds"))
    entry["passes"] = int(entry.get("passes", 0)) + 1
    try:
        _save(record, path)
    except OSError as error:
        return None, f"your progress could not be saved to {path} ({error})"
    return record, None


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


def progress_report(lessons, path: Path | str | None = None) -> ProgressReport:
    """Count the passed exercises of each lesson.

    Args:
        lessons: ``[(lesson, title, exercise ids), ...]`` in course order.
        path: the record file; default :func:`progress_path`.

    Returns:
        A :class:`ProgressReport` with one row per lesson.
    """
    path = Path(path) if path is not None else progress_path()
    passed = load_progress(path)["exercises"]
    rows = tuple(ProgressRow(lesson, title, sum(i in passed for i in ids), len(ids))
                 for lesson, title, ids in lessons)
    return ProgressReport(rows, path)


def display_report(report: ProgressReport) -> None:
    """Display a progress table: rich in a notebook, plain text elsewhere."""
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
