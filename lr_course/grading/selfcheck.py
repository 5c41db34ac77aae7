"""``lr-course check``: one notebook graded for its author by the batch's own engine.

:func:`check_notebook` finds what it can grade against. With the course's source notebook
at hand (a course given, or found in a parent folder of the notebook or in its
``autograder/`` folder) every test runs, on the self-check's own seed, never the final
grade's; without it, the visible tests run against the checks file released beside the
notebook (:mod:`~lr_course.grading.checks.modes`). Either way the notebook is graded by
:class:`~lr_course.grading.engine.Grader` in a warm sandbox, as the class's grading is.
"""

from __future__ import annotations

from pathlib import Path

from lr_course.grading import course as course_mod
from lr_course.grading.engine import Grader
from lr_course.grading.reference import Reference
from lr_course.grading.sandbox import Sandbox
from lr_course.grading.submission import (GradingError, SourceNotebook, SubmissionError,
                                          read_notebook)

__all__ = ["check_notebook"]


def check_notebook(path, assignment: str | None = None, *, course=None,
                   require_isolation: bool = False, sandbox=None,
                   time_limits: dict | None = None) -> tuple:
    """Grade one notebook for its author (``lr-course check``): the batch's engine, no gradebook.

    With the course's source notebook at hand (``course``, or a course found in a parent
    folder of the notebook, or in its ``autograder/`` folder), every test
    runs, on the self-check's own seed (never the final grade's). Without it, the visible
    tests run against the checks file released beside the notebook.

    Returns ``(result, mode)`` where mode is ``"all tests"`` or ``"visible tests only"``.

    Raises:
        SubmissionError: the file is not a readable notebook of a graded assignment, or
            not of ``assignment``.
        GradingError: neither the source nor a checks file is at hand.
    """
    from lr_course.grading.checks import modes
    path = Path(path)
    nb, _ = read_notebook(path)
    try:
        released = modes.read_expected(modes.find_expected(path.parent))
    except modes.ExpectedError:
        released = None
    found_course = _course_near(path, course)
    if found_course is not None:
        known = {a: set(found_course.source(a).tests) for a in found_course.assignments()}
        from lr_course.grading.submission import identify
        actual = identify(nb, path, known)
    elif released is not None:
        actual = released["assignment"]
    else:
        raise GradingError(f"cannot check {path.name}: neither the course's source notebook "
                           f"(pass --course DIR) nor the {modes.EXPECTED_SUFFIX} file released "
                           "with it is here")
    if assignment is not None and actual != assignment:
        raise SubmissionError(f"{path} is a notebook of {actual}, not of {assignment}")
    source = found_course.source(actual) if found_course is not None and \
        actual in found_course.assignments() else None
    student = path.stem   # no student id in a self-check: the file's name keys its seed
    if source is not None:
        # a limit not given (None) leaves the course's own in place
        time_limits = {**found_course.settings()["time_limits"],
                       **{k: v for k, v in (time_limits or {}).items() if v is not None}}
        grader_args = dict(secret=found_course.secret(), purpose="check",
                           cache=found_course.root / ".lr-course" / "references" / actual)
        mode = "all tests"
    elif released is not None:
        source = _released_source(path, released)
        entries = released["entries"]
        ref = Reference.from_entries(entries, list(released["points"]))
        grader_args = dict(references={released["seed"]: ref})
        mode = "visible tests only"
    else:
        raise GradingError(f"cannot check {path.name}: the course at hand has no source of "
                           f"{actual} and no {modes.EXPECTED_SUFFIX} file is beside it")
    grader_args["time_limits"] = time_limits
    if sandbox is not None:
        return Grader(source, sandbox, **grader_args).grade_file(path, student), mode
    # The student runs this: the instructor's warning about grading unisolated is not
    # theirs; the report's note says the run was not isolated (feedback._run_note).
    # Warm, as the class's grading is: a self-check sees what the final grading sees.
    with Sandbox(require_isolation=require_isolation, warn=False,
                 submissions=path.parent) as box:
        return Grader(source, box, **grader_args).grade_file(path, student), mode


def _course_near(path, course):
    """The course given, or the first course in a parent folder of ``path`` (or its
    ``autograder/`` folder), or None."""
    if course is not None:
        return course_mod.find_course(course)
    for parent in Path(path).resolve().parents:
        for root in (parent, parent / "autograder"):
            if (root / "nbgrader_config.py").is_file() and (root / "source").is_dir():
                return course_mod.Course(root)
    return None


def _released_source(path: Path, released: dict) -> SourceNotebook:
    """A stand-in source for the visible-only check: the points of the released tests."""
    cells = [{"cell_type": "code", "source": "", "metadata": {"nbgrader": {
        "grade": True, "solution": False, "grade_id": gid, "points": points}}}
        for gid, points in released["points"].items()]
    return SourceNotebook(path, cells, released["assignment"],
                          tests={c["metadata"]["nbgrader"]["grade_id"]: c for c in cells},
                          grade_ids=list(released["points"]))
