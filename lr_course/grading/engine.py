"""Grade one submission: the solution and the student run the same calls; the grader judges.

The flow for one notebook (:meth:`Grader.grade_file`):

1. the **reference**: the source notebook's cells (solutions included) run in a sandbox,
   then its test cells, which declare checks (:mod:`lr_course.grading.checks`) on inputs
   drawn from the student's seed; each check comes back with the solution's records
   (:func:`run_reference`, done once for a whole batch of seeds);
2. the submission is read defensively (:mod:`~lr_course.grading.submission`); a broken
   file is an ``invalid`` result with a reason, never an exception; the student's code
   cells are kept, anything claiming to be a test is dropped, tampering is flagged;
3. the student's cells and exactly the reference's calls run in a fresh sandbox; if the
   run stops in the middle of a call (a hang, a crash), that call fails with the reason
   and the rest run again in a fresh sandbox (:func:`run_calls`);
4. every check is judged here, in the grader's process (:func:`~.checks.compare.judge`):
   student records against the solution's. A part of a test cell earns its points when
   all its checks pass.

The seed is a hash of the course secret, the purpose, the assignment and the student
(:func:`~lr_course.grading.course.seed`), so a grade is a pure function of the submission,
the source notebook and the course: the same on every run, with any number of workers.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lr_course.grading import course as course_mod
from lr_course.grading.checks.calls import MAX_ERROR_CHARS, Record
from lr_course.grading.checks.codec import CodecError
from lr_course.grading.checks.compare import judge
from lr_course.grading.flags import Flag, scan_cells
from lr_course.grading.reference import (SEEDS_PER_REFERENCE, Reference, ReferenceCache,
                                         _reference, reference_entries, run_reference)
from lr_course.grading.sandbox import Sandbox
from lr_course.grading.submission import (GradingError, SourceNotebook, SubmissionError,
                                          read_notebook, student_cells, transform_magics)

__all__ = ["Grader", "Reference", "SubmissionResult", "TestResult", "CheckResult",
           "run_calls", "run_reference", "reference_entries", "MAX_RUNS"]

MAX_RUNS = 3            # sandbox runs per submission: the first, and resumptions after a stuck call


@dataclass
class CheckResult:
    """The verdict on one part of a test cell, as the student may see it (no expected values)."""

    id: str                       # the part's name ("" for a cell without parts)
    description: str              # what was checked, in words
    passed: bool
    message: str
    hint: str = ""
    warnings: list = field(default_factory=list)
    points: float = 0.0           # what this part is worth


@dataclass
class TestResult:
    """One graded test cell: its points and the parts behind them."""

    __test__ = False               # not a pytest test class, despite its name

    grade_id: str
    points: float
    score: float
    passed: bool
    hidden: bool
    checks: list = field(default_factory=list)    # of CheckResult, one per part


@dataclass
class SubmissionResult:
    """Everything known about one graded submission (JSON-able through to_dict)."""

    student: str
    assignment: str
    status: str                   # "graded" | "invalid" (unreadable) | "missing"
    reason: str = ""              # why not graded, for the student
    score: float = 0.0
    max_score: float = 0.0
    tests: list = field(default_factory=list)          # of TestResult
    notes: list = field(default_factory=list)          # for the student (harmless oddities)
    cell_errors: list = field(default_factory=list)    # "code cell 4: NameError: ..."
    flags: list = field(default_factory=list)          # of Flag, for the instructor
    sandbox: dict = field(default_factory=dict)        # reason, detail, isolated, runs
    digest: str = ""              # sha256 of the submitted file
    seed: str = ""                # the inputs' seed (hex), to reproduce a grading
    seconds: float = 0.0          # wall time of grading this submission
    compute_seconds: float = 0.0  # the cells' and calls' own time inside the sandbox

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SubmissionResult":
        data = dict(data)
        data["tests"] = [TestResult(**{**t, "checks": [CheckResult(**c) for c in t["checks"]]})
                         for t in data.get("tests", [])]
        data["flags"] = [Flag.from_dict(f) for f in data.get("flags", [])]
        return cls(**data)


def _digest(path: Path) -> str:
    """sha256 of the file; for something that is not a readable file, what it is."""
    try:
        if path.is_file():
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            return h.hexdigest()
        return "directory" if path.is_dir() else "absent"
    except OSError as exc:
        return f"unreadable: {type(exc).__name__}"


# -- one submission -----------------------------------------------------------------------

class Grader:
    """Grades submissions of one assignment against its source notebook.

    Args:
        source: the instructor's source notebook (its solution is the reference, its test
            cells say what to check).
        sandbox: where notebook code runs; a default :class:`Sandbox` when None. Anything
            with the Sandbox's ``run(job, folder) -> SandboxResult`` and ``isolated`` will
            do: tests grade trusted code in-process with
            :class:`~lr_course.grading.inprocess.InProcess`, through this same path.
        secret: the course secret the seeds derive from.
        purpose: ``"grade"`` for grades, ``"check"`` for a student's self-check.
        hidden: run the hidden tests too (False: only what the students' release shows).
        references: precomputed ``{seed: Reference}`` (a checks file's), instead of runs.
        cache: a folder keeping the solution's records between runs (None: no cache).
        time_limits: ``{"cell_seconds": ..., "call_seconds": ...}`` for the student's run
            (the runner's defaults when not given): a cell or a graded call past its limit
            is stopped, and only what depends on it fails.
    """

    def __init__(self, source: SourceNotebook, sandbox=None, secret: bytes = b"",
                 purpose: str = "grade", hidden: bool = True, references: dict | None = None,
                 cache=None, time_limits: dict | None = None):
        self.source = source
        self.assignment = source.assignment
        self.sandbox = sandbox if sandbox is not None else Sandbox()
        self.secret = secret
        self.purpose = purpose
        self.hidden = hidden
        self.points = source.test_points()
        self._references = dict(references or {})
        self._fixed_seed = next(iter(self._references)) if references else None
        self._cache = ReferenceCache(cache, source, hidden) if cache is not None else None
        self.time_limits = {k: float(v) for k, v in (time_limits or {}).items()
                            if v is not None}
        self._filling = threading.Lock()   # one reference run at a time; lookups need none

    def seed_for(self, student: str) -> int:
        if self._fixed_seed is not None:
            return self._fixed_seed
        return course_mod.seed(self.secret, self.purpose, self.assignment, student)

    def prepare(self, students) -> None:
        """Record the reference for every student's seed (few sandbox runs for a class).

        Safe to call from several threads, and beside :meth:`grade_file`: a batch records
        the next students' references in one worker while the others grade.
        """
        with self._filling:
            self._fill([self.seed_for(x) for x in students])

    def reference(self, seed: int) -> Reference:
        found = self._references.get(seed)
        if found is None:
            with self._filling:
                self._fill([seed])
            found = self._references[seed]
        return found

    def _fill(self, seeds) -> None:
        todo = []
        for seed in dict.fromkeys(seeds):
            if seed in self._references:
                continue
            cached = self._cache.get(seed) if self._cache is not None else None
            if cached is not None:
                self._references[seed] = _reference(self.source, cached, self.hidden)
            else:
                todo.append(seed)
        for k in range(0, len(todo), SEEDS_PER_REFERENCE):
            texts: dict = {}
            found = reference_entries(self.sandbox, self.source, todo[k:k + SEEDS_PER_REFERENCE],
                                      hidden=self.hidden, texts=texts)
            for seed, entries in found.items():
                self._references[seed] = _reference(self.source, entries, self.hidden)
                if self._cache is not None:
                    self._cache.put(seed, entries, texts[seed])

    def _empty(self, student, status, reason, digest="") -> SubmissionResult:
        result = SubmissionResult(student, self.assignment, status, reason, digest=digest)
        for gid, points in self.points.items():
            result.tests.append(TestResult(gid, points, 0.0, False, self.source.is_hidden(gid),
                                           [CheckResult("", gid, False, "not graded: " + reason,
                                                        points=points)]))
        result.max_score = sum(self.points.values())
        return result

    def grade_file(self, path: str | Path, student: str = "") -> SubmissionResult:
        """Grade the notebook at ``path``; never raises for anything in the file."""
        start = time.monotonic()
        path = Path(path)
        digest = _digest(path)
        seed = self.seed_for(student)
        ref = self.reference(seed)
        try:
            nb, notes = read_notebook(path)
        except SubmissionError as exc:
            result = self._empty(student, "invalid", str(exc), digest)
            result.seconds = time.monotonic() - start
            return result
        cells, more_notes, flags = student_cells(nb, self.source)
        indices = [i for i, _ in cells]
        sources = [transform_magics(src) for _, src in cells]
        flags = flags + [Flag(f.code, f.message, indices[f.cell] if f.cell is not None else None,
                              f.line) for f in scan_cells(sources)]
        # Without the hidden tests, a test cell that only has hidden ones is not graded.
        active = {g: p for g, p in self.points.items() if ref.checks.get(g) or self.hidden}
        order = [(gid, k) for gid in active for k in range(len(ref.checks.get(gid, [])))]
        calls: list = []
        wire: list = []
        spans = {}
        for gid, k in order:
            check = ref.checks[gid][k][0]
            spans[gid, k] = (len(calls), len(calls) + len(check.calls))
            calls.extend(check.calls)
            wire.extend(ref.wire[gid][k])
        records, cell_errors, runtime, info = run_calls(self.sandbox, sources, calls, path.parent,
                                                        self.time_limits, wire=wire)
        flags += [Flag(f.code, f.message, indices[f.cell] if isinstance(f.cell, int)
                       and 0 <= f.cell < len(indices) else None, None) for f in runtime]
        result = SubmissionResult(student, self.assignment, "graded", digest=digest,
                                  notes=notes + more_notes, seed=f"{seed:016x}",
                                  sandbox=info, compute_seconds=info.pop("compute", 0.0))
        result.cell_errors = [f"code cell {indices[i] if i < len(indices) else i}: {e}"
                              for i, e in cell_errors]
        result.flags = list(dict.fromkeys(flags))
        for gid, points in active.items():
            outcomes = []
            for k, (check, reference) in enumerate(ref.checks.get(gid, [])):
                a, b = spans[gid, k]
                outcomes.append((check, judge(check, reference, records[a:b])))
            result.tests.append(_test_result(gid, points, ref.parts.get(gid, []), outcomes,
                                             self.source.is_hidden(gid)))
        result.score = sum(t.score for t in result.tests)
        result.max_score = sum(t.points for t in result.tests)
        result.seconds = time.monotonic() - start
        return result


def _test_result(gid, points, parts, outcomes, hidden) -> TestResult:
    """A test cell's score from its parts (all its points in one part when none is declared)."""
    if not parts:
        parts = [("", points)]
    elif abs(sum(p for _, p in parts) - points) > 1e-9:
        raise GradingError(f"test cell {gid}: its parts are worth "
                           f"{sum(p for _, p in parts):g} points, the cell {points:g}")
    results = []
    for what, part_points in parts:
        mine = [(c, o) for c, o in outcomes if c.part == what]
        failed = next(((c, o) for c, o in mine if not o.passed), None)
        warnings = list(dict.fromkeys(w for _, o in mine for w in o.warnings))[:20]
        description = what or (mine[0][0].what if mine and mine[0][0].what else gid)
        if not mine:
            results.append(CheckResult(what, description, False, "no check ran for this part",
                                       "", [], part_points))
        elif failed is None:
            results.append(CheckResult(what, description, True,
                                       f"passed all {len(mine)} checks", "", warnings,
                                       part_points))
        else:
            check, outcome = failed
            message = (f"{check.what}: " if check.what and check.what != description else "") \
                + outcome.message
            results.append(CheckResult(what, description, False, message, outcome.hint,
                                       warnings, part_points))
    score = sum(r.points for r in results if r.passed)
    return TestResult(gid, points, score, score == points, hidden, results)


# -- the student's run ----------------------------------------------------------------------

def run_calls(sandbox, sources: list, calls: list, workdir: Path, time_limits=None, *,
              wire: list):
    """Run cells then calls in ``sandbox``; resume after a call that stopped the run.

    ``wire`` is each call's data as the reference read it (what ``calls[i].to_data()``
    would encode again): the job sends it on as it is.

    Returns ``(records, cell_errors, runtime_flags, info)``: a Record for every call (those
    that never ran, or whose result was malformed, explain why), ``(cell index, error)``
    pairs, the flags raised inside, and how the runs ended (``info["reason"]``,
    ``info["runs"]``, ``info["compute"]``).
    """
    assert len(wire) == len(calls), "one wire entry per call"
    records: list = [None] * len(calls)
    cell_errors, runtime, runs = [], [], []
    compute = 0.0
    pending = list(range(len(calls)))
    while True:
        job = {"cells": sources,
               "calls": [wire[i] for i in pending],
               "limits": dict(time_limits or {})}
        res = sandbox.run(job, workdir if workdir.is_dir() else None)
        parsed = _parse(res.results, len(pending), len(sources))
        runs.append({"reason": res.reason, "detail": res.detail,
                     "seconds": round(res.seconds, 3)})
        if len(runs) == 1:   # cells run the same way each time: report them once
            cell_errors = parsed["cell_errors"]
            compute += parsed["cell_seconds"]
        runtime += parsed["flags"]
        for k, rec in parsed["records"].items():
            records[pending[k]] = rec
            compute += rec.seconds
        if res.reason != "ok":
            runtime.append(Flag("resource", f"sandbox: {res.detail}"))
        stuck = parsed["started"]
        if res.reason == "ok" or stuck is None or len(runs) >= MAX_RUNS or not pending:
            break
        # The call that stopped the run fails; so do the later calls of the same function
        # (they would most likely stop it again); the others run in a fresh sandbox.
        culprit = calls[pending[stuck]].function
        records[pending[stuck]] = _failed_record(
            f"your code stopped the grader during this call: {res.detail}")
        for i in pending[stuck + 1:]:
            if records[i] is None and calls[i].function == culprit:
                records[i] = _failed_record(f"not run: {culprit} stopped the grader in an "
                                            f"earlier call ({res.detail})")
        pending = [i for i in pending if records[i] is None]
    reason = runs[0]["detail"] if runs[0]["reason"] != "ok" else ""
    for k, rec in enumerate(records):
        if rec is None:
            records[k] = _failed_record("your code did not get to this call: "
                                        + (reason or "the run stopped"))
    info = {"reason": next((r["reason"] for r in runs if r["reason"] != "ok"), "ok"),
            "isolated": sandbox.isolated, "runs": runs, "compute": compute}
    return records, cell_errors, runtime, info


def _failed_record(reason: str) -> Record:
    return Record(ok=False, error=f"GradingError: {reason}"[:MAX_ERROR_CHARS],
                  error_type="GradingError", error_bases=("GradingError", "Exception"))


MAX_FLAGS = 100          # runtime flags kept from one run
MAX_LINE_BYTES = 96 << 20


def _parse(raw: bytes, num_calls: int, num_cells: int) -> dict:
    """Read the runner's JSON lines strictly; anything else is flagged, never trusted.

    Each call index may be answered once: a record out of range, a second record for the
    same call, or a record that is not exactly a Record fails that call (or is dropped) and
    raises a ``channel`` flag.
    """
    out = {"cell_errors": [], "cell_seconds": 0.0, "flags": [], "records": {}, "started": None}
    odd = 0
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            odd += 1
            continue
        if type(entry) is not dict or len(entry) > 5:
            odd += 1
            continue
        if type(entry.get("cell")) is int and 0 <= entry["cell"] < num_cells:
            if entry.get("ok") is False:
                out["cell_errors"].append((entry["cell"], str(entry.get("error", ""))[:500]))
            seconds = entry.get("seconds")
            if type(seconds) is float and 0 <= seconds < 1e6:
                out["cell_seconds"] += seconds
        elif type(entry.get("flags")) is list and len(out["flags"]) < MAX_FLAGS:
            out["flags"].extend(Flag.from_dict(f) for f in
                                entry["flags"][:MAX_FLAGS - len(out["flags"])])
        elif type(entry.get("start")) is int and 0 <= entry["start"] < num_calls:
            out["started"] = entry["start"]
        elif type(entry.get("record")) is int and 0 <= entry["record"] < num_calls:
            k = entry["record"]
            if k in out["records"]:
                out["records"][k] = _failed_record("the grader received two results for this "
                                                   "call")
                odd += 1
                continue
            try:
                out["records"][k] = Record.from_data(entry.get("data"))
            except (CodecError, ValueError, TypeError, KeyError, RecursionError):
                out["records"][k] = _failed_record("the grader received a malformed result")
                odd += 1
            if out["started"] == k:
                out["started"] = None
        elif entry.get("end") is True:
            pass
        else:
            odd += 1
    if odd:
        out["flags"].append(Flag("channel", f"the sandbox sent {odd} malformed or unexpected "
                                            "line(s) to the grader"))
    return out
