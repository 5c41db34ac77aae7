"""Lesson 04's exercises: schedule values, and how much a decay lowers the noise floor.

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

EXERCISES = ExerciseSet("04", "Schedules")

@EXERCISES.add("staircase", "an exponential decay, smooth and staircase")
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


@EXERCISES.add("cosine_hold", "cosine decay that holds its final value")
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


@EXERCISES.add("decayed_floor", "how much a step decay lowers the noise floor")
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


@EXERCISES.add("predict_run", "predict where a step decay settles, then simulate it")
def _predict_run(answer, verdict: Verdict) -> None:
    # lr 0.4 for 300 steps then 0.04 for 300 more (curvature 1, sigma 1, x0 = 1), 2000 runs
    def read(run, verdict):
        mean_loss = as_array(run, verdict, (601,), start=0.5,
                             what="the mean_loss array (600 steps, from x0 = 1) that noisy_sgd_runs returned",
                             hint="`mean_loss, _ = training.noisy_sgd_runs(lrs, 1.0, 1.0, 1.0, 2000, rng)`.")
        if mean_loss is None:
            return None
        early = mean_loss[200:300].mean()
        if not 0.1 < early < 0.15:  # the floor of lr 0.4 is 0.125 in loss units: the first phase happened
            verdict.bad("the first 300 steps of your run do not settle where lr 0.4 would",
                        "Build lrs with schedules.step_decay(0.4, drop_every=300, factor=0.1).")
            return None
        return float(mean_loss[-200:].mean())

    check_prediction(verdict, answer, read, rtol=0.1, what="the mean loss over the last 200 steps",
                     where="mean_loss[-200:].mean()")
