"""Which assignment a notebook is (the rest of submission.py is tested through the engine)."""

import pytest

from lr_course.grading.submission import GradingError, SubmissionError, identify

KNOWN = {"ps1_schedules": {"test_step_decay", "test_cosine_decay", "test_my_schedule"},
         "ps2_adaptive": {"test_adam"}, "ps3_tuning": {"test_lr_grid", "test_grid_search",
                                                       "test_random_search"}}


def nb_with(*grade_ids):
    return {"cells": [{"cell_type": "code", "source": "",
                       "metadata": {"nbgrader": {"grade_id": g}}} for g in grade_ids]}


def test_the_assignment_sharing_most_test_ids_wins():
    ps1, ps3 = sorted(KNOWN["ps1_schedules"]), sorted(KNOWN["ps3_tuning"])
    assert identify(nb_with(*ps1[:3], ps3[0]), None, KNOWN) == "ps1_schedules"
    assert identify(nb_with(ps1[0], *ps3[:3]), "ps1_schedules.ipynb", KNOWN) == "ps3_tuning"


def test_a_notebook_without_test_cells_is_known_by_its_file_name():
    assert identify(nb_with("my_own_cell"), "/home/me/ps2_adaptive (1).ipynb", KNOWN) == "ps2_adaptive"


def test_no_assignment_is_a_submission_error_the_command_reports():
    with pytest.raises(SubmissionError, match="x.ipynb is not a notebook of any graded assignment"):
        identify(nb_with("my_own_cell"), "x.ipynb", KNOWN)
    assert issubclass(SubmissionError, GradingError) and issubclass(SubmissionError, ValueError)
