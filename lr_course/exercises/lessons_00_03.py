"""Exercises of lessons 00-03: one gradient step, stability, adaptive steps, noise floors.

Each check recomputes the expected answer from the exercise's data with a closed form (kept
independent of the rest of the package on purpose), so a bug in the teaching code cannot make
a wrong answer pass. Feedback names typical slips, never the expected value.
"""

from __future__ import annotations

import numpy as np

from lr_course.selfcheck import (Verdict, as_number, call_answer, check_number, exercise,
                                  is_function)

_ALWAYS = "Go back to the formula in the lesson and redo it step by step."


# --- 00 start here ----------------------------------------------------------------------------


@exercise("00.one_step", "one gradient-descent step by hand")
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


@exercise("00.gd_loop", "a gradient-descent loop")
def _gd_loop(answer, verdict: Verdict) -> None:
    if not is_function(answer, verdict, "gd"):
        return
    rng = np.random.default_rng(7)
    cases = [(3.0, 0.1, 10), (-2.0, 0.4, 5), (1.5, 0.05, 0)]
    cases += [(float(rng.normal()), float(rng.uniform(0.01, 0.9)), int(rng.integers(1, 30)))]
    for w0, lr, num_steps in cases:
        got = call_answer(answer, w0, lr, num_steps)
        value = as_number(got, verdict, f"gd({w0:.3g}, {lr:.3g}, {num_steps})")
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


# --- 01 too small, too large --------------------------------------------------------------------

_EIGS_01 = np.array([0.5, 2.0, 8.0])


@exercise("01.critical_lr", "the largest stable learning rate")
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


@exercise("01.regime", "name the regime of each learning rate")
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


@exercise("01.contraction", "the per-step contraction factor")
def _contraction(answer, verdict: Verdict) -> None:
    if not is_function(answer, verdict, "contraction"):
        return
    rng = np.random.default_rng(11)
    cases = [(0.1, np.array([1.0, 4.0])), (0.45, np.array([0.5, 2.0, 4.0])), (0.01, np.array([3.0]))]
    cases += [(float(rng.uniform(0.01, 1)), rng.uniform(0.1, 5, size=4)) for _ in range(3)]
    for lr, eigenvalues in cases:
        original = eigenvalues.copy()
        value = as_number(call_answer(answer, lr, eigenvalues), verdict, f"contraction({lr:.3g}, ...)")
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


@exercise("01.optimal_rate", "the contraction factor at the best fixed step")
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


# --- 02 adaptive methods ---------------------------------------------------------------------------


@exercise("02.momentum_threshold", "the stability limit of heavy-ball momentum")
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


@exercise("02.first_adam_step", "the first Adam step")
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


@exercise("02.adagrad_step", "Adagrad's shrinking steps")
def _adagrad_step(answer, verdict: Verdict) -> None:
    lr, g, k = 0.1, 2.0, 4  # the same gradient g at every step; the size of step number k
    value = as_number(answer, verdict)
    if value is None:
        return
    verdict.expect(value > 0, "the step size is positive", "give the size (a positive number) of the step")
    check_number(verdict, abs(value), lr * g / np.sqrt(k * g**2), rtol=0.01, what="the step size", mistakes={
        lr * g / (k * g**2): "Adagrad divides by the square root of the sum of squares, not the sum.",
        lr: "That is the first step; the sum of squared gradients keeps growing.",
        lr / k: "The denominator grows like the square root of the number of steps, not linearly.",
    })


# --- 03 time against accuracy ---------------------------------------------------------------------


def _floor(lr: float, curvature: float, sigma: float) -> float:
    return lr * sigma**2 / (curvature * (2 - lr * curvature))


@exercise("03.noise_floor", "the noise floor of constant-lr SGD")
def _noise_floor(answer, verdict: Verdict) -> None:
    lr, curvature, sigma = 0.1, 2.0, 0.5
    value = as_number(answer, verdict)
    if value is None:
        return
    check_number(verdict, value, _floor(lr, curvature, sigma), rtol=0.02, what="E[x^2]", mistakes={
        lr * sigma**2 / (2 * curvature): "You dropped the lr * lambda inside (2 - lr * lambda): it matters here.",
        lr * sigma / (curvature * (2 - lr * curvature)): "sigma is a standard deviation: the formula uses its square.",
    })


@exercise("03.lr_for_floor", "the largest constant lr that reaches a target floor")
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


@exercise("03.pareto", "the time-against-accuracy front")
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
