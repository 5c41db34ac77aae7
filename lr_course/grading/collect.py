"""Bring students' notebooks into ``submitted/`` without trusting where they come from.

Three sources: nbgrader's exchange (``inbound/<student>+<assignment>+<timestamp>[+x]/``),
a folder and a zip file (one folder per student, as an LMS exports them). Each is
student-controlled data read by the instructor's account, so collecting

* never follows a symbolic link (every file is opened with ``O_NOFOLLOW`` and checked to
  be a regular file with ``fstat``; a link is refused, not copied);
* refuses a submission that is not the student's own: a student id must be a plain name
  (no path, no control character), and an exchange folder and its files must be owned by
  that student's account (or, where the student has no account on the machine, by the
  grader's own: a course run from one account);
* checks sizes and counts before writing anything: a zip's members are counted and their
  declared sizes added up from its directory first, and a member is then read with a cap
  of its declared size, so a small zip that would expand to gigabytes is refused with
  nothing written; a folder or an exchange entry is measured with ``lstat`` the same way;
* records every refusal as a :class:`Refusal` (student, where, reason), returned in a
  :class:`CollectResult` and kept in ``collect_log/<assignment>.json`` in the course, where
  the report (and the gradebook or the export) can show it.

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
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lr_course.grading.submission import (MAX_NOTEBOOK_BYTES, GradingError, identify,
                                          read_notebook)

try:
    import pwd
except ImportError:  # pragma: no cover - not on Windows
    pwd = None

__all__ = ["Refusal", "CollectResult", "collect_exchange", "collect_folder", "collect_zip",
           "safe_student_id", "read_log", "MAX_MEMBERS", "MAX_TOTAL_BYTES"]

MAX_MEMBERS = 20_000              # files in one zip or folder (a class of a thousand, and more)
MAX_TOTAL_BYTES = 2 << 30         # everything one collect may read
MAX_MEMBER_BYTES = MAX_NOTEBOOK_BYTES
_STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
_STAMP = "%Y-%m-%d %H:%M:%S.%f UTC"


def safe_student_id(name: str) -> bool:
    """Whether ``name`` can be a student id: letters, digits and ``._@+-``, not first."""
    return isinstance(name, str) and _STUDENT_ID.fullmatch(name) is not None


@dataclass
class Refusal:
    """One thing collect did not take, and why (for the gradebook, the report, the export)."""

    student: str          # the claimed student id, shown escaped ("" when there is none)
    where: str            # the folder, zip member or exchange entry, relative to its source
    reason: str           # a sentence for the instructor


@dataclass
class CollectResult:
    """What one collect did: who was collected, and every refusal with its reason."""

    assignment: str
    collected: list = field(default_factory=list)
    refused: list = field(default_factory=list)       # of Refusal

    @property
    def skipped(self) -> dict:
        """``{student: reason}``, one line per student (the first reason)."""
        out = {}
        for r in self.refused:
            out.setdefault(r.student or r.where, r.reason)
        return out

    def to_dict(self) -> dict:
        return {"assignment": self.assignment, "collected": list(self.collected),
                "refused": [asdict(r) for r in self.refused], "skipped": self.skipped}


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


def _owner_problem(st: os.stat_result, student: str) -> str:
    """'' when ``st`` (a folder's lstat) belongs to ``student``, else why not."""
    if pwd is None:
        return ""
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = f"uid {st.st_uid}"
    if owner == student:
        return ""
    try:
        pwd.getpwnam(student)
        has_account = True
    except KeyError:
        has_account = False
    if not has_account and st.st_uid == os.geteuid():
        return ""   # one account runs the whole course (students have none on this machine)
    return f"is owned by {owner}, not by the student {student}: not the student's own"


# -- one student's notebook, checked and written ---------------------------------------

def _known(course: Path) -> dict:
    """Each assignment of the course and the grade_ids of its test cells."""
    from lr_course.grading.course import Course
    found = Course(Path(course))
    return {a: set(found.source(a).tests) for a in found.assignments()}


def _accept(course: Path, assignment: str, student: str, data: bytes, name: str,
            timestamp: str) -> None:
    """Check ``data`` is a notebook of ``assignment``; write it to submitted/ (or raise)."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / Path(name).name
        probe.write_bytes(data)
        nb, _ = read_notebook(probe)
        found = identify(nb, probe, _known(course))
        if found != assignment:
            raise GradingError(f"{Path(name).name} is a notebook of {found}")
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
    (staging / f"{assignment}.ipynb").write_bytes(data)
    (staging / "timestamp.txt").write_text(timestamp)
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    elif dest.exists():
        shutil.rmtree(dest)
    staging.rename(dest)


def _take(result: CollectResult, course: Path, student: str, where: str, notebooks: dict,
          reader, timestamp: str):
    """Collect one student's folder: ``notebooks`` maps a name to its (kind, size)."""
    if not safe_student_id(student):
        result.refused.append(Refusal("", where, "the folder name is not a plain student id "
                                      "(letters, digits and ._@+- only)"))
        return
    assignment = result.assignment
    links = [n for n, (kind, _) in notebooks.items() if kind == "symlink"]
    for name in links:
        result.refused.append(Refusal(student, f"{where}/{name}",
                                      "a symbolic link (never followed)"))
    regular = {n: size for n, (kind, size) in notebooks.items() if kind == "file"}
    if not regular:
        if not links:
            result.refused.append(Refusal(student, where, "no notebook found"))
        return
    name = f"{assignment}.ipynb" if f"{assignment}.ipynb" in regular else sorted(regular)[0]
    if regular[name] > MAX_MEMBER_BYTES:
        result.refused.append(Refusal(student, f"{where}/{name}",
                                      f"{regular[name] >> 20} MiB, more than the "
                                      f"{MAX_MEMBER_BYTES >> 20} MiB a notebook may have"))
        return
    try:
        data = reader(name)
        _accept(course, assignment, student, data, name, timestamp)
    except GradingError as exc:
        result.refused.append(Refusal(student, f"{where}/{name}", str(exc)))
        return
    result.collected.append(student)


def _now_stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S.000000 UTC", time.gmtime())


# -- listing a source without following links ------------------------------------------

def _list_folder(root: Path) -> dict:
    """``{relative parts: (kind, size)}`` of everything under ``root``, links not followed."""
    found, stack, total = {}, [()], 0
    while stack:
        parts = stack.pop()
        with os.scandir(root.joinpath(*parts)) as entries:
            for entry in entries:
                st = entry.stat(follow_symlinks=False)
                rel = parts + (entry.name,)
                if stat.S_ISLNK(st.st_mode):
                    found[rel] = ("symlink", 0)
                elif stat.S_ISDIR(st.st_mode):
                    found[rel] = ("dir", 0)
                    stack.append(rel)
                elif stat.S_ISREG(st.st_mode):
                    found[rel] = ("file", st.st_size)
                    total += st.st_size if entry.name.endswith(".ipynb") else 0
                else:
                    found[rel] = ("other", 0)
                if len(found) > MAX_MEMBERS:
                    raise GradingError(f"{root} holds more than {MAX_MEMBERS} files and "
                                       "folders: refused before reading any")
    if total > MAX_TOTAL_BYTES:
        raise GradingError(f"{root} holds {total >> 20} MiB of notebooks, more than "
                           f"{MAX_TOTAL_BYTES >> 20} MiB: refused before reading any")
    return found


def _students(listing: dict, assignment: str) -> dict:
    """``{student folder parts: {notebook name: (kind, size)}}`` in the usual layouts."""
    tops = sorted(p for p, (kind, _) in listing.items() if len(p) == 1 and kind == "dir"
                  and not p[0].startswith("__"))
    prefix = ()
    if len(tops) == 1:
        top = tops[0]
        direct = any(len(p) == 2 and p[:1] == top and p[1].endswith(".ipynb") for p in listing)
        if not direct and listing.get(top + (assignment,), ("",))[0] != "dir":
            prefix = top   # a zip that wraps everything in one top folder
    out = {}
    for parts, (kind, _) in sorted(listing.items()):
        if len(parts) != len(prefix) + 1 or parts[:len(prefix)] != prefix:
            continue
        if parts[-1].startswith((".", "__")) or kind not in ("dir", "symlink"):
            continue
        if kind == "symlink":
            out[parts] = {"": ("symlink", 0)}
            continue
        inner = parts + (assignment,)
        if listing.get(inner, ("",))[0] != "dir":
            inner = parts
        out[parts] = {p[-1]: listing[p] for p in listing
                      if len(p) == len(inner) + 1 and p[:len(inner)] == inner
                      and p[-1].endswith(".ipynb") and listing[p][0] in ("file", "symlink")}
        out[parts]["\0inner"] = ("inner", inner)
    return out


def collect_folder(course: Path, assignment: str, root: Path) -> CollectResult:
    """Collect ``<student>/[<assignment>/]*.ipynb`` from a folder, following no link."""
    result = CollectResult(assignment)
    listing = _list_folder(root)
    for parts, notebooks in _students(listing, assignment).items():
        where = "/".join(parts)
        if notebooks.get("") == ("symlink", 0):
            result.refused.append(Refusal(parts[-1] if safe_student_id(parts[-1]) else "",
                                          where, "a symbolic link (never followed)"))
            continue
        inner = notebooks.pop("\0inner")[1]
        folder = root.joinpath(*inner)
        _take(result, course, parts[-1], where, notebooks,
              lambda name, folder=folder: _read_regular(folder / name, MAX_MEMBER_BYTES),
              _now_stamp())
    return result


def _unsafe_member(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return (name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in name))


def collect_zip(course: Path, assignment: str, archive: Path) -> CollectResult:
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
                listing.setdefault(parts[:i], ("dir", 0))
            mode = info.external_attr >> 16
            if info.is_dir():
                listing[parts] = ("dir", 0)
            elif stat.S_ISLNK(mode):
                listing[parts] = ("symlink", 0)
            else:
                listing[parts] = ("file", info.file_size)
                members[parts] = info
                if parts[-1].endswith(".ipynb"):
                    total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise GradingError(f"{archive.name} would expand to {total >> 20} MiB of "
                               f"notebooks, more than {MAX_TOTAL_BYTES >> 20} MiB: refused "
                               "before extracting anything")

        def reader(inner):
            def read(name):
                info = members[inner + (name,)]
                if info.flag_bits & 0x1:
                    raise GradingError(f"{name} is encrypted")
                try:
                    with zf.open(info) as member:   # never more than the declared size
                        data = member.read(min(info.file_size, MAX_MEMBER_BYTES) + 1)
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError,
                        NotImplementedError, RuntimeError) as exc:
                    raise GradingError(f"{name} cannot be unpacked ({exc})"[:300]) from None
                if len(data) > min(info.file_size, MAX_MEMBER_BYTES):
                    raise GradingError(f"{name} expands past its declared size")
                return data
            return read

        for parts, notebooks in _students(listing, assignment).items():
            where = "/".join(parts)
            if notebooks.get("") == ("symlink", 0):
                result.refused.append(Refusal("", where, "a symbolic link (never followed)"))
                continue
            inner = notebooks.pop("\0inner")[1]
            _take(result, course, parts[-1], where, notebooks, reader(inner), _now_stamp())
    return result


def _exchange_entry(name: str, assignment: str):
    """(student, timestamp text) of an inbound folder's name, or None if not ours."""
    pieces = name.rsplit("+", 3)
    if len(pieces) == 4 and pieces[1] != assignment:   # no random suffix: ids with a '+'
        pieces = name.rsplit("+", 2)
    if len(pieces) < 3 or pieces[1] != assignment:
        return None
    return pieces[0], pieces[2]


def collect_exchange(course: Path, assignment: str, inbound: Path) -> CollectResult:
    """Collect each student's latest ``inbound/<student>+<assignment>+<time>`` folder.

    The folder must be a real folder (not a link) owned by the student (see the module
    docstring); its notebooks, regular files owned by the same account.
    """
    from nbgrader.utils import parse_utc
    result = CollectResult(assignment)
    if not inbound.is_dir():
        raise GradingError(f"no exchange inbound folder at {inbound}")
    latest = {}
    with os.scandir(inbound) as entries:
        for count, entry in enumerate(entries):
            if count > MAX_MEMBERS:
                raise GradingError(f"{inbound} holds more than {MAX_MEMBERS} entries")
            parsed = _exchange_entry(entry.name, assignment)
            if parsed is None:
                continue
            student, stamp = parsed
            claimed = student if safe_student_id(student) else ""
            st = entry.stat(follow_symlinks=False)
            problem = ""
            if not claimed:
                problem = "the student id is not a plain name"
            elif stat.S_ISLNK(st.st_mode):
                problem = "a symbolic link (never followed)"
            elif not stat.S_ISDIR(st.st_mode):
                problem = "not a folder"
            else:
                problem = _owner_problem(st, student)
            try:
                when = parse_utc(stamp)
            except Exception:  # noqa: BLE001 - any unparsable time stamp
                problem = problem or f"the time stamp {stamp[:40]!r} is not a date"
            if problem:
                result.refused.append(Refusal(claimed, entry.name, problem))
                continue
            if student not in latest or when > latest[student][0]:
                latest[student] = (when, entry.name, st.st_uid, stamp)
    for student, (_, name, uid, stamp) in sorted(latest.items()):
        folder = inbound / name
        try:
            listing = {}
            with os.scandir(folder) as entries:
                for entry in entries:
                    if not entry.name.endswith(".ipynb"):
                        continue
                    st = entry.stat(follow_symlinks=False)
                    kind = "symlink" if stat.S_ISLNK(st.st_mode) else \
                        "file" if stat.S_ISREG(st.st_mode) else "other"
                    if kind != "other":
                        listing[entry.name] = (kind, st.st_size)
        except OSError as exc:
            result.refused.append(Refusal(student, name, f"cannot be read ({exc.strerror})"))
            continue
        _take(result, course, student, name, listing,
              lambda n, folder=folder, uid=uid: _read_regular(folder / n, MAX_MEMBER_BYTES, uid),
              stamp)
        if result.collected[-1:] == [student]:
            _keep_submission_secret(course, assignment, student, folder, uid)
    return result


def _keep_submission_secret(course: Path, assignment: str, student: str, folder: Path,
                            uid: int) -> None:
    """Bring nbgrader's submission secret along with the notebook, when it looks like one.

    nbgrader's submit leaves ``submission_secret.txt`` (a hex token) beside the notebook, and
    its release_feedback and fetch_feedback name the student's feedback after it: without
    it there, the student cannot fetch feedback. Anything else in that file is ignored.
    """
    try:
        secret = _read_regular(folder / "submission_secret.txt", 1024, uid).decode("ascii")
    except (GradingError, UnicodeDecodeError):
        return
    if re.fullmatch(r"[0-9a-f]{16,512}", secret):
        (course / "submitted" / student / assignment / "submission_secret.txt").write_text(secret)


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
        return [Refusal(str(r["student"]), str(r["where"]), str(r["reason"]))
                for r in data.get("refused", [])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []
