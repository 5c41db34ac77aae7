"""Grade one notebook locally: ``lr-course check NOTEBOOK`` and the instructor's dry runs.

The student's code cells (every code cell that is not one of the grader's test cells, as
named by the registry) run in a fresh namespace through an *executor*; the cases are drawn
and judged here, in the grading process. The default executor runs the cells in a child
Python process (:mod:`lr_course.grading.local_exec`); the sandboxed engine plugs in its own
with the same signature::

    executor(cells: list[str], calls: list[Call], workdir: Path) -> ExecResult
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lr_course.grading import spec


class GradingError(Exception):
    """A problem with the user's input (missing file, not a notebook, wrong assignment)."""


@dataclass
class ExecResult:
    """What an executor returns: one Record per Call, and the errors of the student's cells."""

    records: list
    cell_errors: list = field(default_factory=list)  # "cell 3: NameError: ..." per failed cell
    note: str = ""                                    # e.g. "timed out", "not isolated"


# --- reading a notebook ------------------------------------------------------------------

MAX_NOTEBOOK_BYTES = 20 * 2**20


def read_notebook(path) -> dict:
    """The notebook at ``path`` as a dict, or GradingError saying clearly what is wrong."""
    path = Path(path)
    if not path.exists():
        raise GradingError(f"no such file: {path}")
    if not path.is_file():
        raise GradingError(f"not a file: {path}")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise GradingError(f"{path} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
    try:
        nb = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GradingError(f"{path} is not a notebook (not valid JSON: {exc})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or \
            nb.get("nbformat") != 4:
        raise GradingError(f"{path} is not a Jupyter notebook in nbformat 4")
    return nb


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _grade_id(cell):
    meta = cell.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg.get("grade_id") if isinstance(nbg, dict) else None


def test_ids(assignment) -> set:
    return {t.grade_id for t in spec.ASSIGNMENTS[assignment]}


def identify(nb, path=None) -> str:
    """Which assignment ``nb`` belongs to, from its cells' grade_ids (then its file name)."""
    ids = {_grade_id(c) for c in nb["cells"] if isinstance(c, dict)} - {None}
    matches = {name: len(ids & test_ids(name)) for name in spec.ASSIGNMENTS}
    best = max(matches, key=matches.get)
    if matches[best] > 0:
        return best
    if path is not None:
        for name in spec.ASSIGNMENTS:
            if name in Path(path).name:
                return name
    raise GradingError(f"{path or 'the notebook'} is not a notebook of any graded assignment "
                       f"({', '.join(spec.ASSIGNMENTS)})")


def student_cells(nb, assignment) -> list:
    """The sources of the student's code cells (never the grader's test cells)."""
    tests = test_ids(assignment)
    return [_source(c) for c in nb["cells"]
            if isinstance(c, dict) and c.get("cell_type") == "code" and _grade_id(c) not in tests]


# --- executors ---------------------------------------------------------------------------

def subprocess_executor(cells, calls, workdir, *, timeout=300) -> ExecResult:
    """Run the cells, then the calls, in a child Python process (not a sandbox)."""
    with tempfile.TemporaryDirectory(prefix="lr-course-check-") as tmp:
        job, out = Path(tmp) / "job.json", Path(tmp) / "out.json"
        job.write_text(json.dumps({"cells": cells, "calls": [c.to_data() for c in calls]}))
        env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
        try:
            proc = subprocess.run([sys.executable, "-m", "lr_course.grading.local_exec",
                                   str(job), str(out)], cwd=workdir, env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired:
            return _failed(calls, f"the notebook's code ran longer than {timeout} s")
        if not out.exists():
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            return _failed(calls, "the notebook's code stopped the grader "
                                  f"(exit code {proc.returncode}) {' '.join(tail)}".strip())
        try:
            data = json.loads(out.read_text())
            records = [spec.Record.from_data(r) for r in data["records"]]
            errors = [str(e) for e in data["cell_errors"]]
        except (ValueError, KeyError, TypeError):
            return _failed(calls, "the grader could not read the results")
    if len(records) != len(calls):
        return _failed(calls, "the grader lost some results")
    return ExecResult(records, errors)


def _failed(calls, reason):
    rec = [spec.Record(ok=False, error=f"GradingError: {reason}", error_type="GradingError")
           for _ in calls]
    return ExecResult(rec, [], reason)


def in_process_executor(cells, calls, workdir) -> ExecResult:
    """Run the cells in this process (fast; for tests of trusted code only)."""
    from lr_course.grading.local_exec import run_cells
    namespace, errors = run_cells(cells)
    return ExecResult([spec.execute(c, namespace) for c in calls], errors)


# --- grading -----------------------------------------------------------------------------

def grade_notebook(path, *, assignment=None, executor=subprocess_executor, seed=None) -> dict:
    """Grade one notebook against every test of its assignment, hidden ones included.

    Returns a JSON-able dict: ``assignment``, ``score``, ``max_score``, ``tests`` (one entry
    per test cell: ``grade_id``, ``points``, ``score``, ``passed``, ``hidden``, ``checks``
    with the description, verdict, message, hint and warnings of each check) and
    ``cell_errors``. Raises GradingError for bad input.
    """
    path = Path(path)
    nb = read_notebook(path)
    found = identify(nb, path)
    if assignment is not None and found != assignment:
        raise GradingError(f"{path} is a notebook of {found}, not of {assignment}")
    rng = np.random.default_rng(secrets.randbits(64) if seed is None else seed)
    tests = spec.ASSIGNMENTS[found]
    check_ids = list(dict.fromkeys(cid for t in tests for cid in t.check_ids))
    calls, spans = [], {}
    for cid in check_ids:
        cases = spec.CHECKS[cid].cases(rng)
        spans[cid] = (len(calls), len(calls) + len(cases))
        calls.extend(cases)
    result = executor(student_cells(nb, found), calls, path.resolve().parent)
    outcomes = {}
    for cid, (a, b) in spans.items():
        outcomes[cid] = spec.judge_safely(spec.CHECKS[cid], calls[a:b], result.records[a:b])
        if result.note and not outcomes[cid].passed:
            outcomes[cid].hint = (outcomes[cid].hint + " " if outcomes[cid].hint else "") + \
                f"({result.note})"
    entries = []
    for test in tests:
        checks = [{"id": cid, "description": spec.CHECKS[cid].description,
                   "passed": outcomes[cid].passed, "message": outcomes[cid].message,
                   "hint": outcomes[cid].hint if not outcomes[cid].passed else "",
                   "warnings": list(outcomes[cid].warnings)} for cid in test.check_ids]
        passed = all(c["passed"] for c in checks)
        entries.append({"grade_id": test.grade_id, "points": test.points,
                        "score": test.points if passed else 0, "passed": passed,
                        "hidden": test.hidden, "checks": checks})
    return {"notebook": str(path), "assignment": found,
            "score": sum(e["score"] for e in entries),
            "max_score": sum(e["points"] for e in entries),
            "tests": entries, "cell_errors": list(result.cell_errors), "note": result.note}


def format_report(result: dict) -> str:
    """The human-readable report of :func:`grade_notebook`."""
    lines = [f"{result['notebook']}: {result['assignment']}"]
    for t in result["tests"]:
        tag = " (hidden)" if t["hidden"] else ""
        lines.append(f"  {'PASS' if t['passed'] else 'FAIL'} {t['grade_id']}{tag}: "
                     f"{t['score']:g}/{t['points']:g}")
        for c in t["checks"]:
            if not c["passed"]:
                lines.append(f"      - {c['description']}: {c['message']}")
                if c["hint"]:
                    lines.append(f"        hint: {c['hint']}")
            for w in c["warnings"]:
                lines.append(f"        note: numpy warned '{w}' (not penalised)")
    for e in result["cell_errors"]:
        lines.append(f"  error in your code: {e}")
    if result.get("note"):
        lines.append(f"  note: {result['note']}")
    lines.append(f"score: {result['score']:g}/{result['max_score']:g}")
    return "\n".join(lines)
