"""nbgrader's exchange round trip around `lr-course collect` and `lr-course grade`.

A student fetches and submits with nbgrader's own commands; the instructor collects and
grades with lr-course, then releases feedback with nbgrader's ``release_feedback``; the
student's ``fetch_feedback`` must find it. nbgrader names released feedback after the
submission's secret and time stamp, so both must travel from the exchange through
``submitted/`` to ``feedback/``. One account plays both roles (the exchange accepts a
student's folder owned by that student), as on a laptop; the classroom test does it with real
accounts.
"""

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from lr_course.grading import nbgrader_glue as glue
from lr_course.grading.batch import grade_assignment
from lr_course.grading.inprocess import InProcess

from .course_fixture import course_copy, solution_notebook

pytestmark = pytest.mark.slow

ASSIGNMENT = "ps1_schedules"
NBGRADER = str(Path(sys.executable).with_name("nbgrader"))


def _student(cwd, *args, home):
    env = dict(os.environ, HOME=str(home),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    result = subprocess.run([NBGRADER, *args, "--log-level=ERROR"], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_feedback_reaches_the_student_after_lr_course_grade(tmp_path_factory, tmp_path):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o777)
    course = course_copy(tmp_path_factory, tmp_path / "course", (ASSIGNMENT,))
    shared = f"c.Exchange.root = {str(exchange)!r}\n"
    with open(course / "nbgrader_config.py", "a") as fh:
        fh.write("\n" + shared)
    home = tmp_path / "student"
    home.mkdir()
    (home / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'lr-course'\n{shared}")
    me = pwd.getpwuid(os.geteuid()).pw_name

    glue._ok(glue.api(course).release_assignment(ASSIGNMENT), "release_assignment")
    _student(home, "fetch_assignment", ASSIGNMENT, home=home)
    mine = home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    mine.write_text(json.dumps(solution_notebook(course, ASSIGNMENT)))
    _student(home, "submit", ASSIGNMENT, home=home)

    collected = glue.collect(course, ASSIGNMENT)
    assert collected["collected"] == [me], collected
    inbound = next((exchange / "lr-course" / "inbound").iterdir())
    kept = course / "submitted" / me / ASSIGNMENT / "submission_secret.txt"
    assert kept.read_text() == (inbound / "submission_secret.txt").read_text()

    report = grade_assignment(course, ASSIGNMENT, sandbox=InProcess(), progress=False,
                              workers=1)
    assert report.results[me].score == report.results[me].max_score > 0
    glue.feedback(course, ASSIGNMENT)
    glue._ok(glue.api(course).release_feedback(ASSIGNMENT), "release_feedback")

    _student(home, "fetch_feedback", ASSIGNMENT, home=home)
    fetched = list((home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
    assert len(fetched) == 1, list((home / ASSIGNMENT).rglob("*"))
    assert "Score" in fetched[0].read_text() or "score" in fetched[0].read_text()
