"""`lr-course lab`: opens the lessons, or says clearly why it cannot."""

import subprocess
from pathlib import Path

from lr_course import cli


def test_lab_opens_jupyterlab_on_the_lessons(monkeypatch):
    seen = []
    monkeypatch.setattr(subprocess, "call", lambda command, cwd: seen.append((command, cwd)) or 0)
    assert cli.main(["lab"]) == 0
    ((command, cwd),) = seen
    assert command[1:4] == ["-m", "jupyter", "lab"]
    assert command[4].startswith("--notebook-dir=") and command[4].endswith("notebooks")
    assert cwd.name == "notebooks"


def test_lab_on_a_course_starts_where_nbgrader_finds_its_config(monkeypatch):
    """Formgrader reads nbgrader_config.py from the server's working folder."""
    seen = []
    monkeypatch.setattr(subprocess, "call", lambda command, cwd: seen.append((command, cwd)) or 0)
    course = Path(__file__).resolve().parents[1] / "autograder"
    assert cli.main(["lab", str(course)]) == 0
    ((command, cwd),) = seen
    assert Path(cwd).resolve() == course and (Path(cwd) / "nbgrader_config.py").is_file()
    assert command[4] == f"--notebook-dir={course}"


def test_lab_on_a_missing_folder_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(subprocess, "call", lambda command, cwd: 1 / 0)   # must not be reached
    assert cli.main(["lab", str(tmp_path / "nowhere")]) == cli.EXIT_USAGE
    assert "no lessons folder" in capsys.readouterr().err
