"""Checks of ps3_tuning: grids, log-uniform samples, the critical lr, grid and random search."""

from __future__ import annotations

import math

import numpy as np

from lr_course.grading import judging as J
from lr_course.grading.reference import ps3 as ref
from lr_course.grading.spec import (OBJECTIVES, Call, Check, Objective, Outcome, RngSeed, Test,
                                    register, register_assignment)

A = "ps3"


def _call(function, *args, **kwargs):
    return Call("call", function, args=tuple(args), kwargs=kwargs)


def _seed(rng):
    return int(rng.integers(2**31))


# --- lr_grid -----------------------------------------------------------------------------

def _grid_cases(rng):
    calls = []
    for _ in range(3):
        low = float(10 ** rng.uniform(-6, -2))
        calls.append(_call("lr_grid", low, float(low * 10 ** rng.uniform(1, 5)),
                           int(rng.integers(3, 12))))
    return calls


def _grid_diagnose(call, rec, expected):
    got = np.asarray(rec.value, dtype=float)
    if got.shape == expected.shape and np.allclose(got, np.linspace(*call.args), rtol=1e-9):
        return "the values are evenly spaced: a learning-rate grid is spaced evenly in log(lr)"
    if got.size and not np.isclose(got.max(), call.args[1], rtol=1e-9):
        return "high must be the last value of the grid"
    return None


register(Check(f"{A}.lr_grid.values", ("lr_grid",),
               "lr_grid: num values, geometrically spaced, from low to high", _grid_cases,
               J.values_judge(ref.lr_grid, "consecutive values differ by a constant factor and "
                              "both low and high are included", rtol=1e-9,
                              diagnose=_grid_diagnose)))
register(Check(f"{A}.lr_grid.edges", ("lr_grid",),
               "lr_grid includes both ends exactly, also for num=2",
               lambda rng: [_call("lr_grid", 1e-4, 1.0, 2), _call("lr_grid", 3e-5, 0.3, 9)],
               J.values_judge(ref.lr_grid, "both low and high belong to the grid", rtol=1e-12)))
_GRID_INVALID = [((1e-1, 1e-3, 5), "low"), ((0.0, 1.0, 5), "low"), ((1e-3, 1.0, 1), "num")]
register(Check(f"{A}.lr_grid.invalid", ("lr_grid",),
               "lr_grid rejects low <= 0, low >= high and num < 2 with a ValueError",
               lambda rng: [_call("lr_grid", *args) for args, _ in _GRID_INVALID],
               J.raises_judge(lambda c: dict(_GRID_INVALID)[tuple(c.args)],
                              "check 0 < low < high and num >= 2; name the argument")))

# --- log_uniform -------------------------------------------------------------------------

def _ks_uniform(u):
    """Kolmogorov-Smirnov distance of samples ``u`` in [0, 1] from the uniform distribution."""
    u = np.sort(u)
    n = u.size
    return float(max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n)))


def _samples_problem(call, value, low, high, size):
    if not isinstance(value, np.ndarray) or value.shape != (size,) or value.dtype.kind != "f":
        return f"returned {J.show(value)}, not a float array of {size} samples"
    if not np.all(np.isfinite(value)) or value.min() < low or value.max() >= high:
        return "some samples fall outside [low, high)"
    u = (np.log(value) - math.log(low)) / (math.log(high) - math.log(low))
    if _ks_uniform(u) > 0.05:
        return "the samples are not spread evenly in log(lr)"
    return None


def _log_uniform_cases(rng):
    low = float(10 ** rng.uniform(-6, -3))
    return [_call("log_uniform", low, float(low * 10 ** rng.uniform(2, 5)), 4000,
                  RngSeed(_seed(rng)))]


def _judge_log_uniform(calls, records):
    call, rec = calls[0], records[0]
    if not rec.ok:
        return Outcome(False, f"log_uniform raised {rec.error}", "draw with rng, e.g. rng.uniform")
    low, high, size, _ = call.args
    problem = _samples_problem(call, rec.value, low, high, size)
    if problem:
        return Outcome(False, f"log_uniform({low:.3g}, {high:.3g}, {size}, rng): {problem}",
                       "draw uniformly between log(low) and log(high), then exponentiate")
    return Outcome(True, f"{size} samples in [low, high), uniform in log(lr)")


def _reproducible_cases(rng):
    seed = _seed(rng)
    return [_call("log_uniform", 1e-4, 1.0, 10, RngSeed(seed)),
            _call("log_uniform", 1e-4, 1.0, 10, RngSeed(seed)),
            _call("log_uniform", 1e-4, 1.0, 10, RngSeed(seed + 1))]


def _judge_reproducible(calls, records):
    for rec in records:
        if not rec.ok:
            return Outcome(False, f"log_uniform raised {rec.error}", "draw with rng")
    if not all(isinstance(r.value, np.ndarray) and r.value.dtype.kind == "f" for r in records):
        return Outcome(False, "log_uniform did not return a float array",
                       "return the samples as a numpy array")
    a, b, c = (r.value for r in records)
    if not np.array_equal(a, b):
        return Outcome(False, "two generators with the same seed gave different samples",
                       "draw from the rng you are given, never from np.random's global state")
    if a.shape == c.shape and np.array_equal(a, c):
        return Outcome(False, "generators with different seeds gave the same samples",
                       "draw from the rng you are given")
    return Outcome(True, "the samples come from the rng passed in (same seed, same samples)")


register(Check(f"{A}.log_uniform.distribution", ("log_uniform",),
               "log_uniform: samples in [low, high), uniform in log(lr)", _log_uniform_cases,
               _judge_log_uniform))
register(Check(f"{A}.log_uniform.uses_rng", ("log_uniform",),
               "log_uniform draws from the Generator it is given (reproducible by seed)",
               _reproducible_cases, _judge_reproducible))
_LU_INVALID = [((0.0, 1.0, 5), "low"), ((1.0, 1e-3, 5), "low")]
register(Check(f"{A}.log_uniform.invalid", ("log_uniform",),
               "log_uniform rejects low <= 0 and low >= high with a ValueError",
               lambda rng: [_call("log_uniform", *args, RngSeed(1)) for args, _ in _LU_INVALID],
               J.raises_judge(lambda c: dict(_LU_INVALID)[tuple(c.args[:3])],
                              "check 0 < low < high; name the argument")))

# --- critical_lr -------------------------------------------------------------------------

def _spd(rng, dim, spread=3.0):
    q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    eig = 10 ** rng.uniform(-1, spread, dim)
    h = (q * eig) @ q.T
    return (h + h.T) / 2


def _critical_diagnose(call, rec, expected):
    got = rec.value
    eig = np.linalg.eigvalsh(call.args[0])
    if np.isclose(got, expected / 2, rtol=1e-6):
        return "you return 1 / lambda_max: gradient descent stays stable up to 2 / lambda_max"
    if np.isclose(got, 2 / eig[0], rtol=1e-6):
        return "the smallest eigenvalue does not limit the step: the largest does"
    if np.isclose(got, 2 / np.max(np.diag(call.args[0])), rtol=1e-6):
        return "the largest diagonal entry is not the largest eigenvalue (use np.linalg.eigvalsh)"
    return None


register(Check(f"{A}.critical_lr.values", ("critical_lr",),
               "critical_lr on diagonal and rotated symmetric positive-definite matrices",
               lambda rng: [_call("critical_lr", np.diag(10 ** rng.uniform(-1, 2, 3))),
                            _call("critical_lr", _spd(rng, 2)), _call("critical_lr", _spd(rng, 5))],
               J.values_judge(ref.critical_lr, "2 divided by the largest eigenvalue",
                              rtol=1e-8, diagnose=_critical_diagnose)))
register(Check(f"{A}.critical_lr.rotated", ("critical_lr",),
               "critical_lr on strongly rotated matrices, leaving the matrix unchanged",
               lambda rng: [_call("critical_lr", _spd(rng, d, spread=4.0)) for d in (3, 8)],
               J.all_of(J.values_judge(ref.critical_lr, "use the eigenvalues of the whole matrix",
                                       rtol=1e-8, diagnose=_critical_diagnose),
                        J.unchanged_judge("do not modify the matrix you are given"))))

# --- grid_search and random_search -------------------------------------------------------

def _objective(call):
    spec = next(a for a in call.args if isinstance(a, Objective))
    return OBJECTIVES[spec.name](**spec.options)


def _unpack(rec, n, name):
    if not rec.ok:
        return f"raised {rec.error}"
    value = rec.value
    if not isinstance(value, (tuple, list)) or len(value) != n:
        return f"returned {J.show(value)}, not a tuple of {n} items"
    try:
        parts = [value[0]] + [np.asarray(v, dtype=float) for v in value[1:]]
        float(parts[0])
    except (TypeError, ValueError):
        return "returned items that are not numbers"
    return parts


def _judge_grid(calls, records):
    for call, rec in zip(calls, records):
        lrs = np.asarray(call.args[1], dtype=float)
        where = f"grid_search over {lrs.size} learning rates"
        parts = _unpack(rec, 2, "grid_search")
        if isinstance(parts, str):
            return Outcome(False, f"{where} {parts}", "return (best_lr, scores)")
        best, scores = parts
        f = _objective(call)
        expected = np.array([f(lr) for lr in lrs])
        if scores.shape != lrs.shape or not np.allclose(scores, expected, equal_nan=True):
            return Outcome(False, f"{where}: scores[i] is not objective(lrs[i])",
                           "call the objective once per learning rate, in order")
        calls_made = rec.extra.get("objective_calls", [])
        if len(calls_made) != lrs.size:
            return Outcome(False, f"{where}: the objective was called {len(calls_made)} times",
                           "each trial is expensive: call the objective exactly once per lr")
        best_expected = ref.grid_search(f, lrs)[0]
        if not np.isfinite(float(best)) or not math.isclose(float(best), best_expected,
                                                            rel_tol=1e-12):
            picked = np.flatnonzero(np.isclose(lrs, float(best), rtol=1e-12))
            if picked.size and not np.isfinite(expected[picked[0]]):
                return Outcome(False, f"{where}: the chosen lr diverged (its score is "
                                      f"{expected[picked[0]]})",
                               "a NaN or inf score means the run diverged: it can never be best "
                               "(np.argmin returns the position of a NaN)")
            return Outcome(False, f"{where}: the chosen lr does not have the lowest score",
                           "the best lr has the smallest finite score")
    return Outcome(True, f"best lr and scores right in all {len(calls)} searches")


def _grid_cases(rng, diverged):
    calls = []
    for _ in range(2):
        lrs = np.geomspace(1e-4, 1.0, int(rng.integers(6, 15)))
        best = float(10 ** rng.uniform(-3.5, -0.5))
        options = {"best": best}
        if diverged:
            options = {"best": 1.0, "diverge_above": float(lrs[int(rng.integers(2, lrs.size - 1))])}
        calls.append(_call("grid_search", Objective("bowl", options), lrs))
    if diverged:
        calls.append(_call("grid_search", Objective("decreasing_then_inf", {"diverge_above": 0.02}),
                           [float(x) for x in np.geomspace(1e-3, 1.0, 7)]))
    return calls


register(Check(f"{A}.grid_search.finds_best", ("grid_search",),
               "grid_search scores every lr once and returns the best", lambda rng: _grid_cases(
                   rng, False), _judge_grid))
register(Check(f"{A}.grid_search.diverged", ("grid_search",),
               "grid_search never picks a diverged (NaN or inf) trial; lrs may be a list",
               lambda rng: _grid_cases(rng, True), _judge_grid))


def _random_cases(rng, diverged, n=40):
    low, high = 1e-5, 1.0
    options = {"best": 1.0, "diverge_above": 0.05} if diverged else \
        {"best": float(10 ** rng.uniform(-4, -1))}
    return [_call("random_search", Objective("bowl", options), low, high, n, RngSeed(_seed(rng)))]


def _judge_random(calls, records):
    for call, rec in zip(calls, records):
        _, low, high, n, _ = call.args
        where = f"random_search({low:g}, {high:g}, n={n})"
        parts = _unpack(rec, 3, "random_search")
        if isinstance(parts, str):
            return Outcome(False, f"{where} {parts}", "return (best_lr, lrs, scores)")
        best, lrs, scores = parts
        problem = _samples_problem(call, lrs, low, high, n) if n >= 1000 else None
        if lrs.shape != (n,) or np.any(lrs < low) or np.any(lrs >= high):
            problem = f"lrs is not {n} samples in [low, high)"
        if problem:
            return Outcome(False, f"{where}: {problem}", "sample lrs log-uniformly with rng")
        f = _objective(call)
        expected = np.array([f(lr) for lr in lrs])
        if scores.shape != lrs.shape or not np.allclose(scores, expected, equal_nan=True):
            return Outcome(False, f"{where}: scores[i] is not objective(lrs[i])",
                           "score each sampled lr once, in order")
        finite = np.isfinite(expected)
        want = lrs[np.argmin(np.where(finite, expected, np.inf))]
        if not math.isclose(float(best), float(want), rel_tol=1e-12):
            return Outcome(False, f"{where}: best_lr is not the sample with the lowest finite score",
                           "a NaN or inf score (diverged) is never best")
    return Outcome(True, f"right in all {len(calls)} searches")


def _judge_random_reproducible(calls, records):
    outcome = _judge_random(calls, records)
    if not outcome.passed:
        return outcome
    a, b = (np.asarray(r.value[1], dtype=float) for r in records[:2])
    if not np.array_equal(a, b):
        return Outcome(False, "the same seed gave different samples",
                       "draw from the rng you are given")
    return Outcome(True, "reproducible, log-uniform, and diverged trials are never best")


register(Check(f"{A}.random_search.finds_best", ("random_search",),
               "random_search samples n lrs in [low, high), scores each, returns the best",
               lambda rng: _random_cases(rng, False), _judge_random))


def _random_hidden_cases(rng):
    same = _random_cases(rng, True)
    return same + same + [_call("random_search", Objective("bowl", {"best": 1e-3}), 1e-6, 1.0,
                                2000, RngSeed(_seed(rng)))]


register(Check(f"{A}.random_search.robust", ("random_search",),
               "random_search is reproducible by seed, log-uniform, and never picks a diverged "
               "trial", _random_hidden_cases, _judge_random_reproducible))

register_assignment("ps3_tuning", [
    Test("test_lr_grid", 2, (f"{A}.lr_grid.values",)),
    Test("test_log_uniform", 2, (f"{A}.log_uniform.distribution",)),
    Test("test_critical_lr", 2, (f"{A}.critical_lr.values",)),
    Test("test_grid_search", 2, (f"{A}.grid_search.finds_best",)),
    Test("test_random_search", 2, (f"{A}.random_search.finds_best",)),
    Test("test_lr_grid_hidden", 2, (f"{A}.lr_grid.edges", f"{A}.lr_grid.invalid"), hidden=True),
    Test("test_log_uniform_hidden", 2, (f"{A}.log_uniform.uses_rng", f"{A}.log_uniform.invalid"),
         hidden=True),
    Test("test_critical_lr_hidden", 1, (f"{A}.critical_lr.rotated",), hidden=True),
    Test("test_grid_search_hidden", 2, (f"{A}.grid_search.diverged",), hidden=True),
    Test("test_random_search_hidden", 2, (f"{A}.random_search.robust",), hidden=True),
])

# Hand-graded written answers (nbgrader "manual" cells): grade_id -> points. Not run by checks.
WRITTEN = {"answer_convergence": 3, "answer_strategies": 3, "answer_cost": 3}
