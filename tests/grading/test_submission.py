"""Which assignment a notebook is (the rest of submission.py is tested through the engine)."""

import pytest

from lr_course.grading import spec
from lr_course.grading.submission import GradingError, SubmissionError, identify


def nb_with(*grade_ids):
    return {"cells": [{"cell_type": "code", "source": "",
                       "metadata": {"nbgrader": {"grade_id": g}}} for g in grade_ids]}


def test_the_assignment_sharing_most_test_ids_wins():
    ps1 = [t.grade_id for t in spec.ASSIGNMENTS["ps1_schedules"]]
    ps3 = [t.grade_id for t in spec.ASSIGNMENTS["ps3_tuning"]]
    assert identify(nb_with(*ps1[:3], ps3[0])) == "ps1_schedules"
    assert identify(nb_with(ps1[0], *ps3[:3]), "ps1_schedules.ipynb") == "ps3_tuning"


def test_a_notebook_without_test_cells_is_known_by_its_file_name():
    assert identify(nb_with("my_own_cell"), "/home/me/ps2_adaptive (1).ipynb") == "ps2_adaptive"


def test_no_assignment_is_a_submission_error_the_command_reports():
    with pytest.raises(SubmissionError, match="x.ipynb is not a notebook of any graded assignment"):
        identify(nb_with("my_own_cell"), "x.ipynb")
    assert issubclass(SubmissionError, GradingError) and issubclass(SubmissionError, ValueError)
