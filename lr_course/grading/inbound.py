"""Submissions from nbgrader's exchange: each student's latest, and only the student's own.

nbgrader's ``submit`` leaves ``inbound/<student>+<assignment>+<timestamp>[+<random>]/`` in
the exchange. A folder is taken only when it is a real folder (not a link) owned by the
student it names, or, where the student has no account on the machine, by the grader's own
account (a course run from one account); its notebooks must be regular files of the same
owner. The student id passes :func:`~lr_course.grading.student_ids.student_id_problem`;
ids that look alike are refused as a clash; the notebook is chosen by the assignment's name
(:func:`lr_course.grading.lms.choose`); the exchange's time stamp is kept as
``timestamp.txt``. :func:`lr_course.grading.nbgrader_glue.collect` calls this for a
collect with no source.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from lr_course.grading import collect as collecting
from lr_course.grading import lms
from lr_course.grading.student_ids import safe_student_id, student_id_problem
from lr_course.grading.submission import GradingError

try:
    import pwd
except ImportError:  # pragma: no cover - not on Windows
    pwd = None

__all__ = ["collect_inbound"]


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


def _exchange_entry(name: str, assignment: str):
    """(student, timestamp text) of an inbound folder's name, or None if not ours."""
    pieces = name.rsplit("+", 3)
    if len(pieces) == 4 and pieces[1] != assignment:   # no random suffix: ids with a '+'
        pieces = name.rsplit("+", 2)
    if len(pieces) < 3 or pieces[1] != assignment:
        return None
    return pieces[0], pieces[2]


def collect_inbound(course: Path, assignment: str, inbound: Path) -> "collecting.CollectResult":
    """Collect each student's latest ``inbound/<student>+<assignment>+<time>`` folder.

    The folder must be a real folder (not a link) owned by the student (see the module
    docstring); its notebooks, regular files owned by the same account.
    """
    from nbgrader.utils import parse_utc
    result = collecting.CollectResult(assignment, layout="exchange")
    if not inbound.is_dir():
        raise GradingError(f"no exchange inbound folder at {inbound}")
    notebook = collecting._notebook_name(course, assignment)
    latest, claimed_ids = {}, []
    with os.scandir(inbound) as entries:
        for count, entry in enumerate(entries):
            if count > collecting.MAX_MEMBERS:
                raise GradingError(f"{inbound} holds more than {collecting.MAX_MEMBERS} entries")
            parsed = _exchange_entry(entry.name, assignment)
            if parsed is None:
                continue
            student, stamp = parsed
            claimed_ids.append(student)
            problem = student_id_problem(student)
            claimed = "" if problem or not safe_student_id(student) else student
            st = entry.stat(follow_symlinks=False)
            if not claimed:
                problem = f"the student id is not a plain name ({problem or 'not NFC'})"
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
                result.refused.append(collecting.Refusal(claimed, entry.name, problem))
                continue
            if student not in latest or when > latest[student][0]:
                latest[student] = (when, entry.name, st.st_uid, stamp)
    clashes = collecting._clashes(course, list(dict.fromkeys(claimed_ids)))
    for student, (_, name, uid, stamp) in sorted(latest.items()):
        if student in clashes:
            result.clashes.add(student)
            result.refused.append(collecting.Refusal(student, name, clashes[student]))
            continue
        folder = inbound / name
        hand = lms.HandIn("exchange", student, "", name, times_decide=False)
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if not entry.name.lower().endswith(".ipynb"):
                        continue
                    st = entry.stat(follow_symlinks=False)
                    kind = "symlink" if stat.S_ISLNK(st.st_mode) else \
                        "file" if stat.S_ISREG(st.st_mode) else "other"
                    hand.files.append(lms.File((name, entry.name), entry.name, kind,
                                               st.st_size))
        except OSError as exc:
            result.refused.append(collecting.Refusal(student, name, f"cannot be read ({exc.strerror})"))
            continue
        hand.files.sort(key=lambda f: f.name)

        def read(parts, cap, folder=folder, uid=uid):
            return collecting._read_regular(folder / parts[-1], cap, uid)
        before = len(result.taken)
        collecting._take(result, Path(course), notebook, student, hand, read)
        if len(result.taken) > before:      # the exchange's own time stamp, as submitted
            (Path(course) / "submitted" / student / assignment / "timestamp.txt"
             ).write_text(stamp)
            result.taken[-1]["time"] = stamp
            _keep_submission_secret(Path(course), assignment, student, folder, uid)
    return result


def _keep_submission_secret(course: Path, assignment: str, student: str, folder: Path,
                            uid: int) -> None:
    """Bring nbgrader's submission secret along with the notebook, when it looks like one.

    nbgrader's submit leaves ``submission_secret.txt`` (a hex token) beside the notebook, and
    its release_feedback and fetch_feedback name the student's feedback after it: without
    it there, the student cannot fetch feedback. Anything else in that file is ignored.
    """
    try:
        secret = collecting._read_regular(folder / "submission_secret.txt", 1024, uid)
        secret = secret.decode("ascii")
    except (GradingError, UnicodeDecodeError):
        return
    if re.fullmatch(r"[0-9a-f]{16,512}", secret):
        (course / "submitted" / student / assignment / "submission_secret.txt").write_text(secret)
