"""The checks: they agree with the source notebooks, pass the reference, catch planted mistakes.

Grading here goes through the engine with the notebook's cells run in-process (fast);
tests/grading/test_workflow.py runs the same notebooks through real nbgrader.
"""

import ast
import copy
import importlib.util
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lr_course.grading import spec
from lr_course.grading.checks import ps1 as ps1_checks
from lr_course.grading.checks import ps3 as ps3_checks
from lr_course.grading.engine import check_notebook
from lr_course.grading.inprocess import InProcess
from lr_course.grading.reference import ps1, ps2, ps3

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = ["ps1_schedules", "ps2_adaptive", "ps3_tuning"]

_spec = importlib.util.spec_from_file_location("mistakes_catalogue",
                                               Path(__file__).parent / "mistakes" / "catalogue.py")
catalogue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogue)


source_nb = catalogue.source_nb


def reference_namespace():
    ns = {}
    for module in (ps1, ps2, ps3):
        ns.update({k: getattr(module, k) for k in dir(module) if not k.startswith("_")})
    ns["my_schedule"] = lambda step: 0.5 * 0.5 ** (step // 40)
    return ns


# --- the registry is the single source of truth ----------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_test_cells_agree_with_the_registry(assignment):
    nb = source_nb(assignment)
    cells = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}
    tests = {t.grade_id: t for t in spec.ASSIGNMENTS[assignment]}
    assert set(cells) == set(tests)
    for gid, cell in cells.items():
        test = tests[gid]
        meta = cell.metadata["nbgrader"]
        assert meta["points"] == test.points and meta["locked"] and not meta["solution"]
        assert meta["schema_version"] == 3
        hidden = "### BEGIN HIDDEN TESTS" in cell.source
        assert hidden == test.hidden, gid
        # The engine reads check ids with ast, without running the cell.
        ids = [node.args[0].value for node in ast.walk(ast.parse(cell.source))
               if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "check"]
        assert tuple(ids) == test.check_ids, gid
        assert all(i in spec.CHECKS for i in ids)


def test_every_check_is_used_by_a_test_and_ids_are_well_formed():
    used = {cid for tests in spec.ASSIGNMENTS.values() for t in tests for cid in t.check_ids}
    assert used == set(spec.CHECKS)
    assert all(re.fullmatch(r"ps[123]\.[a-z_]+\.[a-z_]+", cid) for cid in spec.CHECKS)


def test_hand_graded_answers_carry_points_and_a_hidden_rubric():
    nb = source_nb("ps3_tuning")
    manual = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
              if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")}
    assert {k: c.metadata["nbgrader"]["points"] for k, c in manual.items()} == ps3_checks.WRITTEN
    for cell in manual.values():
        assert cell.metadata["nbgrader"]["solution"]
        assert "### BEGIN SOLUTION" in cell.source and "Rubric" in cell.source
    rubric = (ROOT / "autograder" / "rubric" / "ps3_tuning.md").read_text()
    assert all(key in rubric for key in ps3_checks.WRITTEN)


def test_notebooks_are_what_build_source_writes():
    spec_ = importlib.util.spec_from_file_location("build_source", ROOT / "autograder" / "build_source.py")
    build_source = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(build_source)
    for assignment in ASSIGNMENTS:
        assert build_source.build(assignment) == source_nb(assignment), \
            f"run python autograder/build_source.py ({assignment} is stale)"


# --- the reference passes every check, whatever the seed ---------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_reference_passes_every_check(seed):
    ns = reference_namespace()
    rng = np.random.default_rng(seed)
    failures = {cid: o.message for cid, c in spec.CHECKS.items()
                if not (o := spec.run_check(c, ns, rng)).passed}
    assert not failures


@pytest.mark.parametrize("garbage", [
    lambda *a, **k: object(), lambda *a, **k: float("nan"), lambda *a, **k: "0.1",
    lambda *a, **k: (np.ones(3), "state"), lambda *a, **k: {"m": 1},
    lambda *a, **k: np.full((2, 2), np.inf), lambda *a, **k: (1, 2, 3)])
def test_garbage_answers_fail_cleanly(garbage):
    ns = {name: garbage for c in spec.CHECKS.values() for name in c.functions}
    rng = np.random.default_rng(0)
    for cid, check in spec.CHECKS.items():
        outcome = spec.run_check(check, ns, rng)
        assert not outcome.passed, cid
        assert outcome.message and "could not judge" not in outcome.message, (cid, outcome)


# --- whole notebooks, graded locally ----------------------------------------------------

def blank(nb):
    """What generate_assignment releases: solutions replaced by stubs, hidden tests removed."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        out, skipping = [], False
        for line in cell.source.splitlines():
            indent = line[:len(line) - len(line.lstrip())]
            if "### BEGIN SOLUTION" in line:
                skipping = True
                out += [indent + "# YOUR CODE HERE", indent + "raise NotImplementedError()"] \
                    if cell.cell_type == "code" else [indent + "YOUR ANSWER HERE"]
            elif "### BEGIN HIDDEN TESTS" in line:
                skipping = True
            elif "### END SOLUTION" in line or "### END HIDDEN TESTS" in line:
                skipping = False
            elif not skipping:
                out.append(line)
        cell.source = "\n".join(out)
    return nb


with_cell = catalogue.with_cell


def grade(nb, tmp_path, name="nb"):
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return check_notebook(path, sandbox=InProcess(), run_key=b"1").to_dict()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_full_marks_blank_zero(assignment, tmp_path):
    full = grade(source_nb(assignment), tmp_path, "full")
    assert full["score"] == full["max_score"] > 0, [t for t in full["tests"] if not t["passed"]]
    zero = grade(blank(source_nb(assignment)), tmp_path, "blank")
    assert zero["score"] == 0 and zero["max_score"] == full["max_score"]
    hints = [c["hint"] for t in zero["tests"] for c in t["checks"]]
    assert hints and all("not written yet" in h for h in hints)


@pytest.mark.parametrize("mistake", catalogue.MISTAKES, ids=lambda m: m.name)
def test_planted_mistake_loses_the_right_points(mistake, tmp_path):
    nb = with_cell(source_nb(mistake.assignment), mistake.cell, mistake.source)
    result = grade(nb, tmp_path)
    failed = {t["grade_id"] for t in result["tests"] if not t["passed"]}
    assert set(mistake.loses) <= failed, (mistake.name, failed)
    assert failed <= set(mistake.loses) | set(mistake.also), (mistake.name, failed)


def test_at_least_eight_mistakes_per_assignment():
    for assignment in ASSIGNMENTS:
        assert sum(m.assignment == assignment for m in catalogue.MISTAKES) >= 8


def test_numpy_warnings_are_reported_not_penalised(tmp_path):
    m = catalogue.WARNING_SOLUTION
    result = grade(with_cell(source_nb(m.assignment), m.cell, m.source), tmp_path)
    assert result["score"] == result["max_score"]
    notes = [w for t in result["tests"] for c in t["checks"] for w in c["warnings"]]
    assert any("overflow" in w for w in notes)


def test_hints_teach_without_expected_values(tmp_path):
    nb = with_cell(source_nb("ps2_adaptive"), "adam",
                   next(m for m in catalogue.MISTAKES if m.name == "adam_no_bias_correction").source)
    result = grade(nb, tmp_path)
    adam = next(t for t in result["tests"] if t["grade_id"] == "test_adam")
    hint = adam["checks"][0]["hint"]
    assert re.search(r"first Adam step is 3\.\d+ x lr, expected about lr", hint)
    assert "bias correction" in hint
    for t in result["tests"]:
        for c in t["checks"]:
            assert "check(" not in c["message"] + c["hint"]


# --- the applied part of ps1 is a real challenge ---------------------------------------

def test_no_constant_lr_reaches_the_ps1_target_but_a_decay_does():
    problem = spec.noisy_quadratic_spec()
    T, target = problem["num_steps"], problem["target"]
    best_constant = min(ps1_checks.expected_loss(np.full(T, lr))
                        for lr in np.geomspace(1e-3, 2.0, 400))
    assert best_constant > 1.15 * target
    assert ps1_checks.expected_loss([0.5 * 0.5 ** (t // 40) for t in range(T)]) < target


def test_expected_loss_matches_simulation():
    lrs = 0.5 * 0.5 ** (np.arange(200) // 40)
    rec = spec.execute(spec.Call("train", problem="noisy_quadratic", num_steps=200, seed=3,
                                 schedule="s", options={"replicas": 4000}),
                       {"s": lambda step: float(lrs[step])})
    lam = spec.noisy_quadratic_spec()["eigenvalues"]
    simulated = np.mean(0.5 * np.sum(lam * rec.value["params"] ** 2, axis=1))
    assert simulated == pytest.approx(ps1_checks.expected_loss(lrs), rel=0.05)
