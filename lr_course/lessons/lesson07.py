"""Lesson 07's exercises: the edge of stability and the catapult's first step read off the
learner's own runs, a run in the catapult window, the linear scaling rule, and RAdam's rectification.

Two exercises are *predict, run, check* (the course's ``check_prediction``): the learner
predicts a number, runs a small experiment with the package, reads the number off the run and
passes all three. The check verifies that the run is the one asked for (its lr, its start and,
for the edge of stability, the curvature at its final parameters, recomputed here by power
iteration), that the number was read off it correctly, and that the prediction agrees with the
run. The lesson's own numeric feedback says how far off a number is, never in which direction,
so it cannot be bisected. The closed forms of the other checks are written out here,
independent of the teaching modules.
"""

from __future__ import annotations

import math

import numpy as np

from lr_course.lessons.exercise import ExerciseSet
from lr_course.lessons.feedback import (NotAnswered, Verdict, as_history, as_number, call_answer,
                                        check_prediction, is_function)

EXERCISES = ExerciseSet("07", "The research frontier")

# The set-ups the lesson's exercise text names.
_EOS_LR, _EOS_WIDTH, _EOS_ROWS, _EOS_STEPS = 0.5, 32, 200, 1200
_UV_WIDTH = 1000


def _unpack(answer, names):
    """The parts of a tuple answer, or NotAnswered while any part is still ``...``."""
    if not isinstance(answer, (tuple, list)) or len(answer) != len(names):
        raise NotAnswered(f"Pass a tuple of {len(names)}: ({', '.join(names)}).")
    missing = [n for n, part in zip(names, answer) if part is None or part is Ellipsis]
    if missing:
        names_left = ", ".join("`" + n + "`" for n in missing)
        raise NotAnswered(f"Fill in {names_left} and run the cell again.")
    return answer


def _close(verdict, value, expected, rtol, right, wrong, hint):
    """Within ``rtol`` of ``expected``; on failure say so without saying in which direction."""
    ok = abs(value - expected) <= rtol * abs(expected)
    verdict.expect(ok, right, f"{wrong} (more than {rtol:.0%} away)", hint)
    return ok


def _top_eigenvalue(hvp, dim, num_iters=300):
    """A cold power iteration, written out here so the check does not trust the teaching code."""
    v = np.random.default_rng(12345).standard_normal(dim)
    v /= np.linalg.norm(v)
    value = 0.0
    for _ in range(num_iters):
        w = hvp(v)
        value = float(v @ w)
        v = w / np.linalg.norm(w)
    return value


@EXERCISES.add("edge_of_stability", "predict, run, check: where the sharpness settles")
def _edge_of_stability(answer, verdict: Verdict) -> None:
    def read(run, verdict):
        if not all(hasattr(run, a) for a in ("lr", "steps", "sharpness", "final_params", "diverged")):
            verdict.bad("the run should be what sharpness.track_sharpness returns",
                        "run = sharpness.track_sharpness(net, lr=0.5, num_steps=1200, every=50, num_iters=10)")
            return None
        if not math.isclose(float(run.lr), _EOS_LR, rel_tol=1e-9):
            verdict.bad(f"your run used lr = {float(run.lr):g}; the exercise asks for lr = {_EOS_LR}",
                        "Pass lr=0.5 to track_sharpness.")
            return None
        steps, values = np.asarray(run.steps), np.asarray(run.sharpness, dtype=float)
        late = values[(steps >= _EOS_STEPS // 2) & (steps <= _EOS_STEPS)]
        if run.diverged or steps.size == 0 or steps.max() < _EOS_STEPS or late.size < 5:
            verdict.bad("your run is not 1200 steps long with measurements every 50 steps",
                        "Use num_steps=1200 and every=50, as in the exercise.")
            return None
        # Is it the lesson's network, and did the run really end where it says? Recompute.
        from lr_course.width_mlp import WidthMLP

        net = WidthMLP(width=_EOS_WIDTH, parametrization="standard", loss="mse", num_train=_EOS_ROWS)
        params = np.asarray(run.final_params, dtype=float)
        if params.shape != (net.dim,):
            verdict.bad("your run's parameters do not belong to the network of section 1",
                        "Use net = WidthMLP(width=32, parametrization='standard', loss='mse', num_train=200).")
            return None
        recomputed = _top_eigenvalue(lambda v: net.hvp(params, v), net.dim)
        if not _close(verdict, values[-1], recomputed, 0.1,
                      "your run is the experiment asked for, and its last measurement matches the "
                      "curvature at its final parameters",
                      "your run's last measurement does not match the curvature at its final parameters",
                      "Pass the run exactly as track_sharpness returned it, on the network of section 1."):
            return None
        return float(np.median(late))

    check_prediction(verdict, answer, read, rtol=0.05, what="the median sharpness over steps 600 to 1200",
                     where="np.median(run.sharpness_between(600, 1201))")


@EXERCISES.add("first_step", "predict, run, check: the output after one large step")
def _first_step(answer, verdict: Verdict) -> None:
    # The lesson's model, rebuilt here: f = u.v / sqrt(n), u and v standard normal from seed 0.
    start = np.random.default_rng(0).standard_normal(2 * _UV_WIDTH)
    lam0 = float(start @ start) / _UV_WIDTH
    f0 = float(start[:_UV_WIDTH] @ start[_UV_WIDTH:]) / math.sqrt(_UV_WIDTH)

    def read(run, verdict):
        run = as_history(run, verdict, 1)
        if run is None:
            return None
        if not math.isclose(float(run.loss[0]), 0.5 * f0 * f0, rel_tol=1e-9):
            verdict.bad("your run does not start from the model uv of section 2",
                        "Train uv = UVModel(width=1000, target=0.0, rng=np.random.default_rng(0)) from its x0.")
            return None
        if not math.isclose(float(np.asarray(run.lr)[0]), 3.0 / lam0, rel_tol=1e-6):
            verdict.bad("your run did not use lr = 3 / lambda_0", "lr = 3 / uv.ntk(uv.x0)")
            return None
        params = np.asarray(run.final_params, dtype=float)
        return float(params[:_UV_WIDTH] @ params[_UV_WIDTH:]) / math.sqrt(_UV_WIDTH)

    # rtol 1e-3 separates the exact one-step formula from its linearization f0 (1 - lr lambda_0),
    # which is 0.4% off here.
    check_prediction(verdict, answer, read, rtol=1e-3, what="the output after one step",
                     where="uv.output(run.final_params)")


@EXERCISES.add("catapult", "predict, run, check: a run in the catapult window")
def _catapult(answer, verdict: Verdict) -> None:
    lr, run, final_ntk = _unpack(answer, ("lr", "run", "final_ntk"))
    lr = as_number(lr, verdict, "your lr")
    final_ntk = as_number(final_ntk, verdict, "the kernel you read")
    if lr is None or final_ntk is None:
        return
    if not all(hasattr(run, a) for a in ("lr", "loss", "final_params", "diverged")):
        verdict.bad("run should be the History that training.train returns",
                    "run = training.train(uv, optimizers.sgd(lr=lr), num_steps=300, record_params=True, blowup=1e12)")
        return
    # The lesson's model, rebuilt here: f = u.v / sqrt(n), u and v standard normal from seed 0.
    start = np.random.default_rng(0).standard_normal(2 * _UV_WIDTH)
    f0 = float(start[:_UV_WIDTH] @ start[_UV_WIDTH:]) / math.sqrt(_UV_WIDTH)
    losses = np.asarray(run.loss, dtype=float)
    if not (losses.size and math.isclose(losses[0], 0.5 * f0 * f0, rel_tol=1e-9)):
        verdict.bad("your run does not start from the model uv of section 2",
                    "Train uv = UVModel(width=1000, target=0.0, rng=np.random.default_rng(0)) from its x0.")
        return
    if not math.isclose(float(np.asarray(run.lr)[0]), lr, rel_tol=1e-9):
        verdict.bad("your run did not use the lr you passed", "Train with optimizers.sgd(lr=lr), the same lr.")
        return
    if run.diverged:
        verdict.bad("your run diverged, so it is not in the catapult window",
                    "The window's edges are in section 2, in units of the kernel at the start.")
        return
    if losses.max() <= 1.5 * losses[0]:
        verdict.bad("your run's loss never rose well above its start, so it did not catapult",
                    "The window's edges are in section 2, in units of the kernel at the start.")
        return
    if not losses[-1] < 1e-3 * losses[0]:
        verdict.bad("your run has not converged after its steps",
                    "Run the 300 steps of the exercise.")
        return
    verdict.ok("your run catapulted: its loss rose, then converged")
    params = np.asarray(run.final_params, dtype=float)
    truth = float(params @ params) / _UV_WIDTH
    if _close(verdict, final_ntk, truth, 0.01, "you read the kernel at the end of your run correctly",
              "the kernel you read is not the one at the end of your run",
              "final_ntk = uv.ntk(run.final_params)"):
        verdict.expect(lr * truth < 2, "your run ended with lr x kernel below 2, where it is stable",
                       "your run ended with lr x kernel at or above 2")


@EXERCISES.add("linear_scaling", "the linear scaling rule")
def _linear_scaling(answer, verdict: Verdict) -> None:
    lr, batch, new_batch = 0.1, 256, 8192
    value = as_number(answer, verdict)
    if value is None:
        return
    expected = lr * new_batch / batch
    slips = {
        lr * math.sqrt(new_batch / batch): "That is the square-root rule; the linear rule scales with the batch ratio itself.",
        lr * batch / new_batch: "The rate goes up with the batch, not down.",
        lr * new_batch: "Multiply by the ratio of the batch sizes, not by the new batch size.",
    }
    if abs(value - expected) <= 0.01 * expected:
        verdict.ok("the rate is right")
        return
    for wrong, hint in slips.items():
        if abs(value - wrong) <= 0.01 * abs(wrong):
            verdict.bad("the rate matches a common slip", hint)
            return
    verdict.bad("the rate is not what the rule gives (more than 1% away)",
                "When the batch is multiplied by k, the rate is multiplied by k.")


def _rectification(t: int, beta2: float) -> float:
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
    if rho <= 4:
        return 0.0
    return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))


@EXERCISES.add("rectification", "RAdam's rectification term")
def _rectification_check(answer, verdict: Verdict) -> None:
    if not is_function(answer, verdict, "rectification"):
        return
    rng = np.random.default_rng(7)
    cases = [(1, 0.999), (4, 0.999), (5, 0.999), (6, 0.999), (100, 0.999), (5000, 0.999),
             (3, 0.9), (10, 0.9), (60, 0.9), (5, 0.99), (300, 0.99)]
    cases += [(int(rng.integers(5, 3000)), float(rng.uniform(0.95, 0.9995))) for _ in range(4)]
    for t, beta2 in cases:
        value = as_number(call_answer(answer, t, beta2), verdict, f"rectification({t}, {beta2:.4g})")
        if value is None:
            return
        expected = _rectification(t, beta2)
        if abs(value - expected) > 1e-6 * max(1.0, abs(expected)):
            if expected == 0.0:
                hint = "While rho_t <= 4 there is no adaptive step: return 0 there."
            else:
                hint = ("rho_t uses the step t: rho_inf - 2 t beta2**t / (1 - beta2**t); then "
                        "r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)).")
            verdict.bad(f"rectification({t}, {beta2:.4g}) is off", hint)
            return
    verdict.ok(f"rectification is right on {len(cases)} cases, including the first steps where it is 0")
