"""Lesson 02's exercises: momentum's stability limit, Adam's first step, Adagrad's decay.

Each check recomputes the expected answer from the exercise's data with a closed form
written out here (independent of the teaching modules on purpose), so a bug in the
teaching code cannot make a wrong answer pass. Feedback names typical slips, never the
expected value.
"""

from __future__ import annotations

import numpy as np

from lr_course.lessons.exercise import ExerciseSet
from lr_course.lessons.feedback import as_history, Verdict, as_number, check_number, check_prediction

EXERCISES = ExerciseSet("02", "Adaptive methods")

@EXERCISES.add("momentum_threshold", "the stability limit of heavy-ball momentum")
def _momentum_threshold(answer, verdict: Verdict) -> None:
    L, beta = 4.0, 0.9
    value = as_number(answer, verdict)
    if value is None:
        return
    check_number(verdict, value, (2 + 2 * beta) / L, rtol=0.01, what="the limit", mistakes={
        2 / L: "That is plain gradient descent's limit; momentum moves it.",
        (1 + beta) / L: "Close: the numerator is 2 + 2*beta, not 1 + beta.",
        2 / (L * (1 - beta)): "That treats momentum as a bigger lr; the stability analysis gives a smaller limit.",
    })


_ADAM_G = np.array([3.0, -0.002, 50.0])
_ADAM_LR = 0.01


@EXERCISES.add("first_adam_step", "the first Adam step")
def _first_adam_step(answer, verdict: Verdict) -> None:
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    try:
        delta = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        verdict.bad("give the change of the parameters as an array", "e.g. np.array([a, b, c])")
        return
    if delta.shape != _ADAM_G.shape:
        verdict.bad(f"the change should have shape {_ADAM_G.shape}, got {delta.shape}",
                    "One entry per parameter: the new parameters minus the old ones.")
        return
    m = (1 - beta1) * _ADAM_G
    v = (1 - beta2) * _ADAM_G**2
    expected = -_ADAM_LR * (m / (1 - beta1)) / (np.sqrt(v / (1 - beta2)) + eps)
    uncorrected = -_ADAM_LR * m / (np.sqrt(v) + eps)
    if np.allclose(delta, expected, rtol=1e-3, atol=1e-12):
        verdict.ok("every entry of the first step is right, whatever the size of its gradient")
    elif np.allclose(delta, uncorrected, rtol=1e-3):
        verdict.bad("your step is about 3.16 times too large in every entry",
                    "Divide m by (1 - beta1**t) and v by (1 - beta2**t) with t = 1 before using them.")
    elif np.allclose(delta, -expected, rtol=1e-3):
        verdict.bad("the signs are reversed", "Adam moves against the gradient: the change is minus the step.")
    else:
        verdict.expect(np.all(np.sign(delta) == -np.sign(_ADAM_G)), "every entry moves against its gradient",
                       "some entries move along their gradient", "The change is -lr * m_hat / (sqrt(v_hat) + eps).")
        verdict.bad("the sizes of the entries are off",
                    "After one step m_hat = g and v_hat = g**2: what is g / sqrt(g**2)?")


@EXERCISES.add("adagrad_step", "Adagrad's shrinking steps")
def _adagrad_step(answer, verdict: Verdict) -> None:
    lr, g, k = 0.1, 2.0, 4  # the same gradient g at every step; the size of step number k
    value = as_number(answer, verdict)
    if value is None:
        return
    if not verdict.expect(value > 0, "the step size is positive", "give the size (a positive number) of the step",
                          "The question asks how large the step is: its absolute value."):
        return  # judging the size of a negative answer would say "right" and "wrong" at once
    check_number(verdict, value, lr * g / np.sqrt(k * g**2), rtol=0.01, what="the step size", mistakes={
        lr * g / (k * g**2): "Adagrad divides by the square root of the sum of squares, not the sum.",
        lr: "That is the first step; the sum of squared gradients keeps growing.",
        lr / k: "The denominator grows like the square root of the number of steps, not linearly.",
    })


@EXERCISES.add("predict_run", "predict the size of Adam's first step, then take it")
def _predict_run(answer, verdict: Verdict) -> None:
    # one Adam step on curvatures (1, 100) from (1, 1), at an lr of the learner's choice
    def read(run, verdict):
        run = as_history(run, verdict, 1, params=True)
        if run is None:
            return None
        params = np.asarray(run.params, dtype=float)
        if params.shape != (2, 2) or not np.allclose(params[0], 1.0) or not np.isclose(run.loss[0], 50.5):
            verdict.bad("your run is not the experiment of the exercise (curvatures 1 and 100, start (1, 1))",
                        "Use problems.Quadratic([1.0, 100.0], x0=[1.0, 1.0]).")
            return None
        if not run.lr[0] > 0:
            verdict.bad("the learning rate of your run is not positive")
            return None
        return float(abs(params[1, 1] - params[0, 1]))

    check_prediction(verdict, answer, read, rtol=0.001, what="the size of the first step in the steep coordinate",
                     where="abs(history.params[1, 1] - history.params[0, 1])")
