"""An instructor's own assignment, written in a notebook alone, graded end to end.

Nothing in the package knows ``ps4_custom``: its text, solution, test cells (with partial
credit) and points are one nbgrader source notebook. ``lr-course release``, ``grade``,
``check`` and nbgrader's gradebook handle it as they handle the course's own.
"""

import shutil
from pathlib import Path

import nbformat
import pytest

from lr_course import cli
from lr_course.grading import nbgrader_glue as glue

ROOT = Path(__file__).resolve().parents[2]

SOLUTION = '''def clipped_lr(lr, max_lr=1.0):
    """min(lr, max_lr); lr >= 0 and max_lr > 0."""
    ### BEGIN SOLUTION
    if not lr >= 0:
        raise ValueError(f"lr must be >= 0, got {lr}")
    if not max_lr > 0:
        raise ValueError(f"max_lr must be > 0, got {max_lr}")
    return float(min(lr, max_lr))
    ### END SOLUTION
'''
VISIBLE = '''from lr_course.grading import checks as ck

rng = ck.rng("clipped")
for _ in range(3):
    ck.same(clipped_lr, float(rng.uniform(0, 2)), float(rng.uniform(0.1, 1.5)),
            what="clipped_lr on drawn rates")
'''
HIDDEN = '''from lr_course.grading import checks as ck

### BEGIN HIDDEN TESTS
ck.part("the default max_lr and the edge lr = 0", points=1)
ck.same(clipped_lr, 3.0)
ck.same(clipped_lr, 0.0, 0.5)
ck.part("invalid arguments raise ValueError naming them", points=2)
ck.raises(clipped_lr, -0.1, names="lr")
ck.raises(clipped_lr, 0.1, 0.0, names="max_lr")
### END HIDDEN TESTS
'''


def meta(grade_id, **kw):
    return {"nbgrader": {"grade_id": grade_id, "schema_version": 3, "locked": False,
                         "solution": False, "grade": False, "task": False, **kw}}


def custom_course(dest: Path) -> Path:
    dest.mkdir(parents=True)
    shutil.copy(ROOT / "autograder" / "nbgrader_config.py", dest)
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3",
                                                           "display_name": "Python 3"}})
    nb.cells = [
        nbformat.v4.new_markdown_cell("# ps4: clipping\n`clipped_lr(lr, max_lr=1.0)` returns "
                                      "min(lr, max_lr); `lr >= 0`, `max_lr > 0`, else "
                                      "`ValueError` naming the argument.",
                                      metadata=meta("intro", locked=True)),
        nbformat.v4.new_code_cell(SOLUTION, metadata=meta("clipped", solution=True)),
        nbformat.v4.new_code_cell(VISIBLE, metadata=meta("test_clipped", grade=True, points=1,
                                                         locked=True)),
        nbformat.v4.new_code_cell(HIDDEN, metadata=meta("test_clipped_hidden", grade=True,
                                                        points=3, locked=True)),
    ]
    folder = dest / "source" / "ps4_custom"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "ps4_custom.ipynb")
    return dest


def student(course, body):
    nb = nbformat.read(course / "release" / "ps4_custom" / "ps4_custom.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "clipped":
            cell.source = body
    return nb


@pytest.mark.slow
def test_a_notebook_only_assignment_is_released_graded_and_checked(tmp_path, capsys):
    course = custom_course(tmp_path / "course")
    assert cli.main(["release", "ps4_custom", "--course", str(course)]) == 0
    assert (course / "release" / "ps4_custom" / "ps4_custom.checks.json").is_file()
    released = (course / "release" / "ps4_custom" / "ps4_custom.ipynb").read_text()
    assert "min(lr, max_lr))" not in released and "ck.raises" not in released
    no_checks = ('def clipped_lr(lr, max_lr=1.0):\n'
                 '    return float(min(lr, max_lr))\n')
    wrong_default = no_checks.replace("max_lr=1.0", "max_lr=2.0")
    incoming = tmp_path / "incoming"
    answer = "".join(line for line in SOLUTION.splitlines(keepends=True)
                     if "SOLUTION" not in line)
    for name, body in [("full", answer),
                       ("no_checks", no_checks), ("wrong_default", wrong_default)]:
        (incoming / name).mkdir(parents=True)
        nbformat.write(student(course, body), incoming / name / "ps4_custom.ipynb")
    assert sorted(glue.collect(course, "ps4_custom", incoming)["collected"]) == \
        ["full", "no_checks", "wrong_default"]
    capsys.readouterr()
    assert cli.main(["grade", "ps4_custom", "--course", str(course), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "full: 4/4" in out and "no_checks: 2/4" in out and "wrong_default: 1/4" in out
    scores = glue.test_scores(course, "ps4_custom")
    assert scores["no_checks"]["test_clipped_hidden"] == (1.0, 3.0)      # partial credit
    assert scores["wrong_default"]["test_clipped_hidden"] == (0.0, 3.0)
    assert scores["full"]["test_clipped"] == (1.0, 1.0)
    # a student checks herself from the course (all tests) or from the release alone
    mine = tmp_path / "mine.ipynb"
    nbformat.write(student(course, no_checks), mine)
    assert cli.main(["check", str(mine), "--course", str(course)]) == 0
    out = capsys.readouterr().out
    assert "score: 2/4" in out and "ValueError" in out and "(all tests)" in out
