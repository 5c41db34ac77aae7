"""Collect on zips with arbitrary member names: what it may write and what it must account for.

For any zip (names drawn from path pieces, LMS-shaped pieces, separators, control and
invisible characters), collect either refuses the whole zip with a GradingError before
writing anything, or returns; it never writes outside ``submitted/``; each notebook member is taken, refused or passed over with a reason; and a
taken notebook is that member's bytes.
"""

import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lr_course.grading import collect as collecting
from lr_course.grading.submission import GradingError

from .course_fixture import AUTOGRADER as COURSE
from .course_fixture import unreleased_course

ASSIGNMENT = "ps2_adaptive"
NOTEBOOK = (COURSE / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes()

PIECES = st.sampled_from([
    "ann", "Ann", "an\u200bn", "zoë", "zoe\u0308", "a'b\"c", " ann", "-x", ".x", "__MACOSX",
    "a*", "[1]", "..", ".", "C:", "\\", "leeann_4211_90001_", "chenbo_late_4212_90002_",
    "Ann Lee_101_assignsubmission_file_", "PS2_alee_attempt_2026-01-12-10-15-30",
    "_attempt_2026-01-13-08-00-00_", "ps2_adaptive", "ps2_adaptive (1)", "ps2_adaptive-1",
    "Untitled", "\x1b[2K", "\t", "\u202e", "x" * 120,
])
SEGMENT = st.lists(st.one_of(PIECES, st.text(max_size=6)), min_size=1, max_size=3).map("".join)
SUFFIX = st.sampled_from([".ipynb", ".IPYNB", ".txt", "", "/"])
NAME = st.tuples(st.lists(SEGMENT, min_size=1, max_size=3), SUFFIX).map(
    lambda t: "/".join(t[0]) + t[1])
CONTENTS = {"notebook": NOTEBOOK, "notebook+": NOTEBOOK + b"\n", "{}": b"{}",
            "binary": b"\xff\xfe", "empty": b"",
            "receipt": b"Name: Ann Lee (alee)\nDate Submitted: 2026-01-12 10:15:30\n"}
CONTENT = st.sampled_from(sorted(CONTENTS))
MEMBERS = st.lists(st.tuples(NAME, CONTENT), max_size=8)


def _written(course: Path) -> set:
    return {str(p.relative_to(course)) for p in course.rglob("*")
            if not p.is_dir() and p.relative_to(course).parts[0] not in ("source",)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(members=MEMBERS)
def test_collect_writes_only_submissions_and_accounts_for_every_notebook(members,
                                                                         empty_gradebook):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        course = unreleased_course(root, empty_gradebook)
        before = _written(course)
        archive = root / "hand-ins.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for name, content in members:
                try:
                    zf.writestr(name, CONTENTS[content])
                except (ValueError, UnicodeError, IndexError):
                    pass              # a name zipfile itself will not store
        with zipfile.ZipFile(archive) as zf:
            stored = {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
        try:
            result = collecting.collect_source(course, ASSIGNMENT, archive)
        except GradingError:
            assert _written(course) == before          # refused whole: nothing written
            return
        after = _written(course) - before
        assert all(p.split("/")[0] == "submitted" for p in after), after
        submitted = (course / "submitted").resolve()
        for p in (course / "submitted").rglob("*") if submitted.exists() else []:
            assert p.resolve().is_relative_to(submitted) and not p.is_symlink()
        accounted = {t["where"] for t in result.taken} | {r.where for r in result.refused} | \
            {w for w, _ in result.ignored}
        for name in stored:
            parts = [p for p in name.replace("\\", "/").split("/") if p]
            if parts and parts[-1].lower().endswith(".ipynb"):
                assert "/".join(parts) in accounted, name
        for t in result.taken:
            member = next(n for n in stored if "/".join(
                p for p in n.replace("\\", "/").split("/") if p) == t["where"])
            path = course / "submitted" / t["student"] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            assert path.read_bytes() == stored[member]
        assert sorted(result.collected) == sorted(t["student"] for t in result.taken)
        assert len(set(result.collected)) == len(result.collected)
