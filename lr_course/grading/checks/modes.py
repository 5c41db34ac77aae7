"""Where declared checks go: recorded against the solution, or self-checked in a kernel.

:class:`Recorder` is the mode of the sandbox that runs a source notebook: each check's
calls run on the solution's functions and the check leaves with the solution's records.
:class:`SelfCheck` is the default mode of a student's kernel: the calls run on the student's
functions and are judged against the records the release computed from the solution, kept
in ``<notebook>.checks.json`` beside the released notebook (:func:`write_expected` writes
it, :func:`find_expected` finds it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .calls import Record, execute
from .compare import judge
from .check import NEEDS_SOLUTION, Check, digest

__all__ = ["Recorder", "SelfCheck", "Ignore", "ExpectedError", "write_expected", "read_expected",
           "find_expected",
           "EXPECTED_SUFFIX", "format_outcome"]

EXPECTED_SUFFIX = ".checks.json"
# The checks file's format: 2 since Calls carry watch_inputs (each check's name, its digest,
# changed with them), so a file released before reads as "fetch it again", not as no values.
_FORMAT = 2
MAX_EXPECTED_BYTES = 64 << 20


class ExpectedError(RuntimeError):
    """The released expected values cannot be found or read (the message says why)."""


def _roundtrip(record: Record) -> Record:
    """A record as it looks after crossing the wall (so in-kernel == graded)."""
    return Record.from_data(json.loads(json.dumps(record.to_data())))


class Recorder:
    """Record each declared check with the solution's records (the source notebook's run).

    Args:
        seed: the seed of the inputs (one student's, or the release's).
        emit: called with each entry (plain data) as it is made.
    """

    def __init__(self, seed: int, emit):
        self.seed = int(seed)
        self.emit = emit
        self.cell = ""
        self._part = ""

    def start_cell(self, grade_id: str) -> None:
        self.cell, self._part = grade_id, ""

    def part(self, what: str, points: float) -> None:
        self._part = what
        self.emit({"part": {"cell": self.cell, "what": what, "points": points}})

    def add(self, check: Check, functions: dict, data: dict) -> None:
        """Record ``check`` (``data``: its plain data, what the declaration decoded it from)."""
        data = dict(data, part=self._part)
        if check.kind in NEEDS_SOLUTION:
            records = [execute(call, functions).to_data() for call in check.calls]
        else:
            records = [Record(ok=True).to_data() for _ in check.calls]
        self.emit({"check": {"cell": self.cell, "check": data, "records": records}})


def format_outcome(what: str, outcome) -> str:
    """The report of one check: what was checked, the verdict, a hint, numpy's warnings."""
    mark = "PASS" if outcome.passed else "FAIL"
    lines = [f"[{mark}] {what}: {outcome.message}"]
    if not outcome.passed and outcome.hint:
        lines.append(f"       hint: {outcome.hint}")
    for w in outcome.warnings:
        lines.append(f"       note: numpy warned '{w}' (reported, not penalised)")
    return "\n".join(lines)


def write_expected(path, assignment: str, seed: int, points: dict, entries: list) -> Path:
    """Write a checks file: the visible checks with the solution's records, for self-checks.

    ``entries`` are what a :class:`Recorder` emitted (``{"part": ...}`` and ``{"check":
    ...}``), ``points`` the points of each test cell.
    """
    path = Path(path)
    path.write_text(json.dumps({"format": _FORMAT, "assignment": assignment, "seed": int(seed),
                                "points": points, "entries": entries}), encoding="utf-8")
    return path


def find_expected(folder=None) -> Path:
    """The expected-values file beside the notebook (``LR_COURSE_CHECKS`` names it)."""
    named = os.environ.get("LR_COURSE_CHECKS")
    if named:
        if not Path(named).is_file():
            raise ExpectedError(f"LR_COURSE_CHECKS names {named}, which is not a file")
        return Path(named)
    folder = Path(folder or os.getcwd())
    found = sorted(folder.glob(f"*{EXPECTED_SUFFIX}"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise ExpectedError(
            f"no {EXPECTED_SUFFIX} file in {folder}: the self-check needs the file released "
            "with this notebook (fetch the assignment again, or run `lr-course check "
            "<notebook>`)")
    raise ExpectedError(f"several {EXPECTED_SUFFIX} files in {folder} "
                        f"({', '.join(p.name for p in found)}): set LR_COURSE_CHECKS to one")


def _load_expected(path: Path) -> dict:
    try:
        if path.stat().st_size > MAX_EXPECTED_BYTES:
            raise ExpectedError(f"{path.name} is too large to be a checks file")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ExpectedError(f"{path.name} cannot be read ({type(exc).__name__}); fetch the "
                            "assignment again") from None
    if not isinstance(data, dict) or data.get("format") != _FORMAT or \
            type(data.get("seed")) is not int or not isinstance(data.get("entries"), list) \
            or not isinstance(data.get("points"), dict) or type(data.get("assignment")) is not str:
        raise ExpectedError(f"{path.name} is not a checks file of this version of lr-course")
    return data


def read_expected(path) -> dict:
    """The content of a checks file (see :func:`write_expected`); ExpectedError if unreadable."""
    return _load_expected(Path(path))


class Ignore:
    """Drop every declared check (checks a notebook declares outside a test cell)."""

    seed = 0

    def part(self, what: str, points: float) -> None:
        pass

    def add(self, check: Check, functions: dict, data: dict) -> None:
        pass


class SelfCheck:
    """Judge checks in this process against the released expected values; print, raise."""

    def __init__(self, folder=None):
        self._folder = folder
        self._data = None
        self._part = ""

    def _loaded(self) -> dict:
        if self._data is None:
            data = _load_expected(find_expected(self._folder))
            index = {}
            for entry in data["entries"]:
                if isinstance(entry, dict) and isinstance(entry.get("check"), dict):
                    try:
                        index[digest(Check.from_data(entry["check"]["check"]))] = \
                            entry["check"]["records"]
                    except (ValueError, KeyError, TypeError):
                        continue
            data["expected"] = index
            self._data = data
        return self._data

    @property
    def seed(self) -> int:
        return self._loaded()["seed"]

    def part(self, what: str, points: float) -> None:
        self._part = what

    def add(self, check: Check, functions: dict, data: dict) -> None:
        what = check.what or self._part or check.kind
        found = self._loaded()["expected"].get(digest(check))
        if found is None:
            print(f"[SKIP] {what}: no released value for this check here (it is run when "
                  "the notebook is graded)", flush=True)
            return
        try:
            reference = [Record.from_data(r) for r in found]
        except ValueError:
            print(f"[SKIP] {what}: the released values of this check are unreadable",
                  flush=True)
            return
        student = [_roundtrip(execute(call, functions)) for call in check.calls]
        outcome = judge(check, reference, student)
        print(format_outcome(what, outcome), flush=True)
        if not outcome.passed:
            raise AssertionError(f"{what}: {outcome.message}")
