"""The in-process stand-in for the sandbox: the same runner, the same output, the same grades."""

import copy
import importlib.util
import json
from pathlib import Path

import pytest

from lr_course.grading.checks.calls import Call
from lr_course.grading.engine import Grader, _parse
from lr_course.grading.selfcheck import check_notebook
from lr_course.grading.inprocess import InProcess
from lr_course.grading.sandbox import Sandbox
from lr_course.grading.submission import load_source, transform_magics

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "autograder" / "source"

_spec = importlib.util.spec_from_file_location("mistakes_catalogue",
                                               Path(__file__).parent / "mistakes" / "catalogue.py")
catalogue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogue)

CELLS = [transform_magics(c) for c in [
    "%matplotlib inline\nimport numpy as np\nscale = 2.0",
    "def f(x):\n    print('noise')\n    return scale * np.asarray(x) / 0.0",
    "raise RuntimeError('cell three breaks')",
    "%time g = lambda x: x + open('data.txt').read().strip()",
    "get_ipython().events.register('post_run_cell', print)",
]]
CALLS = [Call("call", "f", args=(1.0,)), Call("call", "g", args=("a",)),
         Call("call", "missing")]


def parsed(box, folder):
    result = box.run({"cells": CELLS, "calls": [c.to_data() for c in CALLS]}, folder)
    out = _parse(result.results, len(CALLS), len(CELLS))
    out["records"] = {k: r.to_data() for k, r in out["records"].items()}
    for r in out["records"].values():
        r.pop("seconds", None)
    out.pop("cell_seconds")
    return result.reason, out


def test_same_output_as_the_sandbox(tmp_path):
    (tmp_path / "data.txt").write_text("b\n")
    with Sandbox(bwrap="", warn=False) as box:
        reason, expected = parsed(box, tmp_path)
    assert (reason, expected["cell_errors"]) == ("ok", [(2, "RuntimeError: cell three breaks")])
    assert parsed(InProcess(), tmp_path) == (reason, expected)
    records = expected["records"]
    assert records[0]["ok"] and records[0]["warnings"]          # divide by zero: a warning
    assert records[1]["ok"] and not records[2]["ok"]            # the file in the folder was read
    assert any(f.code == "ipython-hook" for f in expected["flags"])


def test_in_process_grades_like_the_sandbox(tmp_path):
    m = next(m for m in catalogue.MISTAKES if m.assignment == "ps1_schedules")
    nb = json.loads((SOURCE / m.assignment / f"{m.assignment}.ipynb").read_text())
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == m.cell:
            cell["source"] = m.source
    path = tmp_path / "mine.ipynb"
    path.write_text(json.dumps(nb))
    source = load_source(SOURCE / m.assignment / f"{m.assignment}.ipynb")
    here = Grader(source, InProcess(), secret=b"k" * 32).grade_file(path, "me")
    with Sandbox(bwrap="", warn=False) as box:
        there = Grader(source, box, secret=b"k" * 32).grade_file(path, "me")
    assert here.seed == there.seed and here.score < here.max_score
    assert [t.__dict__ for t in here.tests] == [t.__dict__ for t in there.tests]


def test_the_working_directory_is_restored(tmp_path):
    before = Path.cwd()
    InProcess().run({"cells": ["import os\nhere = os.getcwd()"], "calls": []}, tmp_path)
    assert Path.cwd() == before


def test_wrong_assignment_is_refused_before_running(tmp_path):
    path = tmp_path / "mine.ipynb"
    path.write_text((SOURCE / "ps1_schedules" / "ps1_schedules.ipynb").read_text())
    with pytest.raises(ValueError, match="is a notebook of ps1_schedules, not of ps3_tuning"):
        check_notebook(path, "ps3_tuning", course=ROOT / "autograder", sandbox=InProcess())
