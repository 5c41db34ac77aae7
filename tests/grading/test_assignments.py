"""The course's assignments, graded from their source notebooks alone.

Each assignment is judged the way otter tests assignments: the solution scores full marks,
the blank release scores zero, and each planted mistake (``mistakes/catalogue.py``) loses the
points of the tests it must fail and no others, under several course secrets.
"""

import copy
import re
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))   # --import-mode=importlib: find the helpers
from mistakes.catalogue import MISTAKES, WARNING_SOLUTION, planted, source_nb  # noqa: E402

from lr_course.grading.engine import Grader  # noqa: E402
from lr_course.grading.inprocess import InProcess  # noqa: E402
from lr_course.grading.submission import load_source  # noqa: E402

SOURCE = Path(__file__).resolve().parents[2] / "autograder" / "source"
ASSIGNMENTS = sorted(p.name for p in SOURCE.iterdir() if p.is_dir())
SECRETS = [b"a" * 32, b"b" * 32, b"c" * 32]
_SOLUTION = re.compile(r"### BEGIN SOLUTION.*?### END SOLUTION", re.DOTALL)


def grade(assignment, nb, tmp_path, secret=SECRETS[0], student="student"):
    source = load_source(SOURCE / assignment / f"{assignment}.ipynb", assignment)
    path = tmp_path / f"{assignment}.ipynb"
    nbformat.write(nb, path)
    return Grader(source, InProcess(), secret=secret).grade_file(path, student)


def blank(assignment):
    nb = copy.deepcopy(source_nb(assignment))
    for cell in nb.cells:
        cell.source = _SOLUTION.sub("raise NotImplementedError()", cell.source)
    return nb


def scores(result):
    return {t.grade_id: t.score for t in result.tests}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("secret", SECRETS)
def test_solution_full_marks_blank_zero(assignment, secret, tmp_path):
    full = grade(assignment, source_nb(assignment), tmp_path, secret)
    assert full.score == full.max_score > 0, [
        (t.grade_id, c.message) for t in full.tests for c in t.checks if not c.passed]
    empty = grade(assignment, blank(assignment), tmp_path, secret)
    assert empty.score == 0 and empty.max_score == full.max_score


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: f"{m.assignment}:{m.name}")
@pytest.mark.parametrize("secret", SECRETS[:2])
def test_planted_mistake_loses_the_right_points(mistake, secret, tmp_path):
    result = grade(mistake.assignment, planted(mistake), tmp_path, secret)
    got = scores(result)
    points = {t.grade_id: t.points for t in result.tests}
    for gid in mistake.loses:
        assert got[gid] < points[gid], f"{mistake.name} kept the points of {gid}"
    for gid, score in got.items():
        if gid not in mistake.loses and gid not in mistake.also:
            assert score == points[gid], f"{mistake.name} lost points of {gid}"


def test_at_least_eight_mistakes_per_assignment():
    for assignment in ASSIGNMENTS:
        assert sum(m.assignment == assignment for m in MISTAKES) >= 8, assignment


def test_numpy_warnings_are_reported_not_penalised(tmp_path):
    result = grade("ps1_schedules", planted(WARNING_SOLUTION), tmp_path)
    assert result.score == result.max_score
    assert result.cell_errors == []


def test_the_same_submission_gets_the_same_grade_and_messages_on_every_run(tmp_path):
    mistake = next(m for m in MISTAKES if m.name == "adam_eps_inside_sqrt")
    runs = [grade("ps2_adaptive", planted(mistake), tmp_path) for _ in range(3)]
    assert len({tuple(sorted(scores(r).items())) for r in runs}) == 1
    assert len({str([(c.message, c.hint) for t in r.tests for c in t.checks]) for r in runs}) == 1
    other = grade("ps2_adaptive", planted(mistake), tmp_path, student="someone else")
    assert other.seed != runs[0].seed


def test_hints_teach_without_expected_values(tmp_path):
    mistake = next(m for m in MISTAKES if m.name == "adam_no_bias_correction")
    result = grade("ps2_adaptive", planted(mistake), tmp_path)
    failed = [c for t in result.tests for c in t.checks if not c.passed]
    assert failed and all(c.hint for c in failed)
    assert any("first step" in c.hint for c in failed)
    momentum = next(m for m in MISTAKES if m.name == "momentum_ema_form")
    result = grade("ps2_adaptive", planted(momentum), tmp_path)
    hint = next(c.hint for t in result.tests for c in t.checks if not c.passed)
    assert "times the size of the expected one" in hint
    # eps inside the square root: the same step size except where the gradients are tiny
    inside = next(m for m in MISTAKES if m.name == "adam_eps_inside_sqrt")
    result = grade("ps2_adaptive", planted(inside), tmp_path)
    hints = [c.hint for t in result.tests for c in t.checks if not c.passed]
    assert hints and any("where eps enters" in h for h in hints), hints
    assert not any("1 times the size" in h for h in hints)


def test_every_rule_a_test_enforces_is_stated_in_the_text():
    """Each argument a raises-check names appears in the released text of its assignment."""
    for assignment in ASSIGNMENTS:
        nb = source_nb(assignment)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        tests = "\n".join(c.source for c in nb.cells if c.cell_type == "code"
                          and c.metadata.get("nbgrader", {}).get("grade"))
        for names in re.findall(r"names=(\([^)]*\)|\"[a-z_0-9]+\")", tests):
            for name in re.findall(r"[a-z_0-9]+", names):
                assert f"`{name}" in text or f"{name} " in text, (assignment, name)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_declared_check_is_already_what_the_wire_carries(assignment, monkeypatch):
    """declare hands a check to its mode as it made it, without reading its data back: that
    is only right if reading it back changes nothing. Every check of every assignment, under
    three seeds, is compared with its data read back (the digest names the whole check)."""
    from lr_course.grading.checks import modes
    from lr_course.grading.checks.calls import same
    from lr_course.grading.checks.check import Check, digest
    from lr_course.grading.engine import reference_entries
    seen = []
    add = modes.Recorder.add

    def compare(self, check, functions, data):
        back = Check.from_data(data)
        assert digest(back) == digest(check)
        for mine, read in zip(check.calls, back.calls, strict=True):
            for name in ("args", "kwargs", "params", "grads_seq", "state"):
                assert same(getattr(mine, name), getattr(read, name)), (check.what, name)
        assert back.options == check.options and back.kind == check.kind
        seen.append(check.kind)
        return add(self, check, functions, data)

    monkeypatch.setattr(modes.Recorder, "add", compare)
    source = load_source(SOURCE / assignment / f"{assignment}.ipynb", assignment)
    reference_entries(InProcess(), source, [1, 2, 3], hidden=True)
    assert len(seen) >= 3 * len(source.tests)
