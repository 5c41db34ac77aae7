"""tools/scan_mistakes.py (`make scan`) reports notebooks that are graded unreliably."""

import importlib.util
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("scan_mistakes", ROOT / "tools" / "scan_mistakes.py")
scan_mistakes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scan_mistakes)


def test_a_reliable_mistake_and_its_solution_pass_the_scan(capsys):
    assert scan_mistakes.main(["--mistake", "warmup_off_by_one", "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 notebooks x 2 seeds" in out
    assert "ps1_schedules: the solution" in out and "ps1_schedules: warmup_off_by_one" in out
    assert "0 of 2 notebooks graded unreliably" in out


def test_a_mistake_that_escapes_a_test_it_should_fail_is_reported(capsys, monkeypatch):
    real = scan_mistakes._catalogue()
    wrong = next(m for m in real.MISTAKES if m.name == "warmup_off_by_one")
    # claim that it also loses a test it has nothing to do with
    claimed = real.Mistake(wrong.assignment, wrong.name, wrong.cell, wrong.source,
                           wrong.loses + ("test_cosine_decay",), wrong.also)
    fake = types.SimpleNamespace(**{**vars(real), "MISTAKES": [claimed]})
    monkeypatch.setattr(scan_mistakes, "_catalogue", lambda: fake)
    assert scan_mistakes.main(["--mistake", "warmup_off_by_one", "--seeds", "2"]) == 1
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "warmup_off_by_one" in line)
    assert row.split()[2:4] == ["2", "0"]  # missed in both runs, no stray failure
    assert "seed 0: still passes test_cosine_decay" in row
    assert "1 of 2 notebooks graded unreliably" in out


def test_unknown_names_are_refused(capsys):
    with pytest.raises(SystemExit) as excinfo:
        scan_mistakes.main(["--mistake", "no_such_mistake"])
    assert excinfo.value.code == 2
    assert "no planted mistake named no_such_mistake" in capsys.readouterr().err
