"""Read a submitted notebook defensively and take the student's code out of it.

A submission is untrusted data: it may be empty, truncated, binary, not UTF-8, huge, of
another nbformat or another assignment, with duplicate cell ids, or with the grader's test
cells edited, deleted, retyped or re-scored. :func:`read_notebook` turns each of those into
a :class:`SubmissionError` with a sentence a student understands, or a note when grading
can go on. :func:`student_cells` keeps every code cell that is the student's and drops every
cell that claims to be a grader's test (test cells come from the SOURCE notebook, never
from the submission), flagging what was tampered with. :func:`identify` tells which
assignment a notebook belongs to (``lr-course check`` and ``lr-course collect`` use it).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lr_course.grading.flags import Flag
from lr_course.grading.text_cache import bounded_text_cache

__all__ = ["GradingError", "SubmissionError", "SourceNotebook", "read_notebook", "load_source",
           "identify", "student_cells", "transform_magics", "MAX_NOTEBOOK_BYTES"]

MAX_NOTEBOOK_BYTES = 20 << 20     # a real assignment is a few hundred KB even with plots
MAX_CELLS = 2000                  # more than any honest notebook
MAX_TEST_CELL_CHARS = 50_000      # a submitted test cell longer than this was edited
_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
                     re.MULTILINE | re.DOTALL)


class GradingError(Exception):
    """A problem with what a person asked for (a file, a course, an assignment).

    The ``lr-course`` command prints its message as one line and exits with status 2.
    """


class SubmissionError(GradingError, ValueError):
    """The submission cannot be graded; the message says why, for the student."""


def _source(cell) -> str:
    src = cell.get("source", "")
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return "".join(src)
    if isinstance(src, str):
        return src
    raise SubmissionError("a cell's source is neither text nor a list of lines")


def read_notebook(path: str | os.PathLike) -> tuple[dict, list[str]]:
    """Parse a notebook file into a dict, with notes on harmless oddities.

    Raises:
        SubmissionError: with the reason, when the file cannot be graded.

    >>> read_notebook("/nonexistent/x.ipynb")
    Traceback (most recent call last):
    ...
    lr_course.grading.submission.SubmissionError: no notebook at /nonexistent/x.ipynb (no such file)
    """
    path = Path(path)
    if path.is_dir():
        raise SubmissionError(f"{path.name} is a directory, not a notebook file")
    if not path.is_file():
        raise SubmissionError(f"no notebook at {path} (no such file)")
    size = path.stat().st_size
    if size == 0:
        raise SubmissionError(f"{path.name} is empty (0 bytes, so not valid JSON); "
                              "was it saved completely?")
    if size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{path.name} is {size >> 20} MiB, more than the "
                              f"{MAX_NOTEBOOK_BYTES >> 20} MiB a notebook may have "
                              "(clear large outputs before submitting)")
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise SubmissionError(f"{path.name} is binary data (not valid JSON), not a notebook")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{path.name} is not UTF-8 text (byte {exc.start})") from None
    try:
        nb = json.loads(text)
    except RecursionError:
        raise SubmissionError(f"{path.name} is nested too deeply to be a notebook") from None
    except json.JSONDecodeError as exc:
        where = "truncated" if exc.pos >= len(text.rstrip()) - 1 else f"line {exc.lineno}"
        raise SubmissionError(f"{path.name} is not valid JSON ({where}: {exc.msg}); "
                              "was it saved completely?") from None
    if not isinstance(nb, dict):
        raise SubmissionError(f"{path.name} is JSON but not a notebook (no top-level object)")
    major = nb.get("nbformat")
    if major != 4:
        found = "no nbformat field" if major is None else f"it has nbformat {major!r}"
        raise SubmissionError(f"{path.name} is not a Jupyter notebook in nbformat 4 ({found}); "
                              "save it with Jupyter 4 or later")
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise SubmissionError(f"{path.name} has no list of cells")
    if len(cells) > MAX_CELLS:
        raise SubmissionError(f"{path.name} has {len(cells)} cells (more than {MAX_CELLS})")
    notes = []
    ids = []
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise SubmissionError(f"cell {i} of {path.name} is malformed (no cell_type)")
        _source(cell)
        meta = cell.get("metadata", {})
        if not isinstance(meta, dict) or not isinstance(meta.get("nbgrader", {}), dict):
            cell["metadata"] = {}
            notes.append(f"cell {i}: malformed metadata ignored")
        if "id" in cell:
            ids.append(cell["id"])
    duplicates = sorted({str(x) for x in ids if ids.count(x) > 1})
    if duplicates:
        notes.append(f"duplicate cell ids ({', '.join(duplicates[:5])}): cells were graded "
                     "by content")
    return nb, notes


def _grade_meta(cell) -> dict:
    meta = cell.get("metadata", {})
    meta = meta if isinstance(meta, dict) else {}
    nbg = meta.get("nbgrader", {})
    return nbg if isinstance(nbg, dict) else {}


def _strip_hidden(source: str) -> str:
    return _HIDDEN.sub("", source)


def _normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


@dataclass
class SourceNotebook:
    """What the grader takes from the SOURCE notebook (never from a submission)."""

    path: Path
    cells: list                                     # the source cells (dicts)
    assignment: str = ""                            # its assignment (the source folder's name)
    tests: dict = field(default_factory=dict)       # grade_id -> test cell, in order
    grade_ids: list = field(default_factory=list)   # every grade_id, in order
    answers: list = field(default_factory=list)     # grade_ids of the solution cells

    def test_points(self) -> dict:
        """grade_id -> points of every autograded test cell."""
        return {gid: float(_grade_meta(c).get("points", 0) or 0) for gid, c in self.tests.items()}

    def is_hidden(self, grade_id: str) -> bool:
        """Whether a test cell has hidden tests (removed from the students' release)."""
        return bool(_HIDDEN.search(_source(self.tests[grade_id])))

    def code_cells(self) -> list:
        """The sources of the code cells that are not tests (solutions included), as run."""
        return [transform_magics(_source(c)) for c in self.cells
                if c.get("cell_type") == "code" and _grade_meta(c).get("grade_id") not in self.tests]

    def test_cells(self, hidden: bool = True) -> list:
        """``[(grade_id, source)]`` of the test cells; without their hidden tests if not hidden."""
        return [(gid, transform_magics(_source(c) if hidden else _strip_hidden(_source(c))))
                for gid, c in self.tests.items()]


def load_source(path: str | os.PathLike, assignment: str | None = None) -> SourceNotebook:
    """Read the instructor's source notebook (its test cells define what is a test)."""
    nb, _ = read_notebook(path)
    src = SourceNotebook(Path(path), nb["cells"], assignment or Path(path).parent.name)
    for cell in nb["cells"]:
        meta = _grade_meta(cell)
        gid = meta.get("grade_id")
        if isinstance(gid, str):
            src.grade_ids.append(gid)
            if cell["cell_type"] == "code" and meta.get("grade") and not meta.get("solution"):
                src.tests[gid] = cell
            if meta.get("solution"):
                src.answers.append(gid)
    return src


def identify(nb: dict, path: str | os.PathLike | None, known: dict) -> str:
    """Which assignment ``nb`` is, from its cells' grade_ids (then its file name).

    ``known`` maps each assignment to the grade_ids of its test cells. The assignment whose
    test grade_ids the notebook shares most wins; a notebook with none of them is recognised
    by an assignment's name in its file name.

    Raises:
        SubmissionError: when it is a notebook of none of them.

    >>> identify({"cells": [{"metadata": {"nbgrader": {"grade_id": "test_adam"}}}]}, None,
    ...          {"ps1": {"test_step"}, "ps2": {"test_adam"}})
    'ps2'
    """
    ids = {_grade_meta(c).get("grade_id") for c in nb["cells"] if isinstance(c, dict)}
    shared = {name: len(ids & set(tests)) for name, tests in known.items()}
    best = max(shared, key=shared.get) if shared else None
    if best is not None and shared[best] > 0:
        return best
    if path is not None:
        for name in sorted(known, key=len, reverse=True):
            if name in Path(path).name:
                return name
    raise SubmissionError(f"{path or 'the notebook'} is not a notebook of any graded "
                          f"assignment ({', '.join(sorted(known)) or 'none known'})")


def student_cells(nb: dict, source: SourceNotebook | None, test_ids=()) -> tuple[list, list, list]:
    """The student's code cells as (notebook index, source), notes, and tampering flags.

    A cell is a grader's test, and dropped, when its grade_id is a test of the source
    notebook (or in ``test_ids``), or when its metadata claims it is a test cell. A test
    cell of the source that is missing, edited, retyped or re-scored in the submission is
    flagged ``test-tampering``; it does not matter for the score, because tests always
    come from the source.
    """
    tests = dict(source.tests) if source else {}
    test_ids = set(test_ids) | set(tests)
    kept, notes, flags = [], [], []
    seen = {}
    for i, cell in enumerate(nb["cells"]):
        meta = _grade_meta(cell)
        gid = meta.get("grade_id")
        gid = gid if isinstance(gid, str) else None
        if gid in test_ids:
            seen[gid] = cell
            continue
        if cell["cell_type"] != "code":
            continue
        if meta.get("grade") and not meta.get("solution"):
            flags.append(Flag("test-tampering", f"a cell claims to be an unknown test "
                                                f"({str(gid)[:40]!r}); it was not run"))
            continue
        kept.append((i, _source(cell)))
    for gid, src_cell in tests.items():
        cell = seen.get(gid)
        if cell is None:
            flags.append(Flag("test-tampering", f"test cell {gid} is missing (restored from "
                                                "the source)"))
            continue
        if cell["cell_type"] != "code":
            flags.append(Flag("test-tampering", f"test cell {gid} was retyped to "
                                                f"{str(cell['cell_type'])[:20]}"))
        mine = _source(cell)
        if len(mine) > MAX_TEST_CELL_CHARS or \
                _normal(_strip_hidden(mine)) != _normal(_strip_hidden(_source(src_cell))):
            flags.append(Flag("test-tampering", f"test cell {gid} was edited (the source's "
                                                "version was used)"))
        claimed, real = _grade_meta(cell), _grade_meta(src_cell)
        if claimed.get("points") != real.get("points") or not claimed.get("grade"):
            flags.append(Flag("test-tampering", f"test cell {gid} has altered nbgrader "
                                                "metadata (points or grade flag)"))
    if source is not None:
        present = {g for g in (_grade_meta(c).get("grade_id") for c in nb["cells"])
                   if isinstance(g, str)}
        answers = source.answers
        if answers and not present & set(answers):
            notes.append(f"none of the cells of {source.path.stem} are in this notebook: "
                         "is it the right assignment?")
        else:
            missing = [g for g in answers if g not in present]
            if missing:
                notes.append(f"cells missing from the submission: {', '.join(missing[:8])}")
    return kept, notes, flags


def transform_magics(source: str) -> str:
    """IPython syntax (``%magic``, ``!shell``, ``x?``) as plain Python, like a kernel would.

    Uses IPython's own transformer where it is installed (it only rewrites text), so that
    ``%time x = f()`` becomes a call the runner understands; otherwise such lines are
    dropped. The cells most students leave as released are transformed once per process
    (a cache of short sources).

    >>> transform_magics("%matplotlib inline\\nx = 1\\n")
    "get_ipython().run_line_magic('matplotlib', 'inline')\\nx = 1\\n"
    """
    return _transform(source)


@bounded_text_cache(max_chars=16384, maxsize=1024)   # at most 16 MiB of cells kept
def _transform(source: str) -> str:
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython ships with jupyterlab
        return "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line
                         for line in source.splitlines()) + "\n"
    try:
        return _transformer(TransformerManager).transform_cell(source)
    except Exception:  # noqa: BLE001 - leave it to the runner to report a SyntaxError
        return source


_TM = []


def _transformer(cls):
    if not _TM:
        _TM.append(cls())
    return _TM[0]
