"""Grade a whole class: parallel sandboxes, one gradebook writer, resumable, locked.

``grade_assignment(course_dir, "ps2_adaptive")`` grades every ``submitted/<student>/
<assignment>/`` of an nbgrader course:

* worker threads (2 by default) each drive one sandbox at a time and judge its records
  (the student's code runs in the sandbox's processes, so threads give real parallelism);
  the main thread alone writes the gradebook, the ``autograded/`` copy formgrader shows,
  the feedback and a per-student result marker;
* the gradebook is populated the way ``nbgrader autograde`` does it (student, submission,
  an ``auto_score`` per grade cell, ``needs_manual_grade`` for written answers, comments),
  so formgrader hand-grading and ``nbgrader export`` work as usual;
* resumable: the marker ``.lr-course/results/<assignment>/<student>.json`` is
  written (atomically, by rename) after that student's gradebook rows are committed. A
  re-run skips students whose marker matches their submission's sha256; a student whose
  rows were written but whose marker was not (a SIGKILL in between) is graded again and
  the same rows are overwritten, never added: no grade is lost or doubled;
* a lock file (``fcntl.flock``) makes a second grader on the same course wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from lr_course.grading.course import Course
from lr_course.grading.engine import Grader, SubmissionResult
from lr_course.grading.escape import terminal
from lr_course.grading.feedback import to_html, to_markdown
from lr_course.grading.sandbox import Limits, Sandbox
from lr_course.grading.sanitize import sanitize_notebook
from lr_course.grading.submission import GradingError, SubmissionError, read_notebook

__all__ = ["grade_assignment", "BatchReport", "CourseError", "marker_path", "LOCK",
           "load_results"]

LOCK = ".lr_course_grading.lock"


class CourseError(GradingError):
    """The course directory is not ready for grading (the message says what to do)."""


def marker_path(course_dir, assignment: str, student: str) -> Path:
    """Where a student's result marker lives: outside ``autograded/``, because nbgrader's
    generate_feedback copies that folder, hidden files included, to the student."""
    return Path(course_dir, ".lr-course", "results", assignment, f"{student}.json")


@dataclass
class BatchReport:
    """What a grading run did."""

    assignment: str
    isolated: bool
    graded: list = field(default_factory=list)      # students graded in this run
    resumed: list = field(default_factory=list)     # skipped: already graded, unchanged
    invalid: list = field(default_factory=list)     # unreadable submissions (scored 0)
    missing: list = field(default_factory=list)     # requested but nothing submitted
    flagged: dict = field(default_factory=dict)     # student -> flag messages
    results: dict = field(default_factory=dict)     # student -> SubmissionResult
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [f"{self.assignment}: graded {len(self.graded)}, already graded "
                 f"{len(self.resumed)}, unreadable {len(self.invalid)}, missing "
                 f"{len(self.missing)} in {self.seconds:.1f} s"
                 + ("" if self.isolated else "  [NOT ISOLATED: bubblewrap missing]")]
        # student ids and flag messages are the student's: no control character reaches
        # the instructor's terminal (lr_course.grading.escape)
        for student in self.invalid:
            lines.append(f"  unreadable: {terminal(student)}: "
                         f"{terminal(self.results[student].reason, 500)}")
        for student in self.missing:
            lines.append(f"  missing: {terminal(student)}")
        for student, messages in sorted(self.flagged.items()):
            lines.append(f"  FLAGGED {terminal(student)}: "
                         + "; ".join(terminal(m, 300) for m in messages[:6])
                         + (" ..." if len(messages) > 6 else ""))
        return "\n".join(lines)


@contextlib.contextmanager
def _course_lock(course_dir: Path, timeout: float | None, progress: bool):
    path = course_dir / LOCK
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if progress or timeout is not None:
                print(f"another grader is running on {course_dir}; waiting for it to "
                      "finish...", file=sys.stderr, flush=True)
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() > deadline:
                        raise CourseError(f"another grader holds {path}; try again later") from None
                    time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _students(course_dir: Path, assignment: str, requested) -> tuple[list, list]:
    submitted = course_dir / "submitted"
    present = sorted(p.parent.name for p in submitted.glob(f"*/{assignment}")
                     if not p.parent.name.startswith(".")) if submitted.is_dir() else []
    if requested is None:
        return present, []
    requested = list(dict.fromkeys(requested))
    return ([s for s in requested if s in present],
            [s for s in requested if s not in present])


def load_results(course_dir, assignment: str) -> dict:
    """student -> SubmissionResult, from the markers of earlier runs."""
    out = {}
    for marker in marker_path(course_dir, assignment, "x").parent.glob("*.json"):
        with contextlib.suppress(ValueError, KeyError, TypeError, OSError):
            out[marker.stem] = SubmissionResult.from_dict(
                json.loads(marker.read_text())["result"])
    return out


def _progress(done, total, flagged, start):
    rate = done / max(time.monotonic() - start, 1e-9)
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
                     f"{rate:.1f}/s, {flagged} flagged ")
    sys.stderr.flush()


def grade_assignment(course_dir, assignment: str, *, students=None, workers: int = 2,
                     force: bool = False, require_isolation: bool = False,
                     limits: Limits | None = None, db_url: str | None = None,
                     progress: bool = True, lock_timeout: float | None = None,
                     sandbox=None, time_limits: dict | None = None) -> BatchReport:
    """Grade every submission of ``assignment`` in the nbgrader course at ``course_dir``.

    Args:
        course_dir: the nbgrader course root (``source/``, ``submitted/``, gradebook).
        assignment: an assignment of the course (a folder of ``source/``).
        students: only these students (default: everyone who submitted).
        workers: sandboxes run at once (the machine's cores are a good choice).
        force: grade again even students already graded (unchanged submissions).
        require_isolation: fail instead of grading unisolated when bwrap is missing.
        limits: sandbox limits (:class:`~lr_course.grading.sandbox.Limits`).
        db_url: the gradebook (default: nbgrader_config.py's, else gradebook.db).
        progress: draw a progress bar on stderr.
        lock_timeout: seconds to wait for another grader (None: wait as long as needed).
        sandbox: where notebook code runs (default: a :class:`Sandbox` with ``limits``);
            tests pass :class:`~lr_course.grading.inprocess.InProcess` for trusted code.
        time_limits: ``{"cell_seconds", "call_seconds"}``, over nbgrader_config.py's.

    Returns:
        A :class:`BatchReport`.
    """
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    course_dir = Path(course_dir).resolve()
    if not course_dir.is_dir():
        raise CourseError(f"no course directory at {course_dir}")
    course = Course(course_dir)
    course.check_assignment(assignment)
    settings = course.settings()
    db_url = db_url or settings["db_url"]
    name = course.notebook_name(assignment)
    try:
        source = course.source(assignment)
    except SubmissionError as exc:
        raise CourseError(f"cannot read the source notebook: {exc}") from None
    secret = course.secret()
    start = time.monotonic()
    # nbgrader's Gradebook runs `alembic` from PATH on a new database: the venv's bin.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    own_box = sandbox is None
    box = Sandbox(limits=limits, require_isolation=require_isolation) if own_box else sandbox
    with _course_lock(course_dir, lock_timeout, progress), \
            (box if own_box else contextlib.nullcontext()):
        report = BatchReport(assignment, box.isolated)
        todo, report.missing = _students(course_dir, assignment, students)
        grader = Grader(source, box, secret=secret,
                        cache=course_dir / ".lr-course" / "references" / assignment,
                        time_limits={**settings["time_limits"], **(time_limits or {})})
        jobs = []
        for student in todo:
            path = course_dir / "submitted" / student / assignment / f"{name}.ipynb"
            marker = marker_path(course_dir, assignment, student)
            if not force and _up_to_date(marker, path):
                report.resumed.append(student)
                continue
            jobs.append((student, path))
        if jobs:
            # The solution's records for every student's inputs, in a few sandbox runs.
            grader.prepare([student for student, _ in jobs])
            with ThreadPoolExecutor(max_workers=workers) as pool:
                # The sandboxes start first: importing nbgrader takes seconds, overlap it.
                futures = {pool.submit(grader.grade_file, path, student): student
                           for student, path in jobs}
                try:
                    _write_all(report, futures, course_dir, assignment, name, source,
                               db_url, settings["course_id"], progress, start)
                except BaseException:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
            if progress:
                sys.stderr.write("\n")
    report.graded.sort()
    report.seconds = time.monotonic() - start
    return report


def _write_all(report, futures, course_dir, assignment, name, source, db_url, course_id,
               progress, start):
    """The single writer's loop: one student's rows, files and marker at a time."""
    from nbgrader.api import Gradebook, MissingEntry
    with Gradebook(db_url, course_id) as gb:
        try:
            gb_assignment = gb.find_assignment(assignment)
        except MissingEntry:
            raise CourseError(f"{assignment} is not in the gradebook: release it first "
                              f"(`lr-course release {assignment}` or nbgrader "
                              "generate_assignment)") from None
        if name not in [n.name for n in gb_assignment.notebooks]:
            raise CourseError(f"the gradebook has no notebook {name} in {assignment}")
        writer = _Writer(gb, course_dir, assignment, name, source)
        for done, future in enumerate(as_completed(futures), 1):
            result = future.result()
            writer.write(result)
            report.results[result.student] = result
            report.graded.append(result.student)
            if result.status == "invalid":
                report.invalid.append(result.student)
            if result.flags:
                report.flagged[result.student] = [f"{f.code}: {f.message}" for f in result.flags]
            if progress:
                _progress(done, len(futures), len(report.flagged), start)


def _up_to_date(marker: Path, path: Path) -> bool:
    from lr_course.grading.engine import _digest
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("digest") == _digest(path)


class _Writer:
    """The single writer: gradebook rows, autograded notebook, feedback, marker."""

    def __init__(self, gb, course_dir, assignment, name, source):
        self.gb, self.course_dir, self.assignment, self.name = gb, course_dir, assignment, name
        self.source = source
        nb = gb.find_notebook(name, assignment)
        self.grade_cells = {c.name: c for c in nb.grade_cells}
        self.comment_cells = [c.name for c in nb.solution_cells] + [c.name for c in nb.task_cells]
        release = course_dir / "release" / assignment / f"{name}.ipynb"
        self.released = {}
        with contextlib.suppress(SubmissionError):
            rel, _ = read_notebook(release)
            for cell in rel["cells"]:
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if gid:
                    self.released[gid] = _src(cell)

    def write(self, result: SubmissionResult):
        # nbgrader's own add_submission trips SQLAlchemy 2 autoflush warnings (harmless,
        # nbgrader autograde shows them too): keep them off the instructor's terminal.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="sqlalchemy")
            warnings.filterwarnings("ignore", message=".*not in session.*")
            self._write(result)

    def _write(self, result: SubmissionResult):
        student = result.student
        sub_dir = self.course_dir / "submitted" / student / self.assignment
        out_dir = self.course_dir / "autograded" / student / self.assignment
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
        scores = {t.grade_id: t for t in result.tests}
        for gid, cell in self.grade_cells.items():
            grade = gb.find_grade(gid, self.name, self.assignment, student)
            test = scores.get(gid)
            if test is not None:
                grade.auto_score = float(min(test.score, cell.max_score))
            elif result.status != "graded":
                grade.auto_score = 0.0
            else:
                grade.auto_score = None    # a written answer: formgrader's job
            grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
        submitted_cells = self._submitted_cells(result)
        for gid in self.comment_cells:
            comment = gb.find_comment(gid, self.name, self.assignment, student)
            unchanged = gid in self.released and submitted_cells.get(gid) == self.released[gid]
            comment.auto_comment = "No response." if unchanged else None
        gb.db.commit()
        out_dir.mkdir(parents=True, exist_ok=True)
        if result.status == "graded":
            _atomic_write(out_dir / f"{self.name}.ipynb", json.dumps(
                self._autograded(sub_dir / f"{self.name}.ipynb", result), indent=1))
        feedback_dir = self.course_dir / "feedback" / student / self.assignment
        feedback_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(feedback_dir / f"{self.name}.html", to_html(result))
        _atomic_write(feedback_dir / f"{self.name}.md", to_markdown(result))
        # nbgrader's release_feedback reads both beside the feedback (autograde copies them)
        for kept in ("timestamp.txt", "submission_secret.txt"):
            if (sub_dir / kept).is_file() and not (sub_dir / kept).is_symlink():
                for folder in (out_dir, feedback_dir):
                    shutil.copyfile(sub_dir / kept, folder / kept)
        marker = marker_path(self.course_dir, self.assignment, student)
        marker.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(marker, json.dumps(
            {"digest": result.digest, "written": time.time(), "result": result.to_dict()}))

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

    def _autograded(self, path, result) -> dict:
        """The submission with test cells (and grade metadata) from the source, verdicts shown."""
        nb, _ = read_notebook(path)
        source_cells = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): c
                        for c in self.source.cells}
        source_cells.pop(None, None)
        tests = {t.grade_id: t for t in result.tests}
        cells, placed = [], set()
        for cell in nb["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            gid = meta.get("grade_id") if isinstance(meta, dict) else None
            if gid in self.source.tests:
                if gid not in placed:
                    cells.append(_test_cell(source_cells[gid], tests.get(gid)))
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
                cells.append(_test_cell(source_cells[gid], tests.get(gid)))
        nb["cells"] = cells
        return sanitize_notebook(nb)   # formgrader shows it in the instructor's browser


def _test_cell(src_cell, test) -> dict:
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


def _src(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _atomic_write(path: Path, text: str):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
