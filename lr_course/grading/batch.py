"""Grade a whole class: parallel sandboxes, one gradebook writer, resumable, locked, sharded.

``grade_assignment(course_dir, "ps2_adaptive")`` grades every ``submitted/<student>/
<assignment>/`` of an nbgrader course:

* worker threads (2 by default) each drive one sandbox at a time and judge its records
  (the student's code runs in the sandbox's processes, so threads give real parallelism);
  the main thread alone writes (:class:`~lr_course.grading.writer.Writer`): the
  ``autograded/`` copy formgrader shows and ``lr-course feedback`` turns into feedback,
  gradebook rows the way ``nbgrader autograde`` writes them with the provenance row
  (:mod:`lr_course.grading.ledger`) in the same commit, and a per-student result marker;
  a write that fails stops the batch with the student's name and reason;
* **one rule** says who is graded (:func:`~lr_course.grading.ledger.regrade_reason`): a
  submission without a provenance row (new, or scored by ``nbgrader autograde``), or whose
  engine, source notebook or submitted file changed. A run killed anywhere resumes: rows and
  provenance are committed together, so a student is either done or graded again (the same
  rows overwritten, never added); hand grades and comments are never written;
* ``submitted/`` folder names must be student ids
  (:func:`~lr_course.grading.collect.safe_student_id`): others are skipped with the reason;
* ``shard=(k, N)`` grades only the students of shard ``k`` (:func:`~.ledger.shard_of`, a
  hash of the id) and writes result files, never the gradebook; ``merge=True`` writes the
  gradebook from every shard's results, refusing when one is missing or stale;
* Ctrl-C stops within seconds: queued students are cancelled, running sandboxes killed,
  and the report says how many were graded (a rerun continues);
* a lock file (``fcntl.flock``) makes a second grader on the same course wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from lr_course.grading import ledger
from lr_course.grading.collect import safe_student_id
from lr_course.grading.course import Course, CourseError
from lr_course.grading.engine import Grader, SubmissionResult, _digest
from lr_course.grading.escape import terminal
from lr_course.grading.nbgrader_setup import quiet_gradebook_warnings
from lr_course.grading.sandbox import Limits, Sandbox
from lr_course.grading.submission import GradingError, SubmissionError
from lr_course.grading.writer import GradebookSession, marker_path

__all__ = ["grade_assignment", "BatchReport", "CourseError", "marker_path", "LOCK",
           "load_results"]

LOCK = ".lr_course_grading.lock"


@dataclass
class BatchReport:
    """What a grading run did."""

    assignment: str
    isolated: bool
    graded: list = field(default_factory=list)      # students graded in this run
    resumed: list = field(default_factory=list)     # skipped: already graded, unchanged
    invalid: list = field(default_factory=list)     # unreadable submissions (scored 0)
    reasons: dict = field(default_factory=dict)     # unreadable student -> why
    missing: list = field(default_factory=list)     # requested but nothing submitted
    rejected: dict = field(default_factory=dict)    # folder name -> why it is no student id
    regraded: dict = field(default_factory=dict)    # student -> why their scores were redone
    flagged: dict = field(default_factory=dict)     # student -> flag messages
    results: dict = field(default_factory=dict)     # student -> SubmissionResult
    totals: dict = field(default_factory=dict)      # student -> (score, max, awaiting hand)
    shard: tuple | None = None                      # (k, N) of a shard run
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        """Something was not graded: unreadable, missing, or a folder that is no student."""
        return bool(self.invalid or self.missing or self.rejected)

    def _reason(self, student) -> str:
        if student in self.reasons:
            return self.reasons[student]
        found = self.results.get(student)
        return found.reason if found is not None else ""

    def summary(self) -> str:
        where = "" if self.shard is None else f" (shard {self.shard[0]}/{self.shard[1]})"
        lines = [f"{self.assignment}{where}: graded {len(self.graded)}, already graded "
                 f"{len(self.resumed)}, unreadable {len(self.invalid)}, missing "
                 f"{len(self.missing)}" + (f", skipped {len(self.rejected)}"
                                           if self.rejected else "")
                 + f" in {self.seconds:.1f} s"
                 + ("" if self.isolated else "  [NOT ISOLATED: bubblewrap missing]")]
        if self.totals:
            score = sum(t[0] for t in self.totals.values())
            top = sum(t[1] for t in self.totals.values())
            awaiting = sum(t[2] for t in self.totals.values())
            lines.append(f"  gradebook: {score:g}/{top:g} points over {len(self.totals)} "
                         "students" + (f"; {awaiting:g} points await hand grading"
                                       if awaiting else ""))
        by_reason: dict = {}
        for student, why in sorted(self.regraded.items()):
            by_reason.setdefault(why, []).append(terminal(student))
        for why, who in by_reason.items():
            lines.append(f"  regraded ({why}): {', '.join(who[:8])}"
                         + (f" and {len(who) - 8} more" if len(who) > 8 else ""))
        # student ids and flag messages are the student's: no control character reaches
        # the instructor's terminal (lr_course.grading.escape)
        for student in self.invalid:
            lines.append(f"  unreadable: {terminal(student)}: "
                         f"{terminal(self._reason(student), 500)}")
        for student in self.missing:
            lines.append(f"  missing: {terminal(student)}")
        for folder, why in sorted(self.rejected.items()):
            lines.append(f"  skipped folder {terminal(folder, 120)}: {why}")
        for student, messages in sorted(self.flagged.items()):
            lines.append(f"  FLAGGED {terminal(student)}: "
                         + "; ".join(terminal(m, 300) for m in messages[:6])
                         + (" ..." if len(messages) > 6 else ""))
        return "\n".join(lines)


@contextlib.contextmanager
def _lock(path: Path, timeout: float | None, what: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # said even with --quiet: a grader that seems to hang must say why
            print(f"another grader is running on {what}; waiting for it to finish...",
                  file=sys.stderr, flush=True)
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


def _students(course_dir: Path, assignment: str, requested) -> tuple[list, list, dict]:
    """(present and wanted, requested but absent, {folder: why skipped})."""
    submitted = course_dir / "submitted"
    present, rejected = [], {}
    if submitted.is_dir():
        for p in sorted(submitted.glob(f"*/{assignment}")):
            name = p.parent.name
            if name.startswith("."):
                continue
            if not safe_student_id(name):
                rejected[name] = ("not a plain student id (letters, digits and ._@+-, not "
                                  "first); rename the folder, or collect again")
                continue
            present.append(name)
    if requested is None:
        return present, [], rejected
    requested = list(dict.fromkeys(requested))
    return ([s for s in requested if s in present],
            [s for s in requested if s not in present and s not in rejected],
            {k: v for k, v in rejected.items() if k in requested})


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
                     sandbox=None, time_limits: dict | None = None, shard=None,
                     merge: bool = False) -> BatchReport:
    """Grade every submission of ``assignment`` in the nbgrader course at ``course_dir``.

    Args:
        course_dir: the nbgrader course root (``source/``, ``submitted/``, gradebook).
        assignment: an assignment of the course (a folder of ``source/``).
        students: only these students (default: everyone who submitted).
        workers: sandboxes run at once (the machine's cores are a good choice).
        force: grade again even students whose scores are current.
        require_isolation: fail instead of grading unisolated when bwrap is missing.
        limits: sandbox limits (:class:`~lr_course.grading.sandbox.Limits`).
        db_url: the gradebook (default: nbgrader_config.py's, else gradebook.db).
        progress: draw a progress bar on stderr.
        lock_timeout: seconds to wait for another grader (None: wait as long as needed).
        sandbox: where notebook code runs (default: a :class:`Sandbox` with ``limits``);
            tests pass :class:`~lr_course.grading.inprocess.InProcess` for trusted code.
        time_limits: ``{"cell_seconds", "call_seconds"}``, over nbgrader_config.py's.
        shard: ``(k, N)`` or ``"k/N"``: grade shard k of N into result files only.
        merge: write the gradebook from the shards' result files (no grading).

    Returns:
        A :class:`BatchReport`.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    if isinstance(shard, str):
        shard = ledger.parse_shard(shard)
    if shard is not None:
        shard = ledger.parse_shard(f"{shard[0]}/{shard[1]}")
        if merge:
            raise ValueError("shard and merge exclude each other: grade the shards, then merge")
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
    source_digest = _digest(source.path)
    secret = course.secret()
    start = time.monotonic()
    # nbgrader's Gradebook runs `alembic` from PATH on a new database: the venv's bin.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    if merge:
        with _lock(course_dir / LOCK, lock_timeout, str(course_dir)):
            report = _merge(course_dir, assignment, name, source, source_digest, students,
                            db_url, settings["course_id"], force)
        report.seconds = time.monotonic() - start
        return report
    own_box = sandbox is None
    # warm runs of the students' submissions, and of the solution (its own interpreters)
    box = Sandbox(limits=limits, require_isolation=require_isolation,
                  submissions=(course_dir / "submitted", source.path.parent)) \
        if own_box else sandbox
    lock = course_dir / LOCK if shard is None else \
        ledger.shard_dir(course_dir, assignment) / f".lock-{shard[0]}-of-{shard[1]}"
    with _lock(lock, lock_timeout, str(course_dir)), \
            (box if own_box else contextlib.nullcontext()):
        report = BatchReport(assignment, box.isolated, shard=shard)
        todo, report.missing, report.rejected = _students(course_dir, assignment, students)
        if shard is not None:
            mine = lambda s: ledger.shard_of(s, shard[1]) == shard[0]  # noqa: E731
            todo = [s for s in todo if mine(s)]
            report.missing = [s for s in report.missing if mine(s)]
            report.rejected = {k: v for k, v in report.rejected.items() if mine(k)}
        paths = {s: course_dir / "submitted" / s / assignment / f"{name}.ipynb" for s in todo}
        grader = Grader(source, box, secret=secret,
                        cache=course_dir / ".lr-course" / "references" / assignment,
                        # a limit not given (None) leaves the course's own in place
                        time_limits={**settings["time_limits"],
                                     **{k: v for k, v in (time_limits or {}).items()
                                        if v is not None}})
        quiet_gradebook_warnings()      # before any thread: see its docstring
        pool = ThreadPoolExecutor(max_workers=workers)
        with contextlib.ExitStack() as stack:
            stack.callback(pool.shutdown, wait=True, cancel_futures=True)
            # Opening the gradebook imports nbgrader (seconds): meanwhile every student is
            # graded as if due. Those the gradebook shows current are cancelled before they
            # start (or, if already running, their result is dropped): a grade is a pure
            # function of the submission, so nothing depends on who was graded first.
            futures, references = _schedule(pool, grader, [(s, paths[s]) for s in todo])
            try:
                # a shard writes result files; with nobody to grade, nothing is opened
                writer = ledger.ShardWriter(course_dir, assignment, shard, source_digest) \
                    if shard is not None or not todo else \
                    stack.enter_context(GradebookSession(db_url, settings["course_id"],
                                                         course_dir, assignment, name,
                                                         source, source_digest))
            except BaseException:
                _stop(pool, box if own_box else None)
                raise
            jobs = set()
            for student in todo:
                # a row whose scores were deleted from the gradebook no longer counts
                scored = student in writer.scored
                prov = writer.known.get(student) if scored else None
                why = ledger.regrade_reason(prov, source_digest, _digest(paths[student]),
                                            scored)
                if not why and not force:
                    report.resumed.append(student)
                    if prov.status != "graded":      # still unreadable: still a failure
                        report.invalid.append(student)
                        report.reasons[student] = prov.reason
                    continue
                if why and why != "not graded yet":
                    report.regraded[student] = why
                jobs.add(student)
            for future, student in futures.items():
                if student not in jobs:
                    future.cancel()
            for future, batch in references.items():
                if not jobs.intersection(batch):
                    future.cancel()
            if jobs:
                _run(report, {f: s for f, s in futures.items() if s in jobs}, pool, box,
                     writer, progress, start)
            report.totals = writer.totals(report.graded + report.resumed)
    report.graded.sort()
    report.seconds = time.monotonic() - start
    return report


FIRST_REFERENCE = 4   # students whose reference is recorded before any grading starts
# Students per later reference run. A run of 16 seeds takes about as long as the other
# workers take to grade 8 students, so it is ready before its first student comes up; a
# run of 64 left a worker waiting for it for seconds at a time (measured: 8 s of 40).
BATCH_REFERENCE = 16


def _record(grader, students):
    """Record the reference of ``students``; a failure is left to their own gradings, which
    run it again and report it."""
    with contextlib.suppress(GradingError):
        grader.prepare(students)


def _schedule(pool, grader, jobs) -> dict:
    """Queue every student's grading, with the solution's reference runs in between.

    The reference of a batch of students (their seeds, :data:`BATCH_REFERENCE` in one
    sandbox run) must exist before they are judged. The first run is kept small so grading
    starts at once; each later run is queued right behind the first student of the batch
    before it, so one worker records it while the others grade. A student whose reference
    is not ready yet waits for it (:meth:`Grader.reference`).

    Returns ``({future: student}, {future: students})``: the gradings, and the reference
    runs with the students each records (so that a batch can cancel both for students it
    finds current).
    """
    students = [student for student, _ in jobs]
    bounds = [0, min(FIRST_REFERENCE, len(students))]
    while bounds[-1] < len(students):
        bounds.append(min(bounds[-1] + BATCH_REFERENCE, len(students)))
    batches = {a: students[a:b] for a, b in zip(bounds, bounds[1:])}
    references = {pool.submit(_record, grader, batches[0]): batches[0]}
    futures = {}
    upcoming = iter(bounds[1:-1])
    after = next(upcoming, None)
    for i, (student, path) in enumerate(jobs):
        futures[pool.submit(grader.grade_file, path, student)] = student
        if i in batches and after is not None:   # the first student of a batch is queued
            references[pool.submit(_record, grader, batches[after])] = batches[after]
            after = next(upcoming, None)
    return futures, references


def _stop(pool, box):
    """Cancel what has not started and kill the runs in progress of ``box`` (if given)."""
    pool.shutdown(wait=False, cancel_futures=True)
    if box is not None and hasattr(box, "stop"):
        box.stop()


def _write(writer, result):
    """``writer.write(result)``; its failure (a full disk, a locked gradebook) is a
    :class:`CourseError` that names the student."""
    try:
        writer.write(result)
    except Exception as exc:  # noqa: BLE001 - said in one line; the cause stays chained
        raise CourseError(f"writing {terminal(result.student)}'s grading failed: "
                          f"{type(exc).__name__}: {terminal(exc, 300)}; what was written "
                          "before stays, and a rerun grades the rest") from exc


def _run(report, futures, pool, box, writer, progress, start):
    """Write each grading as it finishes (``futures``: future -> student), in one thread."""
    try:
        for done, future in enumerate(as_completed(futures), 1):
            result = future.result()
            try:
                _write(writer, result)
            except CourseError:
                _stop(pool, box)
                raise
            report.results[result.student] = result
            report.graded.append(result.student)
            if result.status == "invalid":
                report.invalid.append(result.student)
                report.reasons[result.student] = result.reason
            if result.flags:
                report.flagged[result.student] = [f"{f.code}: {f.message}" for f in result.flags]
            if progress:
                _progress(done, len(futures), len(report.flagged), start)
    except KeyboardInterrupt:
        # Nothing more is written: what was committed stays, the rest is graded on a rerun.
        report.interrupted = True
        _stop(pool, box)
    finally:
        if progress:
            sys.stderr.write("\n")


# -- merging the shards ---------------------------------------------------------------

def _merge(course_dir, assignment, name, source, source_digest, students, db_url, course_id,
           force) -> BatchReport:
    """The gradebook from every shard's result files; a missing or stale shard is refused."""
    todo, missing, rejected = _students(course_dir, assignment, students)
    found = ledger.read_shard_results(course_dir, assignment)
    isolated = all(d["result"].get("sandbox", {}).get("isolated", True) is not False
                   for d in found.values())
    report = BatchReport(assignment, isolated, missing=missing, rejected=rejected)
    if not todo:
        return report
    counts = {tuple(d.get("shard", ()))[1:] for d in found.values()
              if isinstance(d.get("shard"), list) and len(d["shard"]) == 2}
    if not found or not counts:
        raise CourseError(f"no shard results of {assignment} under "
                          f"{ledger.shard_dir(course_dir, assignment)}: run `lr-course grade "
                          f"{assignment} --shard k/N` for k = 0..N-1 first")
    if len(counts) > 1:
        raise CourseError(f"the shard results of {assignment} come from different N "
                          f"({', '.join(str(c[0]) for c in sorted(counts))}): remove "
                          f"{ledger.shard_dir(course_dir, assignment)} and grade the shards again")
    (num,) = counts.pop()
    stale, absent = {}, {}
    for student in todo:
        data = found.get(student)
        k = ledger.shard_of(student, num)
        if data is None:
            absent.setdefault(k, []).append(student)
            continue
        why = ledger.regrade_reason(ledger.shard_provenance(assignment, student, data),
                                    source_digest, _digest(course_dir / "submitted" / student
                                                           / assignment / f"{name}.ipynb"))
        if why:
            stale.setdefault(k, []).append(f"{student} ({why})")
    if absent or stale:
        parts = [f"shard {k}/{num} has not graded {', '.join(map(terminal, who[:5]))}"
                 + (" ..." if len(who) > 5 else "") for k, who in sorted(absent.items())]
        parts += [f"shard {k}/{num} is out of date: {', '.join(map(terminal, who[:3]))}"
                  + (" ..." if len(who) > 3 else "") for k, who in sorted(stale.items())]
        shards = sorted(set(absent) | set(stale))
        raise CourseError("cannot merge: " + "; ".join(parts) + ". Rerun "
                          + ", ".join(f"--shard {k}/{num}" for k in shards) + ", then merge")
    with GradebookSession(db_url, course_id, course_dir, assignment, name, source,
                          source_digest) as writer:
        for student in todo:
            result = SubmissionResult.from_dict(found[student]["result"])
            scored = student in writer.scored
            prov = writer.known.get(student) if scored else None
            why = ledger.regrade_reason(prov, source_digest, result.digest, scored)
            if result.status == "invalid":
                report.invalid.append(student)
                report.reasons[student] = result.reason
            if not why and not force:
                report.resumed.append(student)
                continue
            if why and why != "not graded yet":
                report.regraded[student] = why
            _write(writer, result)
            report.results[student] = result
            report.graded.append(student)
            if result.flags:
                report.flagged[student] = [f"{f.code}: {f.message}" for f in result.flags]
        report.totals = writer.totals(report.graded + report.resumed)
    report.graded.sort()
    return report
