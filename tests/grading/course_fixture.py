"""A throwaway nbgrader course for the engine's tests: released, with submissions.

``released_course(dest)`` copies the repository's ``autograder/`` (config and source
notebooks) and runs ``nbgrader generate_assignment`` for the graded assignments; tests copy
that course (cheap) instead of releasing again. ``solution_notebook`` fills the released
notebook with the source's solutions, which is what an honest, perfect student submits.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AUTOGRADER = REPO / "autograder"
_SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION[^\n]*\n|^[ \t]*### END SOLUTION[^\n]*\n?",
                       re.MULTILINE)


def unreleased_course(root: Path, gradebook: Path) -> Path:
    """``root/course``: autograder/'s config and source notebooks, and a copy of an empty
    gradebook (the ``empty_gradebook`` fixture; collect gives refused students a row)."""
    course = root / "course"
    course.mkdir()
    shutil.copy(AUTOGRADER / "nbgrader_config.py", course)
    shutil.copytree(AUTOGRADER / "source", course / "source")
    shutil.copy(gradebook, course / "gradebook.db")
    return course


def released_course(dest: Path, assignments=("ps2_adaptive",)) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(AUTOGRADER / "nbgrader_config.py", dest / "nbgrader_config.py")
    for name in assignments:
        shutil.copytree(AUTOGRADER / "source" / name, dest / "source" / name)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    for name in assignments:
        subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"),
                        "generate_assignment", name, "--force", "--log-level=ERROR"],
                       cwd=dest, env=env, check=True, capture_output=True)
    return dest


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def notebook(course: Path, assignment: str, kind: str = "release") -> dict:
    return json.loads((course / kind / assignment / f"{assignment}.ipynb").read_text())


def solution_notebook(course: Path, assignment: str, replace: dict | None = None) -> dict:
    """The released notebook with every solution cell answered from the source.

    ``replace`` maps a grade_id to the source to put in that cell instead (a mistake).
    """
    nb = copy.deepcopy(notebook(course, assignment))
    answers = {}
    for cell in notebook(course, assignment, "source")["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            answers[meta["grade_id"]] = _SOLUTION.sub("", _source(cell))
    answers.update(replace or {})
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    return nb


def submit(course: Path, student: str, nb, assignment: str = "ps2_adaptive",
           timestamp: str | None = "2026-01-01 12:00:00.000000 UTC") -> Path:
    """Put ``nb`` (a dict, or raw bytes/str) where nbgrader collect would."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    if isinstance(nb, dict):
        path.write_text(json.dumps(nb))
    elif isinstance(nb, bytes):
        path.write_bytes(nb)
    else:
        path.write_text(nb)
    if timestamp:
        (folder / "timestamp.txt").write_text(timestamp)
    return path


def add_cell(nb: dict, source: str, after_grade_id: str | None = None, index: int | None = None):
    """Insert a student code cell (no nbgrader metadata)."""
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": source, "id": f"extra-{len(nb['cells'])}"}
    if index is None:
        index = len(nb["cells"])
        if after_grade_id is not None:
            for i, c in enumerate(nb["cells"]):
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == after_grade_id:
                    index = i + 1
    nb["cells"].insert(index, cell)
    return nb


def require_bwrap():
    """Skip without bubblewrap, but FAIL in CI (CI=true): isolation must be tested there."""
    import pytest
    from lr_course.grading.sandbox import bwrap_path
    if bwrap_path() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("bubblewrap (bwrap) is missing in CI", pytrace=False)
        pytest.skip("needs bubblewrap")


_RELEASED = {}


def course_copy(tmp_path_factory, dest: Path, assignments=("ps2_adaptive",)) -> Path:
    """A fresh copy of a released course (released once per test session)."""
    key = tuple(assignments)
    if key not in _RELEASED:
        _RELEASED[key] = released_course(
            tmp_path_factory.mktemp("released_course"), assignments)
    shutil.copytree(_RELEASED[key], dest)
    return dest


WRONG_ADAM = '''def adam_init(params):
    return {"m": np.zeros_like(params, dtype=float), "v": np.zeros_like(params, dtype=float),
            "t": 0}


def adam_update(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    # mistake: no bias correction
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * grads
    v = beta2 * state["v"] + (1 - beta2) * grads ** 2
    return params - lr * m / (np.sqrt(v) + eps), {"m": m, "v": v, "t": t}
'''

WRONG_RMSPROP = '''def rmsprop_init(params):
    return {"avg_sq": np.zeros_like(params, dtype=float)}


def rmsprop_update(params, grads, state, lr=0.01, rho=0.99, eps=1e-8):
    # mistake: no square root
    s = rho * state["avg_sq"] + (1 - rho) * grads ** 2
    return params - lr * grads / (s + eps), {"avg_sq": s}
'''


def wrong_notebook(course: Path) -> dict:
    """A plausible student with two wrong optimizers (the attacks' baseline)."""
    return solution_notebook(course, "ps2_adaptive",
                             {"adam": WRONG_ADAM, "rmsprop": WRONG_RMSPROP})
