"""Who handed in what, read from the file names an LMS gives its bulk download.

Collect lists a zip or a folder first (:mod:`lr_course.grading.collect`: nothing is read or
unpacked yet), then this module turns that listing into one :class:`HandIn` per student,
knowing how each LMS names its files, and :func:`choose` picks the notebook to grade. The
layouts, as each LMS exports them (checked against their documentation and against tools
that unpack these exports; what is relied on is written here):

========== ====================================================================================
layout     names in the download
========== ====================================================================================
canvas     one flat zip ("Download Submissions"): ``<name>[_late]_<user id>_<submission id>_
           <file>``, where ``<name>`` is the student's sortable name lower-cased with no
           spaces (``leeann``), ``late`` marks a submission after the due date (any case),
           and a file handed in again under the same name gets ``-1``, ``-2`` before its
           suffix. Key: the Canvas user id (digits); name key: ``<name>``.
moodle     "Download all submissions": one folder per student,
           ``<Full Name>_<participant id>_assignsubmission_file_/<files>`` (the older flat
           form ``<Full Name>_<id>_assignsubmission_file_<file>`` too), maybe inside one top
           folder. Key: the participant id (the user id; with anonymous submissions a
           number per assignment, so give a roster); name key: the full name.
blackboard "Download assignment": flat files ``<Assignment>_<username>_attempt_
           <YYYY-MM-DD-HH-MM-SS>[_<file>]`` and, per attempt, a receipt
           ``<Assignment>_<username>_attempt_<stamp>.txt`` holding ``Name: Full Name
           (username)``, ``Date Submitted: ...`` and each ``Original filename:`` /
           ``Filename:`` pair. Key: the username; name key: the full name. Several attempts:
           the latest is taken.
folders    ``<student>/<assignment>/*.ipynb`` or ``<student>/*.ipynb`` (maybe inside one top
           folder): the folder name is the student id.
========== ====================================================================================

A layout is recognised by how many notebooks its pattern names (:func:`detect`); none ->
an error naming every pattern looked for. Times: zip members carry a time without a zone
(Canvas and Moodle write the submission's), a receipt its "Date Submitted"; a time without
a zone is taken as UTC. Two copies of the assignment's notebook are decided by these times
(the latest wins); an unpacked folder's modification times depend on the tool that
unpacked it and never decide (the copies are then ambiguous), Blackboard's attempt stamps
do. Without a roster the key (never a display name) becomes the student id.

>>> canvas_name("leeann_late_4211_90001_ps2_adaptive-1.ipynb")[:4]
('leeann', True, '4211', '90001')
>>> base_name("ps2_adaptive (2).ipynb"), base_name("PS2_Adaptive-1.ipynb")
('ps2_adaptive', 'ps2_adaptive')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from lr_course.grading.submission import GradingError

__all__ = ["LAYOUTS", "File", "HandIn", "Parsed", "detect", "parse", "choose", "base_name",
           "canvas_name", "parse_receipt"]

LAYOUTS = ("canvas", "moodle", "blackboard", "folders")
MAX_RECEIPT_BYTES = 64 << 10

_CANVAS = re.compile(r"(?P<name>[^_/]+?)(?P<late>_late)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)",
                     re.IGNORECASE)
_MOODLE_DIR = re.compile(r"(?P<name>.+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_")
_MOODLE_FLAT = re.compile(r"(?P<name>.+?)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_"
                          r"(?P<file>.+)")
_BLACKBOARD = re.compile(r"(?P<prefix>.+?)_attempt_(?P<stamp>\d{4}(?:-\d\d){5})"
                         r"(?:_(?P<file>.+)|(?P<ext>\.[^._]+))")
_RENAMED = re.compile(r"(?:\s*\(\d{1,3}\)|-\d{1,3})+$")
_SKIP = ("__MACOSX", ".DS_Store")


@dataclass
class File:
    """One file of a hand-in: where it is in the source and what the student called it."""

    parts: tuple                 # its path in the listing
    name: str                    # the student's own file name (the LMS prefix removed)
    kind: str                    # "file", "symlink" or "other"
    size: int = 0
    when: datetime | None = None  # UTC, from the zip member, the file or the receipt
    attempt: str = ""            # Blackboard's attempt stamp (sorts by time); "" elsewhere

    @property
    def where(self) -> str:
        return "/".join(self.parts)


@dataclass
class HandIn:
    """What one student handed in, as the LMS names them."""

    layout: str
    key: str                     # the LMS's stable id (or the folder name)
    name: str                    # the LMS's name for the student ("" for folders)
    where: str                   # the folder, or the file prefix, in the source
    files: list = field(default_factory=list)
    late: bool = False           # Canvas's late marker
    times_decide: bool = True    # LMS attempts: the latest wins; plain folders: ambiguous


@dataclass
class Parsed:
    """A listing read in one layout: the hand-ins, and what belongs to nobody."""

    layout: str
    handins: list = field(default_factory=list)
    strays: list = field(default_factory=list)   # (where, reason) of notebooks of nobody
    ignored: list = field(default_factory=list)  # (where, why) of other files passed over


def base_name(name: str) -> str:
    """``name`` without ``.ipynb``, case, and the ``-1`` or `` (1)`` an LMS adds to a copy."""
    stem = name[:-6] if name.lower().endswith(".ipynb") else name
    return _RENAMED.sub("", stem).strip().casefold()


def canvas_name(member: str):
    """(name, late, user id, submission id, file) of a Canvas file name, or None."""
    m = _CANVAS.fullmatch(member)
    if m is None:
        return None
    return m["name"], m["late"] is not None, m["uid"], m["sid"], m["file"]


def _utc(when) -> datetime | None:
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when


def parse_receipt(text: str) -> dict:
    """The fields of a Blackboard receipt: ``name``, ``username``, ``when``, ``files``.

    ``files`` maps each ``Filename:`` (the download's name) to its ``Original filename:``.

    >>> r = parse_receipt("Name: Ann Lee (alee)\\nDate Submitted: 2026-01-12 10:15:30 UTC\\n"
    ...                   "Files:\\n\\tOriginal filename: ps2.ipynb\\n\\tFilename: A_alee_x.ipynb\\n")
    >>> r["username"], r["when"].isoformat(), r["files"]
    ('alee', '2026-01-12T10:15:30', {'A_alee_x.ipynb': 'ps2.ipynb'})
    """
    out = {"name": "", "username": "", "when": None, "files": {}}
    original = None
    for line in text.splitlines():
        line = line.strip()
        key, _, value = line.partition(":")
        value = value.strip()
        key = key.strip().casefold()
        if key == "name" and not out["username"]:
            m = re.fullmatch(r"(?P<name>.*?)\s*\((?P<user>[^()]+)\)", value)
            out["name"], out["username"] = (m["name"], m["user"].strip()) if m else (value, "")
        elif key == "date submitted" and out["when"] is None:
            out["when"] = _receipt_time(value)
        elif key == "original filename":
            original = value
        elif key == "filename" and original is not None:
            out["files"][value] = original
            original = None
    return out


def _receipt_time(text: str) -> datetime | None:
    import warnings

    from dateutil import parser as dateparser
    cleaned = re.sub(r"o'clock", "", text, flags=re.IGNORECASE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # an unknown zone name: the time is kept as is
            return _utc(dateparser.parse(cleaned, fuzzy=True))
    except (ValueError, OverflowError, TypeError):
        return None


# -- the layouts ---------------------------------------------------------------------------

def _skipped(name: str) -> bool:
    return name in _SKIP or name.startswith((".", "__"))


def _wrapper(listing: dict) -> tuple:
    """The one top folder an export may be wrapped in, or () when there is none."""
    tops = {p[0] for p in listing if not _skipped(p[0])}
    if len(tops) == 1:
        top = (next(iter(tops)),)
        if listing.get(top, ("",))[0] == "dir":
            return top
    return ()


def _flat(listing: dict, prefix: tuple):
    """The files directly in ``prefix``: ``(parts, (kind, size, when))``."""
    for parts, entry in sorted(listing.items()):
        if len(parts) == len(prefix) + 1 and parts[:len(prefix)] == prefix \
                and entry[0] != "dir" and not _skipped(parts[-1]):
            yield parts, entry


def _file(parts, entry, name, attempt="") -> File:
    kind, size, when = entry
    return File(parts, name, kind if kind in ("file", "symlink") else "other", size, when,
                attempt)


def _is_notebook(name: str) -> bool:
    return name.lower().endswith(".ipynb")


def _canvas(listing: dict, prefix: tuple, parsed: Parsed, **_):
    by_user = {}
    for parts, entry in _flat(listing, prefix):
        found = canvas_name(parts[-1])
        if found is None:
            _stray(parsed, parts, "not named as Canvas names a submission "
                   "(<name>[_late]_<user id>_<submission id>_<file>)")
            continue
        name, late, uid, _sid, original = found
        hand = by_user.setdefault(uid, HandIn("canvas", uid, name, "/".join(prefix + (
            f"{name}_{uid}_*",))))
        hand.late = hand.late or late
        hand.files.append(_file(parts, entry, original))
    parsed.handins.extend(by_user[k] for k in sorted(by_user, key=lambda k: (len(k), k)))


def _moodle(listing: dict, prefix: tuple, parsed: Parsed, **_):
    by_id = {}
    n = len(prefix)
    for parts, entry in sorted(listing.items()):
        if len(parts) <= n or parts[:n] != prefix or entry[0] == "dir" \
                or any(_skipped(p) for p in parts[n:]):
            continue
        head = parts[n]
        m = _MOODLE_DIR.fullmatch(head)
        if m is not None and (len(parts) > n + 1 or entry[0] == "symlink"):
            original = parts[-1]     # a file in the folder (or the folder itself, a link)
        else:
            m = _MOODLE_FLAT.fullmatch(head) if len(parts) == n + 1 else None
            if m is None:
                _stray(parsed, parts, "not in a Moodle submission folder "
                       "(<Full Name>_<participant id>_assignsubmission_file_/)")
                continue
            original = m["file"]
        pid = m["pid"]
        hand = by_id.setdefault(pid, HandIn("moodle", pid, m["name"], "/".join(
            prefix + (f"{m['name']}_{pid}_assignsubmission_*",))))
        if m["plugin"] != "file":
            parsed.ignored.append(("/".join(parts), f"Moodle's {m['plugin']} part, not a file"))
            continue
        hand.files.append(_file(parts, entry, original))
    parsed.handins.extend(by_id[k] for k in sorted(by_id, key=lambda k: (len(k), k)))


def _blackboard(listing: dict, prefix: tuple, parsed: Parsed, read_small=None, **_):
    attempts = {}      # (prefix, stamp) -> {"files": [...], "receipt": dict}
    for parts, entry in _flat(listing, prefix):
        m = _BLACKBOARD.fullmatch(parts[-1])
        if m is None:
            _stray(parsed, parts, "not named as Blackboard names an attempt "
                   "(<Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>)")
            continue
        slot = attempts.setdefault((m["prefix"], m["stamp"]), {"files": [], "receipt": None})
        if m["file"] is None and (m["ext"] or "").lower() == ".txt":
            slot["receipt"] = _receipt(parts, entry, read_small, parsed)
        else:
            slot["files"].append((parts, entry, m["file"] or ""))
    by_user = {}
    for (head, stamp), slot in sorted(attempts.items()):
        receipt = slot["receipt"] or {"name": "", "username": "", "when": None, "files": {}}
        user = receipt["username"]
        if not user or not head.endswith("_" + user):
            user = head.rsplit("_", 1)[-1]   # no receipt (or one that disagrees): the name says
        assignment_part = head[:-len(user) - 1] if head.endswith("_" + user) else head
        when = receipt["when"] or datetime.strptime(stamp, "%Y-%m-%d-%H-%M-%S")
        hand = by_user.setdefault(user, HandIn("blackboard", user, receipt["name"], "/".join(
            prefix + (f"{assignment_part}_{user}_attempt_*",))))
        hand.name = hand.name or receipt["name"]
        for parts, entry, original in slot["files"]:
            original = receipt["files"].get(parts[-1], original) or parts[-1]
            found = _file(parts, entry, original, attempt=stamp)
            found.when = when
            hand.files.append(found)
        if not slot["files"]:
            parsed.ignored.append((f"{head}_attempt_{stamp}", "an attempt with no file"))
    parsed.handins.extend(by_user[k] for k in sorted(by_user))


def _receipt(parts, entry, read_small, parsed) -> dict | None:
    where = "/".join(parts)
    if entry[0] != "file" or read_small is None or entry[1] > MAX_RECEIPT_BYTES:
        parsed.ignored.append((where, "a receipt that cannot be read (a link, or too large)"))
        return None
    try:
        data = read_small(parts, MAX_RECEIPT_BYTES)
    except GradingError as exc:
        parsed.ignored.append((where, f"a receipt that cannot be read ({exc})"))
        return None
    parsed.ignored.append((where, "Blackboard's receipt (read for the name and time)"))
    return parse_receipt(data.decode("utf-8", errors="replace"))


def _folders(listing: dict, prefix: tuple, parsed: Parsed, assignment: str = "", **_):
    """``<student>/[<assignment>/]*.ipynb``; a student folder may not be a link."""
    seen = set()
    for parts, (kind, _size, _when) in sorted(listing.items()):
        if len(parts) != len(prefix) + 1 or parts[:len(prefix)] != prefix \
                or _skipped(parts[-1]):
            continue
        if kind == "symlink":
            hand = HandIn("folders", parts[-1], "", "/".join(parts), times_decide=False)
            hand.files.append(File(parts, "", "symlink"))
            parsed.handins.append(hand)
            continue
        if kind != "dir":
            if _is_notebook(parts[-1]):
                _stray(parsed, parts, "a notebook outside any student's folder")
            continue
        inner = parts + (assignment,)
        if listing.get(inner, ("",))[0] != "dir":
            inner = parts
        hand = HandIn("folders", parts[-1], "", "/".join(parts), times_decide=False)
        for p, entry in sorted(listing.items()):
            if len(p) == len(inner) + 1 and p[:len(inner)] == inner and entry[0] != "dir" \
                    and not _skipped(p[-1]):
                hand.files.append(_file(p, entry, p[-1]))
                seen.add(p)
        parsed.handins.append(hand)
    for p, entry in listing.items():   # notebooks deeper than a layout looks
        if entry[0] != "dir" and _is_notebook(p[-1]) and p not in seen \
                and len(p) > len(prefix) + 1 and p[:len(prefix)] == prefix \
                and not any(_skipped(x) for x in p):
            _stray(parsed, p, "deeper than <student>/<assignment>/ (not collected)")


def _stray(parsed: Parsed, parts: tuple, reason: str):
    where = "/".join(parts)
    if _is_notebook(parts[-1]):
        parsed.strays.append((where, reason))
    else:
        parsed.ignored.append((where, "not a notebook"))


_PARSERS = {"canvas": _canvas, "moodle": _moodle, "blackboard": _blackboard,
            "folders": _folders}


def _matches(layout: str, name: str, is_dir: bool) -> bool:
    if layout == "canvas":
        return not is_dir and canvas_name(name) is not None
    if layout == "moodle":
        return (_MOODLE_DIR if is_dir else _MOODLE_FLAT).fullmatch(name) is not None
    if layout == "blackboard":
        return not is_dir and _BLACKBOARD.fullmatch(name) is not None
    return is_dir


def detect(listing: dict, assignment: str) -> str:
    """The layout whose names match most of the notebooks in ``listing``.

    Raises:
        GradingError: when no layout names any notebook: the message lists the patterns.
    """
    counts = {layout: 0 for layout in LAYOUTS}
    notebooks = [p for p, e in listing.items() if e[0] != "dir" and _is_notebook(p[-1])
                 and not any(_skipped(x) for x in p)]
    for prefix in {(), _wrapper(listing)}:
        n = len(prefix)
        found = {layout: 0 for layout in LAYOUTS}
        for p in notebooks:
            if len(p) <= n or p[:n] != prefix:
                continue
            head, deep = p[n], len(p) > n + 1
            for layout in LAYOUTS:
                if layout == "folders":
                    found[layout] += deep and len(p) <= n + 3
                else:
                    found[layout] += _matches(layout, head, deep) and (
                        layout == "moodle" or not deep)
        for layout in LAYOUTS:
            counts[layout] = max(counts[layout], found[layout])
    best = max(LAYOUTS, key=lambda layout: (counts[layout], layout != "folders"))
    if counts[best] == 0:
        shown = ", ".join("/".join(p) for p in sorted(notebooks)[:3]) or "none"
        raise GradingError(
            f"no hand-ins of {assignment} found: looked for Canvas files "
            "'<name>[_late]_<user id>_<submission id>_<file>.ipynb', Moodle folders "
            "'<Full Name>_<id>_assignsubmission_file_/', Blackboard files '<Assignment>_"
            "<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>.ipynb' and student folders "
            f"'<student>/[{assignment}/]*.ipynb'; notebooks found: {len(notebooks)} "
            f"({shown})")
    return best


def parse(layout: str, listing: dict, assignment: str, read_small=None) -> Parsed:
    """The hand-ins of ``listing`` read as ``layout`` (one of :data:`LAYOUTS`).

    ``listing`` maps each path (a tuple of names) to ``(kind, size, when)``; ``read_small``
    (``read_small(parts, cap) -> bytes``) reads a receipt.

    Raises:
        ValueError: ``layout`` is not one of :data:`LAYOUTS`.
    """
    if layout not in _PARSERS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    best = None
    for prefix in dict.fromkeys(((), _wrapper(listing))):
        parsed = Parsed(layout)
        _PARSERS[layout](listing, prefix, parsed, assignment=assignment,
                         read_small=read_small)
        taken = sum(len(h.files) for h in parsed.handins)
        if best is None or taken > best[0]:
            best = (taken, parsed)
        if layout == "folders" and prefix == () and _single_student(listing, assignment):
            break
    parsed = best[1]
    # every notebook is accounted for: in a hand-in, a stray, or passed over with a reason
    seen = {f.parts for h in parsed.handins for f in h.files}
    seen |= {tuple(w.split("/")) for w, _ in parsed.strays + parsed.ignored}
    for parts, entry in sorted(listing.items()):
        if entry[0] == "dir" or not _is_notebook(parts[-1]) or parts in seen:
            continue
        if any(_skipped(p) for p in parts):
            parsed.ignored.append(("/".join(parts), "hidden (a dot file or __MACOSX): not read"))
        else:
            parsed.strays.append(("/".join(parts), f"not where a {layout} download puts a "
                                                  "hand-in"))
    return parsed


def _single_student(listing: dict, assignment: str) -> bool:
    """A lone top folder holding notebooks (or ``<assignment>/``) is a student, not a wrapper."""
    top = _wrapper(listing)
    if not top:
        return True
    return any(len(p) == 2 and p[0] == top[0] and _is_notebook(p[1]) for p in listing) or \
        listing.get(top + (assignment,), ("",))[0] == "dir"


# -- which notebook is the hand-in ----------------------------------------------------------

class Ambiguous(GradingError):
    """A hand-in with several notebooks and no rule to choose one."""


def choose(hand: HandIn, notebook: str):
    """The notebook of ``hand`` to grade, the files passed over (with why) and notes.

    ``notebook`` is the assignment's notebook name (without ``.ipynb``). Rules, in order:
    with attempts (Blackboard), only the latest attempt counts; a file named ``notebook``
    (exactly, or as an LMS renames a copy: ``-1``, `` (1)``, any case) wins over every
    other notebook; several such files: the latest (by the LMS's time) wins where times
    decide and differ, else it is ambiguous; no such file: a lone notebook is taken, two or
    more are ambiguous.

    Returns:
        ``(File, [(File, why)], [note])``.

    Raises:
        Ambiguous: listing the files, when no rule chooses.
    """
    files = [f for f in hand.files if f.kind == "file" and _is_notebook(f.name or f.parts[-1])]
    passed, notes = [], []
    attempts = sorted({f.attempt for f in files if f.attempt})
    if len(attempts) > 1:
        latest = attempts[-1]
        for f in files:
            if f.attempt != latest:
                passed.append((f, f"an earlier attempt ({f.attempt}); the latest, {latest}, "
                                  "is taken"))
        files = [f for f in files if f.attempt == latest]
        notes.append(f"{len(attempts)} attempts: the latest ({latest}) is taken")
    target = notebook.casefold()
    named = [f for f in files if base_name(f.name) == target]
    pool = named or files
    if named:
        passed += [(f, f"not the assignment's notebook ({notebook}.ipynb is taken)")
                   for f in files if f not in named]
    if not pool:
        raise Ambiguous("no notebook found")
    if len(pool) == 1:
        return pool[0], passed, notes
    names = ", ".join(sorted(f.name or f.parts[-1] for f in pool))
    if named and hand.times_decide and all(f.when for f in pool):
        pool = sorted(pool, key=lambda f: f.when)
        if pool[-1].when > pool[-2].when:
            chosen = pool[-1]
            passed += [(f, f"an earlier copy of {notebook}.ipynb (the latest is taken)")
                       for f in pool[:-1]]
            notes.append(f"{len(pool)} copies of {notebook}.ipynb ({names}): the latest, "
                         f"{chosen.name}, is taken")
            return chosen, passed, notes
    why = f"{len(pool)} copies of {notebook}.ipynb" if named else \
        f"{len(pool)} notebooks and none named {notebook}.ipynb"
    raise Ambiguous(f"ambiguous: {why} ({names}); hand in one")
