"""Fixtures shared by the grading tests."""

import pytest


@pytest.fixture(scope="session")
def empty_gradebook(tmp_path_factory):
    """An empty nbgrader gradebook of the course, made once: nbgrader takes seconds per new one
    (it runs alembic); a test copies it into its course."""
    from nbgrader.api import Gradebook

    from lr_course.grading.nbgrader_glue import _with_tools_on_path
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    _with_tools_on_path()
    with Gradebook(f"sqlite:///{path}", "lr-course"):
        pass
    return path
