"""One gradebook for every command: provenance, hand grades, flags, report, export, shards.

The class is graded in-process (:class:`~lr_course.grading.inprocess.InProcess`, one
worker: trusted code, the batch's own path) so that these tests pay seconds, not sandbox
starts; the sandbox itself is tested in test_engine, test_attacks and test_cli_grade.
"""

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))   # --import-mode=importlib: find the helper
from course_fixture import (add_cell, course_copy, solution_notebook, submit,  # noqa: E402
                            wrong_notebook)
from lr_course.grading import ledger  # noqa: E402
from lr_course.grading import nbgrader_glue as glue  # noqa: E402
from lr_course.grading.batch import CourseError, grade_assignment, marker_path  # noqa: E402
from lr_course.grading.collect import Refusal, write_log, CollectResult  # noqa: E402
from lr_course.grading.inprocess import InProcess  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*not in session")   # nbgrader's, SQLAlchemy 2

A = "ps2_adaptive"
STUDENTS = ("ann", "bob", "cat", "dan", "eve")


def _grade(course, **kw):
    return grade_assignment(course, A, sandbox=InProcess(), workers=1, progress=False, **kw)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A released course with five hand-ins and the solution's records already cached."""
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("ledger") / "course")
    submit(course, "ann", solution_notebook(course, A))
    submit(course, "bob", wrong_notebook(course))
    submit(course, "cat", "{broken")
    submit(course, "dan", add_cell(solution_notebook(course, A), "import inspect\n"))
    submit(course, "eve", solution_notebook(course, A, {"adam": "def adam_init(p):\n    pass\n"}))
    warm = tmp_path_factory.mktemp("warm") / "course"
    shutil.copytree(course, warm)
    _grade(warm)
    shutil.copytree(warm / ".lr-course" / "references", course / ".lr-course" / "references")
    return course


@pytest.fixture
def course(template, tmp_path):
    return Path(shutil.copytree(template, tmp_path / "course"))


def _gb(course):
    return glue.gradebook(course)


# -- provenance: one rule for who is graded -------------------------------------------

def test_students_graded_while_the_gradebook_opens_are_dropped_when_current(course,
                                                                          monkeypatch):
    """Grading starts before the gradebook is open (nbgrader's import takes seconds); the
    students the gradebook then shows current are cancelled or their fresh results dropped:
    nothing of theirs is written, and a hand grade given meanwhile stays."""
    from lr_course.grading import batch
    first = _grade(course)
    assert first.graded == sorted(STUDENTS)
    with _gb(course) as gb:
        grade = gb.find_grade("test_adam", A, A, "ann")
        grade.manual_score = 1.0
        gb.db.commit()
    graded, written = [], []
    real = InProcess()

    class Counting:
        isolated = False

        def run(self, job, submission_dir=None):
            graded.append(submission_dir)
            return real.run(job, submission_dir)

    class SlowGradebook(batch.GradebookSession):
        def __init__(self, *args):
            time.sleep(1.0)          # every speculative grading has started by now
            super().__init__(*args)

        def write(self, result):
            written.append(result.student)
            super().write(result)

    monkeypatch.setattr(batch, "GradebookSession", SlowGradebook)
    submit(course, "bob", solution_notebook(course, A))    # bob alone is due
    report = grade_assignment(course, A, sandbox=Counting(), workers=1, progress=False)
    assert report.graded == ["bob"] and sorted(report.resumed) == ["ann", "cat", "dan", "eve"]
    assert len(graded) >= 2        # at least one current student was graded speculatively
    assert written == ["bob"]
    with _gb(course) as gb:
        assert gb.find_grade("test_adam", A, A, "ann").manual_score == 1.0
        assert gb.find_submission(A, "bob").score == 27

def test_provenance_is_recorded_and_decides_who_is_graded_again(course):
    report = _grade(course)
    assert report.graded == sorted(STUDENTS) and report.invalid == ["cat"]
    source = course / "source" / A / f"{A}.ipynb"
    with _gb(course) as gb:
        rows = ledger.read_provenance(gb, A)
    assert set(rows) == set(STUDENTS)
    ann = rows["ann"]
    sha = lambda path: hashlib.sha256(path.read_bytes()).hexdigest()  # noqa: E731
    assert ann.engine == ledger.ENGINE and ann.source_digest == sha(source)
    assert ann.submission_digest == sha(course / "submitted" / "ann" / A / f"{A}.ipynb")
    assert rows["cat"].status == "invalid" and "not valid JSON" in rows["cat"].reason
    assert "introspection" in rows["dan"].flags

    again = _grade(course)
    assert again.graded == [] and sorted(again.resumed) == sorted(STUDENTS)
    assert again.invalid == ["cat"] and again.failed        # still unreadable: still a failure

    submit(course, "bob", solution_notebook(course, A))    # bob hands in again
    changed = _grade(course)
    assert changed.graded == ["bob"] and changed.regraded == {"bob": "the submission changed"}
    assert changed.totals["bob"][0] == changed.totals["bob"][1] == 27


def test_a_new_engine_or_source_regrades_everyone(course, monkeypatch):
    _grade(course)
    today = ledger.ENGINE
    monkeypatch.setattr(ledger, "ENGINE", "lr-course 99.0")
    report = _grade(course)
    assert report.graded == sorted(STUDENTS)
    assert set(report.regraded.values()) == {f"graded by {today}, this is lr-course 99.0"}
    source = course / "source" / A / f"{A}.ipynb"
    nb = json.loads(source.read_text())
    nb["cells"][0]["source"] = "# Problem set 2, edited\n"
    source.write_text(json.dumps(nb))
    report = _grade(course)
    assert set(report.regraded.values()) == {"the source notebook changed"}


def test_scores_from_nbgrader_autograde_are_regraded_and_the_summary_says_so(course):
    _grade(course)
    # as after `nbgrader autograde`: its own scores, and no provenance row of ours
    with _gb(course) as gb:
        gb.find_grade("test_adam", A, A, "ann").auto_score = 0.0
        gb.db.execute(ledger._get_table().delete())
        gb.db.commit()
    report = _grade(course)
    assert report.graded == sorted(STUDENTS)
    assert set(report.regraded.values()) == {"scored by another engine (nbgrader autograde?)"}
    assert "regraded (scored by another engine (nbgrader autograde?)): ann, bob" in report.summary()
    with _gb(course) as gb:
        assert gb.find_submission(A, "ann").score == 27


def test_the_marker_caches_but_does_not_decide(course):
    """A marker without its rows (killed between) is graded again; rows without a marker
    (killed after the commit) are not: the provenance row decides, alone."""
    _grade(course, students=["ann", "bob"])
    marker_path(course, A, "ann").unlink()
    shutil.copy(marker_path(course, A, "bob"), marker_path(course, A, "cat"))
    report = _grade(course)
    assert sorted(report.resumed) == ["ann", "bob"]
    assert report.graded == ["cat", "dan", "eve"]


# -- hand grades survive; summaries count them ------------------------------------------

def test_hand_grades_and_comments_survive_force_and_regrades(course):
    _grade(course)
    with _gb(course) as gb:
        grade = gb.find_grade("test_adam", A, A, "bob")
        grade.manual_score, grade.extra_credit = 3.0, 1.0
        grade.needs_manual_grade = False
        first_answer = glue.grade_order(course, A)
        answers = [c.name for c in gb.find_notebook(A, A).solution_cells]
        gid = next(g for g in first_answer if g in answers)
        gb.find_comment(gid, A, A, "bob").manual_comment = "see me"
        gb.db.commit()
        before = gb.find_submission(A, "bob").score
    for run in (dict(force=True), dict()):
        if not run:                       # bob hands in again: regraded, not forced
            nb = wrong_notebook(course)
            nb["metadata"]["resubmitted"] = True
            submit(course, "bob", nb)
        report = _grade(course, **run)
        assert "bob" in report.graded
        with _gb(course) as gb:
            grade = gb.find_grade("test_adam", A, A, "bob")
            assert (grade.manual_score, grade.extra_credit) == (3.0, 1.0)
            assert grade.needs_manual_grade is False               # not queued again
            assert gb.find_comment(gid, A, A, "bob").manual_comment == "see me"
            assert gb.find_submission(A, "bob").score == before
        assert report.totals["bob"][0] == before                   # the summary's too


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("written") / "course",
                         ("ps3_tuning",))
    submit(course, "ann", solution_notebook(course, "ps3_tuning"), "ps3_tuning")
    return course


def test_summaries_count_written_answers_and_hand_grades(written, capsys, monkeypatch):
    """ps3's three written answers (9 points): the summary says they await hand grading,
    then counts the hand grade, in `grade`, the report and the export."""
    from lr_course import cli
    monkeypatch.setattr("lr_course.grading.batch.Sandbox", _Box)
    code = cli.main(["grade", "ps3_tuning", "--course", str(written), "--workers", "1",
                     "--quiet"])
    out = capsys.readouterr().out
    with glue.gradebook(written) as gb:
        sub = gb.find_submission("ps3_tuning", "ann")
        auto, top = sub.score, sub.max_score
    assert code == 0 and f"ann: {auto:g}/{top:g} (9 points await hand grading)" in out
    assert "; 9 points await hand grading" in out            # the summary line's too
    with glue.gradebook(written) as gb:
        grade = gb.find_grade("answer_cost", "ps3_tuning", "ps3_tuning", "ann")
        grade.manual_score, grade.needs_manual_grade = 2.0, False
        gb.db.commit()
    code = cli.main(["grade", "ps3_tuning", "--course", str(written), "--force", "--quiet",
                     "--workers", "1"])
    out = capsys.readouterr().out
    assert f"ann: {auto + 2:g}/{top:g} (6 points await hand grading)" in out
    assert cli.main(["report", "ps3_tuning", "--course", str(written)]) == 0
    page = (written / "reports" / "ps3_tuning.html").read_text()
    assert "6 points await hand grading" in page and "<td>2/3</td>" in page
    assert "awaits" in page
    assert cli.main(["export", "--course", str(written), "--to", "g.csv"]) == 0
    row = next(csv.DictReader((written / "g.csv").open()))
    assert float(row["score"]) == auto + 2 and float(row["max_score"]) == top
    assert row["ps3_tuning:answer_cost"] == "2.0" and row["ps3_tuning:answer_strategies"] == ""


# -- flags and reasons where instructors look --------------------------------------------

def test_flags_and_reasons_reach_formgrader_but_not_the_students_feedback(course):
    _grade(course)
    with _gb(course) as gb:
        nb = gb.find_notebook(A, A)
        answers = {c.name for c in nb.solution_cells}
        first = next(g for g in glue.grade_order(course, A) if g in answers)
        flagged = {s: gb.find_submission_notebook(A, A, s).flagged for s in STUDENTS}
        dan = gb.find_comment(first, A, A, "dan").auto_comment
        cat = gb.find_comment(first, A, A, "cat").auto_comment
        later = [gb.find_comment(g, A, A, "dan").auto_comment for g in answers - {first}]
    assert flagged == {"ann": False, "bob": False, "cat": False, "dan": True, "eve": False}
    assert "lr-course flagged: introspection" in dan and len(dan) < 2100
    assert not any(c and "flagged" in c for c in later)          # said once, at the top
    assert "lr-course did not grade this submission: " in cat and "not valid JSON" in cat
    # what formgrader's submissions list reads (its flag column), through nbgrader's API
    listed = {d["student"]: d["flagged"] for d in glue.api(course).get_notebook_submissions(A, A)}
    assert listed["dan"] is True and listed["ann"] is False
    glue.feedback(course, A, "dan")
    page = (course / "feedback" / "dan" / A / f"{A}.html").read_text()
    assert "flagged" not in page and "introspection" not in page and "PASS" in page
    # a clean regrade clears the engine's own flag
    submit(course, "dan", solution_notebook(course, A))
    _grade(course)
    with _gb(course) as gb:
        assert gb.find_submission_notebook(A, A, "dan").flagged is False


def test_report_has_the_matrix_and_the_reasons(course):
    _grade(course)
    write_log(course, CollectResult(A, refused=[Refusal("fay", "fay/Untitled.ipynb",
                                                        "two notebooks <b>match</b>")]))
    from lr_course import cli
    assert cli.main(["report", A, "--course", str(course)]) == 0
    page = (course / "reports" / f"{A}.html").read_text()
    matrix = page[page.index("<table class=matrix>"):]
    matrix = matrix[:matrix.index("</table>")]
    rows = matrix.split("<tr>")[2:]
    assert [r.split("<td>")[1].split("<")[0].strip() for r in rows] == sorted(STUDENTS + ("fay",))
    order = glue.grade_order(course, A, set(glue.test_scores(course, A)["ann"]))
    head = matrix.split("<tr>")[1]
    assert [h.split("</th>")[0] for h in head.split("<th>")[2:-1]] == order
    assert "\u2691" in next(r for r in rows if r.startswith("<td>dan"))     # flagged
    assert "\u2298" in next(r for r in rows if r.startswith("<td>fay"))     # refused
    assert "not graded: " in page and "not valid JSON" in page
    assert "two notebooks &lt;b&gt;match&lt;/b&gt;" in page and "<b>match" not in page


def test_export_keeps_nbgraders_columns_then_tests_flags_and_reasons(course, capsys):
    _grade(course)
    write_log(course, CollectResult(A, refused=[Refusal("fay", "fay", "no notebook found")]))
    path = glue.export(course, "grades.csv")
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    header = rows[0]
    assert tuple(header[:len(glue.EXPORT_COLUMNS)]) == glue.EXPORT_COLUMNS
    tests = [g for g in glue.grade_order(course, A) if g.startswith("test_")]
    assert header[len(glue.EXPORT_COLUMNS):] == [f"{A}:{g}" for g in tests] + ["flags", "reason"]
    by = {r["student_id"]: r for r in csv.DictReader(path.open(newline="", encoding="utf-8"))}
    assert sorted(by) == sorted(STUDENTS + ("fay",))
    assert by["fay"]["score"] == "0.0" and by["fay"]["reason"] == \
        "refused at collect: no notebook found"
    assert "not valid JSON" in by["cat"]["reason"] and by["cat"]["score"] == "0.0"
    assert by["dan"]["flags"].startswith("introspection") and by["ann"]["flags"] == ""
    assert float(by["bob"][f"{A}:test_adam"]) == 0.0 and float(by["ann"][f"{A}:test_adam"]) > 0
    assert sum(float(by["ann"][f"{A}:{g}"]) for g in tests) == float(by["ann"]["score"])


# -- shards -------------------------------------------------------------------------------

def _shards(course, n):
    for k in range(n):
        report = _grade(course, shard=(k, n))
        assert all(ledger.shard_of(s, n) == k for s in report.graded)
    return _grade(course, merge=True)


def test_export_is_byte_identical_for_1_2_and_7_shards(template, tmp_path):
    exports = []
    for n in (1, 2, 7):
        course = Path(shutil.copytree(template, tmp_path / f"course{n}"))
        if n == 1:
            _grade(course)
        else:
            for k in range(n):
                _grade(course, shard=(k, n))
            with _gb(course) as gb:            # the shards wrote nothing in the gradebook
                assert list(gb.assignment_submissions(A)) == []
            report = _grade(course, merge=True)
            assert report.graded == sorted(STUDENTS)
            assert (course / "autograded" / "ann" / A / f"{A}.ipynb").is_file()
            assert marker_path(course, A, "bob").is_file()
        exports.append(glue.export(course, "grades.csv").read_bytes())
    assert exports[0] == exports[1] == exports[2]
    assert b"introspection" in exports[0] and len(exports[0].splitlines()) == 1 + len(STUDENTS)


def test_merge_refuses_a_missing_or_stale_shard(course):
    n = 2
    for k in range(n):
        _grade(course, shard=(k, n))
    victim = "bob"
    k = ledger.shard_of(victim, n)
    result_file = ledger.shard_dir(course, A) / f"{victim}.json"
    data = result_file.read_text()
    result_file.unlink()
    with pytest.raises(CourseError, match=rf"shard {k}/{n} has not graded bob.*--shard {k}/{n}"):
        _grade(course, merge=True)
    result_file.write_text(data.replace(ledger.ENGINE, "lr-course 0.0.1"))
    with pytest.raises(CourseError, match=rf"shard {k}/{n} is out of date: bob \(graded by"):
        _grade(course, merge=True)
    report = _grade(course, shard=(k, n))                 # the rerun grades only bob
    assert report.graded == [victim]
    assert _grade(course, merge=True).graded == sorted(STUDENTS)


def test_shard_arguments_are_checked():
    for bad in ("2/2", "-1/3", "1/0", "a/b", "3"):
        with pytest.raises(ValueError, match="shard"):
            ledger.parse_shard(bad)


KILLABLE = """
import sys
from lr_course.grading.batch import grade_assignment
from lr_course.grading.inprocess import InProcess
grade_assignment(sys.argv[1], "ps2_adaptive", sandbox=InProcess(), workers=1, progress=False,
                 shard=(0, 2))
"""


def test_a_killed_shard_rerun_finishes_its_slice_without_regrading(template, tmp_path):
    course = Path(shutil.copytree(template, tmp_path / "course"))
    mine = sorted(s for s in (f"s{i:02d}" for i in range(40)) if ledger.shard_of(s, 2) == 0)[:4]
    for s in mine[:-1]:
        submit(course, s, solution_notebook(course, A))
    slow = add_cell(solution_notebook(course, A), "import time\ntime.sleep(60)\n",
                    after_grade_id="setup")
    submit(course, mine[-1], slow)                           # graded last: sorted, one worker
    shard_students = sorted([s for s in STUDENTS if ledger.shard_of(s, 2) == 0] + mine)
    before_slow = [s for s in shard_students if s < mine[-1]]
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(course)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    files = [ledger.shard_dir(course, A) / f"{s}.json" for s in before_slow]
    deadline = time.monotonic() + 240
    while not all(f.exists() for f in files):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)                        # the slow one is sleeping
    proc.wait()
    stamps = {f: f.stat().st_mtime_ns for f in files}
    assert not (ledger.shard_dir(course, A) / f"{mine[-1]}.json").exists()
    submit(course, mine[-1], solution_notebook(course, A))  # (no need to wait a minute)
    report = _grade(course, shard=(0, 2))
    assert report.graded == [mine[-1]] + [s for s in shard_students if s > mine[-1]]
    assert sorted(report.resumed) == before_slow
    assert {f: f.stat().st_mtime_ns for f in files} == stamps   # nothing finished redone


# -- the command's papercuts, in-process --------------------------------------------------

class _Box(InProcess):
    """InProcess where the batch would make a Sandbox (same constructor, a context)."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_grade_exits_1_when_something_was_not_graded_and_0_when_all_were(course, capsys,
                                                                          monkeypatch):
    from lr_course import cli
    monkeypatch.setattr("lr_course.grading.batch.Sandbox", _Box)
    args = ["grade", A, "--course", str(course), "--workers", "1", "--quiet"]
    assert cli.main(args + ["--student", "ann"]) == 0
    assert cli.main(args + ["--student", "ann", "--student", "ghost"]) == 1    # missing
    assert cli.main(args) == 1                                                  # cat
    out = capsys.readouterr().out
    assert "unreadable: cat" in out
    shutil.rmtree(course / "submitted" / "cat")
    (course / "submitted" / "-rf x" / A).mkdir(parents=True)                # not an id
    shutil.copy(course / "submitted" / "ann" / A / f"{A}.ipynb",
                course / "submitted" / "-rf x" / A)
    assert cli.main(args) == 1
    out = capsys.readouterr().out
    assert "skipped folder -rf x: not a plain student id" in out
    assert not any(line.startswith("-rf x") for line in out.splitlines())   # never graded
    shutil.rmtree(course / "submitted" / "-rf x")
    assert cli.main(args) == 0
    write_log(course, CollectResult(A, refused=[Refusal("fay", "fay", "no notebook found")]))
    assert cli.main(args) == 1                                                  # refused
    assert "refused at collect: 1" in capsys.readouterr().out


def test_usage_errors_are_one_line_and_exit_2(course, capsys):
    from lr_course import cli
    for workers in ("0", "-3", "two"):
        with pytest.raises(SystemExit) as exc:
            cli.main(["grade", A, "--course", str(course), "--workers", workers])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "--workers" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:
        cli.main(["grade", A, "--course", str(course), "--shard", "7/7"])
    assert exc.value.code == 2 and "0 <= k < N" in capsys.readouterr().err
    code = cli.main(["export", "--course", str(course), "--to", "missing/dir/x.csv"])
    err = capsys.readouterr().err
    assert code == 2 and "does not exist (create it first)" in err and "Traceback" not in err
    assert not (course / "missing").exists()


def test_the_courses_time_limits_hold_unless_the_command_line_sets_one(course, monkeypatch,
                                                                        capsys):
    """`lr-course grade` without --cell-seconds keeps nbgrader_config.py's Execute.timeout."""
    from lr_course import cli
    from lr_course.grading import batch
    seen = []

    class Recording(batch.Grader):
        def __init__(self, *args, **kwargs):
            seen.append(kwargs.get("time_limits"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(batch, "Sandbox", _Box)
    monkeypatch.setattr(batch, "Grader", Recording)
    args = ["grade", A, "--course", str(course), "--workers", "1", "--quiet", "--student", "ann"]
    cli.main(args)
    cli.main(args + ["--force", "--cell-seconds", "5"])
    assert seen == [{"cell_seconds": 60.0, "call_seconds": 10.0},
                    {"cell_seconds": 5.0, "call_seconds": 10.0}]


@pytest.mark.slow
def test_after_a_real_nbgrader_autograde_lr_course_regrades_and_says_so(template, tmp_path):
    course = Path(shutil.copytree(template, tmp_path / "course"))
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "autograde", A,
                    "--student", "ann", "--log-level=ERROR"], cwd=course, env=env, check=True,
                   capture_output=True, timeout=600)
    with _gb(course) as gb:
        assert gb.find_submission(A, "ann") is not None and ledger.read_provenance(gb, A) == {}
    report = _grade(course, students=["ann"])
    assert report.graded == ["ann"]
    assert "regraded (scored by another engine (nbgrader autograde?)): ann" in report.summary()
    with _gb(course) as gb:
        assert ledger.read_provenance(gb, A)["ann"].engine == ledger.ENGINE
    assert _grade(course, students=["ann"]).resumed == ["ann"]


# -- a write that fails -------------------------------------------------------------------

def test_a_failed_write_stops_the_batch_names_the_student_and_leaves_him_due(course):
    """The write of bob's new hand-in fails (his autograded folder cannot be made): the batch
    stops with bob's reason, nothing of the new version was committed, and bob is graded
    again once the folder is mended."""
    _grade(course)
    with _gb(course) as gb:
        old = ledger.read_provenance(gb, A)["bob"].submission_digest
    nb = wrong_notebook(course)
    nb["metadata"]["resubmitted"] = True
    submit(course, "bob", nb)
    shutil.rmtree(course / "autograded" / "bob")
    (course / "autograded" / "bob").write_text("not a folder")
    with pytest.raises(CourseError, match=r"writing bob's grading failed: "
                                          r"(FileExistsError|NotADirectoryError): .*a rerun "
                                          r"grades the rest"):
        _grade(course)
    with _gb(course) as gb:
        assert ledger.read_provenance(gb, A)["bob"].submission_digest == old
    (course / "autograded" / "bob").unlink()
    report = _grade(course)
    assert report.graded == ["bob"] and report.regraded == {"bob": "the submission changed"}
    assert (course / "autograded" / "bob" / A / f"{A}.ipynb").is_file()


def test_grading_an_assignment_not_released_says_release_it_first(tmp_path, empty_gradebook):
    from course_fixture import unreleased_course
    course = unreleased_course(tmp_path, empty_gradebook)
    submit(course, "ann", json.loads((course / "source" / A / f"{A}.ipynb").read_text()))
    with pytest.raises(CourseError, match=f"{A} is not in the gradebook: release it first"):
        _grade(course)
    assert not (course / "autograded").exists()


def test_the_solution_runs_once_per_batch_of_students_not_once_per_student(course):
    """Five students, no reference cached: the batch records the solution in two sandbox
    runs (the first 4 students' seeds, then the fifth's), and no student runs it alone."""
    from lr_course.grading.batch import FIRST_REFERENCE
    shutil.rmtree(course / ".lr-course" / "references")
    real, runs = InProcess(), []

    class Counting:
        isolated = False

        def run(self, job, submission_dir=None):
            runs.append(len(job["seeds"]) if "seeds" in job else 0)
            return real.run(job, submission_dir)

    report = grade_assignment(course, A, sandbox=Counting(), workers=2, progress=False)
    assert sorted(report.graded) == sorted(STUDENTS)
    assert sorted(n for n in runs if n) == sorted([FIRST_REFERENCE, len(STUDENTS) - FIRST_REFERENCE])
    assert runs.count(0) == len(STUDENTS) - 1        # cat's notebook is not valid JSON
