"""Lesson 05's exercises: random-search budgets and reading a rate off a range test.

Each check recomputes the expected answer from the exercise's data with a closed form
written out here (independent of the teaching modules on purpose), so a bug in the
teaching code cannot make a wrong answer pass. Feedback names typical slips, never the
expected value.
"""

from __future__ import annotations

import math

import numpy as np

from lr_course.lessons.exercise import ExerciseSet
from lr_course.lessons.feedback import Verdict, as_array, as_number, call_answer, check_number, check_prediction, is_function

EXERCISES = ExerciseSet("05", "Tuning")

@EXERCISES.add("trials_needed", "how many random trials reach the top 5%")
def _trials_needed(answer, verdict: Verdict) -> None:
    q, target = 0.05, 0.9  # smallest n with P(at least one of n in the top q) >= target
    value = as_number(answer, verdict)
    if value is None:
        return
    expected = math.ceil(math.log(1 - target) / math.log(1 - q))
    if value != int(value):
        verdict.bad("a number of trials is a whole number", "Round up: n trials must be enough.")
        return
    n = int(value)
    if n == expected:
        verdict.ok("that is the smallest n that reaches the target probability")
    elif n == expected - 1:
        verdict.bad("one trial short: the probability is just under the target", "Round up, not down.")
    elif n > expected:
        verdict.bad("enough trials, but not the smallest number that is enough",
                    "Solve 1 - (1 - q)^n >= 0.9 for n with logarithms.")
    elif n == round(target / q):
        verdict.bad("the trials are not additive: overlapping chances do not sum",
                    "Use the probability that every trial misses, (1 - q)^n.")
    else:
        verdict.bad("too few trials", "Solve 1 - (1 - q)^n >= 0.9 for n with logarithms.")


@EXERCISES.add("range_test_rule", "read a learning rate off a range test")
def _range_test_rule(answer, verdict: Verdict) -> None:
    best_lr, diverged_lr = 0.8, 2.5  # lowest smoothed loss and the blow-up of the sweep
    value = as_number(answer, verdict)
    if value is None:
        return
    check_number(verdict, value, best_lr / 10, rtol=0.01, what="your lr", mistakes={
        best_lr: "The minimum of the curve sits close to the edge of stability; step back from it.",
        diverged_lr / 10: "The rule starts from the lowest smoothed loss, not from where it blew up.",
        diverged_lr: "That is where the loss blew up: far too large.",
    })


@EXERCISES.add("simulate_top", "check 1 - (1 - q)^n by simulation")
def _simulate_top(answer, verdict: Verdict) -> None:
    if not is_function(answer, verdict, "simulate_top"):
        return
    for q, n in [(0.05, 20), (0.2, 3), (0.01, 100)]:
        estimates = [call_answer(answer, q, n, 4000, np.random.default_rng(seed)) for seed in (1, 2)]
        values = [as_number(e, verdict, f"simulate_top({q}, {n}, ...)", returned=True) for e in estimates]
        if any(v is None for v in values):
            return
        exact = 1 - (1 - q) ** n
        err = 4 * math.sqrt(exact * (1 - exact) / 4000) + 1e-3  # four standard errors
        if values[0] == values[1]:
            verdict.bad("two different generators gave exactly the same estimate",
                        "Draw the random numbers from the rng you are given, not a fixed seed.")
            return
        if any(abs(v - exact) > err for v in values):
            if all(abs(v - q) < err for v in values):
                hint = "You estimated the chance of a single trial: each repeat needs n trials."
            elif all(abs(v - q * n) < err for v in values):
                hint = "Count a repeat as a success once, however many of its trials are in the top q."
            else:
                hint = ("Each repeat: draw n uniform numbers, success if any of them is below q; "
                        "the estimate is the fraction of successful repeats.")
            verdict.bad(f"simulate_top({q}, {n}, ...) is further from the formula than sampling error allows", hint)
            return
    verdict.ok("your simulation agrees with the formula within sampling error on three cases")


@EXERCISES.add("predict_run", "predict how often 20 random trials find a narrow window, then draw them")
def _predict_run(answer, verdict: Verdict) -> None:
    # 2000 repeats of 20 log-uniform lrs in [1e-4, 1); a hit is an lr within 0.1 decade of 1e-2
    def read(run, verdict):
        draws = as_array(run, verdict, (2000, 20), what="the (2000, 20) array of draws from search.log_uniform",
                         hint="`draws = search.log_uniform(1e-4, 1.0, (2000, 20), rng)`.")
        if draws is None:
            return None
        if not (np.all((draws >= 1e-4) & (draws < 1.0)) and abs(np.median(np.log10(draws)) + 2) < 0.2):
            verdict.bad("your draws are not log-uniform on [1e-4, 1)",
                        "Draw with search.log_uniform(1e-4, 1.0, (2000, 20), rng).")
            return None
        return float(np.mean(np.any(np.abs(np.log10(draws) + 2) < 0.1, axis=1)))

    check_prediction(verdict, answer, read, rtol=0.06, what="the fraction of repeats with a hit",
                     where="np.mean(np.any(np.abs(np.log10(draws) + 2) < 0.1, axis=1))")
