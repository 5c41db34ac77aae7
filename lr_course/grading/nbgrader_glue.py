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
import sys
from pathlib import Path

from lr_course.grading.course import Course, find_course as _find_course
from lr_course.grading.nbgrader_setup import quiet_gradebook_warnings
from lr_course.grading.submission import GradingError


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
    quiet_gradebook_warnings()
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    # The engine's flags (in formgrader's comment box) never reach a student's feedback.
    ours = "lr_course.grading.nbgrader_preprocessors.GraderComments"
    chain = list(config.GenerateFeedback.get("preprocessors", None) or
                 ["nbgrader.preprocessors.GetGrades",
                  "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"])
    if ours not in [c if isinstance(c, str) else f"{c.__module__}.{c.__name__}" for c in chain]:
        config.GenerateFeedback.preprocessors = chain + [ours]
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


def collect(course, assignment, source=None, layout=None, roster=None) -> dict:
    """Bring submissions into ``submitted/<student>/<assignment>/``, trusting none of them.

    ``source`` is a zip file or a folder: an LMS's download (Canvas, Moodle, Blackboard;
    detected, or ``layout=``) or one folder per student (``<student>/[<assignment>/]
    *.ipynb``); None collects from nbgrader's exchange (each student's latest submission).
    ``roster`` (a :class:`~lr_course.grading.roster.Roster`) maps LMS keys to student ids.
    No symbolic link is followed, an exchange folder must be its student's own, and sizes
    are checked before anything is written (:mod:`lr_course.grading.collect`). Returns the
    :meth:`~lr_course.grading.collect.CollectResult.to_dict`: ``collected``, ``refused``
    (student, where, reason, key), ``skipped`` (``{student: reason}``), ``taken`` (with
    times and Canvas's late marker), ``ignored`` and ``notes``; it is also kept in
    ``collect_log/<assignment>.json`` for the report, and refused students are added to the
    gradebook.
    """
    from lr_course.grading import collect as collecting
    course = find_course(course)
    _check_assignment(course, assignment)
    if source is None:
        if layout is not None or roster is not None:
            raise GradingError("--layout and --roster apply to a zip or a folder, not to "
                               "nbgrader's exchange")
        from lr_course.grading.inbound import collect_inbound
        result = collect_inbound(course, assignment, exchange_inbound(course))
    else:
        result = collecting.collect_source(course, assignment, source, layout, roster)
    _enrol(course, result)
    collecting.write_log(course, result)
    return result.to_dict()


def _with_tools_on_path() -> None:
    """nbgrader runs ``alembic`` from PATH when it creates a gradebook: this environment's."""
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def _enrol(course, result) -> list:
    """Give each refused student a gradebook row (a 0 in the export); a failure is a note."""
    from lr_course.grading.collect import refused_students
    students = refused_students(result)
    if not students:
        return []
    _with_tools_on_path()
    try:
        quiet_gradebook_warnings()
        with gradebook(course) as gb:
            for student in students:
                gb.update_or_create_student(student)
    except Exception as exc:  # noqa: BLE001 - the log still holds every refusal
        result.notes.append(f"the refused students could not be added to the gradebook "
                            f"({type(exc).__name__}: {str(exc)[:200]})")
        return []
    return students


def refusals(course, assignment) -> list:
    """What the latest collect of ``assignment`` refused (for the report and the export)."""
    from lr_course.grading import collect as collecting
    return collecting.read_log(find_course(course), assignment)


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
    """``{student: {grade_id: (score, max_score)}}`` from the gradebook (graded cells only).

    ``score`` is nbgrader's: the hand grade where there is one, else the automatic one;
    None for a written answer still waiting for hand grading.
    """
    out = {}
    with gradebook(course) as gb:
        for sub in gb.assignment_submissions(assignment):
            cells = {}
            for nb in sub.notebooks:
                for g in nb.grades:
                    waiting = g.manual_score is None and g.auto_score is None
                    cells[g.name] = (None if waiting else g.score, g.max_score)
            out[sub.student.id] = cells
    return out


def grade_order(course, assignment, names=()) -> list:
    """The grade cells of ``assignment`` in notebook order (the source's), then any other
    ``names`` the gradebook knows, sorted."""
    try:
        order = [g for g in Course(Path(course)).source(assignment).grade_ids]
    except GradingError:
        order = []
    graded = set(names)
    if graded:
        order = [g for g in order if g in graded]
    return order + sorted(graded - set(order))


def notes(course, assignment) -> dict:
    """``{student: {"flags": [...], "reason": str}}``: the engine's flags and why a
    submission was not graded (the provenance table), and why collect refused one."""
    from lr_course.grading import ledger
    out = {}
    with gradebook(course) as gb:
        for student, prov in ledger.read_provenance(gb, assignment).items():
            flags = [f for f in prov.flags.splitlines() if f]
            reason = prov.reason if prov.status != "graded" else ""
            if flags or reason:
                out[student] = {"flags": flags, "reason": reason}
    for r in refusals(course, assignment):
        if r.student:
            entry = out.setdefault(r.student, {"flags": [], "reason": ""})
            entry.setdefault("refused", []).append(f"{r.where}: {r.reason}")
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


def export_rows(gb, course=None) -> tuple[list, list]:
    """The header and rows of the CSV export: nbgrader's columns, unchanged, first; then
    one column per grade cell (``assignment:grade_id``, in notebook order) and ``flags``
    and ``reason``. One row per assignment and student, students by id; a student collect
    refused (and who has no submission) has 0 and the refusal as the reason. A written
    answer still awaiting hand grading is an empty cell (its points are not in ``score``)."""
    from nbgrader.api import MissingEntry

    from lr_course.grading import ledger
    header, rows = list(EXPORT_COLUMNS), []
    assignments = sorted(gb.assignments, key=lambda a: a.name)
    columns = {}
    for assignment in assignments:
        names = {c.name for nb in assignment.notebooks for c in nb.grade_cells}
        columns[assignment.name] = grade_order(course, assignment.name, names) \
            if course is not None else sorted(names)
        header += [f"{assignment.name}:{g}" for g in columns[assignment.name]]
    header += ["flags", "reason"]
    students = {s.id: s for s in gb.students}
    for assignment in assignments:
        provenance = ledger.read_provenance(gb, assignment.name)
        refused = {}
        if course is not None:
            for r in refusals(course, assignment.name):
                if r.student:
                    refused.setdefault(r.student, []).append(f"refused at collect: {r.reason}")
        for student_id in sorted(set(students) | set(refused)):
            student = students.get(student_id)
            row = {"assignment": assignment.name, "duedate": assignment.duedate,
                   "student_id": student_id, "max_score": assignment.max_score,
                   "last_name": getattr(student, "last_name", None),
                   "first_name": getattr(student, "first_name", None),
                   "email": getattr(student, "email", None)}
            cells, reason = {}, ""
            try:
                sub = gb.find_submission(assignment.name, student_id)
            except MissingEntry:
                row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
                reason = "; ".join(refused.get(student_id, []))
            else:
                penalty = sub.late_submission_penalty
                row.update(timestamp=sub.timestamp, raw_score=sub.score,
                           late_submission_penalty=penalty,
                           score=max(0.0, sub.score - (penalty or 0.0)))
                cells = {g.name: None if g.manual_score is None and g.auto_score is None
                         else g.score for nb in sub.notebooks for g in nb.grades}
            prov = provenance.get(student_id)
            if prov is not None and prov.status != "graded":
                reason = prov.reason
            flags = "; ".join(f for f in (prov.flags.splitlines() if prov else []) if f)
            rows.append([row[key] for key in EXPORT_COLUMNS]
                        + [cells.get(g) if a.name == assignment.name else None
                           for a in assignments for g in columns[a.name]]
                        + [flags, reason])
    return header, rows


def export(course, to="grades.csv"):
    """The CSV export of the whole gradebook (nbgrader's columns first), safe for a spreadsheet.

    nbgrader's own exporter joins fields with commas unquoted, so a comma or a newline in a
    student's name shifts or splits a row, and a leading ``=`` is a formula. Here every
    cell goes through :func:`~lr_course.grading.escape.csv_cell` (no formula, no control
    character) and :mod:`csv` quotes it. A missing folder for ``to`` is an error (nothing
    is created where the instructor did not ask).
    """
    import csv

    from lr_course.grading.escape import csv_cell
    course = find_course(course)
    to = Path(to) if Path(to).is_absolute() else course / to
    if not to.parent.is_dir():
        raise GradingError(f"cannot export to {to}: the folder {to.parent} does not exist "
                           "(create it first)")
    if to.is_dir():
        raise GradingError(f"cannot export to {to}: it is a folder; give a file name")
    with gradebook(course) as gb:
        header, rows = export_rows(gb, course)
    tmp = to.with_name(f".{to.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([csv_cell(h) for h in header])
        writer.writerows([csv_cell("" if v is None else v) for v in row] for row in rows)
    os.replace(tmp, to)
    return to
