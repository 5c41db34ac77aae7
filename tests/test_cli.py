"""`lr-course lab`: opens the lessons, or says clearly why it cannot."""

import subprocess

from lr_course import cli


def test_lab_opens_jupyterlab_on_the_lessons(monkeypatch):
    seen = []
    monkeypatch.setattr(subprocess, "call", lambda command: seen.append(command) or 0)
    assert cli.main(["lab"]) == 0
    (command,) = seen
    assert command[1:4] == ["-m", "jupyter", "lab"]
    assert command[4].startswith("--notebook-dir=") and command[4].endswith("notebooks")


def test_lab_on_a_missing_folder_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(subprocess, "call", lambda command: 1 / 0)   # must not be reached
    assert cli.main(["lab", str(tmp_path / "nowhere")]) == cli.EXIT_USAGE
    assert "no lessons folder" in capsys.readouterr().err
