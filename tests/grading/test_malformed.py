"""Malformed submissions: each student gets a clear reason and a zero; the batch goes on."""

import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))   # --import-mode=importlib: find the helper
from course_fixture import require_bwrap, AUTOGRADER, course_copy, solution_notebook, submit  # noqa: E402
from lr_course.grading.batch import grade_assignment  # noqa: E402
from lr_course.grading.submission import MAX_NOTEBOOK_BYTES  # noqa: E402

MALFORMED = Path(__file__).parent / "malformed"
# file (or generated case) -> words the reason must contain
REASONS = {
    "not_json": "not valid JSON", "truncated": "truncated", "wrong_nbformat": "nbformat 3",
    "missing_cells": "no list of cells", "empty": "empty", "binary_junk": "binary",
    "non_utf8": "not UTF-8", "top_level_list": "not a notebook",
    "cell_without_type": "malformed", "source_not_text": "neither text",
    "deeply_nested": "nested too deeply", "huge": "MiB", "directory": "directory",
    "no_notebook": "no notebook",
}

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _bwrap():
    require_bwrap()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("malformed") / "course")
    for path in sorted(MALFORMED.glob("*.ipynb")):
        submit(course, path.stem, path.read_bytes())
    with open(submit(course, "huge", b""), "wb") as f:     # valid JSON, too big
        f.write(b'{"nbformat": 4, "cells": [], "pad": "')
        f.write(b"x" * (MAX_NOTEBOOK_BYTES + 10))
        f.write(b'"}')
    shutil.rmtree(course / "submitted" / "directory", ignore_errors=True)
    (course / "submitted" / "directory" / "ps2_adaptive" / "ps2_adaptive.ipynb").mkdir(parents=True)
    (course / "submitted" / "no_notebook" / "ps2_adaptive").mkdir(parents=True)
    (course / "submitted" / "no_notebook" / "ps2_adaptive" / "my_work.ipynb").write_text("{}")
    honest = solution_notebook(course, "ps2_adaptive")
    submit(course, "honest", honest)
    dup = json.loads(json.dumps(honest))
    for cell in dup["cells"]:
        cell["id"] = "same-id"
    submit(course, "duplicate_ids", dup)
    other = json.loads((AUTOGRADER / "source" / "ps1_schedules" / "ps1_schedules.ipynb").read_text())
    submit(course, "wrong_assignment", other)
    missing = json.loads(json.dumps(honest))
    missing["cells"] = [c for c in missing["cells"]
                        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != "adam"]
    submit(course, "missing_cells_adam", missing)
    students = sorted(p.name for p in (course / "submitted").iterdir()) + ["ghost"]
    report = grade_assignment(course, "ps2_adaptive", students=students, progress=False)
    return course, report


def test_there_are_enough_cases():
    assert len(REASONS) + 4 >= 12   # + duplicate ids, wrong assignment, missing cells, ghost


@pytest.mark.parametrize("student", sorted(REASONS))
def test_unreadable_submission_gets_a_clear_reason_and_zero(batch, student):
    course, report = batch
    result = report.results[student]
    assert result.status == "invalid" and result.score == 0
    assert REASONS[student] in result.reason, result.reason
    # no feedback at grade time (it comes from generate_feedback, after review); the
    # autograded copy formgrader shows, and feedback is made from, says why in its test cells
    assert not (course / "feedback" / student).exists()
    autograded = json.loads((course / "autograded" / student / "ps2_adaptive" /
                             "ps2_adaptive.ipynb").read_text())
    shown = "".join(o.get("text", "") for c in autograded["cells"] for o in c.get("outputs", []))
    assert "not graded: " + result.reason in shown
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "lr-course") as gb:
        assert gb.find_submission("ps2_adaptive", student).score == 0


def test_feedback_of_an_unreadable_submission_says_why(batch):
    """nbgrader generate_feedback (`lr-course feedback`) on the copy the batch wrote."""
    from lr_course.grading import nbgrader_glue as glue
    course, report = batch
    glue.feedback(course, "ps2_adaptive", "not_json")
    page = (course / "feedback" / "not_json" / "ps2_adaptive" / "ps2_adaptive.html").read_text()
    assert "not valid JSON" in page and "lr-course did not grade this submission" in page
    assert "BEGIN HIDDEN" not in page and "ck.raises" not in page


def test_batch_goes_on_for_readable_notebooks(batch):
    _, report = batch
    assert report.results["honest"].score == report.results["honest"].max_score
    dup = report.results["duplicate_ids"]
    assert dup.score == dup.max_score and any("duplicate cell ids" in n for n in dup.notes)
    wrong = report.results["wrong_assignment"]
    assert wrong.status == "graded" and wrong.score == 0
    assert any("right assignment" in n for n in wrong.notes)
    missing = report.results["missing_cells_adam"]
    assert any("adam" in n for n in missing.notes) and 0 < missing.score < missing.max_score


def test_missing_student_folder_is_reported_not_graded(batch):
    _, report = batch
    assert report.missing == ["ghost"] and "ghost" not in report.results
    assert "missing: ghost" in report.summary()
