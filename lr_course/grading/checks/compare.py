"""Judge a check: the student's records against the solution's, in the grader's process.

:func:`judge` takes a :class:`~.declare.Check`, the records of the solution and of the
student for exactly the check's calls, and returns an :class:`Outcome`: passed or not, what
was found in words, and a hint. Messages describe the inputs and what came back, never the
expected value. The student's records are hostile data: a wrong count, a wrong type, a
non-finite number or a missing key is a failed check with a reason, never an exception
(:func:`judge` catches what a judge did not foresee and fails the check).

The same judges serve the self-check in a student's kernel and the grader.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from .calls import OBJECTIVES, Record, same
from .codec import Objective
from .values import describe, is_int, is_real, mismatch, show

__all__ = ["Outcome", "judge", "expected_loss"]

MAX_WARNINGS = 20

# The hint of a failed check whose test cell gives none.
DEFAULT_HINTS = {
    "same": "work through the formula in the text for these inputs, step by step",
    "raises": "check every range the text gives, at both of its edges",
    "unchanged": "work on copies; never write into an argument",
    "agree": "the result must depend on the inputs alone",
    "differ": "draw from the rng you are given",
    "log_uniform": "draw uniformly between log(low) and log(high), then exponentiate",
    "search": "call the objective once per lr, in order; the best has the lowest finite score",
    "target": "start large (below 2 / lambda_max) and decay",
    "accuracy": "check your optimizer on the small cases first",
}


@dataclass
class Outcome:
    """The verdict of one check, as a student may see it (no expected values)."""

    passed: bool
    message: str                   # what was found, in words
    hint: str = ""                 # where to look, when failed
    warnings: list = field(default_factory=list)  # numpy warnings seen (never a zero by itself)


def judge(check, reference: list, student: list) -> Outcome:
    """The verdict on ``check`` from the solution's and the student's records; never raises."""
    seen = []
    for r in student:
        if isinstance(r, Record):
            seen.extend(w for w in r.warnings if w not in seen)
    n = len(check.calls)
    if len(student) != n or not all(isinstance(r, Record) for r in student):
        outcome = Outcome(False, f"the grader received {len(student)} results for {n} calls",
                          "your code did not get to run this check")
    elif len(reference) != n or not all(isinstance(r, Record) for r in reference):
        outcome = Outcome(False, "the solution's results are missing (a course problem)",
                          "tell your instructor")
    else:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                outcome = _JUDGES[check.kind](check, reference, student)
        except Exception as exc:  # noqa: BLE001 - absurd data is a failed check, not a crash
            outcome = Outcome(False, f"could not judge the answer ({type(exc).__name__})",
                              "return the types the assignment asks for")
    if not outcome.passed and any(r.error_type == "NotImplementedError" for r in student
                                  if isinstance(r, Record)):
        outcome.hint = "not written yet: replace `raise NotImplementedError()` with your code"
    elif not outcome.passed and not outcome.hint:
        outcome.hint = check.hint or DEFAULT_HINTS[check.kind]
    outcome.warnings = list(dict.fromkeys(list(outcome.warnings) + seen))[:MAX_WARNINGS]
    return outcome


def _raised(call, rec, hint):
    better = hint
    if "not defined" in rec.error or "not a function" in rec.error:
        better = f"define {', '.join(call.names())} (run its cell) before this check"
    return Outcome(False, f"{describe(call)} raised {rec.error}", better)


def _in_all(n: int, verdict: str, what: str = "cases") -> str:
    """"right" for one case, "right in all 5 cases" for more."""
    return verdict if n == 1 else f"{verdict} in all {n} {what}"


def _judge_same(check, reference, student):
    rtol, atol = check.options.get("rtol", 1e-6), check.options.get("atol", 1e-12)
    for call, ref, rec in zip(check.calls, reference, student):
        if not ref.ok:
            if rec.ok:
                return Outcome(False, f"{describe(call)} returned {show(rec.value)} instead of "
                                      f"raising {ref.error_type}", check.hint)
            if not rec.raised(ref.error_type):
                return Outcome(False, f"{describe(call)} raised {rec.error_type}, not "
                                      f"{ref.error_type}", check.hint)
            continue
        if not rec.ok:
            return _raised(call, rec, check.hint)
        if call.kind == "rollout":
            outcome = _rollout_mismatch(call, ref.value, rec.value, rtol, atol, check.hint)
            if outcome is not None:
                return outcome
            continue
        reason = mismatch(rec.value, ref.value, rtol, atol)
        if reason:
            return Outcome(False, f"{describe(call)} returned {reason}", check.hint)
    return Outcome(True, _in_all(len(check.calls), "right"))


def _rollout_mismatch(call, expected, got, rtol, atol, hint):
    if not isinstance(got, dict) or set(got) != {"params", "state"} or \
            not isinstance(got["params"], list) or len(got["params"]) != len(call.grads_seq):
        return Outcome(False, f"{describe(call)}: the grader received a malformed result", hint)
    for k, (g, e) in enumerate(zip(got["params"], expected["params"])):
        reason = mismatch(g, e, rtol, atol)
        if reason:
            sharper = _first_step_hint(call, g, e) if k == 0 else \
                ("the first step is right but a later one is not: check how the state is "
                 "updated and carried to the next step")
            return Outcome(False, f"{describe(call)}: the params after step {k + 1} are "
                                  f"{reason}", sharper or hint)
    reason = mismatch(got["state"], expected["state"], rtol, atol)
    if reason:
        return Outcome(False, f"{describe(call)}: the params are right but the state after the "
                              f"last step is {reason}", "return the new state with exactly the "
                                                        "keys the assignment gives")
    return None


TINY_GRADIENT = 1e-2   # below this, where eps sits in an adaptive update shows in the step


def _first_step_hint(call, got, expected):
    """A diagnosis from the size of the first step relative to the expected one."""
    p0 = call.params
    if not (isinstance(got, np.ndarray) and isinstance(p0, np.ndarray) and
            got.shape == p0.shape == np.shape(expected)):
        return None
    step, want = np.abs(got - p0), np.abs(expected - p0)
    keep = want > 0
    if not keep.any():
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(keep, step / np.where(keep, want, 1.0), np.nan)
    ratio = float(np.nanmedian(ratios))
    if not math.isfinite(ratio):
        return None
    grads = call.grads_seq[0] if call.grads_seq else None
    if isinstance(grads, np.ndarray) and grads.shape == p0.shape:
        # Wrong only where the gradients are tiny: that is where a misplaced eps matters
        # (inside the square root, outside the sum, ...), and nowhere else.
        off = keep & (np.abs(ratios - 1) > 5e-3)
        if off.any() and np.all(np.abs(grads[off]) < TINY_GRADIENT):
            return (f"the step is wrong only where the gradients are tiny (below "
                    f"{TINY_GRADIENT:g}): check where eps enters the update")
    if abs(ratio - 1) < 5e-3:
        return None    # "1 times the size" would say nothing
    return f"your first step is {ratio:.3g} times the size of the expected one"


def _judge_raises(check, reference, student):
    names = check.options.get("names", [])
    for call, ref, rec in zip(check.calls, reference, student):
        if rec.ok:
            return Outcome(False, f"{describe(call)} returned {show(rec.value)} instead of "
                                  "raising ValueError", check.hint)
        if not rec.raised("ValueError"):
            return Outcome(False, f"{describe(call)} raised {rec.error_type}, not ValueError",
                           check.hint)
        if not any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", rec.error)
                   for name in names):
            return Outcome(False, f"{describe(call)} raised ValueError, but its message does "
                                  f"not name the argument {' or '.join(map(repr, names))}",
                           "say which argument is wrong and what its value was")
    return Outcome(True, _in_all(len(check.calls), "raised a ValueError naming the argument"))


def _judge_unchanged(check, reference, student):
    for call, rec in zip(check.calls, student):
        if not rec.ok:
            return _raised(call, rec, check.hint)
        if call.kind == "rollout":
            mutated = rec.extra.get("mutated")
            if not isinstance(mutated, dict) or set(mutated) != {"params", "grads", "state"} \
                    or not all(type(v) is bool for v in mutated.values()):
                return Outcome(False, f"{describe(call)}: the grader received a malformed "
                                      "result", check.hint)
            changed = [k for k, v in mutated.items() if v]
            if changed:
                return Outcome(False, f"{describe(call)} modified its {' and '.join(changed)}",
                               check.hint or "build new arrays and a new dict; never write "
                                             "into the ones you are given")
            continue
        after = rec.args_after
        if not (isinstance(after, list) and len(after) == 2 and isinstance(after[0], list)
                and same(after[0], list(call.args)) and same(after[1], dict(call.kwargs))):
            return Outcome(False, f"{describe(call)} modified its input",
                           check.hint or "work on copies; never write into an argument")
    return Outcome(True, "inputs were left unchanged")


def _path(call, value):
    """What must agree between runs: a rollout's params (its state scales with the gradient)."""
    if call.kind == "rollout":
        if not isinstance(value, dict) or not isinstance(value.get("params"), list) or \
                len(value["params"]) != len(call.grads_seq):
            raise ValueError("malformed rollout")
        return value["params"]
    return value


def _judge_agree(check, reference, student):
    rtol, atol = check.options.get("rtol", 1e-6), check.options.get("atol", 1e-12)
    for call, rec in zip(check.calls, student):
        if not rec.ok:
            return _raised(call, rec, check.hint)
    first = _path(check.calls[0], student[0].value)
    for call, rec in zip(check.calls[1:], student[1:]):
        reason = mismatch(_path(call, rec.value), first, rtol, atol)
        if reason:
            return Outcome(False, f"{describe(call)} gave a different result from "
                                  f"{describe(check.calls[0])}", check.hint)
    return Outcome(True, _in_all(len(check.calls), "the same result", "runs"))


def _judge_differ(check, reference, student):
    for call, rec in zip(check.calls, student):
        if not rec.ok:
            return _raised(call, rec, check.hint)
    if same(student[0].value, student[1].value):
        return Outcome(False, f"{describe(check.calls[1])} gave exactly the result of "
                              f"{describe(check.calls[0])}", check.hint)
    return Outcome(True, "another seed gives other samples")


def _ks_uniform(u) -> float:
    """Kolmogorov-Smirnov distance of samples ``u`` in [0, 1] from the uniform distribution."""
    u = np.sort(u)
    n = u.size
    return float(max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n)))


def _judge_log_uniform(check, reference, student):
    call, rec = check.calls[0], student[0]
    if not rec.ok:
        return _raised(call, rec, check.hint)
    low, high, size = call.args[:3]
    value = rec.value
    if not isinstance(value, np.ndarray) or value.shape != (size,) or value.dtype.kind != "f":
        return Outcome(False, f"{describe(call)} returned {show(value)}, not a float array of "
                              f"{size} samples", check.hint)
    if not np.all(np.isfinite(value)) or (size and (value.min() < low or value.max() >= high)):
        return Outcome(False, f"{describe(call)}: some samples fall outside [low, high)",
                       check.hint)
    if size >= 100:
        u = (np.log(value) - math.log(low)) / (math.log(high) - math.log(low))
        if _ks_uniform(u) > check.options.get("max_ks", 0.05):
            return Outcome(False, f"{describe(call)}: the samples are not spread evenly in "
                                  "log(lr)", check.hint)
    return Outcome(True, f"{size} samples in [low, high), uniform in log(lr)")


def _objective_of(call):
    found = [a for a in call.args if isinstance(a, Objective)]
    if len(found) != 1 or found[0].name not in OBJECTIVES:
        raise ValueError("a search check needs exactly one catalogue objective")
    return OBJECTIVES[found[0].name](**found[0].options)


def _judge_search(check, reference, student):
    returns = check.options.get("returns", 2)
    for call, rec in zip(check.calls, student):
        if not rec.ok:
            return _raised(call, rec, check.hint)
        where = describe(call)
        value = rec.value
        if not isinstance(value, (tuple, list)) or len(value) != returns:
            return Outcome(False, f"{where} returned {show(value)}, not a tuple of {returns} "
                                  "items", check.hint)
        best = value[0]
        if not (is_real(best) or is_int(best)):
            return Outcome(False, f"{where}: best_lr is {show(best)}, not a number", check.hint)
        if returns == 2:
            lrs = np.asarray(call.args[1], dtype=float)
        else:
            lrs = value[1]
            if not isinstance(lrs, np.ndarray) or lrs.ndim != 1 or lrs.dtype.kind != "f":
                return Outcome(False, f"{where}: lrs is {show(lrs)}, not a float array",
                               check.hint)
            low, high, n = call.args[1:4]
            if lrs.shape != (n,) or not np.all(np.isfinite(lrs)) or \
                    (n and (lrs.min() < low or lrs.max() >= high)):
                return Outcome(False, f"{where}: lrs is not {n} samples in [low, high)",
                               "sample the lrs log-uniformly with rng")
            if n >= 1000 and _ks_uniform((np.log(lrs) - math.log(low)) /
                                         (math.log(high) - math.log(low))) > 0.05:
                return Outcome(False, f"{where}: the lrs are not spread evenly in log(lr)",
                               "sample the lrs log-uniformly with rng")
        scores = value[-1]
        if not isinstance(scores, np.ndarray) or scores.shape != lrs.shape or \
                scores.dtype.kind != "f":
            return Outcome(False, f"{where}: scores is {show(scores)}, not a float array with "
                                  "one score per lr", check.hint)
        calls_made = rec.extra.get("objective_calls")
        if not isinstance(calls_made, list) or len(calls_made) != lrs.size or \
                not all(is_real(x) or is_int(x) for x in calls_made) or \
                not np.allclose(np.asarray(calls_made, dtype=float), lrs, rtol=1e-12, atol=0):
            count = len(calls_made) if isinstance(calls_made, list) else 0
            return Outcome(False, f"{where}: the objective was called {count} times for "
                                  f"{lrs.size} learning rates (or not in their order)",
                           "each trial is expensive: call the objective exactly once per lr, "
                           "in order")
        f = _objective_of(call)
        expected = np.array([f(lr) for lr in lrs], dtype=float)
        if not np.allclose(scores, expected, equal_nan=True):
            return Outcome(False, f"{where}: scores[i] is not objective(lrs[i])", check.hint)
        finite = np.isfinite(expected)
        if not finite.any():
            continue
        want = lrs[int(np.argmin(np.where(finite, expected, np.inf)))]
        best = float(best)
        if not (math.isfinite(best) and math.isclose(best, float(want), rel_tol=1e-12)):
            picked = np.flatnonzero(np.isclose(lrs, best, rtol=1e-12))
            if picked.size and not np.isfinite(expected[picked[0]]):
                return Outcome(False, f"{where}: the chosen lr diverged (its score is "
                                      f"{expected[picked[0]]})",
                               "a NaN or inf score means the run diverged: it can never be "
                               "best (np.argmin returns the position of a NaN)")
            return Outcome(False, f"{where}: the chosen lr does not have the lowest finite "
                                  "score", check.hint)
    return Outcome(True, _in_all(len(check.calls), "a consistent best lr", "searches"))


def expected_loss(lrs, eigenvalues, x0, sigma) -> float:
    """Exact E[loss] of SGD with learning rates ``lrs`` on a noisy quadratic.

    The loss is 0.5 * sum(eigenvalues * x**2) with independent N(0, sigma**2) noise on each
    gradient coordinate: :func:`lr_course.analysis.mean_square_recursion` per coordinate
    (imported here, in the grader or a kernel; the sandbox never judges).

    >>> round(expected_loss([0.0], [1.0], [2.0], 1.0), 12)   # no step: 0.5 * 1 * 4
    2.0
    """
    from lr_course.analysis import mean_square_recursion
    lam = np.asarray(eigenvalues, dtype=float)
    v = mean_square_recursion(np.asarray(lrs, dtype=float), lam, float(sigma),
                              np.asarray(x0, dtype=float) ** 2)[-1]
    return float(0.5 * np.sum(lam * v))


def _judge_target(check, reference, student):
    call, rec = check.calls[0], student[0]
    if not rec.ok:
        return _raised(call, rec, check.hint)
    lrs = rec.value
    if not isinstance(lrs, np.ndarray) or lrs.shape != (call.num_steps,) or lrs.dtype.kind != "f":
        return Outcome(False, f"{describe(call)}: the grader received {show(lrs)}, not "
                              f"{call.num_steps} learning rates", check.hint)
    if not np.all(np.isfinite(lrs)) or np.any(lrs < 0):
        return Outcome(False, f"{describe(call)}: some learning rates are negative or not "
                              "finite", check.hint)
    o = check.options
    loss = expected_loss(lrs, o["eigenvalues"], o["x0"], o["sigma"])
    if not (math.isfinite(loss) and loss <= o["target"]):
        shown = f"{loss:.4g}" if math.isfinite(loss) else "infinite (it diverges)"
        return Outcome(False, f"{describe(call)}: the expected loss after {call.num_steps} steps "
                              f"is {shown}, above the target {o['target']:.4g}", check.hint)
    return Outcome(True, f"expected loss {loss:.4g} after {call.num_steps} steps, within the "
                         f"target {o['target']:.4g}")


@functools.lru_cache(maxsize=4)
def _model(problem):
    """The course model a ``trains`` check names (loaded once per grader process)."""
    if problem != "digits_logreg":
        raise ValueError(f"unknown problem {problem!r}")
    from lr_course import models
    return models.LogisticRegression()


def _accuracy(problem, params) -> float:
    return float(_model(problem).evaluate(params, split="val")[1])


def _judge_accuracy(check, reference, student):
    call, rec = check.calls[0], student[0]
    if not rec.ok:
        return _raised(call, rec, check.hint)
    value = rec.value
    steps = rec.extra.get("steps")
    if not isinstance(value, dict) or set(value) != {"params"} or type(steps) is not int:
        return Outcome(False, f"{describe(call)}: the grader received a malformed result",
                       check.hint)
    if steps != call.num_steps:
        return Outcome(False, f"{describe(call)}: {steps} updates were made, not "
                              f"{call.num_steps}", check.hint)
    x0 = np.asarray(_model(call.problem).x0)
    params = value["params"]
    if not isinstance(params, np.ndarray) or params.shape != x0.shape or \
            params.dtype.kind != "f" or not np.all(np.isfinite(params)):
        return Outcome(False, f"{describe(call)}: the final params are {show(params)}, not "
                              f"finite floats of shape {x0.shape}", check.hint)
    accuracy = _accuracy(call.problem, params)
    want = check.options["accuracy"]
    if accuracy < want:
        return Outcome(False, f"{describe(call)}: validation accuracy {accuracy:.3f}, below "
                              f"{want:.3f}", check.hint)
    return Outcome(True, f"validation accuracy {accuracy:.3f} (at least {want:.3f})")


_JUDGES = {"same": _judge_same, "raises": _judge_raises, "unchanged": _judge_unchanged,
           "agree": _judge_agree, "differ": _judge_differ, "log_uniform": _judge_log_uniform,
           "search": _judge_search, "target": _judge_target, "accuracy": _judge_accuracy}
