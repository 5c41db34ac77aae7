"""Bring students' notebooks into ``submitted/`` without trusting where they come from.

Sources: nbgrader's exchange (``inbound/<student>+<assignment>+<timestamp>[+x]/``), and a
zip file or a folder exported by an LMS (Canvas, Moodle, Blackboard) or laid out as one
folder per student; :mod:`lr_course.grading.lms` reads who handed in what from the names
(layouts detected, or forced with ``layout=``), and a roster
(:mod:`lr_course.grading.roster`) maps the LMS's keys to student ids. Each source is
student-controlled data read by the instructor's account, so collecting

* never follows a symbolic link (every file is opened with ``O_NOFOLLOW`` and checked to
  be a regular file with ``fstat``; a link is refused, not copied);
* refuses a submission that is not the student's own: a student id must pass
  :func:`~lr_course.grading.student_ids.student_id_problem` (ids that differ only by case,
  Unicode form or an invisible character are a clash: both refused), and an exchange
  folder and its files must be owned by that student's account (or, where the student has
  no account on the machine, by the grader's own: a course run from one account);
* checks sizes and counts before writing anything: a zip's members are counted and their
  declared sizes added up from its directory first, and a member is then read with a cap
  of its declared size, so a small zip that would expand to gigabytes is refused with
  nothing written; a folder or an exchange entry is measured with ``lstat`` the same way;
* takes the assignment's notebook by its name (:func:`lr_course.grading.lms.choose`) and
  keeps the time it was handed in (the exchange's time stamp, a zip member's time, a
  Blackboard receipt's, a file's modification time) in nbgrader's ``timestamp.txt``;
* records every refusal as a :class:`Refusal` (student, where, reason, LMS key), returned
  in a :class:`CollectResult` and kept in ``collect_log/<assignment>.json`` in the course,
  where the report (and the gradebook or the export) can show it; each of
  :func:`refused_students` is added to the gradebook (by
  :func:`lr_course.grading.nbgrader_glue.collect`), so nbgrader's export shows a 0.

>>> safe_student_id("ann") and not safe_student_id("../ben") and not safe_student_id("a\\x1b[2K")
True
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
import time
import unicodedata
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from lr_course.grading import lms
from lr_course.grading.student_ids import (clash_key, safe_student_id, student_id,
                                           student_id_problem)
from lr_course.grading.submission import (MAX_NOTEBOOK_BYTES, GradingError, identify,
                                          read_notebook)

__all__ = ["Refusal", "CollectResult", "collect_source", "collect_folder", "collect_zip",
           "refused_students", "safe_student_id", "student_id", "student_id_problem", "read_log",
           "MAX_MEMBERS", "MAX_TOTAL_BYTES"]

MAX_MEMBERS = 20_000              # files in one zip or folder (a class of a thousand, and more)
MAX_TOTAL_BYTES = 2 << 30         # everything one collect may read
MAX_MEMBER_BYTES = MAX_NOTEBOOK_BYTES
_STAMP = "%Y-%m-%d %H:%M:%S.%f UTC"    # nbgrader's timestamp.txt, in UTC


@dataclass
class Refusal:
    """One thing collect did not take, and why (for the gradebook, the report, the export)."""

    student: str          # the student id, when one is known and valid ("" otherwise)
    where: str            # the folder, zip member or exchange entry, relative to its source
    reason: str           # a sentence for the instructor
    key: str = ""         # the LMS's key for the hand-in (user id, username, name)


@dataclass
class CollectResult:
    """What one collect did: who was collected, and every refusal with its reason."""

    assignment: str
    collected: list = field(default_factory=list)
    refused: list = field(default_factory=list)       # of Refusal
    layout: str = ""
    taken: list = field(default_factory=list)         # {student, where, time, late, key}
    ignored: list = field(default_factory=list)       # [where, why]: files passed over
    notes: list = field(default_factory=list)         # e.g. "the latest attempt is taken"
    clashes: set = field(default_factory=set)         # ids refused as a clash (no row)

    @property
    def skipped(self) -> dict:
        """``{student: reason}``, one line per student (the first reason)."""
        out = {}
        for r in self.refused:
            out.setdefault(r.student or r.key or r.where, r.reason)
        return out

    def to_dict(self) -> dict:
        return {"assignment": self.assignment, "layout": self.layout,
                "collected": list(self.collected), "taken": list(self.taken),
                "refused": [asdict(r) for r in self.refused], "skipped": self.skipped,
                "ignored": [list(i) for i in self.ignored], "notes": list(self.notes)}


# -- reading without following links ---------------------------------------------------

def _read_regular(path: Path, cap: int, uid: int | None = None) -> bytes:
    """The bytes of ``path`` if it is a regular file (not a link) of at most ``cap`` bytes.

    Raises:
        GradingError: a link, not a regular file, another owner, or too large.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if os.path.islink(path):
            raise GradingError(f"{path.name} is a symbolic link (not followed)") from None
        raise GradingError(f"{path.name} cannot be read ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise GradingError(f"{path.name} is not a regular file")
        if uid is not None and st.st_uid != uid:
            raise GradingError(f"{path.name} is not owned by the submission's owner")
        if st.st_size > cap:
            raise GradingError(f"{path.name} is {st.st_size >> 20} MiB, more than the "
                               f"{cap >> 20} MiB a notebook may have")
        chunks, size = [], 0
        while size <= cap:
            chunk = os.read(fd, min(1 << 20, cap + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > cap:
            raise GradingError(f"{path.name} grew past {cap >> 20} MiB while read")
        return b"".join(chunks)
    finally:
        os.close(fd)


# -- one student's notebook, checked and written ---------------------------------------

def _known(course: Path) -> dict:
    """Each assignment of the course and the grade_ids of its test cells."""
    from lr_course.grading.course import Course
    found = Course(Path(course))
    return {a: set(found.source(a).tests) for a in found.assignments()}


def _notebook_name(course: Path, assignment: str) -> str:
    from lr_course.grading.course import Course
    return Course(Path(course)).notebook_name(assignment)


_PLAIN_FILE = re.compile(r"[\w .()+,-]{1,120}\.ipynb")


def _accept(course: Path, assignment: str, notebook: str, student: str, data: bytes,
            name: str, timestamp: str) -> None:
    """Check ``data`` is a notebook of ``assignment``; write it to submitted/ (or raise)."""
    with tempfile.TemporaryDirectory() as tmp:
        shown = Path(name.replace("\\", "/")).name
        probe = Path(tmp) / (shown if _PLAIN_FILE.fullmatch(shown) else "submission.ipynb")
        probe.write_bytes(data)
        nb, _ = read_notebook(probe)
        found = identify(nb, probe, _known(course))
        if found != assignment:
            raise GradingError(f"{shown} is a notebook of {found}")
    submitted = course / "submitted"
    for folder in (submitted, submitted / student):
        if folder.is_symlink():
            raise GradingError(f"{folder} is a symbolic link: refusing to write through it")
    dest = submitted / student / assignment
    staging = submitted / student / f".{assignment}.collecting"
    if staging.is_symlink() or staging.is_file():
        staging.unlink()
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / f"{notebook}.ipynb").write_bytes(data)
    (staging / "timestamp.txt").write_text(timestamp)
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    elif dest.exists():
        shutil.rmtree(dest)
    staging.rename(dest)


def _stamp(when: datetime | None) -> str:
    """nbgrader's timestamp.txt text for ``when`` (naive = UTC), or now."""
    if when is None:
        when = datetime.now(timezone.utc).replace(tzinfo=None)
    return when.strftime(_STAMP)


def _clashes(course: Path, claimed: list) -> dict:
    """``{id: reason}`` for each claimed id another claim (or a submitted/ folder) mirrors.

    Ids are compared by :func:`~lr_course.grading.student_ids.clash_key`; an exact repeat
    of a folder already in ``submitted/`` is that student collected again, not a clash.
    """
    groups = {}
    for name in claimed:
        key = clash_key(unicodedata.normalize("NFC", name))
        if key:
            groups.setdefault(key, []).append(name)
    existing = {}
    submitted = Path(course) / "submitted"
    if submitted.is_dir() and not submitted.is_symlink():
        for entry in os.scandir(submitted):
            existing.setdefault(clash_key(entry.name), []).append(entry.name)
    out = {}
    for key, names in groups.items():
        others = [n for n in existing.get(key, []) if n not in
                  {unicodedata.normalize("NFC", m) for m in names}]
        if len(names) > 1 or others:
            every = sorted(set(names)) + [f"submitted/{n}" for n in sorted(others)]
            for name in names:
                out[name] = ("clash: " + " and ".join(repr(n) for n in every) +
                             " differ only by case, Unicode form or an invisible character; "
                             "none is taken (fix the ids, or give a roster)")
    return out


def _take(result: CollectResult, course: Path, notebook: str, student: str,
          hand: lms.HandIn, read) -> None:
    """Collect one hand-in under ``student`` (a valid id), or record why not."""
    key = hand.key if hand.key != student else ""
    links = [f for f in hand.files if f.kind == "symlink"]
    for f in links:
        result.refused.append(Refusal(student, f.where, "a symbolic link (never followed)", key))
    try:
        chosen, passed, notes = lms.choose(hand, notebook)
    except lms.Ambiguous as exc:
        reason = str(exc)
        if reason == "no notebook found":
            if links:
                return
            others = sorted(f.name or f.parts[-1] for f in hand.files)
            if others:
                reason += f" (found: {', '.join(others[:5])})"
        result.refused.append(Refusal(student, hand.where, reason, key))
        result.ignored += [(f.where, "not taken: " + reason[:80]) for f in hand.files
                           if f.kind != "symlink"]
        return
    result.ignored += [(f.where, why) for f, why in passed]
    result.notes += [f"{student}: {note}" for note in notes]
    if chosen.size > MAX_MEMBER_BYTES:
        result.refused.append(Refusal(student, chosen.where,
                                      f"{chosen.size >> 20} MiB, more than the "
                                      f"{MAX_MEMBER_BYTES >> 20} MiB a notebook may have", key))
        return
    try:
        data = read(chosen.parts, MAX_MEMBER_BYTES)
        _accept(course, result.assignment, notebook, student, data, chosen.name or
                chosen.parts[-1], _stamp(chosen.when))
    except (GradingError, OSError, UnicodeError) as exc:
        result.refused.append(Refusal(student, chosen.where, str(exc)[:500], key))
        return
    result.collected.append(student)
    result.taken.append({"student": student, "where": chosen.where, "key": hand.key,
                         "time": _stamp(chosen.when) if chosen.when else "",
                         "late": hand.late})


def _collect_listing(course: Path, result: CollectResult, listing: dict, read,
                     layout: str | None, roster, file_times: bool = True) -> CollectResult:
    """Read ``listing`` in its layout, map each hand-in to a student, and take each.

    ``file_times``: whether the listing's times may choose between two copies of a
    notebook (a zip's member times: yes; an unpacked folder's modification times, which
    depend on the tool that unpacked it: no, only Blackboard's attempt stamps do).
    """
    assignment = result.assignment
    notebook = _notebook_name(course, assignment)
    result.layout = layout or lms.detect(listing, assignment)
    parsed = lms.parse(result.layout, listing, assignment, read_small=read)
    result.ignored += parsed.ignored
    for where, why in parsed.strays:
        result.refused.append(Refusal("", where, why))
    claims = []
    for hand in parsed.handins:
        hand.times_decide = hand.times_decide and file_times
        described = f"{hand.layout} key {hand.key!r}" + (f", name {hand.name!r}"
                                                           if hand.name else "")
        claimed = hand.key
        if roster is not None:
            claimed = roster.lookup(hand.key, [hand.name])
            if claimed is None:
                result.refused.append(Refusal("", hand.where, f"not in the roster "
                                              f"({described})", hand.key))
                result.ignored += [(f.where, "refused with its hand-in") for f in hand.files]
                continue
        claims.append((claimed, hand, described))
    clashes = _clashes(course, [c for c, _, _ in claims])
    for claimed, hand, described in claims:
        problem = student_id_problem(claimed)
        valid = "" if problem else student_id(claimed)
        if claimed in clashes or problem:
            result.ignored += [(f.where, "refused with its hand-in") for f in hand.files]
        if claimed in clashes:
            if valid:
                result.clashes.add(valid)
            result.refused.append(Refusal(valid, hand.where, clashes[claimed], hand.key))
        elif problem:
            result.refused.append(Refusal("", hand.where, f"the student id {claimed!r} "
                                          f"({described}) {problem}", hand.key))
        else:
            _take(result, course, notebook, valid, hand, read)
    return result


# -- listing a source without following links ------------------------------------------

def _utc_from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


def _list_folder(root: Path) -> dict:
    """``{relative parts: (kind, size, mtime)}`` of everything under ``root``, no link followed."""
    found, stack, total = {}, [()], 0
    while stack:
        parts = stack.pop()
        with os.scandir(root.joinpath(*parts)) as entries:
            for entry in entries:
                st = entry.stat(follow_symlinks=False)
                rel = parts + (entry.name,)
                when = _utc_from_timestamp(st.st_mtime)
                if stat.S_ISLNK(st.st_mode):
                    found[rel] = ("symlink", 0, None)
                elif stat.S_ISDIR(st.st_mode):
                    found[rel] = ("dir", 0, None)
                    stack.append(rel)
                elif stat.S_ISREG(st.st_mode):
                    found[rel] = ("file", st.st_size, when)
                    total += st.st_size if entry.name.lower().endswith(".ipynb") else 0
                else:
                    found[rel] = ("other", 0, None)
                if len(found) > MAX_MEMBERS:
                    raise GradingError(f"{root} holds more than {MAX_MEMBERS} files and "
                                       "folders: refused before reading any")
    if total > MAX_TOTAL_BYTES:
        raise GradingError(f"{root} holds {total >> 20} MiB of notebooks, more than "
                           f"{MAX_TOTAL_BYTES >> 20} MiB: refused before reading any")
    return found


def collect_folder(course: Path, assignment: str, root: Path, layout: str | None = None,
                   roster=None) -> CollectResult:
    """Collect from a folder (an LMS export unpacked, or ``<student>/`` folders)."""
    result = CollectResult(assignment)
    listing = _list_folder(root)

    def read(parts, cap):
        return _read_regular(root.joinpath(*parts), cap)
    return _collect_listing(Path(course), result, listing, read, layout, roster,
                            file_times=False)


def _unsafe_member(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return (name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in name))


def _member_time(info: zipfile.ZipInfo) -> datetime | None:
    try:
        return datetime(*info.date_time)
    except (TypeError, ValueError):
        return None


def collect_zip(course: Path, assignment: str, archive: Path, layout: str | None = None,
                roster=None) -> CollectResult:
    """Collect from a zip: names, count and declared sizes checked before anything is read.

    Raises:
        GradingError: an unsafe member path, too many members, or too many bytes in all.
    """
    result = CollectResult(assignment)
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise GradingError(f"{archive.name} has {len(infos)} members, more than "
                               f"{MAX_MEMBERS}: refused before extracting anything")
        listing, members, total = {}, {}, 0
        for info in infos:
            if _unsafe_member(info.filename):
                raise GradingError(f"{archive.name} contains an unsafe path: "
                                   f"{info.filename!r}")
            parts = tuple(p for p in info.filename.replace("\\", "/").split("/") if p)
            if not parts:
                continue
            for i in range(1, len(parts)):
                if listing.get(parts[:i], ("dir",))[0] != "dir":
                    raise GradingError(f"{archive.name} holds both a file and a folder "
                                       f"named {'/'.join(parts[:i])!r}")
                listing.setdefault(parts[:i], ("dir", 0, None))
            mode = info.external_attr >> 16
            if info.is_dir():
                listing[parts] = ("dir", 0, None)
            elif parts in listing:
                raise GradingError(f"{archive.name} holds {info.filename!r} twice")
            elif stat.S_ISLNK(mode):
                listing[parts] = ("symlink", 0, None)
            else:
                listing[parts] = ("file", info.file_size, _member_time(info))
                members[parts] = info
                if parts[-1].lower().endswith(".ipynb"):
                    total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise GradingError(f"{archive.name} would expand to {total >> 20} MiB of "
                               f"notebooks, more than {MAX_TOTAL_BYTES >> 20} MiB: refused "
                               "before extracting anything")

        def read(parts, cap):
            info = members[parts]
            name = parts[-1]
            if info.flag_bits & 0x1:
                raise GradingError(f"{name} is encrypted")
            if info.file_size > cap:
                raise GradingError(f"{name} is {info.file_size >> 20} MiB, more than the "
                                   f"{cap >> 20} MiB allowed")
            try:
                with zf.open(info) as member:   # never more than the declared size
                    data = member.read(info.file_size + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError,
                    NotImplementedError, RuntimeError, ValueError) as exc:
                raise GradingError(f"{name} cannot be unpacked ({exc})"[:300]) from None
            if len(data) > info.file_size:
                raise GradingError(f"{name} expands past its declared size")
            return data

        return _collect_listing(Path(course), result, listing, read, layout, roster)


def collect_source(course: Path, assignment: str, source: Path, layout: str | None = None,
                   roster=None) -> CollectResult:
    """Collect from ``source``, a zip or a folder (nbgrader's exchange: :mod:`.inbound`).

    Raises:
        GradingError: a source that is not a zip or a folder, a layout that matches nothing.
        ValueError: ``layout`` is not one of :data:`lr_course.grading.lms.LAYOUTS`.
    """
    if layout is not None and layout not in lms.LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(lms.LAYOUTS)}, got {layout!r}")
    course, source = Path(course), Path(source)
    if source.is_symlink() or not source.exists():
        raise GradingError(f"no such file or folder (links are not followed): {source}")
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise GradingError(f"{source} is neither a folder nor a zip file")
        return collect_zip(course, assignment, source, layout, roster)
    return collect_folder(course, assignment, source, layout, roster)


def refused_students(result: CollectResult) -> list:
    """The refused students to add to the gradebook: a valid id, and not part of a clash."""
    return sorted({r.student for r in result.refused if r.student and
                   safe_student_id(r.student) and r.student not in result.clashes})


# -- the record of refusals -------------------------------------------------------------

def log_path(course: Path, assignment: str) -> Path:
    return Path(course) / "collect_log" / f"{assignment}.json"


def write_log(course: Path, result: CollectResult) -> Path:
    """Keep ``result`` in ``collect_log/<assignment>.json`` (the latest collect's)."""
    path = log_path(course, result.assignment)
    path.parent.mkdir(exist_ok=True)
    data = dict(result.to_dict(), time=time.time())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)
    return path


def read_log(course: Path, assignment: str) -> list:
    """The refusals of the latest collect of ``assignment``: a list of :class:`Refusal`."""
    try:
        data = json.loads(log_path(course, assignment).read_text())
        return [Refusal(str(r["student"]), str(r["where"]), str(r["reason"]),
                        str(r.get("key", "")))
                for r in data.get("refused", [])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []
