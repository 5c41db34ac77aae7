"""The batch's single writer: one student's gradebook rows, provenance, autograded copy, marker.

:class:`Writer` is what ``lr-course grade`` (and ``--merge``) does with a
:class:`~lr_course.grading.engine.SubmissionResult`, the way ``nbgrader autograde`` fills
the gradebook, with three differences:

* **hand grading survives**: ``manual_score``, ``manual_comment`` and ``extra_credit`` are
  never written, and an answer already hand-graded is not marked ``needs_manual_grade``
  again (nbgrader's autograde marks it again on every run);
* **provenance**: the row of :mod:`lr_course.grading.ledger` is written in the same
  transaction as the scores;
* **flags and reasons reach formgrader**: a flagged submission gets nbgrader's
  ``SubmittedNotebook.flagged``, and the first answer cell's ``auto_comment`` (formgrader
  shows it in that cell's comment box until the grader types a comment) says what was
  flagged and, for a submission that was not graded, why. The autograded notebook's test
  cells carry the check reports (what ``generate_feedback`` turns into the student's
  feedback); an unreadable submission gets one too, built from the release, whose test
  cells say why it was not graded.

The order of one write: the autograded notebook, then the gradebook rows and provenance
(one commit), then the result marker. A write that fails before its commit leaves the
student due for the next run; the marker only caches the result: whether a submission is
graded again is the provenance row's business (:func:`~.ledger.regrade_reason`).

:class:`GradebookSession` is the gradebook opened for one notebook's writes: it checks that
the assignment was released, reads what the gradebook knows (provenance rows, scored
students), writes and sums up; a grading run and ``lr-course grade --merge`` both use it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path

from lr_course.grading import ledger
from lr_course.grading.course import CourseError
from lr_course.grading.escape import terminal
from lr_course.grading.nbgrader_setup import (nbgrader_without_extensions,
                                               quiet_gradebook_warnings)
from lr_course.grading.sanitize import sanitize_notebook
from lr_course.grading.submission import SubmissionError, read_notebook

__all__ = ["Writer", "GradebookSession", "marker_path", "grader_note", "FLAG_PREFIX",
           "REASON_PREFIX", "MAX_COMMENT_CHARS"]

FLAG_PREFIX = "lr-course flagged: "          # a line of the auto comment for the instructor
REASON_PREFIX = "lr-course did not grade this submission: "
MAX_COMMENT_CHARS = 2000


def marker_path(course_dir, assignment: str, student: str) -> Path:
    """Where a student's result marker lives: outside ``autograded/``, because nbgrader's
    generate_feedback copies that folder, hidden files included, to the student."""
    return Path(course_dir, ".lr-course", "results", assignment, f"{student}.json")


def grader_note(result) -> str:
    """The engine's lines for formgrader's comment box: flags, and why a 0 was not graded.

    Every line is one line of escaped, bounded text (it quotes the student's code and files).

    >>> from lr_course.grading.engine import SubmissionResult
    >>> print(grader_note(SubmissionResult("a", "ps1", "invalid", "not valid JSON\\n")))
    lr-course did not grade this submission: not valid JSON\\n
    """
    lines = []
    if result.status != "graded":
        lines.append(REASON_PREFIX + terminal(result.reason, 500))
    for flag in result.flags[:10]:
        lines.append(FLAG_PREFIX + terminal(f"{flag.code}: {flag.message}", 300))
    if len(result.flags) > 10:
        lines.append(FLAG_PREFIX + f"... and {len(result.flags) - 10} more")
    return "\n".join(lines)[:MAX_COMMENT_CHARS]


def _src(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def atomic_write(path: Path, text: str):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class GradebookSession:
    """nbgrader's gradebook, open for the writes of one notebook of one assignment.

    Opening it checks that the assignment and notebook are in the gradebook (released) and
    reads what decides who is graded: :attr:`known` (student -> provenance row) and
    :attr:`scored` (students with a submission row). :meth:`write` writes one result
    (:class:`Writer`), :meth:`totals` reads the scores back.

    Raises:
        CourseError: the assignment or its notebook is not in the gradebook.
    """

    def __init__(self, db_url, course_id, course_dir, assignment, name, source,
                 source_digest: str):
        nbgrader_without_extensions()
        quiet_gradebook_warnings()      # a grading run has called it before its threads
        from nbgrader.api import Gradebook, MissingEntry
        self.assignment = assignment
        self.gb = Gradebook(db_url, course_id)
        try:
            try:
                found = self.gb.find_assignment(assignment)
            except MissingEntry:
                raise CourseError(f"{assignment} is not in the gradebook: release it first "
                                  f"(`lr-course release {assignment}` or nbgrader "
                                  "generate_assignment)") from None
            if name not in [n.name for n in found.notebooks]:
                raise CourseError(f"the gradebook has no notebook {name} in {assignment}")
            ledger.ensure_table(self.gb)
            self.known = ledger.read_provenance(self.gb, assignment)
            self.scored = {sub.student.id for sub in self.gb.assignment_submissions(assignment)}
            self.writer = Writer(self.gb, course_dir, assignment, name, source, source_digest,
                                 self.known)
        except BaseException:
            self.gb.close()
            raise

    def write(self, result):
        """Write one graded submission (see the module's docstring for the order)."""
        self.writer.write(result)

    def totals(self, students) -> dict:
        """student -> (score, max_score, points awaiting hand grading), for those with a
        submission row."""
        from nbgrader.api import MissingEntry
        out = {}
        for student in students:
            try:
                sub = self.gb.find_submission(self.assignment, student)
            except MissingEntry:
                continue
            awaiting = sum(g.max_score for nb in sub.notebooks for g in nb.grades
                           if g.needs_manual_grade)
            out[student] = (float(sub.score), float(sub.max_score), float(awaiting))
        return out

    def close(self):
        self.gb.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Writer:
    """Writes graded submissions of one notebook into an open nbgrader Gradebook."""

    def __init__(self, gb, course_dir, assignment, name, source, source_digest: str,
                 provenance: dict | None = None):
        self.gb, self.course_dir, self.assignment, self.name = gb, course_dir, assignment, name
        self.source, self.source_digest = source, source_digest
        self.provenance = dict(provenance or {})
        ledger.ensure_table(gb)
        nb = gb.find_notebook(name, assignment)
        # plain numbers: the rows expire at every commit, and reading one again is a query
        self.max_scores = {c.name: float(c.max_score) for c in nb.grade_cells}
        in_order = {gid: k for k, gid in enumerate(source.grade_ids)}
        self.comment_cells = sorted([c.name for c in nb.solution_cells]
                                    + [c.name for c in nb.task_cells],
                                    key=lambda g: (in_order.get(g, len(in_order)), g))
        release = course_dir / "release" / assignment / f"{name}.ipynb"
        self.released, self.release_nb = {}, None
        with contextlib.suppress(SubmissionError):
            self.release_nb, _ = read_notebook(release)
            for cell in self.release_nb["cells"]:
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if gid:
                    self.released[gid] = _src(cell)

    def write(self, result):
        student = result.student
        sub_dir = self.course_dir / "submitted" / student / self.assignment
        out_dir = self.course_dir / "autograded" / student / self.assignment
        # the files first: a write that fails before its commit leaves the student due
        out_dir.mkdir(parents=True, exist_ok=True)
        if result.status == "graded":
            nb = self._autograded(sub_dir / f"{self.name}.ipynb", result)
        else:
            nb = self._not_graded(result)
        if nb is not None:
            atomic_write(out_dir / f"{self.name}.ipynb", json.dumps(nb, indent=1))
        # nbgrader's generate_feedback and release_feedback read both beside the autograded
        # notebook (nbgrader autograde copies them there too)
        for kept in ("timestamp.txt", "submission_secret.txt"):
            if (sub_dir / kept).is_file() and not (sub_dir / kept).is_symlink():
                shutil.copyfile(sub_dir / kept, out_dir / kept)
        gb = self.gb
        gb.update_or_create_student(student)
        stamp = sub_dir / "timestamp.txt"
        kwargs = {}
        if stamp.is_file():
            with contextlib.suppress(OSError, UnicodeDecodeError):
                kwargs["timestamp"] = stamp.read_text().strip()[:64]
        try:
            gb.update_or_create_submission(self.assignment, student, **kwargs)
        except Exception:  # noqa: BLE001 - an unparsable timestamp is not worth a grade
            gb.db.rollback()
            gb.update_or_create_submission(self.assignment, student)
        nb_row = gb.find_submission_notebook(self.name, self.assignment, student)
        grades, comments = self._rows(nb_row)
        scores = {t.grade_id: t for t in result.tests}
        for gid, max_score in self.max_scores.items():
            grade = grades.get(gid) or gb.find_grade(gid, self.name, self.assignment, student)
            test = scores.get(gid)
            if test is not None:
                grade.auto_score = float(min(test.score, max_score))
            elif result.status != "graded":
                grade.auto_score = 0.0
            else:
                grade.auto_score = None    # a written answer: formgrader's job
            # A hand grade stands: the answer is not queued for hand grading again.
            grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
        submitted_cells = self._submitted_cells(result)
        note = grader_note(result)
        for k, gid in enumerate(self.comment_cells):
            comment = comments.get(gid) or gb.find_comment(gid, self.name, self.assignment,
                                                           student)
            unchanged = gid in self.released and submitted_cells.get(gid) == self.released[gid]
            lines = (["No response."] if unchanged else []) + ([note] if note and k == 0 else [])
            comment.auto_comment = "\n".join(lines) or None
        earlier = self.provenance.get(student)
        if result.flags:
            nb_row.flagged = True
        elif earlier is not None and earlier.flags:
            nb_row.flagged = False     # our own flag of an earlier version; a person's stays
        prov = ledger.Provenance(
            self.assignment, student, ledger.ENGINE, self.source_digest, result.digest,
            status=result.status, reason=result.reason,
            flags="\n".join(f"{f.code}: {f.message}" for f in result.flags))
        ledger.record_provenance(gb, prov)
        gb.db.commit()
        self.provenance[student] = prov
        marker = marker_path(self.course_dir, self.assignment, student)
        marker.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(marker, json.dumps(
            {"digest": result.digest, "engine": ledger.ENGINE,
             "source_digest": self.source_digest, "written": time.time(),
             "result": result.to_dict()}))

    def _rows(self, nb_row) -> tuple:
        """The submitted notebook's grade and comment rows by cell name, in two queries
        (``find_grade``/``find_comment`` per cell cost a query each, most of a write)."""
        from nbgrader.api import Comment, Grade
        from sqlalchemy.orm import joinedload
        db = self.gb.db
        grades = {g.cell.name: g for g in db.query(Grade).options(joinedload(Grade.cell))
                  .filter(Grade.notebook_id == nb_row.id)}
        comments = {c.cell.name: c for c in db.query(Comment).options(joinedload(Comment.cell))
                    .filter(Comment.notebook_id == nb_row.id)}
        return grades, comments

    def _submitted_cells(self, result):
        if result.status != "graded":
            return {}
        path = self.course_dir / "submitted" / result.student / self.assignment / f"{self.name}.ipynb"
        try:
            nb, _ = read_notebook(path)
        except SubmissionError:
            return {}
        return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): _src(c)
                for c in nb["cells"]}

    def _source_cells(self) -> dict:
        cells = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): c
                 for c in self.source.cells}
        cells.pop(None, None)
        return cells

    def _autograded(self, path, result) -> dict:
        """The submission with test cells (and grade metadata) from the source, verdicts shown."""
        nb, _ = read_notebook(path)
        source_cells = self._source_cells()
        tests = {t.grade_id: t for t in result.tests}
        cells, placed = [], set()
        for cell in nb["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            gid = meta.get("grade_id") if isinstance(meta, dict) else None
            if gid in self.source.tests:
                if gid not in placed:
                    cells.append(test_cell(source_cells[gid], tests.get(gid)))
                    placed.add(gid)
                continue
            if isinstance(meta, dict) and meta.get("grade") and not meta.get("solution"):
                continue   # an unknown "test" cell planted by the submission
            cell = dict(cell)
            if gid in source_cells:   # grade metadata is the source's, never the student's
                cell["metadata"] = dict(cell.get("metadata", {}),
                                        nbgrader=dict(source_cells[gid]["metadata"]["nbgrader"]))
            if cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
            cells.append(cell)
        for gid in self.source.tests:
            if gid not in placed:
                cells.append(test_cell(source_cells[gid], tests.get(gid)))
        nb["cells"] = cells
        return sanitize_notebook(nb)   # formgrader shows it in the instructor's browser

    def _not_graded(self, result):
        """For a submission that could not be read: the release, its test cells saying why
        (so formgrader has a page for it and generate_feedback tells the student)."""
        if self.release_nb is None:
            return None
        nb = json.loads(json.dumps(self.release_nb))
        source_cells = self._source_cells()
        tests = {t.grade_id: t for t in result.tests}
        cells = []
        for cell in nb["cells"]:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if gid in self.source.tests:
                cells.append(test_cell(source_cells[gid], tests.get(gid)))
            else:
                if cell.get("cell_type") == "code":
                    cell["outputs"], cell["execution_count"] = [], None
                cells.append(cell)
        nb["cells"] = cells
        return sanitize_notebook(nb)


def test_cell(src_cell, test) -> dict:
    """A source test cell with the check report as its output (what a kernel would show)."""
    cell = {"cell_type": "code", "execution_count": None, "id": src_cell.get("id", "x"),
            "metadata": dict(src_cell.get("metadata", {})), "source": _src(src_cell),
            "outputs": []}
    if test is None:
        return cell
    lines = [f"[{'PASS' if c.passed else 'FAIL'}] ({c.points if c.passed else 0:g}/{c.points:g}) "
             f"{c.description}: {c.message}" + (f"\n       hint: {c.hint}" if c.hint else "")
             for c in test.checks]
    # What a check shows in a kernel: the report on stdout; then, as nbgrader reads a test
    # cell's outputs, an error for no credit or the score as the cell's value for part of it.
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "\n".join(lines) + "\n"}]
    if test.score == 0 and test.points > 0:
        cell["outputs"].append({"output_type": "error", "ename": "AssertionError",
                                "evalue": f"{test.grade_id} failed", "traceback": []})
    elif test.score < test.points:
        cell["outputs"].append({"output_type": "execute_result", "execution_count": None,
                                "metadata": {}, "data": {"text/plain": f"{test.score:g}"}})
    return cell


test_cell.__test__ = False   # not a pytest test, despite its name
