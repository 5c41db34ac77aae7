"""The grading engine: seeds from the course secret, judging in the grader, warnings, faults.

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
from lr_course.grading.checks.calls import Call  # noqa: E402
from lr_course.grading.checks.check import Check  # noqa: E402
from lr_course.grading.reference import reference_entries  # noqa: E402
from lr_course.grading.batch import grade_assignment, marker_path  # noqa: E402
from lr_course.grading.engine import Grader, run_calls, run_reference  # noqa: E402
from lr_course.grading.selfcheck import check_notebook  # noqa: E402
from lr_course.grading.inprocess import InProcess  # noqa: E402
from lr_course.grading.submission import GradingError  # noqa: E402
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


SECRET = b"s" * 32


def test_seeds_come_from_the_secret_the_student_and_the_purpose():
    source = load_source(SOURCE)
    a = Grader(source, InProcess(), secret=SECRET)
    assert a.seed_for("alice") != a.seed_for("bob")
    assert a.seed_for("alice") == Grader(source, InProcess(), secret=SECRET).seed_for("alice")
    assert a.seed_for("alice") != Grader(source, InProcess(), secret=b"t" * 32).seed_for("alice")
    check = Grader(source, InProcess(), secret=SECRET, purpose="check")
    assert check.seed_for("alice") != a.seed_for("alice")     # a self-check draws other inputs
    alice, bob = a.reference(a.seed_for("alice")), a.reference(a.seed_for("bob"))
    first = [c.calls[0].params for c, _ in alice.checks["test_adam"]]
    other = [c.calls[0].params for c, _ in bob.checks["test_adam"]]
    assert not np.array_equal(first[0], other[0])


def _source_with(tmp_path, grade_id, text):
    nb = json.loads(SOURCE.read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            cell["source"] = text
    path = tmp_path / "ps2_adaptive.ipynb"
    path.write_text(json.dumps(nb))
    return load_source(path, "ps2_adaptive")


@pytest.mark.parametrize("text, message", [
    ("raise RuntimeError('broken test')", "test cell test_adam raised RuntimeError"),
    ("x = 1", "test cell test_adam declares no check"),
    ("from lr_course.grading import checks as ck\nck.part('half', points=1)\n"
     "ck.same(adam_init, np.ones(2))", "parts are worth 1 points, the cell 3"),
])
def test_a_broken_source_notebook_is_a_clear_error(tmp_path, text, message):
    source = _source_with(tmp_path, "test_adam", text)
    grader = Grader(source, InProcess(), secret=SECRET)
    with pytest.raises(GradingError, match=message):
        grader.grade_file(source.path, "anyone")


def test_the_reference_records_many_seeds_in_one_run():
    source = load_source(SOURCE)
    refs = run_reference(InProcess(), source, [1, 2, 3])
    assert sorted(refs) == [1, 2, 3]
    assert all(set(r.checks) == set(source.tests) for r in refs.values())
    # what a student's job sends is each call as read, the data of exactly the same Calls
    for ref in refs.values():
        for gid, checks in ref.checks.items():
            assert [[Call.from_data(c).to_data() for c in wire] for wire in ref.wire[gid]] == \
                [[c.to_data() for c in check.calls] for check, _ in checks]
            assert [[c.to_data() for c in check.calls] for check, _ in checks] == ref.wire[gid]
    # and each check goes out as the data of the check it decodes to, with its part
    texts = {}
    entries = reference_entries(InProcess(), source, [1], hidden=True, texts=texts)[1]
    assert json.loads(texts[1]) == entries     # what the reference cache keeps
    sent = [e["check"]["check"] for e in entries if "check" in e]
    assert sent and all(Check.from_data(data).to_data() == data for data in sent)
    assert any(data["part"] for data in sent)   # the parts the test cells declared


@needs_bwrap
@pytest.mark.slow   # releases the course with nbgrader (once per session)
def test_solution_scores_full_marks_and_blank_release_scores_zero(box, tmp_path_factory):
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("engine") / "course")
    grader = Grader(load_source(SOURCE), box, secret=SECRET)
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
    "    if np.shape(params) != np.shape(grads):\n"
    "        raise ValueError('params and grads differ in shape')\n"
    "    for name, value, ok in (('lr', lr, lr >= 0), ('beta1', beta1, 0 <= beta1 < 1),\n"
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
    result = Grader(load_source(SOURCE), box, secret=SECRET).grade_file(path, "noisy")
    assert result.score == result.max_score
    warned = [w for t in result.tests for c in t.checks for w in c.warnings]
    assert any("overflow" in w for w in warned)


@needs_bwrap
@pytest.mark.slow   # releases the course with nbgrader (once per session)
def test_nan_answers_are_wrong_with_a_reason_not_a_crash(box, tmp_path_factory):
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("engine") / "course")
    body = ADAM_BODY.replace("return params - step", "return params * np.nan")
    path = submit(course, "nan", _with_adam(course, body))
    result = Grader(load_source(SOURCE), box, secret=SECRET).grade_file(path, "nan")
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
        result = Grader(load_source(SOURCE), sandbox, secret=SECRET).grade_file(path, "hang")
    passed = {t.grade_id for t in result.tests if t.passed}
    assert {"test_sgd_momentum", "test_adagrad", "test_adam", "test_adam_digits"} <= passed
    assert "test_rmsprop" not in passed and "test_rmsprop_hidden" not in passed
    assert result.sandbox["reason"] == "timeout" and len(result.sandbox["runs"]) == 2
    assert any(f.code == "resource" for f in result.flags)


@needs_bwrap
def test_check_notebook_is_the_same_engine():
    result, mode = check_notebook(SOURCE)
    assert result.assignment == "ps2_adaptive" and result.score == result.max_score
    assert mode == "all tests"


class _Limits(InProcess):
    """InProcess that keeps the time limits of the student jobs it was given."""

    seen: list = []

    def run(self, job, folder=None):
        if "limits" in job:
            type(self).seen.append(dict(job["limits"]))
        return super().run(job, folder)


def test_a_limit_not_given_on_the_command_line_keeps_the_courses():
    """`lr-course check` without --cell-seconds: the course's Execute.timeout (60) holds,
    and only the limit given (call_seconds=4) replaces the course's."""
    check_notebook(SOURCE, sandbox=_Limits(), time_limits={"cell_seconds": None,
                                                            "call_seconds": 4.0})
    assert _Limits.seen and all(limits == {"cell_seconds": 60.0, "call_seconds": 4.0}
                                for limits in _Limits.seen)


def test_require_isolation_fails_without_bwrap(monkeypatch, tmp_path):
    monkeypatch.setenv("LR_COURSE_BWRAP", "")
    with pytest.raises(IsolationError):
        check_notebook(SOURCE, require_isolation=True)


def test_grading_a_course_that_was_not_released_is_a_clear_error(tmp_path):
    with pytest.raises(GradingError, match="no assignment 'ps2_adaptive'"):
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
    assert len(counts) == 1 and all(total == 27 for _, total in grades.values())


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
    assert subs == {s: 1 for s in students} and all(t == 27 for _, t in grades.values())


@needs_bwrap
@pytest.mark.slow
def test_two_gradings_with_different_worker_counts_agree_exactly(tmp_path_factory):
    """A grade is a pure function of the submission and the course: rerun it, --force it,
    with another number of workers, and every score in the gradebook is the same."""
    from mistakes.catalogue import MISTAKES
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("pure") / "course")
    planted = [m for m in MISTAKES if m.assignment == "ps2_adaptive"][:6]
    for k, m in enumerate(planted):
        submit(course, f"m{k}", solution_notebook(course, "ps2_adaptive", {m.cell: m.source}))
    submit(course, "full", solution_notebook(course, "ps2_adaptive"))

    def cells():
        from lr_course.grading.nbgrader_glue import test_scores
        return sorted((student, gid, score) for student, found in
                      test_scores(course, "ps2_adaptive").items()
                      for gid, (score, _) in found.items())

    grade_assignment(course, "ps2_adaptive", workers=1, progress=False)
    first = cells()
    grade_assignment(course, "ps2_adaptive", workers=3, force=True, progress=False)
    assert cells() == first
    assert len({s for s, _, _ in first}) == 1 + len(planted)
    assert any(score not in (0, None) and score < 3 for _, g, score in first)   # partial credit


def test_the_students_job_sends_the_calls_as_the_reference_read_them(tmp_path):
    """run_calls sends each call's wire data as given, never its Call encoded again."""
    calls = [Call("call", "f", args=(1,)), Call("call", "f", args=(2,))]
    wire = [Call("call", "f", args=(10,)).to_data(), Call("call", "f", args=(20,)).to_data()]
    records, cell_errors, _, info = run_calls(InProcess(), ["def f(x):\n    return 3 * x\n"],
                                              calls, tmp_path, wire=wire)
    assert [r.value for r in records] == [30, 60] and not cell_errors
    assert info["reason"] == "ok"


class _Counting(InProcess):
    """InProcess that counts the reference runs (jobs with test cells)."""

    references = 0

    def run(self, job, folder=None):
        if job.get("tests"):
            type(self).references += 1
        return super().run(job, folder)


def test_the_reference_cache_serves_reruns_and_never_a_changed_source(tmp_path):
    source = _source_with(tmp_path, "intro", "# Problem set 2, edited once")
    first = Grader(source, _Counting(), secret=SECRET, cache=tmp_path / "cache")
    result = first.grade_file(source.path, "alice")
    again = Grader(source, _Counting(), secret=SECRET, cache=tmp_path / "cache")
    assert again.grade_file(source.path, "alice").tests == result.tests
    assert _Counting.references == 1                        # the second came from the cache
    edited = _source_with(tmp_path, "intro", "# Problem set 2, edited twice")
    Grader(edited, _Counting(), secret=SECRET, cache=tmp_path / "cache").reference(
        first.seed_for("alice"))
    assert _Counting.references == 2                        # a changed source runs again


def test_the_reference_cache_never_serves_another_check_library(tmp_path, monkeypatch):
    # Records kept by another version of the code that records them (an upgraded lr-course,
    # an edited check library) are not today's: a new field of a Call, say, would be missing.
    from lr_course.grading import sandbox_tree
    _Counting.references = 0
    source = _source_with(tmp_path, "intro", "# Problem set 2, the library changes")
    Grader(source, _Counting(), secret=SECRET, cache=tmp_path / "cache").reference(7)
    Grader(source, _Counting(), secret=SECRET, cache=tmp_path / "cache").reference(7)
    assert _Counting.references == 1
    monkeypatch.setattr(sandbox_tree, "code_digest", lambda: "another library")
    Grader(source, _Counting(), secret=SECRET, cache=tmp_path / "cache").reference(7)
    assert _Counting.references == 2


def test_the_code_digest_covers_every_file_a_sandbox_runs(tmp_path, monkeypatch):
    from lr_course.grading import sandbox_tree
    names = {name for name, _ in sandbox_tree._tree_sources()}
    assert {"grading/checks/calls.py", "grading/checks/runner.py", "models.py", "digits.py",
            "data/digits.csv.gz"} <= names
    tree = tmp_path / "tree"
    tree.mkdir()
    sandbox_tree.build_tree(tree, [])
    copied = {p.relative_to(tree / "lib" / "lr_course").as_posix()
              for p in (tree / "lib" / "lr_course").rglob("*")
              if p.is_file() and "__pycache__" not in p.parts}
    # all that build_tree copies, but the two stand-in package files it writes itself
    assert copied - {"__init__.py", "grading/__init__.py"} == names
    before = sandbox_tree.code_digest()
    monkeypatch.setattr(sandbox_tree, "_tree_sources", lambda: [("models.py", tree / "x")])
    (tree / "x").write_text("changed")
    sandbox_tree.code_digest.cache_clear()
    try:
        assert sandbox_tree.code_digest() != before
    finally:
        sandbox_tree.code_digest.cache_clear()


def test_a_hanging_experiment_cell_or_function_fails_only_what_depends_on_it(tmp_path):
    """Per-cell and per-call limits: a student's endless experiment costs nothing graded, and
    a hanging optimizer loses only its own tests (not the whole notebook)."""
    nb = json.loads(SOURCE.read_text())
    nb["cells"].insert(2, {"cell_type": "code", "metadata": {}, "outputs": [],
                           "execution_count": None, "source": "while True:\n    pass\n"})
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "adagrad":
            cell["source"] = ("def adagrad_init(params):\n    return {'sum_sq': 0 * params}\n\n"
                              "def adagrad_update(params, grads, state, lr=0.01, eps=1e-10):\n"
                              "    while True:\n        pass\n")
    path = tmp_path / "ps2_adaptive.ipynb"
    path.write_text(json.dumps(nb))
    grader = Grader(load_source(SOURCE), InProcess(), secret=SECRET,
                    time_limits={"cell_seconds": 1, "call_seconds": 0.5})
    result = grader.grade_file(path, "hangs")
    lost = {t.grade_id for t in result.tests if not t.passed}
    assert lost == {"test_adagrad", "test_adagrad_hidden", "test_inputs_unchanged",
                    "test_invalid_arguments"}
    assert any("TimeLimitExceeded" in e for e in result.cell_errors)
    assert any(f.code == "resource" and "adagrad_update" in f.message for f in result.flags)


def test_time_limits_come_from_nbgrader_config_and_nonsense_is_refused(tmp_path):
    from lr_course.grading.course import Course
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.Execute.timeout = 45\nc.LrCourse.call_seconds = 3\n")
    assert Course(tmp_path).settings()["time_limits"] == {"cell_seconds": 45.0,
                                                          "call_seconds": 3.0}
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.LrCourse.call_seconds = -1\n")
    with pytest.raises(GradingError, match="call_seconds limit must be a number of seconds"):
        Course(tmp_path).settings()


def test_graders_starting_at_once_agree_on_the_course_secret(tmp_path):
    """The secret is made once, however many graders race to make it."""
    from concurrent.futures import ThreadPoolExecutor
    from lr_course.grading.course import Course
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: Course(tmp_path).secret(), range(32)))
    assert len(set(found)) == 1 and len(found[0]) == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lr_course_secret"]


class _RecordingPool:
    """Runs nothing; keeps what was submitted, in order (a stand-in for the thread pool)."""

    def __init__(self):
        self.queue = []

    def submit(self, fn, *args):
        self.queue.append((fn, args))
        return object()


class _Recorder:
    """A grader stand-in whose methods are told apart in the pool's queue."""

    def prepare(self, students):
        pass

    def grade_file(self, path, student):
        pass


@pytest.mark.parametrize("num", [1, 3, 4, 5, 68, 69, 200])
def test_reference_runs_are_queued_ahead_of_the_students_who_need_them(num):
    """The first reference run is small; each later one is queued right behind the first
    student of the batch before it; every student is graded once and in every run once."""
    from lr_course.grading.batch import BATCH_REFERENCE, FIRST_REFERENCE, _record, _schedule
    from lr_course.grading.reference import SEEDS_PER_REFERENCE
    pool, grader = _RecordingPool(), _Recorder()
    jobs = [(f"s{i:03d}", Path(f"s{i:03d}.ipynb")) for i in range(num)]
    futures, references = _schedule(pool, grader, jobs)
    assert sorted(futures.values()) == [s for s, _ in jobs]
    assert sorted(s for batch in references.values() for s in batch) == [s for s, _ in jobs]
    recorded, graded = [], []
    for position, (fn, args) in enumerate(pool.queue):
        if fn is _record:
            assert args[0] is grader
            recorded.append((position, list(args[1])))
        else:
            assert fn == grader.grade_file
            graded.append((position, args[1]))
    assert [s for _, batch in recorded for s in batch] == [s for s, _ in jobs]
    sizes = [len(batch) for _, batch in recorded]
    assert sizes[0] == min(FIRST_REFERENCE, num)
    assert all(size <= BATCH_REFERENCE <= SEEDS_PER_REFERENCE for size in sizes)
    where = {student: position for position, student in graded}
    for k, (position, batch) in enumerate(recorded):
        # queued before any of its students and, after the first, right behind the first
        # student of the batch before it
        assert all(position < where[s] for s in batch)
        if k:
            assert position - where[recorded[k - 1][1][0]] == 1
