"""Exercises of lessons 04-06: schedule values, decayed noise floors, search budgets, the quiz.

As in lessons 00-03, every check recomputes its expected answer from the exercise's data with
a closed form written out here (independent of :mod:`lr_course.schedules` and
:mod:`lr_course.search`), and feedback names typical slips, never the expected value.
Lesson 06's quiz questions and self-scored written answers (:mod:`lr_course.quiz`) are
registered here too, so they count in the progress record like any exercise.
"""

from __future__ import annotations

import math

import numpy as np

from lr_course import quiz
from lr_course.selfcheck import (Verdict, as_number, call_answer, check_number, exercise,
                                  is_function)


# --- 04 schedules -------------------------------------------------------------------------------


@exercise("04.staircase", "an exponential decay, smooth and staircase")
def _staircase(answer, verdict: Verdict) -> None:
    # lr0 = 0.1, decay_rate = 0.5 every decay_steps = 10 steps, staircase, at step 25
    lr0, rate, every, step = 0.1, 0.5, 10, 25
    value = as_number(answer, verdict)
    if value is None:
        return
    check_number(verdict, value, lr0 * rate ** (step // every), rtol=1e-3, what="the lr", mistakes={
        lr0 * rate ** (step / every): "That is the smooth decay; staircase floors the exponent step / decay_steps.",
        lr0 * rate ** math.ceil(step / every): "The exponent is floored, not rounded up: the drop happens at the end of each period.",
        lr0 * rate ** step: "The rate applies once per decay_steps steps, not once per step.",
    })


def _cosine_hold(lr0, step, total_steps, lr_min):
    t = np.minimum(np.asarray(step), total_steps)
    return lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * t / total_steps)) / 2


@exercise("04.cosine_hold", "cosine decay that holds its final value")
def _cosine(answer, verdict: Verdict) -> None:
    if not is_function(answer, verdict, "cosine"):
        return
    cases = [(0.1, 100, 0.0), (1.0, 7, 0.1), (0.05, 1, 0.01)]
    for lr0, total, lr_min in cases:
        steps = np.array([0, 1, total // 2, total - 1, total, total + 1, 2 * total, 3 * total + 2])
        got = np.asarray(call_answer(answer, lr0, steps.copy(), total, lr_min), dtype=float)
        if got.shape != steps.shape:
            verdict.bad(f"cosine(lr0, steps, ...) should return one lr per step (shape {steps.shape}), "
                        f"got shape {got.shape}", "Use numpy functions (np.cos, np.minimum) so arrays work.")
            return
        expected = _cosine_hold(lr0, steps, total, lr_min)
        if np.allclose(got, expected, rtol=1e-9, atol=1e-12):
            continue
        inside = steps <= total
        cycling = lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * steps / total)) / 2
        if np.allclose(got[inside], expected[inside]) and np.allclose(got, cycling):
            verdict.bad("past total_steps your lr climbs back up, like torch's CosineAnnealingLR",
                        "Clip the step at total_steps before the cosine (np.minimum).")
        elif np.allclose(got[inside], expected[inside]):
            verdict.bad("right up to total_steps, wrong after it", "After total_steps the lr stays at lr_min.")
        elif np.isclose(got[0], lr0) and not np.isclose(got[inside][-1], lr_min):
            verdict.bad("starts at lr0 but does not end at lr_min",
                        "The cosine part goes from lr0 down to lr_min: lr_min + (lr0 - lr_min) * (1 + cos(...)) / 2.")
        else:
            verdict.bad(f"cosine({lr0}, steps, {total}, {lr_min}) is off",
                        "At step 0 the lr is lr0, at total_steps it is lr_min, halfway it is their mean.")
        return
    verdict.ok(f"cosine is right on {len(cases)} cases, before, at and after total_steps")


@exercise("04.decayed_floor", "how much a step decay lowers the noise floor")
def _decayed_floor(answer, verdict: Verdict) -> None:
    # SGD on 0.5 * lambda * x^2 with gradient noise sigma; the lr drops from 0.4 to 0.04.
    curvature, sigma, lr_before, lr_after = 2.0, 1.0, 0.4, 0.04

    def floor(lr):
        return lr * sigma**2 / (curvature * (2 - lr * curvature))

    value = as_number(answer, verdict)
    if value is None:
        return
    verdict.expect(0 < value < 1, "the ratio is below 1: the floor goes down",
                   "the floor after the drop should be a fraction of the floor before it")
    check_number(verdict, value, floor(lr_after) / floor(lr_before), rtol=0.01,
                 what="the ratio", mistakes={
                     lr_after / lr_before: "Close, but the factor 2 - lr * lambda changes too: it is not a plain tenfold drop here.",
                     lr_before / lr_after: "Upside down: divide the floor after the drop by the floor before it.",
                     (lr_after / lr_before) ** 2: "The floor is proportional to lr (not lr squared) for small lr.",
                 })


# --- 05 tuning ------------------------------------------------------------------------------------


@exercise("05.trials_needed", "how many random trials reach the top 5%")
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


@exercise("05.range_test_rule", "read a learning rate off a range test")
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


@exercise("05.simulate_top", "check 1 - (1 - q)^n by simulation")
def _simulate_top(answer, verdict: Verdict) -> None:
    if not is_function(answer, verdict, "simulate_top"):
        return
    for q, n in [(0.05, 20), (0.2, 3), (0.01, 100)]:
        estimates = [call_answer(answer, q, n, 4000, np.random.default_rng(seed)) for seed in (1, 2)]
        values = [as_number(e, verdict, f"simulate_top({q}, {n}, ...)") for e in estimates]
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


# --- 06 review: the quiz and the self-scored written answers --------------------------------------


def _register_quiz() -> None:
    for question in quiz.QUESTIONS.values():
        exercise(question.id, f"quiz on review question {question.review}")(
            lambda choice, verdict, question=question: quiz.check_choice(question, choice, verdict))
    for rubric in quiz.RUBRICS.values():
        exercise(rubric.id, f"written answer: {rubric.question}")(
            lambda scores, verdict, rubric=rubric: quiz.check_scores(rubric, scores, verdict))


_register_quiz()
