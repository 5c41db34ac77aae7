"""The instructor's workflow end to end through real nbgrader, and the `lr-course` command.

The slow tests copy the course to a temporary directory, release each assignment with
nbgrader, collect a class (the solution, the released blank, every planted mistake, a correct
solution that triggers numpy warnings) and autograde them all into the gradebook.
"""

import csv
import importlib.util
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from lr_course import cli
from lr_course.grading import nbgrader_glue as glue
from lr_course.grading.submission import load_source

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "autograder"

_spec = importlib.util.spec_from_file_location("mistakes_catalogue",
                                               Path(__file__).parent / "mistakes" / "catalogue.py")
catalogue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogue)


def copy_course(dest):
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(COURSE / "nbgrader_config.py", dest)
    shutil.copytree(COURSE / "source", dest / "source")
    return dest


source_nb = catalogue.source_nb


def run_cli(args, capsys):
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


# --- fast: the command's contract --------------------------------------------------------

def test_check_json_on_the_solution(capsys):
    path = COURSE / "source" / "ps3_tuning" / "ps3_tuning.ipynb"
    code, out, err = run_cli(["check", str(path), "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    assert result["assignment"] == "ps3_tuning" and result["score"] == result["max_score"] > 0
    assert {t["grade_id"] for t in result["tests"]} == set(load_source(path).tests)
    assert result["tests_run"] == "all tests"
    assert "student" not in result          # a self-check has no student id to report
    assert all(set(t) >= {"grade_id", "points", "score", "passed", "hidden", "checks"}
               for t in result["tests"])


def test_check_prints_hints_for_a_mistake(tmp_path, capsys):
    m = next(m for m in catalogue.MISTAKES if m.name == "cosine_keeps_cycling")
    nb = source_nb(m.assignment)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == m.cell)
    cell.source = m.source
    path = tmp_path / "mine.ipynb"
    nbformat.write(nb, path)
    code, out, err = run_cli(["check", str(path), "--course", str(COURSE)], capsys)
    assert code == 0 and "FAIL test_cosine_decay_hidden (hidden)" in out
    assert "hint: " in out and "ck.same" not in out and "ck.part" not in out
    assert "score: 25/25" not in out and "/25\n" in out
    assert "(all tests)" in out


@pytest.mark.parametrize("content, message", [
    (None, "no such file"), ("{not json", "not valid JSON"), ("", "not valid JSON"),
    ('{"cells": 3}', "not a Jupyter notebook"), (b"\xff\xfe\x00junk", "not valid JSON"),
    ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}',
     "not a notebook of any graded assignment"),
])
def test_bad_input_is_a_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "x.ipynb"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    code, out, err = run_cli(["check", str(path), "--course", str(COURSE)], capsys)
    assert code == 2 and message in err and "Traceback" not in err and out == ""


def test_wrong_assignment_is_refused(capsys):
    path = COURSE / "source" / "ps1_schedules" / "ps1_schedules.ipynb"
    code, _, err = run_cli(["check", str(path), "--assignment", "ps2_adaptive"], capsys)
    assert code == 2 and "is a notebook of ps1_schedules, not of ps2_adaptive" in err


@pytest.mark.filterwarnings("ignore:bubblewrap")
def test_check_shows_flags_and_that_it_was_not_isolated(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LR_COURSE_BWRAP", "")       # as on a machine without bubblewrap
    nb = source_nb("ps2_adaptive")
    nb.cells.insert(0, nbformat.v4.new_code_cell("import numpy as np\n"
                                                 "np.allclose = lambda *a, **k: True"))
    path = tmp_path / "mine.ipynb"
    nbformat.write(nb, path)
    code, out, err = run_cli(["check", str(path), "--course", str(COURSE)], capsys)
    # the student sees the report's note, not the instructor's warning about grading
    assert code == 0 and "WITHOUT isolation" not in err and "warning" not in err
    assert "flagged in code cell 0, line 2: assigns to numpy.allclose (numpy-patch)" in out
    assert "not isolated" in out and "score: 27/27" in out
    code, out, _ = run_cli(["check", str(path), "--json", "--course", str(COURSE)], capsys)
    result = json.loads(out)
    assert {f["code"] for f in result["flags"]} == {"numpy-patch"}
    assert "not isolated" in result["note"] and result["notebook"] == str(path)
    code, out, err = run_cli(["check", str(path), "--require-isolation", "--course", str(COURSE)],
                             capsys)
    assert code == 2 and out == "" and err.strip().splitlines()[-1].startswith("lr-course: error")


def test_check_without_a_course_or_a_release_says_what_is_missing(tmp_path, capsys):
    path = tmp_path / "mine.ipynb"
    nbformat.write(source_nb("ps1_schedules"), path)
    code, out, err = run_cli(["check", str(path)], capsys)
    assert code == 2 and "neither the course's source notebook" in err and out == ""


def test_instructor_commands_need_a_course(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args in (["grade", "ps1_schedules"], ["release", "ps1_schedules"], ["report", "ps1_schedules"],
                 ["export"], ["grade", "ps1_schedules", "--course", str(tmp_path / "nope")]):
        code, _, err = run_cli(args, capsys)
        assert code == 2 and "not an nbgrader course directory" in err, args
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_course_root_set_elsewhere_is_refused_by_name(tmp_path, capsys, monkeypatch):
    # nbgrader would grade the folder CourseDirectory.root names; lr-course takes the folder
    # of nbgrader_config.py, so it says so instead of grading another course silently.
    config = tmp_path / "nbgrader_config.py"
    config.write_text(f"c = get_config()\nc.CourseDirectory.root = {str(tmp_path / 'other')!r}\n")
    monkeypatch.chdir(tmp_path)
    for args in (["grade", "ps1_schedules"], ["report", "ps1_schedules"], ["export"]):
        code, out, err = run_cli(args, capsys)
        assert code == 2 and "sets CourseDirectory.root to" in err and "other" in err, args
    config.write_text("c = get_config()\nc.CourseDirectory.root = '.'\n")   # the same folder
    code, _, err = run_cli(["grade", "ps9"], capsys)
    assert code == 2 and "CourseDirectory.root" not in err and "'ps9'" in err
    config.write_text("c = get_config()\nc.CourseDirectory.root = \n")       # not Python
    code, _, err = run_cli(["export"], capsys)
    assert code == 2 and "nbgrader_config.py cannot be read" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbgrader_config.py"]


def test_unknown_assignment_and_no_submissions(tmp_path, capsys):
    course = copy_course(tmp_path / "course")
    code, _, err = run_cli(["grade", "ps9", "--course", str(course)], capsys)
    assert code == 2 and "'ps9'" in err and "Traceback" not in err
    code, out, err = run_cli(["grade", "ps1_schedules", "--course", str(course)], capsys)
    assert code == 2 and "no submissions of ps1_schedules" in err and "Traceback" not in err
    assert not (course / "gradebook.db").exists()


def test_collect_folder_and_zip_layouts(tmp_path):
    course = copy_course(tmp_path / "course")
    good = COURSE / "source" / "ps1_schedules" / "ps1_schedules.ipynb"
    other = COURSE / "source" / "ps2_adaptive" / "ps2_adaptive.ipynb"
    lms = tmp_path / "export" / "class"
    for student, nb, nested in [("ann", good, False), ("ben", good, True), ("cat", other, False)]:
        where = lms / student / ("ps1_schedules" if nested else "")
        where.mkdir(parents=True)
        shutil.copy(nb, where / "whatever.ipynb")
    (lms / "dan").mkdir()
    (lms / "eve").mkdir()
    (lms / "eve" / "hw.ipynb").write_text("{broken")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in lms.rglob("*"):
            zf.write(f, f.relative_to(lms.parent))
    for source in (lms, archive):
        result = glue.collect(course, "ps1_schedules", source)
        assert result["collected"] == ["ann", "ben"]
        assert set(result["skipped"]) == {"cat", "dan", "eve"}
        assert "ps2_adaptive" in result["skipped"]["cat"]
        assert "not valid JSON" in result["skipped"]["eve"]
    assert glue.submitted_students(course, "ps1_schedules") == ["ann", "ben"]
    assert (course / "submitted" / "ann" / "ps1_schedules" / "ps1_schedules.ipynb").is_file()


def test_zip_with_unsafe_paths_is_refused(tmp_path):
    course = copy_course(tmp_path / "course")
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escape/x.ipynb", "{}")
    with pytest.raises(glue.GradingError, match="unsafe path"):
        glue.collect(course, "ps1_schedules", archive)


def test_report_from_scores(tmp_path):
    from lr_course.grading.report import write_report
    scores = {"a": {"test_x": (2.0, 2.0), "test_y": (0.0, 1.0)},
              "b": {"test_x": (0.0, 2.0), "test_y": (1.0, 1.0)}}
    png, page = write_report(tmp_path, "ps1_schedules", scores)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = page.read_text()
    assert "test_x" in text and "50%" in text and png.name in text


# --- slow: real nbgrader, end to end -----------------------------------------------------

def student_notebook(release_nb, assignment, replace=None):
    """A student's submission: the released notebook with solution cells filled in."""
    nb = nbformat.read(release_nb, as_version=4)
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source_nb(assignment).cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in solutions:
            cell.source = solutions[gid]
        if replace and gid == replace[0]:
            cell.source = replace[1]
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ["ps1_schedules", "ps2_adaptive", "ps3_tuning"])
def test_nbgrader_end_to_end(assignment, tmp_path, capsys):
    course = copy_course(tmp_path / "course")
    code, out, err = run_cli(["release", assignment, "--course", str(course)], capsys)
    assert code == 0, err
    release_nb = course / "release" / assignment / f"{assignment}.ipynb"
    released = release_nb.read_text()
    assert "BEGIN SOLUTION" not in released and "BEGIN HIDDEN TESTS" not in released
    assert "Rubric" not in released

    mistakes = [m for m in catalogue.MISTAKES if m.assignment == assignment]
    if catalogue.WARNING_SOLUTION.assignment == assignment:
        mistakes.append(catalogue.WARNING_SOLUTION)
    incoming = tmp_path / "incoming"
    students = {"solution": student_notebook(release_nb, assignment),
                **{m.name: student_notebook(release_nb, assignment, (m.cell, m.source))
                   for m in mistakes}}
    for name, nb in students.items():
        (incoming / name).mkdir(parents=True)
        nbformat.write(nb, incoming / name / f"{assignment}.ipynb")
    (incoming / "blank").mkdir()
    shutil.copy(release_nb, incoming / "blank" / f"{assignment}.ipynb")
    collected = glue.collect(course, assignment, incoming)
    assert len(collected["collected"]) == len(students) + 1 and not collected["skipped"]

    code, out, err = run_cli(["grade", assignment, "--course", str(course)], capsys)
    assert code == 0, err
    assert "not graded" not in out

    scores = glue.test_scores(course, assignment)
    tests = load_source(course / "source" / assignment / f"{assignment}.ipynb").test_points()
    auto = lambda student: {g: s for g, (s, _) in scores[student].items() if g in tests}  # noqa: E731
    assert auto("solution") == tests
    assert sum(auto("blank").values()) == 0
    for m in mistakes:
        lost = {g for g, s in auto(m.name).items() if s < tests[g]}
        assert set(m.loses) <= lost, (m.name, lost)
        assert lost <= set(m.loses) | set(m.also), (m.name, lost)

    code, out, err = run_cli(["export", "--course", str(course)], capsys)
    assert code == 0, err
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert float(rows["solution"]["score"]) == sum(tests.values())
    assert float(rows["blank"]["score"]) == 0

    code, out, err = run_cli(["report", assignment, "--course", str(course)], capsys)
    assert code == 0, err
    assert (course / "reports" / f"{assignment}.png").is_file()

    code, out, err = run_cli(["feedback", assignment, "--course", str(course), "--student",
                              "blank"], capsys)
    assert code == 0, err
    html = (course / "feedback" / "blank" / assignment / f"{assignment}.html").read_text()
    assert "FAIL" in html and "not written yet" in html
    assert "HIDDEN TESTS" not in html and "ck.raises" not in html

    # The release carries the visible checks' expected values: a student checks herself with
    # the released notebook alone, in her kernel and with `lr-course check`.
    alone = tmp_path / "student_home"
    alone.mkdir()
    shutil.copy(release_nb, alone)
    shutil.copy(release_nb.with_name(f"{assignment}.checks.json"), alone)
    nbformat.write(students["solution"], alone / "mine.ipynb")
    code, out, err = run_cli(["check", str(alone / "mine.ipynb")], capsys)
    assert code == 0, err
    assert "(visible tests only" in out and "FAIL" not in out
    visible = {g for g, p in tests.items()
               if not load_source(course / "source" / assignment / f"{assignment}.ipynb")
               .is_hidden(g)}
    assert f"score: {sum(tests[g] for g in visible):g}/" in out


@pytest.mark.slow
def test_the_released_self_check_runs_in_a_kernel(tmp_path, capsys):
    """Visible test cells of the release pass for the solution and fail, with a hint, for a
    mistake, in a real Jupyter kernel with only the release and the package."""
    from nbclient import NotebookClient
    course = copy_course(tmp_path / "course")
    assert run_cli(["release", "ps1_schedules", "--course", str(course)], capsys)[0] == 0
    release_nb = course / "release" / "ps1_schedules" / "ps1_schedules.ipynb"
    m = next(m for m in catalogue.MISTAKES if m.name == "warmup_off_by_one")
    for nb, failing in [(student_notebook(release_nb, "ps1_schedules"), set()),
                        (student_notebook(release_nb, "ps1_schedules", (m.cell, m.source)),
                         {"test_linear_warmup"})]:
        NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(release_nb.parent)}}).execute()
        failed, shown = set(), ""
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and cell.cell_type == "code":
                shown += "".join(o.get("text", "") for o in cell.outputs)
                if any(o.output_type == "error" for o in cell.outputs):
                    failed.add(meta["grade_id"])
        assert failed == failing, shown
        assert "[PASS]" in shown and ("hint:" in shown) == bool(failing)


@pytest.mark.slow
def test_console_script_runs_in_a_course_directory(tmp_path):
    course = copy_course(tmp_path / "course")
    exe = Path(sys.executable).parent / "lr-course"
    proc = subprocess.run([str(exe), "release", "ps1_schedules"], cwd=course,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (course / "release" / "ps1_schedules" / "ps1_schedules.ipynb").is_file()
    proc = subprocess.run([str(exe), "grade", "ps1_schedules"], cwd=course,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no submissions" in proc.stderr
