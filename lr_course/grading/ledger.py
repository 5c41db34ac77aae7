"""Which engine scored what: the provenance table in the gradebook, and shard results.

Two engines can write one nbgrader gradebook: ``nbgrader autograde`` and ``lr-course grade``.
So that neither keeps the other's scores by mistake, every submission lr-course grades gets a
row in a table of its own, ``lr_course_provenance``, created beside nbgrader's tables in the
same database (through SQLAlchemy, so SQLite and PostgreSQL alike) and committed in the same
transaction as the grades:

======================  =====================================================
assignment, student     the submission (the primary key)
engine                  ``lr-course <version>`` (:data:`ENGINE`)
source_digest           sha256 of the source notebook the reference came from
submission_digest       sha256 of the submitted file
graded_at               when (UTC, ISO 8601)
status, reason          ``graded`` or why not, for the report and the export
flags                   the engine's flags, one per line (for the instructor)
======================  =====================================================

**One rule decides whether a submission is graded again** (:func:`regrade_reason`): when
it has no row (never graded, or scored by another engine), or the row's engine, source or
submission digest differs from today's. The per-student result files (``.lr-course/results``)
only cache what the rows say; they never decide.

**Shards** (``lr-course grade A --shard k/N``): student ``s`` belongs to shard
``int(sha256(s)[:16 hex], 16) mod N`` (:func:`shard_of`), a pure function of the id, so a
slice never depends on who else submitted. A shard writes only result files under
``.lr-course/shards/<assignment>/`` (:func:`write_shard_result`); ``--merge`` reads them all
back (:func:`read_shard_results`); :class:`ShardWriter` is the batch's writer for a shard.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from lr_course import __version__

__all__ = ["ENGINE", "Provenance", "TABLE", "ensure_table", "read_provenance",
           "record_provenance", "regrade_reason", "parse_shard", "shard_of", "shard_dir",
           "write_shard_result", "read_shard_results", "shard_provenance", "ShardWriter",
           "MAX_NOTE_CHARS"]

ENGINE = f"lr-course {__version__}"
TABLE = "lr_course_provenance"
MAX_NOTE_CHARS = 4000        # flags or reason kept per submission (student-controlled text)


@dataclass(frozen=True)
class Provenance:
    """Who scored one submission, from which source and which submitted file."""

    assignment: str
    student: str
    engine: str
    source_digest: str
    submission_digest: str
    graded_at: str = ""
    status: str = "graded"
    reason: str = ""
    flags: str = ""          # one flag per line


def _table():
    from sqlalchemy import Column, MetaData, String, Table, Text
    return Table(TABLE, MetaData(),
                 Column("assignment", String(128), primary_key=True),
                 Column("student", String(128), primary_key=True),
                 Column("engine", String(64), nullable=False),
                 Column("source_digest", String(64), nullable=False),
                 Column("submission_digest", String(128), nullable=False),
                 Column("graded_at", String(32), nullable=False),
                 Column("status", String(16), nullable=False),
                 Column("reason", Text, nullable=False),
                 Column("flags", Text, nullable=False))


_TABLE = None


def _get_table():
    global _TABLE
    if _TABLE is None:
        _TABLE = _table()
    return _TABLE


def ensure_table(gb) -> None:
    """Create ``lr_course_provenance`` in the gradebook's database if it is not there."""
    table = _get_table()
    table.metadata.create_all(gb.engine, tables=[table], checkfirst=True)


def read_provenance(gb, assignment: str) -> dict:
    """``{student: Provenance}`` for ``assignment`` in the gradebook ``gb`` (none: ``{}``)."""
    from sqlalchemy import inspect
    if not inspect(gb.engine).has_table(TABLE):
        return {}
    table = _get_table()
    rows = gb.db.execute(table.select().where(table.c.assignment == assignment)).all()
    return {row.student: Provenance(**{c: getattr(row, c) for c in table.c.keys()})
            for row in rows}


def record_provenance(gb, prov: Provenance) -> None:
    """Replace the row of ``prov``'s submission in the gradebook's session (the caller commits,
    with the grades, so that the row and the scores land together)."""
    table = _get_table()
    row = asdict(prov)
    row["graded_at"] = row["graded_at"] or datetime.datetime.now(
        datetime.timezone.utc).isoformat(timespec="seconds")
    row["reason"] = row["reason"][:MAX_NOTE_CHARS]
    row["flags"] = row["flags"][:MAX_NOTE_CHARS]
    gb.db.execute(table.delete().where((table.c.assignment == prov.assignment)
                                       & (table.c.student == prov.student)))
    gb.db.execute(table.insert().values(**row))


def regrade_reason(prov: Provenance | None, source_digest: str, submission_digest: str,
                   scored_elsewhere: bool = False) -> str:
    """Why a submission must be graded (again), or ``""`` when its scores are current.

    Args:
        prov: the submission's provenance row, None when it has none.
        source_digest: sha256 of today's source notebook.
        submission_digest: sha256 of today's submitted file.
        scored_elsewhere: the gradebook holds a submission without a row (another engine).

    >>> p = Provenance("ps1", "ada", ENGINE, "s", "d")
    >>> regrade_reason(p, "s", "d"), regrade_reason(p, "s", "e")
    ('', 'the submission changed')
    >>> regrade_reason(None, "s", "d", scored_elsewhere=True)
    'scored by another engine (nbgrader autograde?)'
    """
    if prov is None:
        return "scored by another engine (nbgrader autograde?)" if scored_elsewhere \
            else "not graded yet"
    if prov.engine != ENGINE:
        return f"graded by {prov.engine}, this is {ENGINE}"
    if prov.source_digest != source_digest:
        return "the source notebook changed"
    if prov.submission_digest != submission_digest:
        return "the submission changed"
    return ""


# -- shards -------------------------------------------------------------------------------

def parse_shard(text: str) -> tuple[int, int]:
    """``"k/N"`` -> ``(k, N)`` with ``0 <= k < N`` (k counts from 0, like
    ``JOB_COMPLETION_INDEX`` and a Slurm ``--array=0-(N-1)``).

    >>> parse_shard("2/7")
    (2, 7)
    """
    try:
        k, n = (int(part) for part in str(text).split("/"))
    except ValueError:
        raise ValueError(f"shard must be k/N with whole numbers, got {text!r}") from None
    if n < 1 or not 0 <= k < n:
        raise ValueError(f"shard must be k/N with N >= 1 and 0 <= k < N, got {text!r}")
    return k, n


def shard_of(student: str, num_shards: int) -> int:
    """The shard of ``student`` among ``num_shards``: a hash of the id alone.

    >>> shard_of("ada", 1)
    0
    >>> shard_of("ada", 7) == shard_of("ada", 7)
    True
    """
    return int(hashlib.sha256(student.encode()).hexdigest()[:16], 16) % num_shards


def shard_dir(course_dir, assignment: str) -> Path:
    return Path(course_dir, ".lr-course", "shards", assignment)


def write_shard_result(course_dir, assignment: str, shard: tuple, source_digest: str,
                       result) -> Path:
    """Keep one student's result from shard ``(k, N)``, atomically (rename)."""
    folder = shard_dir(course_dir, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.student}.json"
    data = {"engine": ENGINE, "source_digest": source_digest, "shard": list(shard),
            "submission_digest": result.digest, "result": result.to_dict()}
    tmp = folder / f".{result.student}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(data))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def read_shard_results(course_dir, assignment: str) -> dict:
    """``{student: data}`` of every readable shard result file of ``assignment``."""
    out = {}
    folder = shard_dir(course_dir, assignment)
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("result"), dict):
            out[path.stem] = data
    return out


def shard_provenance(assignment: str, student: str, data: dict) -> Provenance:
    """The provenance a shard's result file (:func:`write_shard_result`) records."""
    result = data.get("result") or {}
    return Provenance(assignment, student, str(data.get("engine")),
                      str(data.get("source_digest")), str(data.get("submission_digest")),
                      status=str(result.get("status", "graded")),
                      reason=str(result.get("reason", "")))


class ShardWriter:
    """A shard's writer: one result file per student, nothing in the gradebook.

    It tells the batch what :class:`~lr_course.grading.writer.GradebookSession` does, from
    the shards' result files: ``known`` (each student's provenance) and ``scored`` (the
    students with a result: all of ``known``); a shard has no gradebook totals.
    """

    def __init__(self, course_dir, assignment: str, shard, source_digest: str):
        self.args = (course_dir, assignment, shard, source_digest)
        self.known = {s: shard_provenance(assignment, s, d) for s, d in
                      read_shard_results(course_dir, assignment).items()}
        self.scored = set(self.known)

    def write(self, result) -> None:
        write_shard_result(*self.args, result)

    def totals(self, students) -> dict:
        return {}
