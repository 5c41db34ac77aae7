"""The instructor's workflow through nbgrader's own API: release, collect, grade, feedback, export.

Every function takes the course directory (the folder holding ``nbgrader_config.py``) and
uses :class:`nbgrader.apps.NbGraderAPI` / :class:`nbgrader.api.Gradebook`, so formgrader,
``nbgrader export`` and the exchange see exactly what nbgrader itself would have written.
"""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

from lr_course.grading.submission import GradingError

ASSIGNMENT_NAMES = ("ps1_schedules", "ps2_adaptive", "ps3_tuning")


def find_course(course=None) -> Path:
    """The course directory: ``course`` if given, else the current directory."""
    root = Path(course) if course is not None else Path.cwd()
    if not (root / "nbgrader_config.py").is_file():
        where = f"{root}" if course is not None else "the current directory"
        raise GradingError(f"{where} is not an nbgrader course directory (no nbgrader_config.py);"
                           " run inside one or pass --course DIR")
    return root.resolve()


def _check_assignment(course, assignment):
    if not (course / "source" / assignment).is_dir():
        known = sorted(p.name for p in (course / "source").glob("*") if p.is_dir())
        raise GradingError(f"no assignment {assignment!r} in {course / 'source'} "
                           f"(found: {', '.join(known) or 'none'})")


def api(course):
    """An NbGraderAPI on ``course`` with its nbgrader_config.py loaded."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader
    # nbgrader shells out to alembic for the gradebook: make our environment's tools visible.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    import warnings
    # nbgrader's gradebook trips SQLAlchemy's autoflush warnings; they are not the user's concern.
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def _ok(result, what):
    if not result.get("success"):
        raise GradingError(f"nbgrader {what} failed:\n{result.get('error') or result.get('log')}")
    return result


def release(course, assignment, *, exchange=False):
    """generate_assignment (source/ -> release/), and optionally release to the exchange."""
    course = find_course(course)
    _check_assignment(course, assignment)
    nbapi = api(course)
    _ok(nbapi.generate_assignment(assignment, force=True, create=True), "generate_assignment")
    if exchange:
        _ok(nbapi.release_assignment(assignment), "release_assignment")
    return course / "release" / assignment


def submitted_students(course, assignment) -> list:
    base = Path(course) / "submitted"
    return sorted(p.parent.name for p in base.glob(f"*/{assignment}") if p.is_dir()) \
        if base.is_dir() else []


def exchange_inbound(course) -> Path:
    """The exchange's inbound folder of the course (``Exchange.root``/course_id/inbound)."""
    from nbgrader.exchange.default.exchange import Exchange
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    root = config.get("Exchange", {}).get("root") or Exchange.root.default_value
    course_id = config.get("CourseDirectory", {}).get("course_id") or ""
    if not course_id:
        raise GradingError("nbgrader_config.py sets no CourseDirectory.course_id: the "
                           "exchange cannot be found")
    return Path(root) / course_id / "inbound"


def collect(course, assignment, source=None) -> dict:
    """Bring submissions into ``submitted/<student>/<assignment>/``, trusting none of them.

    ``source`` is a zip file or a folder laid out as ``<student>/<assignment>/*.ipynb`` or
    ``<student>/*.ipynb`` (one folder per student, as LMS exports usually are); None
    collects from nbgrader's exchange (each student's latest submission). No symbolic link
    is followed, an exchange folder must be its student's own, and sizes are checked
    before anything is written (:mod:`lr_course.grading.collect`). Returns the
    :meth:`~lr_course.grading.collect.CollectResult.to_dict`: ``collected``, ``refused``
    (student, where, reason) and ``skipped`` (``{student: reason}``); the refusals are
    also kept in ``collect_log/<assignment>.json`` for the report.
    """
    from lr_course.grading import collect as collecting
    course = find_course(course)
    _check_assignment(course, assignment)
    if source is None:
        result = collecting.collect_exchange(course, assignment, exchange_inbound(course))
    else:
        source = Path(source)
        if source.is_symlink() or not source.exists():
            raise GradingError(f"no such file or folder (links are not followed): {source}")
        if source.is_file():
            if not zipfile.is_zipfile(source):
                raise GradingError(f"{source} is neither a folder nor a zip file")
            result = collecting.collect_zip(course, assignment, source)
        else:
            result = collecting.collect_folder(course, assignment, source)
    collecting.write_log(course, result)
    return result.to_dict()


def refusals(course, assignment) -> list:
    """What the latest collect of ``assignment`` refused (for the report and the export)."""
    from lr_course.grading import collect as collecting
    return collecting.read_log(find_course(course), assignment)


def grade(course, assignment, *, students=None, progress=None) -> dict:
    """nbgrader autograde of every submitted student (or ``students``) into the gradebook.

    All students go through ONE nbgrader Autograde run (its start-up costs seconds, so a run
    per student would be several times slower); ``progress(done, total, student)`` is
    called as nbgrader reaches each student. Returns ``{student: {"score", "max_score"}}``,
    or ``{"error": reason}`` for a student whose submission nbgrader could not grade.
    """
    import logging
    import re

    from nbgrader.converters import Autograde
    from nbgrader.utils import capture_log, temp_attrs
    course = find_course(course)
    _check_assignment(course, assignment)
    submitted = submitted_students(course, assignment)
    students = list(students) if students is not None else submitted
    if not students:
        raise GradingError(f"no submissions of {assignment} under {course / 'submitted'}")
    missing = sorted(set(students) - set(submitted))
    if missing:
        raise GradingError(f"no submission of {assignment} for: {', '.join(missing)}")
    nbapi = api(course)
    if not (course / "release" / assignment).is_dir():
        _ok(nbapi.generate_assignment(assignment, force=True, create=True), "generate_assignment")
    seen = []
    pattern = re.compile(r"Autograding .*/autograded/([^/]+)/")

    class Progress(logging.Handler):
        def emit(self, record):
            match = pattern.search(record.getMessage())
            if match and match.group(1) not in seen:
                seen.append(match.group(1))
                if progress is not None:
                    progress(len(seen), len(students), match.group(1))

    # A glob that matches exactly the chosen students (nbgrader takes one pattern).
    glob = "*" if set(students) == set(submitted) else \
        (students[0] if len(students) == 1 else None)
    batches = [glob] if glob is not None else students
    log = ""
    for student_glob in batches:
        with temp_attrs(nbapi.coursedir, assignment_id=assignment, student_id=student_glob):
            app = Autograde(coursedir=nbapi.coursedir, parent=nbapi)
            app.force = True
            app.create_student = True
            handler = Progress()
            app.log.addHandler(handler)
            try:
                result = capture_log(app)
            finally:
                app.log.removeHandler(handler)
        log += str(result.get("error") or "") + str(result.get("log") or "")
    results = {}
    for student in students:
        try:
            results[student] = student_score(course, assignment, student)
        except Exception:  # noqa: BLE001 - nbgrader's MissingEntry: this one was not graded
            results[student] = {"error": _student_error(log, student)}
    return results


def _student_error(log, student):
    lines = [x for x in log.splitlines() if f"/{student}/" in x or "Error" in x]
    return _last_line("\n".join(lines)) if lines else "nbgrader could not grade this submission"


def _last_line(text):
    lines = [x for x in str(text or "").strip().splitlines() if x.strip()]
    return lines[-1][:300] if lines else "nbgrader autograde failed"


def gradebook(course):
    from nbgrader.api import Gradebook
    return Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}")


def student_score(course, assignment, student) -> dict:
    with gradebook(course) as gb:
        sub = gb.find_submission(assignment, student)
        return {"score": sub.score, "max_score": sub.max_score}


def test_scores(course, assignment) -> dict:
    """``{student: {grade_id: (score, max_score)}}`` from the gradebook (graded cells only)."""
    out = {}
    with gradebook(course) as gb:
        for sub in gb.assignment_submissions(assignment):
            cells = {}
            for nb in sub.notebooks:
                for g in nb.grades:
                    cells[g.name] = (g.score, g.max_score)
            out[sub.student.id] = cells
    return out


def feedback(course, assignment, student=None):
    """nbgrader generate_feedback (HTML under feedback/)."""
    course = find_course(course)
    _check_assignment(course, assignment)
    _ok(api(course).generate_feedback(assignment, student), "generate_feedback")
    return course / "feedback"


EXPORT_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name",
                  "first_name", "email", "raw_score", "late_submission_penalty", "score",
                  "max_score")


def export_rows(gb) -> list:
    """The rows of nbgrader's CSV export (its columns, one row per assignment and student)."""
    from nbgrader.api import MissingEntry
    rows = []
    for assignment in gb.assignments:
        for student in gb.students:
            row = {"assignment": assignment.name, "duedate": assignment.duedate,
                   "student_id": student.id, "last_name": student.last_name,
                   "first_name": student.first_name, "email": student.email,
                   "max_score": assignment.max_score}
            try:
                sub = gb.find_submission(assignment.name, student.id)
            except MissingEntry:
                row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
            else:
                penalty = sub.late_submission_penalty
                row.update(timestamp=sub.timestamp, raw_score=sub.score,
                           late_submission_penalty=penalty,
                           score=max(0.0, sub.score - (penalty or 0.0)))
            rows.append([row[key] for key in EXPORT_COLUMNS])
    return rows


def export(course, to="grades.csv"):
    """The CSV export of the whole gradebook (nbgrader's columns), safe for a spreadsheet.

    nbgrader's own exporter joins fields with commas unquoted, so a comma or a newline in a
    student's name shifts or splits a row, and a leading ``=`` is a formula. Here every
    cell goes through :func:`~lr_course.grading.escape.csv_cell` (no formula, no control
    character) and :mod:`csv` quotes it.
    """
    import csv

    from lr_course.grading.escape import csv_cell
    course = find_course(course)
    to = Path(to) if Path(to).is_absolute() else course / to
    with gradebook(course) as gb:
        rows = export_rows(gb)
    tmp = to.with_name(f".{to.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows([csv_cell("" if v is None else v) for v in row] for row in rows)
    os.replace(tmp, to)
    return to
