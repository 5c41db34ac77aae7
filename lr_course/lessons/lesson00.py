"""Lesson 00's exercises: one gradient-descent step by hand, then a loop of them.

Each check recomputes the expected answer from the exercise's data with a closed form
written out here (independent of the teaching modules on purpose), so a bug in the
teaching code cannot make a wrong answer pass. Feedback names typical slips, never the
expected value.
"""

from __future__ import annotations

import numpy as np

from lr_course.lessons.exercise import ExerciseSet
from lr_course.lessons.feedback import as_constant_lr_run, Verdict, as_number, call_answer, check_number, check_prediction, is_function

EXERCISES = ExerciseSet("00", "Start here")

@EXERCISES.add("one_step", "one gradient-descent step by hand")
def _one_step(answer, verdict: Verdict) -> None:
    w0, lr = 3.0, 0.1  # loss(w) = w**2, so grad = 2 w
    value = as_number(answer, verdict)
    if value is None:
        return
    check_number(verdict, value, w0 - lr * 2 * w0, rtol=1e-6, what="the new weight", mistakes={
        w0 + lr * 2 * w0: "You moved uphill: the update subtracts lr times the gradient.",
        w0 - lr * w0**2: "You subtracted lr times the loss; the update uses the gradient.",
        w0 - lr * w0: "The derivative of w**2 is not w: differentiate once more.",
    })


@EXERCISES.add("gd_loop", "a gradient-descent loop")
def _gd_loop(answer, verdict: Verdict) -> None:
    if not is_function(answer, verdict, "gd"):
        return
    rng = np.random.default_rng(7)
    cases = [(3.0, 0.1, 10), (-2.0, 0.4, 5), (1.5, 0.05, 0)]
    cases += [(float(rng.normal()), float(rng.uniform(0.01, 0.9)), int(rng.integers(1, 30)))]
    for w0, lr, num_steps in cases:
        got = call_answer(answer, w0, lr, num_steps)
        value = as_number(got, verdict, f"gd({w0:.3g}, {lr:.3g}, {num_steps})", returned=True)
        if value is None:
            return
        expected = w0 * (1 - 2 * lr) ** num_steps
        if abs(value - expected) > 1e-9 * max(1.0, abs(expected)):
            if num_steps > 0 and abs(value - w0 * (1 - 2 * lr) ** (num_steps - 1)) < 1e-9:
                hint = "Your loop runs one step too few: range(num_steps) runs num_steps times."
            elif abs(value - w0 * (1 - 2 * lr) ** (num_steps + 1)) < 1e-9:
                hint = "Your loop runs one step too many."
            elif num_steps == 0:
                hint = "With num_steps = 0 the weight must come back unchanged."
            else:
                hint = "Each step is w = w - lr * grad(w), with grad(w) = 2 * w, computed from the current w."
            verdict.bad(f"gd({w0:.3g}, {lr:.3g}, {num_steps}) is off", hint)
            return
    verdict.ok(f"gd gives the right weight on {len(cases)} cases, including zero steps")


@EXERCISES.add("predict_run", "predict a run, run it, read it")
def _predict_run(answer, verdict: Verdict) -> None:
    # 10 steps at lr 0.1 on loss(w) = w**2 (curvature 2) from w0 = 3
    def read(run, verdict):
        run = as_constant_lr_run(run, verdict, 10, lr=0.1, loss0=9.0,
                                 experiment="lr 0.1, curvature 2, w0 = 3",
                                 hint="Copy the call of the exercise exactly: only the numbers it names.")
        if run is None:
            return None
        return float(np.ravel(run.final_params)[0])

    check_prediction(verdict, answer, read, rtol=0.01, what="the weight after 10 steps",
                     where="history.final_params[0]")
