"""The instructor's workflow through nbgrader's own API: release, collect, feedback, export.

Every function takes the course directory (the folder holding ``nbgrader_config.py``) and
uses :class:`nbgrader.apps.NbGraderAPI` / :class:`nbgrader.api.Gradebook`, so formgrader,
``nbgrader export`` and the exchange see exactly what nbgrader itself would have written.
Grading itself is :mod:`lr_course.grading.batch`.

:func:`release` adds one step to nbgrader's ``generate_assignment``: it runs the source
notebook's solution and visible test cells in the sandbox and writes the expected values of
the visible checks beside the released notebook (``<name>.checks.json``), so that students
can check themselves with the released notebook alone. Before that it grades the source
notebook against itself with every test, hidden ones included: a solution that fails its
own checks is refused with the reason.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from lr_course.grading.course import Course, find_course as _find_course
from lr_course.grading.submission import GradingError, identify, read_notebook


def find_course(course=None) -> Path:
    """The course directory: ``course`` if given, else the current directory."""
    return _find_course(course).root


def _check_assignment(course, assignment):
    Course(Path(course)).check_assignment(assignment)


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


def release(course, assignment, *, exchange=False, force=False, sandbox=None):
    """generate_assignment (source/ -> release/) and the checks file; optionally the exchange.

    Raises GradingError when the source notebook's solution fails one of its own checks,
    or when the assignment was released before and ``force`` is not given.
    """
    from lr_course.grading import course as course_mod
    from lr_course.grading.checks.modes import EXPECTED_SUFFIX, write_expected
    from lr_course.grading.engine import Grader, reference_entries
    from lr_course.grading.sandbox import Sandbox
    found = _find_course(course)
    found.check_assignment(assignment)
    source = found.source(assignment)
    target = found.root / "release" / assignment
    if target.exists() and not force:
        raise GradingError(f"{assignment} was released before ({target}); pass --force to "
                           "release it again (students who fetched it keep their copy)")
    box = sandbox if sandbox is not None else Sandbox()
    try:
        _validate(source, box, found.secret(), Grader)
        nbapi = api(found.root)
        _ok(nbapi.generate_assignment(assignment, force=True, create=True),
            "generate_assignment")
        seed = course_mod.seed(found.secret(), "release", assignment, "")
        entries = reference_entries(box, source, [seed], hidden=False)[seed]
    finally:
        if sandbox is None:
            box.close()
    checked = {e["check"]["cell"] for e in entries if "check" in e}
    points = {g: p for g, p in source.test_points().items() if g in checked}
    write_expected(target / f"{source.path.stem}{EXPECTED_SUFFIX}", assignment, seed, points,
                   entries)
    if exchange:
        _ok(api(found.root).release_assignment(assignment), "release_assignment")
    return target


def _validate(source, sandbox, secret, grader_class):
    """Refuse a source notebook whose solution does not earn full marks on its own checks."""
    grader = grader_class(source, sandbox, secret=secret, purpose="validate")
    result = grader.grade_file(source.path, "solution")
    lost = [f"{t.grade_id}: {c.description}: {c.message}" for t in result.tests
            for c in t.checks if not c.passed]
    if result.status != "graded" or lost or result.cell_errors:
        detail = "; ".join((result.cell_errors + lost)[:3]) or result.reason
        raise GradingError(f"the solution of {source.path.name} fails its own checks: {detail}")


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
    found_course = Course(course)
    known = {a: set(found_course.source(a).tests) for a in found_course.assignments()}
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
                found = identify(nb, notebooks[0], known)
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


def gradebook(course):
    """The course's gradebook, at the db_url of its nbgrader_config.py."""
    from nbgrader.api import Gradebook
    settings = Course(Path(course)).settings()
    return Gradebook(settings["db_url"], settings["course_id"])


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
