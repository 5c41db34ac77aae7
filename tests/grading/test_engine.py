"""The grading engine: per-student seeds, judging in the grader, warnings, faults.

Faults are tested the hard way: a grader SIGKILLed mid-batch and run again, and two
graders started on one course at once, both as real processes.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))   # --import-mode=importlib: find the helper
from course_fixture import require_bwrap, add_cell, course_copy, solution_notebook, submit  # noqa: E402
from lr_course.grading import spec  # noqa: E402
from lr_course.grading.batch import CourseError, grade_assignment, marker_path  # noqa: E402
from lr_course.grading.engine import Grader, check_notebook  # noqa: E402
from lr_course.grading.sandbox import IsolationError, Sandbox  # noqa: E402
from lr_course.grading.submission import load_source  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "autograder" / "source" / "ps2_adaptive" / "ps2_adaptive.ipynb"

@pytest.fixture
def needs_bwrap_fixture():
    require_bwrap()


needs_bwrap = pytest.mark.usefixtures("needs_bwrap_fixture")


@pytest.fixture(scope="module")
def box():
    require_bwrap()
    with Sandbox() as sandbox:
        yield sandbox


def test_seeds_differ_per_student_and_per_run():
    a, b = Grader("ps2_adaptive", sandbox=Sandbox(bwrap="", warn=False)), None
    b = Grader("ps2_adaptive", sandbox=a.sandbox)
    assert a.seed_for("alice") != a.seed_for("bob")
    assert a.seed_for("alice") != b.seed_for("alice")        # a fresh secret per run
    same = Grader("ps2_adaptive", sandbox=a.sandbox, run_key=a.run_key)
    assert same.seed_for("alice") == a.seed_for("alice")     # reproducible with the key
    calls_a, _ = a.cases(a.seed_for("alice"))
    calls_b, _ = a.cases(a.seed_for("bob"))
    differs = [not spec.same(spec.decode(spec.encode(x.params)), spec.decode(spec.encode(y.params)))
               for x, y in zip(calls_a, calls_b) if x.kind == "rollout"]
    assert differs and all(differs)


def test_unknown_assignment_is_a_value_error():
    with pytest.raises(ValueError, match="assignment must be one of"):
        Grader("ps9_nothing", sandbox=Sandbox(bwrap="", warn=False))


@needs_bwrap
@pytest.mark.slow   # releases the course with nbgrader (once per session)
def test_solution_scores_full_marks_and_blank_release_scores_zero(box, tmp_path_factory):
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("engine") / "course")
    grader = Grader("ps2_adaptive", load_source(SOURCE), box)
    full = grader.grade_file(submit(course, "full", solution_notebook(course, "ps2_adaptive")), "full")
    assert full.score == full.max_score > 0 and not full.flags and full.sandbox["isolated"]
    blank = course / "release" / "ps2_adaptive" / "ps2_adaptive.ipynb"
    zero = grader.grade_file(blank, "blank")
    assert zero.score == 0 and zero.status == "graded"
    assert any("NotImplementedError" in e for e in zero.cell_errors)


def _with_adam(course, body):
    src = ("def adam_init(params):\n"
           "    return {'m': np.zeros_like(params, dtype=float), 'v': np.zeros_like(params, dtype=float), 't': 0}\n\n"
           "def adam_update(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):\n"
           + body)
    return solution_notebook(course, "ps2_adaptive", {"adam": src})


ADAM_BODY = (
    "    for name, value, ok in (('lr', lr, lr > 0), ('beta1', beta1, 0 <= beta1 < 1),\n"
    "                            ('beta2', beta2, 0 <= beta2 < 1), ('eps', eps, eps >= 0)):\n"
    "        if not ok:\n"
    "            raise ValueError(f'{name} out of range, got {value}')\n"
    "    t = state['t'] + 1\n"
    "    m = beta1 * state['m'] + (1 - beta1) * grads\n"
    "    v = beta2 * state['v'] + (1 - beta2) * grads ** 2\n"
    "    step = lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)\n"
    "    return params - step, {'m': m, 'v': v, 't': t}\n")


@needs_bwrap
@pytest.mark.slow   # releases the course with nbgrader (once per session)
def test_numpy_warnings_are_reported_not_zeroed(box, tmp_path_factory):
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("engine") / "course")
    noisy = "    _ = np.exp(np.float64(1000.0))   # overflows: a warning, not an error\n" + ADAM_BODY
    path = submit(course, "noisy", _with_adam(course, noisy))
    result = Grader("ps2_adaptive", load_source(SOURCE), box).grade_file(path, "noisy")
    assert result.score == result.max_score
    warned = [w for t in result.tests for c in t.checks for w in c.warnings]
    assert any("overflow" in w for w in warned)


@needs_bwrap
@pytest.mark.slow   # releases the course with nbgrader (once per session)
def test_nan_answers_are_wrong_with_a_reason_not_a_crash(box, tmp_path_factory):
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("engine") / "course")
    body = ADAM_BODY.replace("return params - step", "return params * np.nan")
    path = submit(course, "nan", _with_adam(course, body))
    result = Grader("ps2_adaptive", load_source(SOURCE), box).grade_file(path, "nan")
    adam = [t for t in result.tests if t.grade_id == "test_adam"][0]
    assert not adam.passed and adam.checks[0].message
    others = [t for t in result.tests if "adam" not in t.grade_id and t.grade_id.startswith("test_")
              and "inputs" not in t.grade_id and "invalid" not in t.grade_id]
    assert others and all(t.passed for t in others)


@needs_bwrap
@pytest.mark.slow
def test_a_hanging_call_fails_alone_and_the_rest_are_graded(tmp_path_factory):
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("engine") / "course")
    # rmsprop hangs (the student's own cells never call it, the grader's calls do)
    nb = solution_notebook(course, "ps2_adaptive", {"rmsprop": (
        "def rmsprop_init(params):\n    return {'avg_sq': np.zeros_like(params, dtype=float)}\n\n"
        "def rmsprop_update(params, grads, state, lr=0.01, rho=0.99, eps=1e-8):\n"
        "    while True:\n        pass\n")})
    path = submit(course, "hang", nb)
    from lr_course.grading.sandbox import Limits
    with Sandbox(limits=Limits(wall_seconds=4, cpu_seconds=30)) as sandbox:
        result = Grader("ps2_adaptive", load_source(SOURCE), sandbox).grade_file(path, "hang")
    passed = {t.grade_id for t in result.tests if t.passed}
    assert {"test_sgd_momentum", "test_adagrad", "test_adam", "test_adam_digits"} <= passed
    assert "test_rmsprop" not in passed and "test_rmsprop_hidden" not in passed
    assert result.sandbox["reason"] == "timeout" and len(result.sandbox["runs"]) == 2
    assert any(f.code == "resource" for f in result.flags)


@needs_bwrap
def test_check_notebook_is_the_same_engine():
    result = check_notebook(SOURCE)
    assert result.assignment == "ps2_adaptive" and result.score == result.max_score


def test_require_isolation_fails_without_bwrap(monkeypatch, tmp_path):
    monkeypatch.setenv("LR_COURSE_BWRAP", "")
    with pytest.raises(IsolationError):
        check_notebook(SOURCE, require_isolation=True)


def test_grading_a_course_that_was_not_released_is_a_clear_error(tmp_path):
    with pytest.raises(CourseError, match="source notebook"):
        grade_assignment(tmp_path, "ps2_adaptive", progress=False)


# -- faults: SIGKILL and two graders -------------------------------------------------------

GRADER = """
import json, sys
from lr_course.grading.batch import grade_assignment
report = grade_assignment(sys.argv[1], "ps2_adaptive", workers=int(sys.argv[2]), progress=False,
                          lock_timeout=120)
print(json.dumps({"graded": report.graded, "resumed": report.resumed}))
"""


def _course_with(tmp_path_factory, students, slow=()):
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("faults") / "course")
    for student in students:
        nb = solution_notebook(course, "ps2_adaptive")
        if student in slow:
            add_cell(nb, "import time\ntime.sleep(4)\n", after_grade_id="setup")
        submit(course, student, nb)
    return course


def _gradebook_rows(course):
    import sqlite3
    con = sqlite3.connect(course / "gradebook.db")
    subs = con.execute("select student.id, count(*) from submitted_assignment "
                       "join student on student.id = submitted_assignment.student_id "
                       "group by student.id").fetchall()
    grades = con.execute("select student.id, count(*), sum(grade.auto_score) from grade "
                         "join submitted_notebook on grade.notebook_id = submitted_notebook.id "
                         "join submitted_assignment on submitted_notebook.assignment_id = submitted_assignment.id "
                         "join student on student.id = submitted_assignment.student_id "
                         "group by student.id").fetchall()
    con.close()
    return dict(subs), {s: (n, total) for s, n, total in grades}


@needs_bwrap
@pytest.mark.slow
def test_sigkill_mid_batch_then_rerun_finishes_the_rest(tmp_path_factory):
    students = [f"s{i}" for i in range(6)]
    course = _course_with(tmp_path_factory, students, slow=("s3",))
    proc = subprocess.Popen([sys.executable, "-c", GRADER, str(course), "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    markers = [marker_path(course, "ps2_adaptive", s) for s in students[:3]]
    deadline = time.monotonic() + 120
    while not all(m.exists() for m in markers):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)          # s3 is in its sandbox, sleeping
    proc.wait()
    assert not marker_path(course, "ps2_adaptive", "s3").exists()
    report = grade_assignment(course, "ps2_adaptive", progress=False)
    assert sorted(report.resumed) == students[:3]
    assert sorted(report.graded) == students[3:]
    subs, grades = _gradebook_rows(course)
    assert subs == {s: 1 for s in students}                        # no submission doubled
    counts = {n for n, _ in grades.values()}
    assert len(counts) == 1 and all(total == 26 for _, total in grades.values())


@needs_bwrap
@pytest.mark.slow
def test_two_graders_at_once_do_not_corrupt_the_course(tmp_path_factory):
    students = [f"t{i}" for i in range(4)]
    course = _course_with(tmp_path_factory, students)
    procs = [subprocess.Popen([sys.executable, "-c", GRADER, str(course), "2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e for _, e in outs]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    assert sorted(len(r["graded"]) for r in reports) == [0, 4]
    assert sorted(len(r["resumed"]) for r in reports) == [0, 4]
    assert any("waiting" in err for _, err in outs)
    subs, grades = _gradebook_rows(course)
    assert subs == {s: 1 for s in students} and all(t == 26 for _, t in grades.values())
