"""An nbgrader course as the grader sees it: its folders, assignments, settings and secret.

Everything that finds a course goes through :func:`find_course` and :class:`Course`, so
``release``, ``grade``, ``check``, ``report`` and ``export`` agree on where the source
notebooks, the gradebook and the secret are.

The **course secret** (``.lr_course_secret`` in the course directory, created on first use,
readable by its owner only and never released) seeds the inputs every check draws: a
student's grade is a pure function of the submission, the source notebook and the secret,
the same on every run and on every machine.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lr_course.grading.submission import GradingError, SourceNotebook, load_source

__all__ = ["Course", "CourseError", "find_course", "seed", "SECRET_FILE"]

SECRET_FILE = ".lr_course_secret"


class CourseError(GradingError):
    """The course directory is not ready for grading (the message says what to do)."""


def seed(secret: bytes, purpose: str, assignment: str, student: str) -> int:
    """The seed of one student's checks: a hash of the secret and what is graded.

    ``purpose`` keeps the final grade (``"grade"``), the self-check (``"check"``) and the
    released visible values (``"release"``) on separate draws.

    >>> seed(b"k", "grade", "ps1", "ada") == seed(b"k", "grade", "ps1", "ada")
    True
    >>> seed(b"k", "grade", "ps1", "ada") == seed(b"k", "check", "ps1", "ada")
    False
    """
    h = hashlib.sha256()
    for part in (secret, purpose.encode(), assignment.encode(), student.encode()):
        h.update(len(part).to_bytes(4, "little") + part)
    return int.from_bytes(h.digest()[:8], "little") >> 1


@dataclass
class Course:
    """An nbgrader course directory (the folder holding ``nbgrader_config.py``)."""

    root: Path

    @property
    def source_dir(self) -> Path:
        return self.root / "source"

    def assignments(self) -> list:
        """The assignments with a source folder, by name."""
        if not self.source_dir.is_dir():
            return []
        return sorted(p.name for p in self.source_dir.iterdir()
                      if p.is_dir() and not p.name.startswith((".", "_")))

    def check_assignment(self, assignment: str) -> None:
        """Raise a GradingError naming the known assignments if ``assignment`` is not one."""
        if assignment not in self.assignments():
            raise GradingError(f"no assignment {assignment!r} in {self.source_dir} (found: "
                               f"{', '.join(self.assignments()) or 'none'})")

    def notebook_name(self, assignment: str) -> str:
        """The assignment's notebook (its one .ipynb in source/<assignment>/), without suffix."""
        self.check_assignment(assignment)
        found = sorted((self.source_dir / assignment).glob("*.ipynb"))
        if len(found) != 1:
            raise GradingError(f"{self.source_dir / assignment} must hold exactly one notebook "
                               f"(found {len(found)})")
        return found[0].stem

    def source(self, assignment: str) -> SourceNotebook:
        """The parsed source notebook of ``assignment``."""
        name = self.notebook_name(assignment)
        return load_source(self.source_dir / assignment / f"{name}.ipynb", assignment)

    def secret(self) -> bytes:
        """The course secret, created (owner-only) on first use.

        Two graders starting at once must agree on it: the secret is written to a private
        file first and linked into place, so the first link wins and the other reads it.
        """
        path = self.root / SECRET_FILE
        if not path.exists():
            fd, tmp = tempfile.mkstemp(prefix=".secret-", dir=self.root)
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_hex(32) + "\n")
                os.link(tmp, path)
            except FileExistsError:
                pass          # another grader made it first: use theirs
            finally:
                os.unlink(tmp)
        text = path.read_text().strip()
        if len(text) < 32:
            raise GradingError(f"{path} is not a course secret (delete it to make a new one; "
                               "grades drawn from the old one change)")
        return text.encode()

    def settings(self) -> dict:
        """What the grader takes from the course's nbgrader_config.py (nbgrader's defaults).

        ``course_id`` and ``db_url`` (CourseDirectory), and ``time_limits``: nbgrader's own
        per-cell ``Execute.timeout`` is the limit of one cell for both engines, and
        ``LrCourse.call_seconds`` that of one graded call.
        """
        out = {"course_id": "default_course", "db_url": f"sqlite:///{self.root / 'gradebook.db'}",
               "time_limits": {}}
        from traitlets.config.loader import PyFileConfigLoader
        config = PyFileConfigLoader("nbgrader_config.py", str(self.root)).load_config()
        found = config.get("CourseDirectory", {})
        for key in ("course_id", "db_url"):
            if key in found:
                out[key] = found[key]
        limits = {"cell_seconds": config.get("Execute", {}).get("timeout"),
                  "call_seconds": config.get("LrCourse", {}).get("call_seconds")}
        for key, value in limits.items():
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                    raise GradingError(f"nbgrader_config.py: the {key} limit must be a number of "
                                       f"seconds > 0, got {value!r}")
                out["time_limits"][key] = float(value)
        return out


def find_course(course=None) -> Course:
    """The course at ``course``, or the current directory; a clear error if it is not one."""
    root = Path(course) if course is not None else Path.cwd()
    if not (root / "nbgrader_config.py").is_file():
        where = f"{root}" if course is not None else "the current directory"
        raise GradingError(f"{where} is not an nbgrader course directory (no nbgrader_config.py);"
                           " run inside one or pass --course DIR")
    root = root.resolve()
    from traitlets.config.loader import PyFileConfigLoader
    try:
        elsewhere = PyFileConfigLoader("nbgrader_config.py", str(root)).load_config() \
            .get("CourseDirectory", {}).get("root")
    except Exception as exc:  # noqa: BLE001 - a config that does not load: say which
        raise GradingError(f"{root / 'nbgrader_config.py'} cannot be read: "
                           f"{type(exc).__name__}: {exc}") from None
    if elsewhere is not None and Path(root, str(elsewhere)).resolve() != root:
        # lr-course takes the folder of nbgrader_config.py as the course (its settings,
        # gradebook and secret); silently grading another folder's course is worse
        raise GradingError(f"{root / 'nbgrader_config.py'} sets CourseDirectory.root to "
                           f"{elsewhere!r}: lr-course uses the folder that holds "
                           "nbgrader_config.py as the course, so put the config in that "
                           "folder and run there (or --course it), or remove the setting")
    return Course(root)
