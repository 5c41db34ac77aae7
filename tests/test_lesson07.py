"""Lesson 07's exercises: right answers pass, slips fail with a hint, and no feedback gives away
the direction of a numeric error (so it cannot be bisected)."""

import math

import numpy as np
import pytest

from lr_course import optimizers, training
from lr_course.adam_variance import radam_rectification
from lr_course.catapult import UVModel
from lr_course.lessons import check_answer
from lr_course.sharpness import track_sharpness
from lr_course.width_mlp import WidthMLP

DIRECTION_WORDS = ("too large", "too small", "too big", "too high", "too low", "larger", "smaller")


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LR_COURSE_PROGRESS", str(tmp_path / "progress.json"))


@pytest.fixture(scope="module")
def eos_run():
    net = WidthMLP(width=32, parametrization="standard", loss="mse", num_train=200)
    run = track_sharpness(net, lr=0.5, num_steps=1200, every=50, num_iters=10)
    return run, float(np.median(run.sharpness_between(600, 1201)))


@pytest.fixture(scope="module")
def uv_runs():
    uv = UVModel(width=1000, target=0.0, rng=np.random.default_rng(0))
    lam0 = uv.ntk(uv.x0)
    runs = {k: training.train(uv, optimizers.sgd(lr=k / lam0), num_steps=300, record_params=True, blowup=1e12)
            for k in (1.0, 3.0, 5.0)}
    return uv, lam0, runs


def _no_direction(feedback):
    text = " ".join(feedback.wrong + ((feedback.hint,) if feedback.hint else ())).lower()
    assert not any(word in text for word in DIRECTION_WORDS), text


def test_edge_of_stability_right_and_wrong(eos_run):
    run, median = eos_run
    def answer(p, r, reading):
        return {"prediction": p, "run": r, "reading": reading}
    assert check_answer("07.edge_of_stability", answer(4.0, run, median)).passed
    for wrong in [answer(2.0, run, median), answer(6.0, run, median), answer(4.0, run, median * 1.1),
                  answer(4.0, run, median * 0.9)]:
        feedback = check_answer("07.edge_of_stability", wrong)
        assert feedback.status == "failed" and feedback.hint, wrong
        _no_direction(feedback)


def test_edge_of_stability_rejects_another_run(eos_run):
    run, median = eos_run
    net = WidthMLP(width=32, parametrization="standard", loss="mse", num_train=200)
    other = track_sharpness(net, lr=0.4, num_steps=1200, every=50, num_iters=10)
    def answer(r):
        return {"prediction": 4.0, "run": r, "reading": median}
    assert "lr" in check_answer("07.edge_of_stability", answer(other)).wrong[0]
    short = track_sharpness(net, lr=0.5, num_steps=100, every=50, num_iters=10)
    assert check_answer("07.edge_of_stability", answer(short)).status == "failed"
    # A run whose recorded sharpness was doctored no longer matches its own final parameters.
    import copy
    fake = copy.deepcopy(run)
    fake.sharpness = fake.sharpness * 1.5
    doctored = {"prediction": 6.0, "run": fake, "reading": float(np.median(fake.sharpness_between(600, 1201)))}
    assert check_answer("07.edge_of_stability", doctored).status == "failed"


def test_edge_of_stability_unanswered():
    template = {"prediction": ..., "reading": ..., "run": ...}
    assert check_answer("07.edge_of_stability", template).status == "unanswered"
    assert check_answer("07.edge_of_stability", ...).status == "unanswered"
    assert check_answer("07.first_step", template).status == "unanswered"


def test_first_step(uv_runs):
    uv, lam0, _ = uv_runs
    eta = 3 / lam0
    run = training.train(uv, optimizers.sgd(lr=eta), num_steps=1)
    f0, n = uv.output(uv.x0), uv.width
    predicted = f0 * (1 - eta * lam0 + eta**2 * f0**2 / n)      # the formula of section 2, by hand
    reading = uv.output(run.final_params)
    assert check_answer("07.first_step", {"prediction": predicted, "reading": reading, "run": run}).passed
    for wrong in [{"prediction": f0 * (1 - eta * lam0), "reading": reading, "run": run},   # linearized
                  {"prediction": predicted, "reading": f0, "run": run},
                  {"prediction": predicted, "reading": reading,
                   "run": training.train(uv, optimizers.sgd(lr=2 / lam0), num_steps=1)},
                  {"prediction": predicted, "reading": reading,
                   "run": training.train(uv, optimizers.sgd(lr=3 / lam0), num_steps=2)}]:
        feedback = check_answer("07.first_step", wrong)
        assert feedback.status == "failed" and feedback.hint
        _no_direction(feedback)


def test_catapult_right_and_wrong(uv_runs):
    uv, lam0, runs = uv_runs
    good = runs[3.0]
    assert check_answer("07.catapult", (3.0 / lam0, good, uv.ntk(good.final_params))).passed
    lazy, diverged = runs[1.0], runs[5.0]
    for answer in [(1.0 / lam0, lazy, uv.ntk(lazy.final_params)),
                   (5.0 / lam0, diverged, 1.0),
                   (3.0 / lam0, good, 1.1 * uv.ntk(good.final_params)),
                   (2.0 / lam0, good, uv.ntk(good.final_params))]:     # not the lr the run used
        feedback = check_answer("07.catapult", answer)
        assert feedback.status == "failed" and feedback.hint, answer
        _no_direction(feedback)


def test_catapult_rejects_a_run_on_another_model(uv_runs):
    _, lam0, _ = uv_runs
    other = UVModel(width=1000, target=0.0, rng=np.random.default_rng(1))
    run = training.train(other, optimizers.sgd(lr=3.0 / other.ntk(other.x0)), num_steps=300, blowup=1e12)
    feedback = check_answer("07.catapult", (3.0 / other.ntk(other.x0), run, other.ntk(run.final_params)))
    assert feedback.status == "failed" and "model" in feedback.wrong[0]


def test_linear_scaling():
    assert check_answer("07.linear_scaling", 3.2).passed
    for wrong in (0.1 * math.sqrt(32), 0.1 / 32, 819.2, 3.0, 4.0):
        feedback = check_answer("07.linear_scaling", wrong)
        assert feedback.status == "failed" and feedback.hint, wrong
        _no_direction(feedback)


def test_rectification():
    assert check_answer("07.rectification", lambda t, b: radam_rectification(t, b)).passed

    def no_cut_off(t, beta2):
        rho_inf = 2 / (1 - beta2) - 1
        rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        return math.sqrt(abs((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)))

    feedback = check_answer("07.rectification", no_cut_off)
    assert feedback.status == "failed" and "return 0" in feedback.hint
    assert check_answer("07.rectification", lambda t, b: 1.0).status == "failed"
    assert check_answer("07.rectification", lambda t, b: None).status == "unanswered"


def test_every_exercise_appears_in_the_notebook_as_a_template():
    import re
    from pathlib import Path

    import nbformat

    from lr_course.lessons import lesson07

    path = Path(__file__).resolve().parents[1] / "notebooks" / "07_frontier.ipynb"
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    used = set(re.findall(r'check_answer\("(07\.[a-z_]+)"', source))
    assert used == set(lesson07.EXERCISES.exercises)
    exercise_cells = source[source.index("run = ..."):]
    for name in ("run", "my_lr", "final_ntk", "answer"):
        assert re.search(rf"^{name} = \.\.\.", exercise_cells, re.M), name
    assert exercise_cells.count('{"prediction": ..., "reading": ...') == 2
