"""Lesson 04-05 self-checks: right answers pass, typical slips fail with a hint, nothing leaks."""

import math

import numpy as np
import pytest

from lr_course import lessons
from lr_course.lessons import check_answer


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LR_COURSE_PROGRESS", str(tmp_path / "progress.json"))


def _simulate(q, n, repeats, rng):
    return float(np.mean((rng.random((repeats, n)) < q).any(axis=1)))


# Right answers worked by hand from the exercise statements in lessons 04 and 05.
RIGHT = {
    "04.staircase": 0.1 * 0.5**2,
    "04.cosine_hold": lambda lr0, step, total, lr_min: lr_min + (lr0 - lr_min) * (
        1 + np.cos(np.pi * np.minimum(step, total) / total)) / 2,
    "04.decayed_floor": (0.04 / (2 - 0.08)) / (0.4 / (2 - 0.8)),
    "05.trials_needed": 45,
    "05.range_test_rule": 0.08,
    "05.simulate_top": _simulate,
}

WRONG = {
    "04.staircase": [0.1 * 0.5**2.5, 0.1 * 0.5**3, 0.05],
    "04.cosine_hold": [
        lambda lr0, step, total, lr_min: lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * step / total)) / 2,
        lambda lr0, step, total, lr_min: lr0 * (1 + np.cos(np.pi * np.minimum(step, total) / total)) / 2,
        lambda lr0, step, total, lr_min: 0.1,
    ],
    "04.decayed_floor": [0.1, 10.0, 0.01],
    "05.trials_needed": [44, 18, 46, 3],
    "05.range_test_rule": [0.8, 0.25, 2.5],
    "05.simulate_top": [
        lambda q, n, repeats, rng: float(np.mean(rng.random(repeats) < q)),         # one trial
        lambda q, n, repeats, rng: _simulate(q, n, repeats, np.random.default_rng(0)),  # ignores rng
        lambda q, n, repeats, rng: 1 - q**n,
    ],
}


def test_every_exercise_of_lessons_04_05_is_covered_here():
    ids = {i for i in lessons.exercises() if i[:2] in {"04", "05"} and not i.endswith(".predict_run")}
    assert ids == set(RIGHT) == set(WRONG)


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_right_answer_passes(exercise_id):
    feedback = check_answer(exercise_id, RIGHT[exercise_id])
    assert feedback.status == "passed", str(feedback)
    assert feedback.right and not feedback.wrong


@pytest.mark.parametrize("exercise_id,index", [(k, i) for k, v in sorted(WRONG.items()) for i in range(len(v))])
def test_wrong_answer_fails_with_a_hint_and_no_answer(exercise_id, index):
    feedback = check_answer(exercise_id, WRONG[exercise_id][index])
    assert feedback.status == "failed", str(feedback)
    assert feedback.hint
    right = RIGHT[exercise_id]
    if not callable(right):
        text = str(feedback)
        for shown in {f"{right:.3g}", f"{right:.4g}", repr(right)}:
            assert shown not in text


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_template_counts_as_unanswered(exercise_id):
    assert check_answer(exercise_id, ..., record=False).status == "unanswered"
    if callable(RIGHT[exercise_id]):
        assert check_answer(exercise_id, lambda *args: None, record=False).status == "unanswered"


def test_typical_slips_get_their_specific_hint():
    assert "smooth" in check_answer("04.staircase", 0.1 * 0.5**2.5).hint
    assert "torch" in str(check_answer("04.cosine_hold", WRONG["04.cosine_hold"][0]))
    assert "Round up" in check_answer("05.trials_needed", 44).hint
    assert "edge of stability" in check_answer("05.range_test_rule", 0.8).hint
    assert "single trial" in check_answer("05.simulate_top", WRONG["05.simulate_top"][0]).hint


def test_the_trials_formula_behind_the_check():
    # independent: the smallest n with 1 - 0.95^n >= 0.9, by counting
    n = next(n for n in range(1, 200) if 1 - 0.95**n >= 0.9)
    assert n == RIGHT["05.trials_needed"] == math.ceil(math.log(0.1) / math.log(0.95))
