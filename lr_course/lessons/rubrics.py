"""The written-answer rubrics of the course, read from their one home: ps3's answer cells.

The instructor's problem set 3 (``autograder/source/ps3_tuning/ps3_tuning.ipynb``) has three
manually graded answer cells, ``answer_convergence``, ``answer_strategies`` and
``answer_cost``. nbgrader removes their whole source from the students' release; each holds
the model answer and the rubric in this form::

    **Model answer.** <model answer text>

    **Rubric** (pass mark P of M)

    | key | points | what earns them |
    |---|---|---|
    | regimes | 1 | names the three regimes ... |

Lesson 06's self-scored written answers use the same rubrics, parsed here, so the lesson and
the instructor can never drift apart. The notebook is found relative to the repository (a
checkout; an installed package alone has no ``autograder/``), with a clear message when absent.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

#: The repository's ps3 source notebook, where the rubrics live.
PS3_NOTEBOOK = Path(__file__).resolve().parents[2] / "autograder" / "source" / "ps3_tuning" / "ps3_tuning.ipynb"

#: The grade_ids of ps3's manually graded answer cells.
GRADE_IDS = ("answer_convergence", "answer_strategies", "answer_cost")

_HEAD = re.compile(r"\*\*Rubric\*\*\s*\(pass mark\s+(\d+)\s+of\s+(\d+)\)")
_ROW = re.compile(r"^\|\s*([a-z][a-z0-9_]*)\s*\|\s*(\d+)\s*\|\s*(.+?)\s*\|\s*$")


@dataclass(frozen=True)
class ParsedRubric:
    """One answer cell's model answer and rubric.

    Attributes:
        grade_id: the nbgrader grade_id of the cell, e.g. ``"answer_cost"``.
        model_answer: the model answer's text (markdown).
        criteria: ``{key: (what earns the points, points)}`` in the table's order.
        pass_mark: the total at which an answer passes.
    """

    grade_id: str
    model_answer: str
    criteria: dict
    pass_mark: int

    @property
    def max_total(self) -> int:
        return sum(points for _, points in self.criteria.values())


def parse_cell(grade_id: str, source: str) -> ParsedRubric:
    """Parse one answer cell's source in the format above.

    Args:
        grade_id: the cell's grade_id (for the error messages).
        source: the cell's markdown source.

    Returns:
        The :class:`ParsedRubric`.

    Raises:
        ValueError: naming the cell and what is wrong with it.

    >>> cell = ("**Model answer.** Small is slow.\\n\\n**Rubric** (pass mark 1 of 2)\\n\\n"
    ...         "| key | points | what earns them |\\n|---|---|---|\\n| slow | 1 | says small is slow |\\n"
    ...         "| why | 1 | says why |")
    >>> r = parse_cell("answer_demo", cell)
    >>> r.model_answer, r.pass_mark, r.max_total, r.criteria["why"]
    ('Small is slow.', 1, 2, ('says why', 1))
    """
    lines = [line for line in source.splitlines() if not line.strip().startswith("### ")]  # solution markers
    text = "\n".join(lines)
    if "**Model answer.**" not in text:
        raise ValueError(f"{grade_id}: the cell has no '**Model answer.**' paragraph")
    head = _HEAD.search(text)
    if head is None:
        raise ValueError(f"{grade_id}: the cell has no '**Rubric** (pass mark P of M)' line")
    model_answer = text[text.index("**Model answer.**") + len("**Model answer.**"):head.start()].strip()
    criteria = {}
    for line in text[head.end():].splitlines():
        row = _ROW.match(line.strip())
        if row is None or row.group(1) == "key":
            continue
        key, points, what = row.group(1), int(row.group(2)), row.group(3)
        if key in criteria:
            raise ValueError(f"{grade_id}: the rubric names the key {key!r} twice")
        criteria[key] = (what, points)
    pass_mark, declared = int(head.group(1)), int(head.group(2))
    parsed = ParsedRubric(grade_id, model_answer, criteria, pass_mark)
    if not criteria:
        raise ValueError(f"{grade_id}: the rubric table has no rows")
    if parsed.max_total != declared or not 0 < pass_mark <= declared:
        raise ValueError(f"{grade_id}: the pass mark line says {pass_mark} of {declared}, "
                         f"but the table's points add up to {parsed.max_total}")
    return parsed


@functools.cache
def load(path: Path | str = PS3_NOTEBOOK) -> dict[str, ParsedRubric]:
    """The rubrics of the three answer cells of the ps3 source notebook, by grade_id.

    Args:
        path: the notebook; default the repository's :data:`PS3_NOTEBOOK`.

    Returns:
        ``{grade_id: ParsedRubric}`` for every id of :data:`GRADE_IDS`.

    Raises:
        FileNotFoundError: when the notebook is not there, saying where it was looked for.
        ValueError: when a cell is missing or not in the format above.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"lesson 06's rubrics are the instructor's ps3 rubric, kept in {path}, which does not "
            "exist. Run the lesson from a checkout of the lr-course repository (the installed "
            "package alone does not carry autograder/).")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    sources = {}
    for cell in cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in GRADE_IDS:
            source = cell["source"]
            sources[grade_id] = "".join(source) if isinstance(source, list) else source
    missing = [g for g in GRADE_IDS if g not in sources]
    if missing:
        raise ValueError(f"{path} has no answer cell with grade_id {', '.join(missing)}")
    return {g: parse_cell(g, sources[g]) for g in GRADE_IDS}
