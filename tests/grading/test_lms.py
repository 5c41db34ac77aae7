"""Hand-ins from Canvas, Moodle and Blackboard downloads, and from plain folders.

Each fixture zip is built here with the names, folders and member times that LMS's own
download uses (see the table in :mod:`lr_course.grading.lms`): Canvas's flat
``<name>[_late]_<user id>_<submission id>_<file>``, Moodle's
``<Full Name>_<id>_assignsubmission_file_/`` folders, Blackboard's
``<Assignment>_<username>_attempt_<stamp>_<file>`` files with a ``.txt`` receipt per
attempt. What is checked: who is collected under which id, which notebook is taken, the
time kept in ``timestamp.txt``, each refusal with its reason (and a gradebook row), the exit
status of ``lr-course collect``.
"""

import json
import shutil
import zipfile

import pytest

from lr_course import cli
from lr_course.grading import collect as collecting
from lr_course.grading import nbgrader_glue as glue

from .course_fixture import AUTOGRADER as COURSE
from .course_fixture import unreleased_course

ASSIGNMENT = "ps2_adaptive"
NOTEBOOK = (COURSE / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes()
OTHER = (COURSE / "source" / "ps1_schedules" / "ps1_schedules.ipynb").read_bytes()
JAN10 = (2026, 1, 10, 9, 0, 0)
JAN11 = (2026, 1, 11, 18, 30, 2)


@pytest.fixture
def course(tmp_path, empty_gradebook):
    return unreleased_course(tmp_path, empty_gradebook)


def make_zip(path, members):
    """``members``: ``[(name, bytes, date_time)]``, written as the LMS would."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, when in members:
            zf.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def stamp(course, student):
    return (course / "submitted" / student / ASSIGNMENT / "timestamp.txt").read_text()


def taken(course, student):
    return (course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes()


def gradebook_students(course):
    with glue.gradebook(course) as gb:
        return sorted(s.id for s in gb.students)


def run_cli(course, source, *args):
    return cli.main(["collect", ASSIGNMENT, str(source), "--course", str(course),
                     *map(str, args)])


# -- Canvas ------------------------------------------------------------------------------

def canvas_zip(tmp_path):
    return make_zip(tmp_path / "submissions.zip", [
        ("leeann_4211_90001_ps2_adaptive.ipynb", NOTEBOOK, JAN10),
        # a resubmission Canvas renamed, a stray Untitled beside it, after the due date
        ("chenbo_late_4212_90002_ps2_adaptive-1.ipynb", NOTEBOOK + b"\n", JAN11),
        ("chenbo_late_4212_90002_Untitled.ipynb", OTHER, JAN11),
        # two copies, handed in together: nothing says which one is meant
        ("diazcy_4213_90003_ps2_adaptive.ipynb", NOTEBOOK, JAN10),
        ("diazcy_4213_90003_ps2_adaptive (1).ipynb", NOTEBOOK + b" ", JAN10),
        ("foxdee_4214_90004_report.pdf", b"%PDF-1.4", JAN10),
    ])


def test_canvas_zip_is_collected_by_user_id_with_times_and_late_marks(course, tmp_path,
                                                                      capsys):
    code = run_cli(course, canvas_zip(tmp_path))
    out, err = capsys.readouterr()
    assert code == 1                                    # two students refused
    assert "collected 2 submission(s) of ps2_adaptive (canvas layout)" in out
    assert "marked late by the LMS: 4212" in out
    assert taken(course, "4211") == NOTEBOOK
    assert taken(course, "4212") == NOTEBOOK + b"\n"    # the named one, not Untitled
    assert stamp(course, "4211") == "2026-01-10 09:00:00.000000 UTC"
    assert stamp(course, "4212") == "2026-01-11 18:30:02.000000 UTC"
    log = json.loads((course / "collect_log" / f"{ASSIGNMENT}.json").read_text())
    late = {t["student"]: t["late"] for t in log["taken"]}
    assert late == {"4211": False, "4212": True}
    reasons = {r["student"]: r["reason"] for r in log["refused"]}
    assert set(reasons) == {"4213", "4214"}
    assert reasons["4213"].startswith("ambiguous: 2 copies of ps2_adaptive.ipynb")
    assert "ps2_adaptive (1).ipynb, ps2_adaptive.ipynb" in reasons["4213"]
    assert "no notebook found (found: report.pdf)" == reasons["4214"]
    assert "refused 4213" in err and "refused 4214" in err
    assert not (course / "submitted" / "4213").exists()
    assert gradebook_students(course) == ["4213", "4214"]     # a 0 in the export


def test_canvas_with_a_roster_maps_ids_and_names_and_refuses_the_rest(course, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("lms_id,name,student_id,email\n4211,,ann,a@x\n,Bo Chen,bo,\n"
                      ",Dee Fox,dee,\n")
    code = run_cli(course, canvas_zip(tmp_path), "--roster", roster)
    assert code == 1
    log = json.loads((course / "collect_log" / f"{ASSIGNMENT}.json").read_text())
    assert log["collected"] == ["ann", "bo"]             # by Canvas id, by name (chenbo)
    refused = {(r["student"], r["key"]): r["reason"] for r in log["refused"]}
    assert refused[("", "4213")].startswith("not in the roster (canvas key '4213', name "
                                            "'diazcy')")
    assert refused[("dee", "4214")].startswith("no notebook found")
    assert not (course / "submitted" / "4211").exists()
    assert gradebook_students(course) == ["dee"]


def test_a_canvas_zip_where_everything_is_taken_exits_0(course, tmp_path, capsys):
    archive = make_zip(tmp_path / "ok.zip", [("leeann_4211_90001_ps2_adaptive.ipynb",
                                              NOTEBOOK, JAN10)])
    assert run_cli(course, archive) == 0
    assert "refused" not in capsys.readouterr().err


# -- Moodle ------------------------------------------------------------------------------

def moodle_zip(tmp_path, top="PS2-Adaptive-123"):
    def member(folder, name):
        return f"{top}/{folder}/{name}" if top else f"{folder}/{name}"
    return make_zip(tmp_path / "moodle.zip", [
        (member("Ann Lee_101_assignsubmission_file_", "ps2_adaptive.ipynb"), NOTEBOOK, JAN10),
        (member("Bo Chen_102_assignsubmission_file_", "Untitled.ipynb"), OTHER, JAN11),
        (member("Bo Chen_102_assignsubmission_file_", "ps2_adaptive.ipynb"), NOTEBOOK, JAN10),
        (member("Cy Diaz_103_assignsubmission_onlinetext_", "onlinetext.html"), b"<p>", JAN10),
        # an older copy and a newer one: the latest wins, and the log says so
        (member("Dee Fox_104_assignsubmission_file_", "ps2_adaptive (1).ipynb"), NOTEBOOK,
         JAN10),
        (member("Dee Fox_104_assignsubmission_file_", "ps2_adaptive.ipynb"), NOTEBOOK + b"\n",
         JAN11),
    ])


@pytest.mark.parametrize("top", ["PS2-Adaptive-123", ""])
def test_moodle_folders_are_collected_by_participant_id(course, tmp_path, top):
    result = glue.collect(course, ASSIGNMENT, moodle_zip(tmp_path, top))
    assert result["layout"] == "moodle"
    assert result["collected"] == ["101", "102", "104"]  # never "Ann Lee"
    assert taken(course, "102") == NOTEBOOK
    assert taken(course, "104") == NOTEBOOK + b"\n"
    assert stamp(course, "104") == "2026-01-11 18:30:02.000000 UTC"
    assert any("104: 2 copies of ps2_adaptive.ipynb" in n and "the latest" in n
               for n in result["notes"])
    [refusal] = result["refused"]
    assert refusal["student"] == "103" and refusal["reason"].startswith("no notebook found")
    assert not any(" " in p.name for p in (course / "submitted").iterdir())


def test_moodle_names_map_through_a_roster(course, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,student_id\nAnn Lee,ann\nbo chen,bo\nDee Fox,dee\nCy Diaz,cy\n")
    result = glue.collect(course, ASSIGNMENT, moodle_zip(tmp_path),
                          roster=glue_roster(roster))
    assert result["collected"] == ["ann", "bo", "dee"]


def glue_roster(path):
    from lr_course.grading.roster import load_roster
    return load_roster(path)


# -- Blackboard --------------------------------------------------------------------------

def receipt(name, user, when, files):
    lines = [f"Name: {name} ({user})", "Assignment: PS2 Adaptive", f"Date Submitted: {when}",
             "Current Grade: Needs Grading", "", "Submission Field:",
             "There is no student submission text data for this assignment.", "",
             "Comments:", "There are no student comments for this assignment.", "", "Files:"]
    for original, stored in files:
        lines += [f"\tOriginal filename: {original}", f"\tFilename: {stored}"]
    return "\n".join(lines).encode()


def blackboard_zip(tmp_path):
    a = "PS2 Adaptive_alee_attempt_2026-01-12-10-15-30"
    b = "PS2 Adaptive_alee_attempt_2026-01-13-08-00-00"
    c = "PS2 Adaptive_b_chen_attempt_2026-01-12-23-59-59"
    return make_zip(tmp_path / "gradebook_PS2.zip", [
        (f"{a}_ps2_adaptive.ipynb", NOTEBOOK, JAN10),
        (f"{a}.txt", receipt("Ann Lee", "alee", "Monday, 12 January 2026 10:15:30 o'clock UTC",
                             [("ps2_adaptive.ipynb", f"{a}_ps2_adaptive.ipynb")]), JAN10),
        (f"{b}_ps2_adaptive.ipynb", NOTEBOOK + b"\n", JAN10),
        (f"{b}.txt", receipt("Ann Lee", "alee", "2026-01-13 08:00:00 +0100",
                             [("ps2_adaptive.ipynb", f"{b}_ps2_adaptive.ipynb")]), JAN10),
        (f"{c}_PS2_Adaptive.ipynb", NOTEBOOK, JAN10),
        (f"{c}.txt", receipt("Bo Chen", "b_chen", "Monday, January 12, 2026 11:59:59 PM",
                             [("PS2_Adaptive.ipynb", f"{c}_PS2_Adaptive.ipynb")]), JAN10),
    ])


def test_blackboard_attempts_the_latest_is_taken_with_the_receipts_time(course, tmp_path):
    result = glue.collect(course, ASSIGNMENT, blackboard_zip(tmp_path))
    assert result["layout"] == "blackboard" and result["refused"] == []
    assert result["collected"] == ["alee", "b_chen"]   # the username, from the receipt
    assert taken(course, "alee") == NOTEBOOK + b"\n"
    assert stamp(course, "alee") == "2026-01-13 07:00:00.000000 UTC"   # +0100 converted
    assert stamp(course, "b_chen") == "2026-01-12 23:59:59.000000 UTC"
    assert any("alee: 2 attempts: the latest (2026-01-13-08-00-00)" in n
               for n in result["notes"])
    ignored = dict(map(tuple, result["ignored"]))
    assert "earlier attempt" in ignored[
        "PS2 Adaptive_alee_attempt_2026-01-12-10-15-30_ps2_adaptive.ipynb"]


def test_blackboard_without_receipts_takes_the_name_and_the_attempt_stamp(course, tmp_path):
    archive = make_zip(tmp_path / "bb.zip", [
        ("PS2_alee_attempt_2026-01-12-10-15-30_ps2_adaptive.ipynb", NOTEBOOK, JAN10)])
    result = glue.collect(course, ASSIGNMENT, archive)
    assert result["collected"] == ["alee"]
    assert stamp(course, "alee") == "2026-01-12 10:15:30.000000 UTC"


# -- layouts: detection, forcing, nothing found ------------------------------------------

def test_nothing_recognisable_is_a_clear_error_exit_2_and_nothing_written(course, tmp_path,
                                                                        capsys):
    archive = make_zip(tmp_path / "odd.zip", [("hw.ipynb", NOTEBOOK, JAN10),
                                              ("notes.txt", b"x", JAN10)])
    assert run_cli(course, archive) == 2
    err = capsys.readouterr().err
    assert "no hand-ins of ps2_adaptive found" in err
    for looked_for in ("Canvas", "Moodle", "Blackboard", "<student>/"):
        assert looked_for in err
    assert not (course / "submitted").exists() and not (course / "collect_log").exists()


def test_a_forced_layout_refuses_every_notebook_it_cannot_name(course, tmp_path, capsys):
    assert run_cli(course, canvas_zip(tmp_path), "--layout", "blackboard") == 1
    log = json.loads((course / "collect_log" / f"{ASSIGNMENT}.json").read_text())
    assert log["collected"] == [] and log["layout"] == "blackboard"
    assert len(log["refused"]) == 5                       # each notebook, with the pattern
    assert all("Blackboard" in r["reason"] for r in log["refused"])


def test_an_unzipped_lms_export_is_read_like_the_zip(course, tmp_path):
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(canvas_zip(tmp_path)) as zf:
        zf.extractall(folder)
    result = glue.collect(course, ASSIGNMENT, folder)
    assert result["layout"] == "canvas" and result["collected"] == ["4211", "4212"]


def test_plain_folders_take_the_named_notebook_over_untitled(course, tmp_path):
    lms = tmp_path / "lms"
    (lms / "ann" / ASSIGNMENT).mkdir(parents=True)
    (lms / "ann" / ASSIGNMENT / "Untitled.ipynb").write_bytes(OTHER)
    (lms / "ann" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_bytes(NOTEBOOK)
    (lms / "bo").mkdir()
    (lms / "bo" / "mine.ipynb").write_bytes(NOTEBOOK)
    (lms / "bo" / "also_mine.ipynb").write_bytes(NOTEBOOK)
    result = glue.collect(course, ASSIGNMENT, lms)
    assert result["layout"] == "folders" and result["collected"] == ["ann"]
    [refusal] = result["refused"]
    assert refusal["student"] == "bo"
    assert refusal["reason"] == ("ambiguous: 2 notebooks and none named ps2_adaptive.ipynb "
                                 "(also_mine.ipynb, mine.ipynb); hand in one")


# -- rosters that cannot be used -----------------------------------------------------------

@pytest.mark.parametrize("text,message", [
    (None, "no roster file"),
    ("lms_id,name\n4211,Ann\n", "no student_id column"),
    ("student_id\nann\n", "needs an lms_id or a name column"),
    ("lms_id,student_id\n4211,ann\n4211,bo\n", "lms_id '4211' given twice"),
    ("lms_id,student_id\n4211,ann\n4212,ann\n", "student_id 'ann' is mapped twice"),
    ("name,student_id\nAnn Lee,ann\nann lee,bo\n", "the name 'ann lee' is given twice"),
    ("lms_id,student_id\n4211,a'b\"c\n", "holds a quote"),
    ("lms_id,student_id\n4211,\n", "student_id '' is empty"),
    ("lms_id,student_id\n", "no students in the roster"),
])
def test_a_bad_roster_is_an_error_exit_2_with_nothing_written(course, tmp_path, capsys,
                                                              text, message):
    roster = tmp_path / "roster.csv"
    if text is not None:
        roster.write_text(text)
    assert run_cli(course, canvas_zip(tmp_path), "--roster", roster) == 2
    assert message in capsys.readouterr().err
    assert not (course / "submitted").exists() and not (course / "collect_log").exists()
    assert gradebook_students(course) == []


# -- student ids ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,problem", [
    ("ann", ""), ("zoë", ""), ("o.brien-2", ""), ("Ann Lee", ""), ("ann+1", ""),
    ("", "is empty"), ("a" * 101, "longer than 100"), ("a\tb", "a tab"),
    ("a\x1b[2K", "control character"), ("a\x00", "control character"),
    (" ann", "spaces around it"), ("ann ", "spaces around it"),
    ("a'b\"c", "a quote"), ("o'brien", "a quote"), ('a"b', "a quote"), ("a`b", "a quote"),
    ("a*", "glob"), ("a[1]", "glob"), ("a]", "glob"), ("a?", "glob"),
    ("-rf", "starts with '-'"), (".hidden", "starts with '-' or '.'"), ("..", "starts with"),
    ("a/b", "path separator"), ("a\\b", "path separator"),
    ("an\u200bn", "invisible"), ("an\u00adn", "invisible"), ("a\u202eb", "invisible"),
    ("a\u2028b", "line separator"), ("a\u00a0b", "space other than"), ("a\ue000", "private"),
])
def test_student_id_rules(name, problem):
    found = collecting.student_id_problem(name)
    assert (problem in found and found) if problem else found == ""
    assert collecting.safe_student_id(name) == (not problem)


def test_student_ids_are_kept_in_nfc():
    assert collecting.student_id("zoe\u0308") == "zo\u00eb"
    assert not collecting.safe_student_id("zoe\u0308")    # valid, but not as it stands
    with pytest.raises(ValueError, match="a tab"):
        collecting.student_id("a\tb")


@pytest.mark.parametrize("name", ["a'b\"c", " ann", "a\tb", "-x", "a*", "a[1]", ".x"])
def test_a_folder_with_a_bad_id_is_refused_and_gets_no_row(course, tmp_path, name):
    lms = tmp_path / "lms"
    for student in ("ok", name):
        (lms / student).mkdir(parents=True)
        (lms / student / f"{ASSIGNMENT}.ipynb").write_bytes(NOTEBOOK)
    result = glue.collect(course, ASSIGNMENT, lms)
    assert result["collected"] == ["ok"]
    if name.startswith("."):
        return                      # a hidden folder is not a hand-in at all
    [refusal] = result["refused"]
    assert refusal["student"] == "" and "student id" in refusal["reason"]
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["ok"]


@pytest.mark.parametrize("first,second", [
    ("ann", "Ann"), ("ann", "an\u200bn"), ("zo\u00eb", "zoe\u0308"), ("ann", "\uff41nn"),
])
def test_ids_that_look_alike_are_both_refused_as_a_clash(course, tmp_path, first, second):
    lms = tmp_path / "lms"
    for student in (first, second, "bo"):
        (lms / student).mkdir(parents=True)
        (lms / student / f"{ASSIGNMENT}.ipynb").write_bytes(NOTEBOOK)
    result = glue.collect(course, ASSIGNMENT, lms)
    assert result["collected"] == ["bo"]
    assert len(result["refused"]) == 2
    assert all(r["reason"].startswith("clash: ") for r in result["refused"])
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["bo"]
    assert gradebook_students(course) == []          # neither id is trusted with a row


def test_an_id_that_mirrors_one_already_submitted_is_refused(course, tmp_path):
    lms = tmp_path / "lms"
    (lms / "Ann").mkdir(parents=True)
    (lms / "Ann" / f"{ASSIGNMENT}.ipynb").write_bytes(NOTEBOOK)
    assert glue.collect(course, ASSIGNMENT, lms)["collected"] == ["Ann"]
    assert glue.collect(course, ASSIGNMENT, lms)["collected"] == ["Ann"]   # again: fine
    shutil.move(lms / "Ann", lms / "ann")
    result = glue.collect(course, ASSIGNMENT, lms)
    assert result["collected"] == [] and "submitted/Ann" in result["refused"][0]["reason"]
    assert taken(course, "Ann") == NOTEBOOK


# -- end to end: collect, grade, export ----------------------------------------------------

def test_times_from_each_lms_reach_the_gradebook_and_refusals_the_export(tmp_path,
                                                                        tmp_path_factory):
    import csv
    from datetime import datetime

    from lr_course.grading.batch import grade_assignment
    from lr_course.grading.inprocess import InProcess

    from .course_fixture import course_copy, solution_notebook
    course = course_copy(tmp_path_factory, tmp_path / "course")
    answer = json.dumps(solution_notebook(course, ASSIGNMENT)).encode()
    b = "PS2_alee_attempt_2026-01-12-10-15-30"
    sources = {
        "canvas": [("leeann_late_4211_90001_ps2_adaptive-1.ipynb", answer, JAN10),
                   ("diazcy_4213_90003_Untitled.ipynb", answer, JAN10),
                   ("diazcy_4213_90003_draft.ipynb", answer, JAN10)],
        "moodle": [("Bo Chen_102_assignsubmission_file_/ps2_adaptive.ipynb", answer, JAN11)],
        "blackboard": [(f"{b}_ps2_adaptive.ipynb", answer, JAN10),
                       (f"{b}.txt", receipt("Ann Lee", "alee", "2026-01-12 10:15:30 UTC",
                                            [("ps2_adaptive.ipynb",
                                              f"{b}_ps2_adaptive.ipynb")]), JAN10)],
    }
    for layout, members in sources.items():
        result = glue.collect(course, ASSIGNMENT, make_zip(tmp_path / f"{layout}.zip", members))
        assert result["layout"] == layout
    report = grade_assignment(course, ASSIGNMENT, workers=1, progress=False,
                              sandbox=InProcess())
    assert sorted(report.results) == ["102", "4211", "alee"]
    with glue.gradebook(course) as gb:
        times = {s: gb.find_submission(ASSIGNMENT, s).timestamp for s in report.results}
        scores = {s: gb.find_submission(ASSIGNMENT, s).score for s in report.results}
    assert times == {"4211": datetime(*JAN10), "102": datetime(*JAN11),
                     "alee": datetime(2026, 1, 12, 10, 15, 30)}
    assert all(score > 0 for score in scores.values())
    with open(glue.export(course, tmp_path / "grades.csv"), newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert float(rows["4213"]["score"]) == 0.0 and rows["4213"]["timestamp"] == ""
    assert rows["4211"]["timestamp"].startswith("2026-01-10 09:00:00")


def test_exchange_ids_that_look_alike_are_both_refused(course, tmp_path, monkeypatch):
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    monkeypatch.setattr(glue, "exchange_inbound", lambda c: inbound)
    for student in ("ann", "Ann", "bo"):
        folder = inbound / f"{student}+{ASSIGNMENT}+2026-01-10 09:00:00.000000 UTC+x"
        folder.mkdir()
        (folder / f"{ASSIGNMENT}.ipynb").write_bytes(NOTEBOOK)
    result = glue.collect(course, ASSIGNMENT)
    assert result["collected"] == ["bo"]
    assert stamp(course, "bo") == "2026-01-10 09:00:00.000000 UTC"
    assert sorted(r["student"] for r in result["refused"]) == ["Ann", "ann"]
    assert all(r["reason"].startswith("clash") for r in result["refused"])
