"""Grade one submission: the student's cells run in the sandbox, the grader judges.

The flow for one notebook (:meth:`Grader.grade_file`):

1. read it defensively (:mod:`~lr_course.grading.submission`); a broken file is an
   ``invalid`` result with a reason, never an exception;
2. keep the student's code cells, drop anything claiming to be a grader's test, flag
   tampering, and scan the code for suspicious constructs (:mod:`~lr_course.grading.flags`);
3. draw the cases of every check of the assignment from a seed derived from a per-run
   secret and the student's id (so the values cannot be known in advance);
4. run the cells and the calls in the sandbox (:mod:`~lr_course.grading.sandbox`); if the
   run stops in the middle of a call (a hang, a crash), that call fails with the reason
   and the rest are run again in a fresh sandbox;
5. judge every check here, in the grader's process, against the reference
   (``spec.judge_safely``); a test cell earns its points when all its checks pass.

Batches over a class, with the gradebook, live in :mod:`~lr_course.grading.batch`;
:func:`check_notebook` is the same path for one notebook (``lr-course check``), and
:func:`~lr_course.grading.feedback.format_report` / :func:`~lr_course.grading.feedback.check_summary`
render its result for the student.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lr_course.grading import spec
from lr_course.grading.flags import Flag, scan_cells
from lr_course.grading.sandbox import Sandbox
from lr_course.grading.submission import (SourceNotebook, SubmissionError, identify,
                                          read_notebook, student_cells, transform_magics)

__all__ = ["Grader", "SubmissionResult", "TestResult", "CheckResult", "run_calls",
           "check_notebook", "MAX_RUNS"]

MAX_RUNS = 3   # sandbox runs per submission: the first, and resumptions after a stuck call


@dataclass
class CheckResult:
    """The verdict of one check, as the student may see it (no expected values)."""

    id: str
    description: str
    passed: bool
    message: str
    hint: str = ""
    warnings: list = field(default_factory=list)


@dataclass
class TestResult:
    """One graded test cell: its points and the checks behind them."""

    __test__ = False               # not a pytest test class, despite its name

    grade_id: str
    points: float
    score: float
    passed: bool
    hidden: bool
    checks: list = field(default_factory=list)    # of CheckResult


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
    seed: str = ""                # the cases' seed (hex), to reproduce a grading
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


class Grader:
    """Grades submissions of one assignment with one sandbox.

    Args:
        assignment: a name in ``spec.ASSIGNMENTS`` (e.g. ``"ps2_adaptive"``).
        source: the instructor's source notebook (defines which cells are tests and
            lets tampering be detected); None grades from the registry alone.
        sandbox: where student code runs; a default :class:`Sandbox` when None. Anything
            with the Sandbox's ``run(job, folder) -> SandboxResult`` and ``isolated`` will
            do: tests grade trusted code in-process with
            :class:`~lr_course.grading.inprocess.InProcess`, through this same path.
        run_key: the per-run secret the cases' seeds derive from (fresh when None).
    """

    def __init__(self, assignment: str, source: SourceNotebook | None = None,
                 sandbox: Sandbox | None = None, run_key: bytes | None = None):
        if assignment not in spec.ASSIGNMENTS:
            raise ValueError(f"assignment must be one of {sorted(spec.ASSIGNMENTS)}, "
                             f"got {assignment!r}")
        self.assignment = assignment
        self.source = source
        self.sandbox = sandbox if sandbox is not None else Sandbox()
        self.run_key = run_key if run_key is not None else secrets.token_bytes(16)
        self.tests = list(spec.ASSIGNMENTS[assignment])
        self.check_ids = list(dict.fromkeys(c for t in self.tests for c in t.check_ids))
        self.checks = {cid: spec.CHECKS[cid] for cid in self.check_ids}

    def seed_for(self, student: str) -> int:
        digest = hashlib.sha256(self.run_key + b"\0" + student.encode() + b"\0"
                                + self.assignment.encode()).digest()
        return int.from_bytes(digest[:8], "little")

    def cases(self, seed: int) -> tuple[list, dict]:
        """All calls of all checks, and each check's slice of them."""
        calls, spans = [], {}
        for cid, check in self.checks.items():
            rng = np.random.default_rng([seed, zlib.crc32(cid.encode())])
            cases = list(check.cases(rng))
            spans[cid] = (len(calls), len(calls) + len(cases))
            calls.extend(cases)
        return calls, spans

    def _empty(self, student, status, reason, digest="") -> SubmissionResult:
        result = SubmissionResult(student, self.assignment, status, reason, digest=digest)
        for t in self.tests:
            checks = [CheckResult(cid, self.checks[cid].description, False,
                                  "not graded: " + reason) for cid in t.check_ids]
            result.tests.append(TestResult(t.grade_id, t.points, 0.0, False, t.hidden, checks))
        result.max_score = sum(t.points for t in self.tests)
        return result

    def grade_file(self, path: str | Path, student: str = "") -> SubmissionResult:
        """Grade the notebook at ``path``; never raises for anything in the file."""
        start = time.monotonic()
        path = Path(path)
        digest = _digest(path)
        try:
            nb, notes = read_notebook(path)
        except SubmissionError as exc:
            result = self._empty(student, "invalid", str(exc), digest)
            result.seconds = time.monotonic() - start
            return result
        cells, more_notes, flags = student_cells(
            nb, self.source, {t.grade_id for t in self.tests})
        indices = [i for i, _ in cells]
        sources = [transform_magics(src) for _, src in cells]
        flags = flags + [Flag(f.code, f.message, indices[f.cell] if f.cell is not None else None,
                              f.line) for f in scan_cells(sources)]
        seed = self.seed_for(student)
        calls, spans = self.cases(seed)
        records, cell_errors, runtime, info = run_calls(self.sandbox, sources, calls, path.parent)
        flags += [Flag(f.code, f.message, indices[f.cell] if isinstance(f.cell, int)
                       and 0 <= f.cell < len(indices) else None, None) for f in runtime]
        result = SubmissionResult(student, self.assignment, "graded", digest=digest,
                                  notes=notes + more_notes, seed=f"{seed:016x}",
                                  sandbox=info, compute_seconds=info.pop("compute", 0.0))
        result.cell_errors = [f"code cell {indices[i] if i < len(indices) else i}: {e}"
                              for i, e in cell_errors]
        result.flags = list(dict.fromkeys(flags))
        outcomes = {}
        for cid, (a, b) in spans.items():
            outcomes[cid] = spec.judge_safely(self.checks[cid], calls[a:b], records[a:b])
        for t in self.tests:
            checks = [CheckResult(cid, self.checks[cid].description, outcomes[cid].passed,
                                  outcomes[cid].message,
                                  "" if outcomes[cid].passed else outcomes[cid].hint,
                                  list(outcomes[cid].warnings)) for cid in t.check_ids]
            passed = all(c.passed for c in checks)
            result.tests.append(TestResult(t.grade_id, t.points, t.points if passed else 0.0,
                                           passed, t.hidden, checks))
        result.score = sum(t.score for t in result.tests)
        result.max_score = sum(t.points for t in result.tests)
        result.seconds = time.monotonic() - start
        return result


def run_calls(sandbox: Sandbox, sources: list, calls: list, workdir: Path):
    """Run cells then calls in ``sandbox``; resume after a call that stopped the run.

    Returns ``(records, cell_errors, runtime_flags, info)``: a Record for every call (those
    that never ran explain why), ``(cell index, error)`` pairs, the flags raised inside,
    and how the runs ended (``info["reason"]``, ``info["runs"]``, ``info["compute"]``).
    """
    records: list = [None] * len(calls)
    cell_errors, runtime, runs = [], [], []
    compute = 0.0
    pending = list(range(len(calls)))
    while pending:
        job = {"cells": sources, "calls": [calls[i].to_data() for i in pending]}
        res = sandbox.run(job, workdir if workdir.is_dir() else None)
        parsed = _parse(res.results)
        runs.append({"reason": res.reason, "detail": res.detail,
                     "seconds": round(res.seconds, 3)})
        if len(runs) == 1:   # cells run the same way each time: report them once
            cell_errors = parsed["cell_errors"]
            compute += parsed["cell_seconds"]
        runtime += parsed["flags"]
        for k, rec in parsed["records"].items():
            if 0 <= k < len(pending):
                records[pending[k]] = rec
                compute += rec.seconds
        if res.reason != "ok":
            runtime.append(Flag("resource", f"sandbox: {res.detail}"))
        stuck = parsed["started"]
        if res.reason == "ok" or stuck is None or not 0 <= stuck < len(pending) \
                or len(runs) >= MAX_RUNS:
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
    return records, cell_errors, [Flag.from_dict(f) if isinstance(f, dict) else f
                                  for f in runtime], info


def _failed_record(reason: str) -> spec.Record:
    return spec.Record(ok=False, error=f"GradingError: {reason}"[:spec.MAX_ERROR_CHARS],
                       error_type="GradingError", error_bases=("GradingError", "Exception"))


def _parse(raw: bytes) -> dict:
    """Read the runner's JSON lines; anything malformed (or forged junk) is skipped."""
    out = {"cell_errors": [], "cell_seconds": 0.0, "flags": [], "records": {}, "started": None}
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(entry, dict):
            continue
        if type(entry.get("cell")) is int:
            if not entry.get("ok", True):
                out["cell_errors"].append((entry["cell"], str(entry.get("error", ""))[:500]))
            if type(entry.get("seconds")) is float:
                out["cell_seconds"] += entry["seconds"]
        elif isinstance(entry.get("flags"), list):
            out["flags"].extend(Flag.from_dict(f) for f in entry["flags"][:100])
        elif type(entry.get("start")) is int:
            out["started"] = entry["start"]
        elif type(entry.get("record")) is int:
            try:
                out["records"][entry["record"]] = spec.Record.from_data(entry.get("data"))
            except (ValueError, TypeError, KeyError, RecursionError):
                out["records"][entry["record"]] = _failed_record("unreadable result")
            if out["started"] == entry["record"]:
                out["started"] = None
    return out


# -- the same engine for `lr-course check` -----------------------------------------------

def check_notebook(path, assignment: str | None = None, *, require_isolation: bool = False,
                   source: SourceNotebook | None = None, sandbox=None,
                   run_key: bytes | None = None) -> SubmissionResult:
    """Grade one notebook for its author (``lr-course check``): the batch's engine, no gradebook.

    The assignment is recognised from the notebook (:func:`~lr_course.grading.submission.identify`);
    ``assignment``, when given, must agree. The seed comes from a fresh ``run_key`` (or the
    one given) and the file's name, as a batch's comes from the student's id.

    Args:
        path: the notebook.
        assignment: refuse the notebook unless it is of this assignment.
        require_isolation: raise :class:`~lr_course.grading.sandbox.IsolationError` rather
            than run without bubblewrap (only when ``sandbox`` is None).
        source: the instructor's source notebook, if at hand (tampering is then flagged).
        sandbox: where the code runs; None opens (and closes) a :class:`Sandbox`. Tests pass
            :class:`~lr_course.grading.inprocess.InProcess` for trusted code.
        run_key: the secret the cases' seed derives from (fresh when None).

    Raises:
        SubmissionError: the file is not a readable notebook of a graded assignment, or
            not of ``assignment``.
    """
    nb, _ = read_notebook(path)
    found = identify(nb, path)
    if assignment is not None and found != assignment:
        raise SubmissionError(f"{path} is a notebook of {found}, not of {assignment}")
    student = Path(path).stem
    if sandbox is not None:
        return Grader(found, source, sandbox, run_key).grade_file(path, student)
    with Sandbox(require_isolation=require_isolation) as box:
        return Grader(found, source, box, run_key).grade_file(path, student)
