"""The in-notebook check(): a report on stdout, AssertionError on failure, nothing on stderr."""

import numpy as np
import pytest

from lr_course.grading import check
from lr_course.grading.reference import ps1


def test_passing_check_prints_a_report(capsys):
    outcome = check("ps1.step_decay.values", ps1.step_decay)
    out, err = capsys.readouterr()
    assert outcome.passed and out.startswith("[PASS] step_decay") and err == ""


def test_failing_check_raises_with_a_hint_and_no_expected_value(capsys):
    def step_decay(lr0, step, drop_every, factor=0.5):
        return lr0 * factor ** (step / drop_every)

    with pytest.raises(AssertionError, match="ps1.step_decay.values"):
        check("ps1.step_decay.values", step_decay, seed=0)
    out, err = capsys.readouterr()
    assert "[FAIL]" in out and "hint: " in out and err == ""


def test_warnings_are_noted_not_failed(capsys):
    def linear_warmup(lr_peak, step, warmup_steps):
        np.float64(1e300) * np.float64(1e300)  # an overflow the student did not mean
        return ps1.linear_warmup(lr_peak, step, warmup_steps)

    check("ps1.linear_warmup.values", linear_warmup)
    out, err = capsys.readouterr()
    assert "[PASS]" in out and "overflow" in out and err == ""


def test_functions_default_to_the_callers_globals(capsys):
    globals()["step_decay"] = ps1.step_decay
    try:
        assert check("ps1.step_decay.array").passed
    finally:
        del globals()["step_decay"]


def test_unknown_check_and_too_many_functions():
    with pytest.raises(KeyError, match="no check named"):
        check("ps1.nope")
    with pytest.raises(TypeError, match="takes 1 function"):
        check("ps1.step_decay.values", ps1.step_decay, ps1.step_decay)
