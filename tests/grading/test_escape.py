"""The instructor's terminal, spreadsheet and browser against a student's text.

Student ids, flag messages, cell errors, numpy warnings and written answers carry control
characters, ANSI escapes, carriage returns, bidirectional overrides, formulas and HTML.
Each test puts them through the place the instructor sees them and asserts they arrive
as inert text: no escape byte on the terminal, one line per record, no formula, no tag.
"""

import csv
import io
import json
import sys
import unicodedata

import pytest

from lr_course.grading import escape
from lr_course.grading.batch import BatchReport
from lr_course.grading.engine import CheckResult, SubmissionResult, TestResult
from lr_course.grading.feedback import format_report
from lr_course.grading.flags import Flag
from lr_course.grading.report import write_report
from lr_course.grading.sanitize import sanitize_notebook

FORGE = "ok\x1b[1A\x1b[2K\r  FLAGGED bob: forged\n\u202eevil\x9b31m\x07\x00\u2028x"
BAD_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def inert(text: str) -> bool:
    """No control character but the newlines we put there, no bidi control, no separator."""
    return not any((unicodedata.category(ch) == "Cc" and ch != "\n") or ch in BAD_BIDI
                   or ch in "\u2028\u2029" for ch in text)


def test_terminal_escapes_every_control_and_bidi_character():
    every = "".join(chr(c) for c in range(0x3000)) + BAD_BIDI + "\ufeff\u2060"
    out = escape.terminal(every)
    assert inert(out) and "\n" not in out
    assert escape.terminal("Zoë 学生 - ok") == "Zoë 学生 - ok"   # text stays text
    assert escape.terminal("x" * 50, limit=10) == "xxxxxxx..."


@pytest.mark.parametrize("value", ["=1+1", "+1+1", "-1+A1", "@SUM(A1)", "\t=1", "\r=1",
                                   "＝1", "=HYPERLINK(\"http://x\")", "-cmd|' /C calc'!A0"])
def test_csv_cells_are_never_formulas(value):
    cell = escape.csv_cell(value)
    assert inert(cell)
    assert cell.startswith("'") or cell[0] not in "=+-@\t\r\uff1d\uff0b\uff0d\uff20"


@pytest.mark.parametrize("value,expected", [("-0.5", "-0.5"), ("+3", "+3"), (2.5, "2.5"),
                                            (3, "3"), ("1e-3", "1e-3"), ("ann", "ann"),
                                            (None, "")])
def test_csv_numbers_and_names_stay_as_they_are(value, expected):
    assert escape.csv_cell(value) == expected


def test_csv_round_trip_keeps_one_row_per_record():
    rows = [["student", "score"], [FORGE, "1"], ['a,"b"', "=2"]]
    buf = io.StringIO()
    csv.writer(buf).writerows([[escape.csv_cell(c) for c in row] for row in rows])
    back = list(csv.reader(io.StringIO(buf.getvalue())))
    assert len(back) == 3 and back[2] == ['a,"b"', "'=2"]
    assert inert(back[1][0]) and buf.getvalue().count("\n") == 3


def test_html_and_markdown_text_are_inert():
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)"> [x](javascript:1) # h'
    html_out = escape.html_text(payload)
    assert "<" not in html_out and '"' not in html_out
    md = escape.markdown_text(payload)
    assert "<" not in md and "](" not in md and "\\#" in md


def flagged_result():
    check = CheckResult("c", "adam_update's step", False, "wrong " + FORGE, "hint " + FORGE,
                        warnings=["overflow " + FORGE])
    return SubmissionResult(
        "mal" + FORGE, "ps2_adaptive", "graded", score=0.0, max_score=2.0,
        tests=[TestResult("test_adam", 2.0, 0.0, False, False, [check])],
        notes=["note " + FORGE], cell_errors=["cell 3: ValueError: " + FORGE],
        flags=[Flag("numpy-patch", "patched " + FORGE, cell=1, line=2)],
        sandbox={"reason": "ok", "isolated": True})


def test_check_report_on_the_terminal_is_inert():
    text = format_report(flagged_result(), "my\x1b[2K.ipynb")
    assert inert(text)
    assert not any(line.lstrip().startswith("FLAGGED bob") for line in text.splitlines())


def test_batch_summary_cannot_forge_a_flagged_line():
    report = BatchReport("ps2_adaptive", True, graded=["mal" + FORGE, "bob"],
                         invalid=["eve\r\x1b[2K"], missing=["x\x1b]0;title\x07"],
                         flagged={"mal" + FORGE: ["patched numpy " + FORGE] * 2})
    report.results["eve\r\x1b[2K"] = SubmissionResult("eve", "ps2_adaptive", "invalid",
                                                       reason="broken " + FORGE)
    text = report.summary()
    assert inert(text)
    flagged = [line for line in text.splitlines() if line.lstrip().startswith("FLAGGED")]
    assert len(flagged) == 1 and flagged[0].lstrip().startswith("FLAGGED mal")


def test_report_page_escapes_students_and_refusals(tmp_path):
    from lr_course.grading.collect import Refusal
    evil = '<img src=x onerror=alert(1)>' + FORGE
    scores = {evil: {"test_x": (1.0, 2.0)}, "ann": {"test_x": (2.0, 2.0)}}
    png, page = write_report(tmp_path, "ps1_schedules", scores,
                             refusals=[Refusal(evil, "mal/<b>x</b>.ipynb", "link " + evil)])
    text = page.read_text()
    assert "<img src=x" not in text and "<b>x" not in text and "Refused at collect" in text
    assert inert(text.replace("\n", ""))


@pytest.mark.filterwarnings("ignore:.*not in session")   # nbgrader's own, with SQLAlchemy 2
def test_export_csv_has_no_formula_and_one_row_per_student(tmp_path, monkeypatch):
    import os

    from nbgrader.api import Gradebook
    # nbgrader runs alembic, beside this interpreter, to make the gradebook
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])

    from lr_course.grading import nbgrader_glue as glue
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        gb.add_assignment("ps1_schedules")
        gb.add_student("=HYPERLINK(\"http://x\")", first_name="+1+1", last_name="@SUM(A1)",
                       email="-2+3\r\n=evil")
        gb.add_student("ann", first_name="Ann", last_name="Lee")
        gb.add_submission("ps1_schedules", "ann")
    path = glue.export(course)
    rows = list(csv.reader(open(path, newline="", encoding="utf-8")))
    header, body = rows[0], rows[1:]
    assert len(body) == 2
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")) or \
                escape._NUMBER.fullmatch(cell), cell
            assert inert(cell)
    assert any(cell == "'=HYPERLINK(\"http://x\")" for row in body for cell in row)


def test_the_notebook_formgrader_shows_runs_nothing_the_student_wrote():
    nb = {"nbformat": 4, "nbformat_minor": 5,
          "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {}}},
          "cells": [
              {"cell_type": "markdown", "id": "a", "metadata": {},
               "source": "My answer <script>alert('pwned1')</script>\n"
                         "<img src=x onerror=alert('pwned2')>\n[click](javascript:alert(3))\n"
                         "![i](data:text/html;base64,PHNjcmlwdD4=)",
               "attachments": {"x.svg": {"image/svg+xml": "<svg onload=alert(4)>"},
                               "y.png": {"image/png": "iVBORw0KGgo="}}},
              {"cell_type": "raw", "id": "b", "metadata": {"format": "text/html"},
               "source": "<script>alert('pwned5')</script>"},
              {"cell_type": "code", "id": "c", "metadata": {}, "execution_count": 1,
               "source": "x = 1",
               "outputs": [{"output_type": "display_data", "metadata": {},
                            "data": {"text/html": "<script>alert('pwned6')</script>",
                                     "application/javascript": "alert('pwned7')",
                                     "text/markdown": "<b>x</b>",
                                     "image/svg+xml": "<svg onload=alert(8)>",
                                     "text/plain": "1"}},
                           {"output_type": "execute_result", "metadata": {},
                            "execution_count": 1, "data": {"text/html": "<b>only</b>"}},
                           {"output_type": "stream", "name": "stdout",
                            "text": "<script>alert('pwned9')</script>"}]}]}
    clean = sanitize_notebook(json.loads(json.dumps(nb)))
    text = json.dumps(clean["cells"][:2]) + json.dumps(clean["cells"][2]["outputs"][:-1]) + \
        json.dumps(clean["metadata"])
    for payload in ("<script", "<img", "javascript:", "data:text", "svg", "widget-state"):
        assert payload not in text, payload
    outputs = json.dumps(clean["cells"][2]["outputs"])
    assert "text/html" not in outputs and "javascript" not in outputs
    assert "alert('pwned9')" in json.dumps(clean)   # a printed stream is kept, as text
    assert clean["cells"][1]["cell_type"] == "markdown"
    assert list(clean["cells"][0]["attachments"]) == ["y.png"]
    # rendered as formgrader renders it (nbconvert's HTML exporter): the payloads are text
    nbformat = pytest.importorskip("nbformat")
    nbconvert = pytest.importorskip("nbconvert")
    body, _ = nbconvert.HTMLExporter().from_notebook_node(nbformat.from_dict(clean))
    for payload in ("<script>alert", "<img src=x", 'href="javascript:',
                    "<svg onload"):
        assert payload not in body, payload
    assert "pwned1" in body   # still shown to the instructor, as text


def test_cli_prints_collect_refusals_inert(tmp_path, capsys, empty_gradebook):
    from lr_course import cli
    from .course_fixture import AUTOGRADER
    import shutil
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(AUTOGRADER / "nbgrader_config.py", course)
    shutil.copytree(AUTOGRADER / "source", course / "source")
    shutil.copy(empty_gradebook, course / "gradebook.db")   # refused students get a row
    lms = tmp_path / "lms"
    (lms / ("x\x1b[2K\rFLAGGED bob")).mkdir(parents=True)
    (lms / "mal").mkdir()
    (lms / "mal" / ("a\x1b[31m\r.ipynb")).write_text("{")
    code = cli.main(["collect", "ps1_schedules", str(lms), "--course", str(course)])
    out, err = capsys.readouterr()
    assert code == 1 and inert(out) and inert(err)   # refusals: exit 1
    assert "refused" in err and "\x1b" not in err
    assert sys.platform != "win32"
