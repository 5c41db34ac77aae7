"""Attacks on the grader: each gains nothing, each is flagged, the batch goes on.

Every file in ``tests/grading/attacks/`` is one attack: cells (``# %%``-separated Python)
added to a submission that otherwise has two wrong optimizers (the baseline), and/or a
``# mutate:`` of the notebook's test cells. The whole class (an honest student, the
baseline and one student per attack) is graded in ONE batch, as a real class would be.
"""

import html
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))   # --import-mode=importlib: find the helper
from course_fixture import require_bwrap, course_copy, solution_notebook, submit, wrong_notebook
from lr_course.grading.batch import grade_assignment, marker_path
from lr_course.grading.sandbox import Limits

ATTACKS = sorted(Path(__file__).parent.joinpath("attacks").glob("*.attack"))

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _bwrap():
    require_bwrap()


def parse(path):
    header, cells = {}, []
    for block in path.read_text().split("# %%\n"):
        if not cells and not header:
            for line in block.splitlines():
                key, _, value = line.lstrip("# ").partition(":")
                header[key.strip()] = value.strip()
            cells.append(None)
        else:
            cells.append(block)
    return header, [c for c in cells if c is not None]


def is_test(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta.get("grade") and not meta.get("solution")


def attacked(course, path):
    header, cells = parse(path)
    nb = wrong_notebook(course)
    at = 2 if header.get("at") != "end" else len(nb["cells"])   # after the setup cell
    new = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "id": f"attack-{i}", "source": src} for i, src in enumerate(cells)]
    nb["cells"][at:at] = new
    mutate = header.get("mutate")
    if mutate == "edit_tests":
        for cell in filter(is_test, nb["cells"]):
            cell["source"] = "pass  # nothing to check here\n"
    elif mutate == "delete_tests":
        nb["cells"] = [c for c in nb["cells"] if not is_test(c)]
    elif mutate == "retype_tests":
        for cell in filter(is_test, nb["cells"]):
            cell["cell_type"] = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    elif mutate == "change_points":
        for cell in filter(is_test, nb["cells"]):
            cell["metadata"]["nbgrader"]["points"] = 100
        new[0]["metadata"] = {"nbgrader": {"grade": True, "solution": False, "locked": True,
                                           "grade_id": "test_bonus", "points": 100,
                                           "schema_version": 3, "task": False}}
    return header, nb


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("attacks") / "course")
    submit(course, "honest", solution_notebook(course, "ps2_adaptive"))
    submit(course, "baseline", wrong_notebook(course))
    headers = {}
    for path in ATTACKS:
        headers[path.stem], nb = attacked(course, path)
        submit(course, path.stem, nb)
    report = grade_assignment(course, "ps2_adaptive", progress=False, workers=2,
                              limits=Limits(wall_seconds=30, cpu_seconds=20))
    return course, report, headers


def test_there_are_enough_attacks():
    assert len(ATTACKS) >= 30


def test_the_batch_finishes_and_honest_grades_are_untouched(batch):
    course, report, _ = batch
    assert sorted(report.graded) == sorted(["honest", "baseline"] + [p.stem for p in ATTACKS])
    honest, baseline = report.results["honest"], report.results["baseline"]
    assert honest.score == honest.max_score and not honest.flags
    assert 0 < baseline.score < honest.max_score and not baseline.flags
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "lr-course") as gb:
        for student, result in report.results.items():
            sub = gb.find_submission("ps2_adaptive", student)
            assert sub.score == result.score, student   # nobody wrote their own grade


@pytest.mark.parametrize("path", ATTACKS, ids=lambda p: p.stem)
def test_attack_gains_nothing_and_is_flagged(batch, path):
    _, report, headers = batch
    result = report.results[path.stem]
    baseline = report.results["baseline"]
    assert result.status == "graded"
    assert result.score <= baseline.score, [t.grade_id for t in result.tests if t.passed]
    expected = {code.strip() for code in headers[path.stem]["flag"].split(",")} - {"none"}
    if expected:     # the tricks a flag can see are flagged; a wrong answer alone need not be
        assert expected & {f.code for f in result.flags}, result.flags


def test_no_feedback_before_review_and_the_marker_holds_the_result(batch):
    """Feedback comes from generate_feedback alone (its hidden-test stripping is tested
    below); grading writes the marker and the autograded copy with the check reports."""
    course, report, _ = batch
    assert not (course / "feedback").exists()
    text = (course / "autograded" / "baseline" / "ps2_adaptive" / "ps2_adaptive.ipynb").read_text()
    assert "[FAIL]" in text and "hint: " in text
    marker = json.loads(marker_path(course, "ps2_adaptive", "baseline").read_text())
    assert marker["result"]["score"] == report.results["baseline"].score


@pytest.mark.slow
def test_nbgrader_feedback_after_engine_grading_teaches_without_leaking(batch):
    """`lr-course feedback` (nbgrader generate_feedback) on the engine's autograded copy."""
    from lr_course.grading import nbgrader_glue as glue
    course, report, _ = batch
    glue.feedback(course, "ps2_adaptive", "baseline")
    folder = course / "feedback" / "baseline" / "ps2_adaptive"
    text = (folder / "ps2_adaptive.html").read_text()
    checks = [c for t in report.results["baseline"].tests for c in t.checks]
    hints = [c.hint for c in checks if c.hint]
    assert hints and all(html.escape(h, quote=False) in text for h in hints)
    assert all(html.escape(c.message, quote=False) in text for c in checks)   # every message
    # no solution: the source's Adam (baseline wrote its own, without bias correction)
    solution = json.loads((course / "source" / "ps2_adaptive" / "ps2_adaptive.ipynb").read_text())
    line = "m_hat = m / (1 - beta1**t)"
    assert any(line in "".join(c["source"]) for c in solution["cells"])
    assert "BEGIN SOLUTION" not in text and line not in html.unescape(text)
    assert "BEGIN HIDDEN" not in text
    for hidden_code in ("ck.raises", "ck.invariant", 'check="unchanged"', "10.0 ** rng.uniform"):
        assert hidden_code not in html.unescape(text), hidden_code
    # nbgrader's bookkeeping (the submission's own time stamp and secret) stays beside the
    # page, as after nbgrader autograde; release_feedback sends students the page alone
    bookkeeping = {"timestamp.txt", "submission_secret.txt"}
    assert sorted(p.name for p in folder.iterdir() if p.name not in bookkeeping) == \
        ["ps2_adaptive.html"]
