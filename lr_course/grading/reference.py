"""The reference: what the source notebook's solution records for the checks of its test cells.

:func:`reference_entries` runs the source notebook (solutions and test cells) in a sandbox,
once for many seeds, and returns what the recorder emitted for each seed; a
:class:`Reference` holds one seed's checks with the solution's records, per test cell.
:class:`ReferenceCache` keeps them on disk between runs. The source notebook is the
instructor's and trusted, but it is code: it runs sandboxed, and what it sends back is read
strictly (anything unreadable is a GradingError naming the notebook).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from lr_course.grading.checks.calls import Record
from lr_course.grading.checks.check import Check
from lr_course.grading.submission import GradingError, SourceNotebook

__all__ = ["Reference", "ReferenceCache", "reference_entries", "run_reference",
           "SEEDS_PER_REFERENCE"]

SEEDS_PER_REFERENCE = 64  # seeds one reference run records (a batch needs ceil(n / 64) runs)


@dataclass
class Reference:
    """What the solution recorded for one seed: each test cell's parts and checks."""

    parts: dict = field(default_factory=dict)     # grade_id -> [(what, points)]
    checks: dict = field(default_factory=dict)    # grade_id -> [(Check, [Record])]
    # grade_id -> each check's calls as they were read (they decoded to Check.calls): the
    # student's job sends them on as they are, instead of encoding the Calls once more
    wire: dict = field(default_factory=dict)

    @classmethod
    def from_entries(cls, entries: list, grade_ids) -> "Reference":
        """Build from a Recorder's entries (a reference run, or a checks file)."""
        ref = cls({g: [] for g in grade_ids}, {g: [] for g in grade_ids},
                  {g: [] for g in grade_ids})
        for entry in entries:
            if "part" in entry:
                part = entry["part"]
                if part["cell"] in ref.parts:
                    ref.parts[part["cell"]].append((str(part["what"]), float(part["points"])))
            elif "check" in entry:
                item = entry["check"]
                if item["cell"] in ref.checks:
                    check = Check.from_data(item["check"])
                    records = [Record.from_data(r) for r in item["records"]]
                    ref.checks[item["cell"]].append((check, records))
                    ref.wire[item["cell"]].append(item["check"]["calls"])
        return ref


def reference_entries(sandbox, source: SourceNotebook, seeds: list, *, hidden: bool,
                      texts: dict | None = None) -> dict:
    """Run the source notebook once and return what its test cells recorded, per seed.

    Returns ``{seed: [entry, ...]}`` (the recorder's ``part`` and ``check`` entries, plain
    data: what a checks file and the reference cache store). The source notebook is the
    instructor's: a cell or a test cell that fails is a GradingError that names it.
    ``texts``, if given, receives each seed's entries as the JSON text they were read from
    (what :meth:`ReferenceCache.put` writes).
    """
    tests = source.test_cells(hidden=hidden)
    job = {"cells": source.code_cells(), "tests": tests, "seeds": [int(s) for s in seeds]}
    res = sandbox.run(job, source.path.parent)
    where = f"the source notebook {source.path.name}"
    if res.reason != "ok":
        raise GradingError(f"{where} did not run to the end in the sandbox: {res.detail}")
    per_seed: list = []
    lines: list = []
    ended = False
    for line in res.results.split(b"\n"):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise GradingError(f"{where} wrote an unreadable line to the grader") from None
        if type(entry) is not dict:
            raise GradingError(f"{where} wrote an unreadable line to the grader")
        if "cell" in entry and not entry.get("ok", True):
            raise GradingError(f"{where}: code cell {entry['cell']} raised {entry['error']}")
        if "seed" in entry:
            per_seed.append([])
            lines.append([])
        elif "test" in entry:
            if not entry["ok"]:
                raise GradingError(f"{where}: test cell {entry['test']} raised {entry['error']}")
        elif "part" in entry or "check" in entry:
            if per_seed:
                per_seed[-1].append(entry)
                lines[-1].append(line)
        elif entry.get("end"):
            ended = True
    if not ended or len(per_seed) != len(seeds):
        raise GradingError(f"{where} stopped before recording every seed")
    if texts is not None:
        texts.update({int(seed): b"[" + b",".join(found) + b"]"
                      for seed, found in zip(seeds, lines)})
    return {int(seed): entries for seed, entries in zip(seeds, per_seed)}


def _reference(source: SourceNotebook, entries: list, hidden: bool) -> Reference:
    """A seed's Reference from its entries; a test cell that declares no check is an error."""
    grade_ids = list(source.tests)
    try:
        ref = Reference.from_entries(entries, grade_ids)
    except (ValueError, KeyError, TypeError) as exc:
        raise GradingError(f"the source notebook {source.path.name} recorded an unreadable check "
                           f"({type(exc).__name__}: {str(exc)[:200]})") from None
    empty = [g for g in grade_ids if not ref.checks[g] and (hidden or not source.is_hidden(g))]
    if empty:
        raise GradingError(f"the source notebook {source.path.name}: test cell {empty[0]} "
                           "declares no check (test cells use lr_course.grading.checks, e.g. "
                           "ck.same(f, ...))")
    return ref


def run_reference(sandbox, source: SourceNotebook, seeds: list, *, hidden: bool = True) -> dict:
    """``{seed: Reference}``: the source notebook's checks, recorded for each seed in one run."""
    return {seed: _reference(source, entries, hidden) for seed, entries in
            reference_entries(sandbox, source, seeds, hidden=hidden).items()}


class ReferenceCache:
    """The solution's records per seed, kept on disk between runs (``lr-course check`` twice,
    a ``--force`` regrade). A file is named by the digest of the source notebook, of the code
    that records in the sandbox (:func:`~.sandbox_tree.code_digest`), the seed and whether
    hidden tests ran, so neither an edited source nor another version of the check library
    is ever served stale records."""

    def __init__(self, folder, source: SourceNotebook, hidden: bool):
        from lr_course.grading.sandbox_tree import code_digest
        self.folder = Path(folder)
        h = hashlib.sha256(source.path.read_bytes())
        h.update(f"|hidden={hidden}|code={code_digest()}".encode())
        self.key = h.hexdigest()[:24]

    def _path(self, seed: int) -> Path:
        return self.folder / f"{self.key}-{seed:016x}.json"

    def get(self, seed: int):
        try:
            return json.loads(self._path(seed).read_text())
        except (OSError, ValueError):
            return None

    def put(self, seed: int, entries: list, text: bytes | None = None) -> None:
        """Keep ``entries`` (``text``: the same as JSON, as read, to save encoding them)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self._path(seed).with_suffix(".tmp")
            tmp.write_bytes(text if text is not None else json.dumps(entries).encode())
            tmp.replace(self._path(seed))
        except OSError:
            pass     # a cache that cannot be written only costs time
