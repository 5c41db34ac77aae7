"""The instructor's workflow through nbgrader's own API: release, collect, grade, feedback, export.

Every function takes the course directory (the folder holding ``nbgrader_config.py``) and
uses :class:`nbgrader.apps.NbGraderAPI` / :class:`nbgrader.api.Gradebook`, so formgrader,
``nbgrader export`` and the exchange see exactly what nbgrader itself would have written.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from lr_course.grading.submission import GradingError, identify, read_notebook

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


def collect(course, assignment, source=None) -> dict:
    """Bring submissions into ``submitted/<student>/<assignment>/``.

    ``source`` is a zip file or a folder laid out as ``<student>/<assignment>/*.ipynb`` or
    ``<student>/*.ipynb`` (one folder per student, as LMS exports usually are); None
    collects from nbgrader's exchange. Returns ``{"collected": [...], "skipped": {...}}``:
    a notebook that is not JSON or belongs to another assignment is skipped with a reason.
    """
    course = find_course(course)
    _check_assignment(course, assignment)
    if source is None:
        _ok(api(course).collect(assignment), "collect")
        return {"collected": submitted_students(course, assignment), "skipped": {}}
    source = Path(source)
    if not source.exists():
        raise GradingError(f"no such file or folder: {source}")
    with tempfile.TemporaryDirectory() as tmp:
        if source.is_file():
            if not zipfile.is_zipfile(source):
                raise GradingError(f"{source} is neither a folder nor a zip file")
            with zipfile.ZipFile(source) as zf:
                for member in zf.namelist():  # never write outside tmp
                    if member.startswith("/") or ".." in Path(member).parts:
                        raise GradingError(f"{source} contains an unsafe path: {member}")
                zf.extractall(tmp)
            root = Path(tmp)
            entries = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith("__")]
            if len(entries) == 1 and not any(entries[0].glob("*.ipynb")) and \
                    not (entries[0] / assignment).is_dir():
                root = entries[0]  # a zip that wraps everything in one top folder
        else:
            root = source
        collected, skipped = [], {}
        for student_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            student = student_dir.name
            if student.startswith((".", "__")):
                continue
            inner = student_dir / assignment if (student_dir / assignment).is_dir() else student_dir
            notebooks = sorted(inner.glob("*.ipynb"))
            if not notebooks:
                skipped[student] = "no notebook found"
                continue
            try:
                nb, _ = read_notebook(notebooks[0])
                found = identify(nb, notebooks[0])
                if found != assignment:
                    raise GradingError(f"{notebooks[0].name} is a notebook of {found}")
            except GradingError as exc:
                skipped[student] = str(exc)
                continue
            dest = course / "submitted" / student / assignment
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            shutil.copyfile(notebooks[0], dest / f"{assignment}.ipynb")
            (dest / "timestamp.txt").write_text(_timestamp(notebooks[0]))
            collected.append(student)
    return {"collected": collected, "skipped": skipped}


def _timestamp(path):
    from datetime import datetime, timezone
    return datetime.fromtimestamp(Path(path).stat().st_mtime, timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S.%f %Z")


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


def export(course, to="grades.csv"):
    """nbgrader's CSV export of the whole gradebook."""
    from nbgrader.plugins import CsvExportPlugin
    course = find_course(course)
    to = Path(to) if Path(to).is_absolute() else course / to
    with gradebook(course) as gb:
        CsvExportPlugin(to=str(to)).export(gb)
    return to
