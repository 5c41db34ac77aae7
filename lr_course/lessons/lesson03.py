"""Lesson 03's exercises: the noise floor of constant-lr SGD and the time-accuracy front.

Each check recomputes the expected answer from the exercise's data with a closed form
written out here (independent of the teaching modules on purpose), so a bug in the
teaching code cannot make a wrong answer pass. Feedback names typical slips, never the
expected value.
"""

from __future__ import annotations

import numpy as np

from lr_course.lessons.exercise import ExerciseSet
from lr_course.lessons.feedback import Verdict, as_array, as_number, call_answer, check_number, check_prediction, is_function

EXERCISES = ExerciseSet("03", "Time against accuracy")

def _floor(lr: float, curvature: float, sigma: float) -> float:
    return lr * sigma**2 / (curvature * (2 - lr * curvature))


@EXERCISES.add("noise_floor", "the noise floor of constant-lr SGD")
def _noise_floor(answer, verdict: Verdict) -> None:
    # curvature 4, not 2: at lambda = 2 the loss lambda x^2 / 2 equals x^2, and mixing them up would pass
    lr, curvature, sigma = 0.1, 4.0, 0.3  # sigma 0.3: the slip sigma for sigma^2 must not also be 2x
    value = as_number(answer, verdict)
    if value is None:
        return
    check_number(verdict, value, _floor(lr, curvature, sigma), rtol=0.02, what="E[x^2]", mistakes={
        curvature / 2 * _floor(lr, curvature, sigma): "That is the expected loss (lambda / 2) E[x^2]; the question asks for E[x^2].",
        lr * sigma**2 / (2 * curvature): "You dropped the lr * lambda inside (2 - lr * lambda): it matters here.",
        lr * sigma / (curvature * (2 - lr * curvature)): "sigma is a standard deviation: the formula uses its square.",
    })


@EXERCISES.add("lr_for_floor", "the largest constant lr that reaches a target floor")
def _lr_for_floor(answer, verdict: Verdict) -> None:
    curvature, sigma, target = 1.0, 1.0, 0.05
    value = as_number(answer, verdict)
    if value is None:
        return
    # lr s^2 / (l (2 - lr l)) = target  <=>  lr = 2 l target / (s^2 + l^2 target)
    expected = 2 * curvature * target / (sigma**2 + curvature**2 * target)
    if check_number(verdict, value, expected, rtol=0.01, what="the learning rate", mistakes={
        2 * curvature * target / sigma**2: "That drops the lr * lambda in (2 - lr * lambda): solve the full equation for lr.",
    }):
        verdict.ok("its noise floor meets the target")


@EXERCISES.add("pareto", "the time-against-accuracy front")
def _pareto(answer, verdict: Verdict) -> None:
    if not is_function(answer, verdict, "pareto_front"):
        return
    rng = np.random.default_rng(3)
    cases = [
        (np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.7, 0.9])),   # every point on the front
        (np.array([1.0, 2.0, 3.0]), np.array([0.9, 0.7, 0.5])),   # only the first
        (np.array([1.0, 1.0, 2.0]), np.array([0.8, 0.8, 0.8])),   # ties: equal points both stay
    ]
    cases += [(rng.uniform(0, 10, size=12), rng.uniform(0.5, 1, size=12)) for _ in range(3)]
    for times, accs in cases:
        originals = times.copy(), accs.copy()
        got = np.asarray(call_answer(answer, times, accs))
        if got.shape != times.shape or got.dtype != bool:
            verdict.bad(f"return a boolean mask with one entry per run (shape {times.shape})",
                        "Build `mask = np.zeros(len(times), dtype=bool)` and set the front's entries to True.")
            return
        if not (np.array_equal(times, originals[0]) and np.array_equal(accs, originals[1])):
            verdict.bad("your function modified its inputs", "Sort a copy (np.argsort), not the arrays themselves.")
            return
        faster_or_equal = times[None, :] <= times[:, None]
        better_or_equal = accs[None, :] >= accs[:, None]
        strictly = (times[None, :] < times[:, None]) | (accs[None, :] > accs[:, None])
        expected = ~np.any(faster_or_equal & better_or_equal & strictly, axis=1)
        if not np.array_equal(got, expected):
            if np.any(got & ~expected):
                verdict.bad("your front keeps a run that another run beats",
                            "A run is dominated when another is at least as fast AND at least as accurate, and strictly better in one.")
            else:
                verdict.bad("your front misses a run that nothing beats",
                            "Two identical runs do not dominate each other; a run is dropped only if another is strictly better in one respect.")
            return
    verdict.ok(f"the front is right on {len(cases)} cases, including ties")


@EXERCISES.add("predict_run", "predict the noise floor of a batch size, then simulate it")
def _predict_run(answer, verdict: Verdict) -> None:
    # noisy_sgd_runs at lr 0.1, curvature 1, sigma = 2 / sqrt(B), x0 = 1, 600 steps
    def read(run, verdict):
        mean_loss = as_array(
            run, verdict, (601,), start=0.5,
            what="the mean_loss array of 600 steps that noisy_sgd_runs returned",
            hint="`mean_loss, _ = training.noisy_sgd_runs(...)`, then pass mean_loss.",
            off_start=("your run did not start at x0 = 1 with curvature 1 (its first mean loss is not 0.5)",
                       "Use the curvature, x0 and lrs of the exercise; only the batch size is yours."))
        if mean_loss is None:
            return None
        return float(mean_loss[200:].mean())

    check_prediction(verdict, answer, read, rtol=0.1, what="the long-run mean loss",
                     where="mean_loss[200:].mean()")
