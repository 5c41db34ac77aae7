"""A class roster: which nbgrader student id each LMS hand-in belongs to.

The roster is a CSV file with a header row. Columns (any order, other columns ignored):

* ``student_id`` (required): the nbgrader student id, checked by
  :func:`lr_course.grading.student_ids.student_id_problem`;
* ``lms_id``: the LMS's own key: the Canvas user id, the Moodle participant id, the
  Blackboard username (or, for plain folders, the folder name);
* ``name``: the LMS's name for the student: Canvas's ``lastnamefirstname`` part of the file
  name (``leeann``; ``Ann Lee`` also matches it), Moodle's full name, Blackboard's full name.
  Names are compared without case, accents folded as NFKC does, spaces and punctuation
  ignored.

Each row needs ``lms_id`` or ``name``. A hand-in is looked up by its LMS id first, then by
its name. A key given twice, or a student id given on two rows, is an error (two students
who share a name: leave their ``name`` empty and give the ``lms_id``).

>>> r = Roster.from_text("lms_id,name,student_id\\n4211,Ann Lee,ann\\n,Bo Chen,bo\\n")
>>> r.lookup("4211", ["x"]), r.lookup("999", ["chenbo"]), r.lookup("999", ["zed"])
('ann', 'bo', None)
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from lr_course.grading.student_ids import student_id_problem
from lr_course.grading.submission import GradingError

__all__ = ["Roster", "RosterError", "load_roster", "fold_name"]

MAX_ROSTER_BYTES = 8 << 20


class RosterError(GradingError, ValueError):
    """A roster that cannot be used (nothing is collected with it)."""


def fold_name(name: str) -> str:
    """``name`` compared loosely: NFKC, no case, letters and digits only.

    >>> fold_name(" Lee, Ann-Marie "), fold_name("LEE ANNMARIE")
    ('leeannmarie', 'leeannmarie')
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _name_forms(name: str) -> list:
    """The roster name as written, and with its last word first (Canvas's sortable name)."""
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", name))
    forms = [fold_name(name)]
    if len(words) > 1:
        forms.append(fold_name("".join(words[-1:] + words[:-1])))
    return [f for f in dict.fromkeys(forms) if f]


@dataclass
class Roster:
    """LMS id and name -> student id, from a roster CSV."""

    by_id: dict = field(default_factory=dict)
    by_name: dict = field(default_factory=dict)
    source: str = "roster"

    @classmethod
    def from_text(cls, text: str, source: str = "roster") -> "Roster":
        """Parse roster CSV text (see the module docstring).

        Raises:
            RosterError: a missing column, an empty key, a key or student id given twice,
                an invalid student id.
        """
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        columns = [c.strip() for c in reader.fieldnames or []]
        reader.fieldnames = columns
        if "student_id" not in columns:
            raise RosterError(f"{source}: no student_id column (found: "
                              f"{', '.join(columns) or 'no header'})")
        if "lms_id" not in columns and "name" not in columns:
            raise RosterError(f"{source}: needs an lms_id or a name column beside student_id")
        roster, rows_of = cls(source=source), {}
        for line, row in enumerate(reader, start=2):
            sid = (row.get("student_id") or "").strip()
            lms_id = (row.get("lms_id") or "").strip()
            name = (row.get("name") or "").strip()
            if not (sid or lms_id or name):
                continue          # a blank line
            problem = student_id_problem(sid)
            if problem:
                raise RosterError(f"{source} line {line}: student_id {sid!r} {problem}")
            sid = unicodedata.normalize("NFC", sid)
            if sid in rows_of:
                raise RosterError(f"{source} line {line}: student_id {sid!r} is mapped twice "
                                  f"(also line {rows_of[sid]})")
            rows_of[sid] = line
            if not (lms_id or name):
                raise RosterError(f"{source} line {line}: {sid!r} has neither lms_id nor name")
            if lms_id:
                if lms_id in roster.by_id:
                    raise RosterError(f"{source} line {line}: lms_id {lms_id!r} given twice")
                roster.by_id[lms_id] = sid
            for form in _name_forms(name) if name else []:
                other = roster.by_name.get(form)
                if other is not None and other != sid:
                    raise RosterError(f"{source} line {line}: the name {name!r} is given "
                                      "twice (leave it empty and give the lms_id)")
                roster.by_name[form] = sid
        if not rows_of:
            raise RosterError(f"{source}: no students in the roster")
        return roster

    def lookup(self, lms_id: str, names) -> str | None:
        """The student id of a hand-in with ``lms_id`` and LMS ``names``, or None."""
        if lms_id in self.by_id:
            return self.by_id[lms_id]
        for name in names:
            found = self.by_name.get(fold_name(name)) if name else None
            if found is not None:
                return found
        return None


def load_roster(path) -> Roster:
    """Read the roster CSV at ``path`` (UTF-8, with or without a byte order mark).

    Raises:
        RosterError: no such file, too large, not UTF-8, or a bad roster.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_ROSTER_BYTES:
            raise RosterError(f"roster {path} is larger than {MAX_ROSTER_BYTES >> 20} MiB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RosterError(f"no roster file at {path}") from None
    except IsADirectoryError:
        raise RosterError(f"roster {path} is a folder, not a CSV file") from None
    except UnicodeDecodeError:
        raise RosterError(f"roster {path} is not UTF-8 text") from None
    except OSError as exc:
        raise RosterError(f"roster {path} cannot be read ({exc.strerror})") from None
    try:
        return Roster.from_text(text, source=str(path))
    except csv.Error as exc:
        raise RosterError(f"roster {path}: not a CSV file ({exc})") from None
