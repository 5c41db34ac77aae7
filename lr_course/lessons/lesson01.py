"""Lesson 01's exercises: the stable range of the learning rate and the regimes inside it.

Each check recomputes the expected answer from the exercise's data with a closed form
written out here (independent of the teaching modules on purpose), so a bug in the
teaching code cannot make a wrong answer pass. Feedback names typical slips, never the
expected value.
"""

from __future__ import annotations

import numpy as np

from lr_course.lessons.exercise import ExerciseSet
from lr_course.lessons.feedback import as_constant_lr_run, Verdict, as_number, call_answer, check_number, check_prediction, is_function

EXERCISES = ExerciseSet("01", "Too small, too large")

_EIGS_01 = np.array([0.5, 2.0, 8.0])


@EXERCISES.add("critical_lr", "the largest stable learning rate")
def _critical_lr(answer, verdict: Verdict) -> None:
    mu, L = _EIGS_01.min(), _EIGS_01.max()
    value = as_number(answer, verdict)
    if value is None:
        return
    verdict.expect(value > 0, "the rate is positive", "a learning rate must be positive")
    check_number(verdict, value, 2 / L, rtol=0.01, what="the threshold", mistakes={
        1 / L: "That is where the iterates start to oscillate; they still converge a bit above it.",
        2 / mu: "The smallest curvature is the slowest direction; the largest one decides stability.",
        2 / (mu + L): "That is the best fixed step, which sits below the threshold.",
    })


_REGIME_CURVATURE = 4.0
_REGIME_LRS = (0.1, 0.45, 0.6, 0.2)


def _regime_of(lr: float, curvature: float) -> str:
    product = lr * curvature
    return "monotone" if product <= 1 else "oscillating" if product < 2 else "diverging"


@EXERCISES.add("regime", "name the regime of each learning rate")
def _regime(answer, verdict: Verdict) -> None:
    if isinstance(answer, str) or not hasattr(answer, "__len__") or len(answer) != len(_REGIME_LRS):
        verdict.bad(f"give a list of {len(_REGIME_LRS)} names, one per learning rate",
                    'For example ["monotone", "monotone", "oscillating", "diverging"].')
        return
    for lr, name in zip(_REGIME_LRS, answer):
        name = str(name).strip().lower()
        if name not in {"monotone", "oscillating", "diverging"}:
            verdict.bad(f"lr = {lr}: {name!r} is not one of monotone / oscillating / diverging")
        elif name == _regime_of(lr, _REGIME_CURVATURE):
            verdict.ok(f"lr = {lr}: right")
        else:
            verdict.bad(f"lr = {lr}: not {name}",
                        "Compute lr * curvature for each rate and compare it with 1 and with 2.")


@EXERCISES.add("contraction", "the per-step contraction factor")
def _contraction(answer, verdict: Verdict) -> None:
    if not is_function(answer, verdict, "contraction"):
        return
    rng = np.random.default_rng(11)
    cases = [(0.1, np.array([1.0, 4.0])), (0.45, np.array([0.5, 2.0, 4.0])), (0.01, np.array([3.0]))]
    cases += [(float(rng.uniform(0.01, 1)), rng.uniform(0.1, 5, size=4)) for _ in range(3)]
    for lr, eigenvalues in cases:
        original = eigenvalues.copy()
        value = as_number(call_answer(answer, lr, eigenvalues), verdict, f"contraction({lr:.3g}, ...)", returned=True)
        if value is None:
            return
        if not np.array_equal(eigenvalues, original):
            verdict.bad("your function modified the eigenvalues it was given",
                        "Work on a copy, or build new arrays instead of assigning into the input.")
            return
        expected = np.max(np.abs(1 - lr * eigenvalues))
        if abs(value - expected) > 1e-9:
            factors = 1 - lr * eigenvalues
            if abs(value - factors.max()) < 1e-9:
                hint = "A negative factor such as -1.5 still grows the error: take the absolute value of each factor."
            elif abs(value - np.abs(factors).min()) < 1e-9:
                hint = "The slowest direction decides the rate: the largest factor, not the smallest."
            else:
                hint = "Each eigen-direction is multiplied by (1 - lr * lambda_i) at every step."
            verdict.bad(f"contraction({lr:.3g}, {np.round(eigenvalues, 3).tolist()}) is off", hint)
            return
    verdict.ok(f"contraction is right on {len(cases)} cases, including diverging ones")


_EIGS_OPT = np.array([1.0, 10.0])


@EXERCISES.add("optimal_rate", "the contraction factor at the best fixed step")
def _optimal_rate(answer, verdict: Verdict) -> None:
    mu, L = _EIGS_OPT.min(), _EIGS_OPT.max()
    value = as_number(answer, verdict)
    if value is None:
        return
    verdict.expect(0 <= value < 1, "the factor is in [0, 1): the step converges",
                   "at the best step the error must shrink, so the factor is in [0, 1)")
    check_number(verdict, value, (L - mu) / (L + mu), rtol=0.005, what="the factor", mistakes={
        1 - mu / L: "That is the factor at lr = 1/L; the best step is a little larger.",
        2 / (mu + L): "That is the best learning rate itself; the question asks how fast the error shrinks.",
    })


@EXERCISES.add("predict_run", "predict the shrink factor of an oscillating run")
def _predict_run(answer, verdict: Verdict) -> None:
    # 20 steps on the parabola of curvature 4 from w0 = 1, at an lr of the learner's choice
    def read(run, verdict):
        run = as_constant_lr_run(run, verdict, 20, params=True, loss0=2.0,
                                 experiment="constant lr, curvature 4, w0 = 1",
                                 hint="Use problems.Quadratic.one_d(curvature=4.0, x0=1.0) and a constant lr.")
        if run is None:
            return None
        lr = float(run.lr[0])
        if not 0.25 < lr < 0.5:
            verdict.bad(f"lr = {lr:g} is not in the oscillating range of this parabola",
                        "Oscillating means 1 < lr * curvature < 2.")
            return None
        w = np.asarray(run.params)[:, 0]
        return float(abs(w[-1] / w[-2]))

    check_prediction(verdict, answer, read, rtol=0.01, what="the shrink factor |w_20 / w_19|",
                     where="abs(history.params[-1, 0] / history.params[-2, 0])")
