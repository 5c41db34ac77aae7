"""Write the source notebooks of the graded course from the check registry.

The test cells come from ``lr_course.grading.spec.ASSIGNMENTS`` (the single source of truth:
grade_ids, points, check ids, hidden or not), the solutions and teaching text from the
``ASSIGNMENT_TEXT`` tables below. Run ``python autograder/build_source.py`` after changing
either, and commit the regenerated ``source/<assignment>/<assignment>.ipynb``;
tests/grading/test_checks.py fails if the notebooks and the registry disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from source_text import ASSIGNMENT_TEXT  # noqa: E402


def _meta(grade_id, *, grade, solution, locked, points=None, task=False):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": task}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _test_source(test):
    from lr_course.grading import spec
    lines = ["from lr_course.grading import check", ""]
    calls = []
    for check_id in test.check_ids:
        fns = ", ".join(spec.CHECKS[check_id].functions)
        calls.append(f'check("{check_id}", {fns})')
    if test.hidden:
        lines += ["### BEGIN HIDDEN TESTS", *calls, "### END HIDDEN TESTS"]
    else:
        lines += calls
    return "\n".join(lines)


def build(name):
    """The source notebook of assignment ``name`` as a NotebookNode."""
    from lr_course.grading import spec
    text = ASSIGNMENT_TEXT[name]
    tests = {t.grade_id: t for t in spec.ASSIGNMENTS[name]}
    cells = [new_markdown_cell(text["intro"], metadata=_meta("intro", grade=False, solution=False,
                                                             locked=True)),
             new_code_cell(text["setup"], metadata=_meta("setup", grade=False, solution=False,
                                                         locked=True))]
    used = set()
    for part in text["parts"]:
        gid = part["id"]
        cells.append(new_markdown_cell(part["text"], metadata=_meta(f"{gid}_text", grade=False,
                                                                    solution=False, locked=True)))
        if "manual" in part:
            cells.append(new_markdown_cell(part["manual"], metadata=_meta(
                gid, grade=True, solution=True, locked=False, points=part["points"])))
            continue
        if part.get("demo"):  # a cell to play with: neither graded nor cleared at release
            cells.append(new_code_cell(part["solution"]))
        else:
            cells.append(new_code_cell(part["solution"], metadata=_meta(
                gid, grade=False, solution=True, locked=False)))
        for test_id in part["tests"]:
            test = tests[test_id]
            used.add(test_id)
            cells.append(new_code_cell(_test_source(test), metadata=_meta(
                test_id, grade=True, solution=False, locked=True, points=test.points)))
    missing = set(tests) - used
    assert not missing, f"tests of {name} without a cell: {sorted(missing)}"
    for i, cell in enumerate(cells):
        cell["id"] = f"{name}-{i:02d}"
    nb = new_notebook(cells=cells, metadata={"kernelspec": {
        "display_name": "Python 3 (lr-course)", "language": "python", "name": "python3"}})
    nbformat.validate(nb)
    return nb


def main():
    for name in ASSIGNMENT_TEXT:
        path = HERE / "source" / name / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(build(name), path)
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
