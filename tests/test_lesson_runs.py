"""The predict-run-check exercises: the learner's prediction and reading against their own run.

Each exercise is answered here the way the lesson asks (the experiment run with the package,
the prediction from the lesson's formula), and then spoiled one way at a time: a prediction
that is off, a reading that is not the run's, a run that is not the experiment asked for.
"""

import math

import numpy as np
import pytest

from lr_course import optimizers, problems, schedules, search, training
from lr_course.lessons import check_answer


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LR_COURSE_PROGRESS", str(tmp_path / "progress.json"))


def _00():
    run = training.train(problems.Quadratic.one_d(curvature=2.0, x0=3.0), optimizers.sgd(lr=0.1), num_steps=10)
    wrong = training.train(problems.Quadratic.one_d(curvature=2.0, x0=3.0), optimizers.sgd(lr=0.2), num_steps=10)
    return 3 * 0.8**10, float(run.final_params[0]), run, wrong


def _01():
    def go(lr, x0=1.0):
        return training.train(problems.Quadratic.one_d(curvature=4.0, x0=x0), optimizers.sgd(lr=lr),
                              num_steps=20, record_params=True)
    run = go(0.4)
    return 0.6, float(abs(run.params[-1, 0] / run.params[-2, 0])), run, go(0.2)  # 0.2: monotone


def _02():
    def go(x0):
        return training.train(problems.Quadratic([1.0, 100.0], x0=x0), optimizers.adam(lr=0.03),
                              num_steps=1, record_params=True)
    run = go([1.0, 1.0])
    return 0.03, float(abs(run.params[1, 1] - run.params[0, 1])), run, go([2.0, 1.0])


def _03():
    batch = 16
    mean_loss, _ = training.noisy_sgd_runs(np.full(600, 0.1), 1.0, 2 / np.sqrt(batch), 1.0, 2000,
                                           np.random.default_rng(0))
    predicted = 0.5 * 0.1 * (4 / batch) / (2 - 0.1)   # (lambda / 2) * lr sigma^2 / (lambda (2 - lr lambda))
    wrong, _ = training.noisy_sgd_runs(np.full(600, 0.1), 1.0, 0.5, 2.0, 2000, np.random.default_rng(0))
    return predicted, float(mean_loss[200:].mean()), mean_loss, wrong


def _04():
    lrs = schedules.step_decay(0.4, drop_every=300, factor=0.1)(np.arange(600))
    mean_loss, _ = training.noisy_sgd_runs(lrs, 1.0, 1.0, 1.0, 2000, np.random.default_rng(0))
    wrong, _ = training.noisy_sgd_runs(np.full(600, 0.04), 1.0, 1.0, 1.0, 2000, np.random.default_rng(0))
    return 0.5 * 0.04 / (2 - 0.04), float(mean_loss[-200:].mean()), mean_loss, wrong


def _05():
    draws = search.log_uniform(1e-4, 1.0, (2000, 20), np.random.default_rng(0))
    hits = float(np.mean(np.any(np.abs(np.log10(draws) + 2) < 0.1, axis=1)))
    wrong = np.random.default_rng(0).uniform(1e-4, 1.0, (2000, 20))   # uniform, not log-uniform
    return 1 - 0.95**20, hits, draws, wrong


def _06():
    def go(lr, x0=1.0):
        return training.train(problems.Quadratic.one_d(curvature=1.0, x0=x0), optimizers.sgd(lr=lr), num_steps=3000)
    run = go(0.01)
    predicted = math.ceil(math.log(2e-8) / (2 * math.log(1 - 0.01)))   # 0.5 (1 - lr)^(2t) < 1e-8
    return predicted, int(np.argmax(run.loss < 1e-8)), run, go(0.01, x0=3.0)


CASES = {"00": _00, "01": _01, "02": _02, "03": _03, "04": _04, "05": _05, "06": _06}


@pytest.mark.parametrize("lesson", sorted(CASES))
def test_prediction_reading_and_run_that_agree_pass(lesson):
    prediction, reading, run, _ = CASES[lesson]()
    feedback = check_answer(f"{lesson}.predict_run", {"prediction": prediction, "reading": reading, "run": run})
    assert feedback.passed, str(feedback)


@pytest.mark.parametrize("lesson", sorted(CASES))
def test_each_spoiled_part_fails_with_a_hint(lesson):
    prediction, reading, run, wrong_run = CASES[lesson]()
    exercise = f"{lesson}.predict_run"
    spoiled = {
        "prediction": {"prediction": prediction * 1.3, "reading": reading, "run": run},
        "reading": {"prediction": prediction, "reading": reading * 1.01 + 1, "run": run},
        "run": {"prediction": prediction, "reading": reading, "run": wrong_run},
        "shape": {"prediction": prediction, "reading": reading, "run": [1.0, 2.0]},
    }
    for part, answer in spoiled.items():
        feedback = check_answer(exercise, answer, record=False)
        assert feedback.status == "failed" and feedback.hint, (part, str(feedback))


def test_the_template_and_a_half_filled_answer_are_unanswered():
    template = {"prediction": ..., "reading": ..., "run": ...}
    assert check_answer("00.predict_run", template, record=False).status == "unanswered"
    half = {"prediction": 0.3, "reading": ..., "run": ...}
    assert check_answer("00.predict_run", half, record=False).status == "unanswered"
    assert "dict" in check_answer("00.predict_run", 0.3, record=False).wrong[0]


# What each lesson says about a run that is not its experiment, and about an answer that is not
# a run at all: the shared readers (feedback.as_constant_lr_run, feedback.as_array) carry each
# lesson's own words.
NOT_THE_EXPERIMENT = {
    "00": "your run is not the experiment of the exercise (lr 0.1, curvature 2, w0 = 3)",
    "01": "lr = 0.2 is not in the oscillating range of this parabola",
    "02": "your run is not the experiment of the exercise (curvatures 1 and 100, start (1, 1))",
    "03": "your run did not start at x0 = 1 with curvature 1 (its first mean loss is not 0.5)",
    "04": "the first 300 steps of your run do not settle where lr 0.4 would",
    "05": "your draws are not log-uniform on [1e-4, 1)",
    "06": "your run is not the experiment of the exercise (constant lr, curvature 1, w0 = 1)",
}
NOT_A_RUN = {
    "00": "the run should be the History that training.train returned",
    "03": "the run should be the mean_loss array of 600 steps that noisy_sgd_runs returned",
    "04": "the run should be the mean_loss array (600 steps, from x0 = 1) that noisy_sgd_runs returned",
    "05": "the run should be the (2000, 20) array of draws from search.log_uniform",
}


@pytest.mark.parametrize("lesson", sorted(CASES))
def test_a_run_that_is_not_the_experiment_is_named_in_the_lesson_s_words(lesson):
    prediction, reading, _, wrong_run = CASES[lesson]()
    for run, expected in ((wrong_run, NOT_THE_EXPERIMENT[lesson]), ("a string", NOT_A_RUN.get(lesson))):
        feedback = check_answer(f"{lesson}.predict_run", {"prediction": prediction, "reading": reading,
                                                          "run": run}, record=False)
        assert feedback.status == "failed" and feedback.hint
        if expected is not None:
            assert feedback.wrong == (expected,), str(feedback)


def test_a_constant_lr_run_from_the_wrong_start_or_at_a_changing_lr_is_not_the_experiment():
    from lr_course.lessons.feedback import Verdict, as_constant_lr_run

    quadratic = problems.Quadratic.one_d(curvature=4.0, x0=1.0)
    run = training.train(quadratic, optimizers.sgd(lr=0.4), num_steps=20, record_params=True)
    decayed = training.train(quadratic, optimizers.sgd(lr=schedules.step_decay(0.4, drop_every=10)),
                             num_steps=20, record_params=True)
    say = dict(experiment="constant lr, curvature 4, w0 = 1", hint="Use the exercise's call.")
    assert as_constant_lr_run(run, Verdict(), 20, loss0=2.0, params=True, **say) is run
    for verdict_run, kwargs in ((decayed, {}), (run, {"lr": 0.3}), (run, {"loss0": 4.5})):
        verdict = Verdict()
        args = {"loss0": 2.0, **kwargs}
        assert as_constant_lr_run(verdict_run, verdict, 20, params=True, **args, **say) is None
        assert verdict.wrong == ["your run is not the experiment of the exercise (constant lr, curvature 4, w0 = 1)"]
