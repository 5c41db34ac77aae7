"""Tests for lr_course.analysis: every formula against a direct simulation or numpy's answer."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lr_course import analysis, training
from lr_course.problems import NoisyGradient, Quadratic


def _gd(problem, lr, num_steps, x=None):
    """Plain gradient descent; returns the iterates, shape (num_steps + 1, dim)."""
    x = problem.x0 if x is None else np.array(x, dtype=float)
    xs = [x]
    with np.errstate(all="ignore"):
        for _ in range(num_steps):
            x = x - lr * problem.grad(x)
            xs.append(x)
    return np.array(xs)


def _heavy_ball_1d(lr, momentum, curvature, num_steps, x0=1.0):
    """PyTorch-convention momentum on 0.5*curvature*x^2: v <- m v + g; x <- x - lr v."""
    x, v, xs = x0, 0.0, [x0]
    for _ in range(num_steps):
        v = momentum * v + curvature * x
        x = x - lr * v
        xs.append(x)
    return np.array(xs)


# --------------------------------------------------------------------------- curvature


def _random_symmetric(seed, dim, eigenvalues=None):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    lam = rng.uniform(0.01, 10.0, dim) if eigenvalues is None else np.asarray(eigenvalues)
    return (q * lam) @ q.T


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dim=st.integers(1, 12))
def test_top_eigenvalue_matches_eigvalsh_on_random_spd(seed, dim):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((dim, dim))
    H = B @ B.T + 1e-3 * np.eye(dim)
    exact = np.linalg.eigvalsh(H)[-1]
    est = analysis.top_eigenvalue(lambda v: H @ v, dim, rng=np.random.default_rng(seed + 1),
                                  num_iters=2000)
    # With a tiny top gap power iteration is accurate to about the gap; 1e-3 covers that.
    assert est == pytest.approx(exact, rel=1e-3)
    assert est <= exact * (1 + 1e-12)  # a Rayleigh quotient never exceeds lambda_max


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dim=st.integers(2, 10),
       top=st.floats(0.1, 1e4), gap=st.floats(0.05, 0.9))
# A start vector almost orthogonal to the top eigenvector (cos 0.0096): 200 products left an
# error of 1.5e-8, inside power iteration's bound but outside 1e-8.
@example(seed=10791, dim=8, top=1.0, gap=0.0508)
def test_top_eigenvalue_is_precise_with_a_clear_gap(seed, dim, top, gap):
    rest = np.random.default_rng(seed).uniform(0.0, 1.0 - gap, dim - 1) * top
    H = _random_symmetric(seed, dim, np.concatenate([[top], rest]))
    # Power iteration's error after k products is at most tan^2(theta0) (lam2/lam1)^(2k) of
    # lam1, theta0 the start vector's angle to the top eigenvector: give it the k that bound
    # needs for 1e-10, plus one (the estimate it returns is the quotient of the vector the last
    # product started from; the start vector is the one default_rng(0) draws, as there).
    v0 = np.random.default_rng(0).standard_normal(dim)
    cos2 = (v0 @ np.linalg.eigh(H)[1][:, -1]) ** 2 / (v0 @ v0)
    ratio = max(rest.max() / top, 1e-3)
    k = math.ceil(math.log(1e-10 * cos2 / (1 - cos2)) / (2 * math.log(ratio)))
    est = analysis.top_eigenvalue(lambda v: H @ v, dim, num_iters=max(k, 0) + 1)
    assert est == pytest.approx(top, rel=1e-8)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dim=st.integers(2, 10))
def test_top_eigenvalue_indefinite_returns_largest_algebraic(seed, dim):
    rng = np.random.default_rng(seed)
    lam = rng.uniform(-10, 10, dim)
    lam[0] = -20.0  # the dominant-magnitude eigenvalue is negative
    lam[1] = 3.0    # the one that limits the learning rate
    lam[2:] = np.minimum(lam[2:], 3.0 * (1 - 0.1))
    H = _random_symmetric(seed, dim, lam)
    est = analysis.top_eigenvalue(lambda v: H @ v, dim, num_iters=3000)
    assert est == pytest.approx(3.0, rel=1e-4)


def test_top_eigenvalue_zero_matrix_and_reproducible():
    assert analysis.top_eigenvalue(lambda v: 0 * v, 4) == 0.0
    H = _random_symmetric(0, 6)
    a = analysis.top_eigenvalue(lambda v: H @ v, 6)
    b = analysis.top_eigenvalue(lambda v: H @ v, 6)
    assert a == b


def test_top_eigenvalue_counts_hvps():
    calls = []
    H = np.diag([1.0, 2.0, 3.0])

    def hvp(v):
        calls.append(1)
        return H @ v

    analysis.top_eigenvalue(hvp, 3, num_iters=7, tol=0.0)
    assert len(calls) == 7


def test_sharpness_of_a_rotated_quadratic_is_L():
    q = Quadratic([0.3, 2.0, 25.0, 7.0], rotation=np.random.default_rng(4))
    assert analysis.sharpness(q) == pytest.approx(25.0, rel=1e-9)
    assert analysis.sharpness(q, params=np.ones(4)) == pytest.approx(25.0, rel=1e-9)


@pytest.mark.parametrize("kwargs, name", [
    (dict(dim=0), "dim"), (dict(dim=2, num_iters=0), "num_iters"),
    (dict(dim=2, rng=3), "rng"), (dict(dim=2, tol=-1.0), "tol"),
])
def test_top_eigenvalue_bad_args(kwargs, name):
    with pytest.raises(ValueError, match=name):
        analysis.top_eigenvalue(lambda v: v, **kwargs)


def test_top_eigenvalue_non_finite_hvp_is_a_clear_error():
    with pytest.raises(ValueError, match="non-finite"):
        analysis.top_eigenvalue(lambda v: v * np.inf, 3)


# --------------------------------------------------------------------------- stability


@pytest.mark.parametrize("seed", range(4))
def test_gd_converges_just_below_critical_lr_and_diverges_just_above(seed):
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.5, 20.0, 5)
    q = Quadratic(lam, x0=rng.standard_normal(5), rotation=rng)
    crit = analysis.critical_lr(q.L)
    assert crit == pytest.approx(2 / lam.max())
    below = _gd(q, 0.98 * crit, 2000)
    above = _gd(q, 1.02 * crit, 2000)
    start = np.linalg.norm(q.x0)
    assert np.linalg.norm(below[-1]) < 1e-6 * start
    assert np.linalg.norm(above[-1]) > 1e6 * start


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_heavy_ball_critical_lr(momentum):
    crit = analysis.critical_lr(4.0, momentum=momentum)
    assert crit == pytest.approx((2 + 2 * momentum) / 4.0)
    below = _heavy_ball_1d(0.98 * crit, momentum, 4.0, 3000)
    above = _heavy_ball_1d(1.02 * crit, momentum, 4.0, 3000)
    assert abs(below[-1]) < 1e-6
    assert abs(above[-1]) > 1e6


@pytest.mark.parametrize("lr_over_crit", [0.3, 0.7, 0.95, 1.05])
@pytest.mark.parametrize("momentum", [0.0, 0.3, 0.8])
def test_momentum_contraction_rate_matches_simulation(lr_over_crit, momentum):
    lam = 2.0
    lr = lr_over_crit * analysis.critical_lr(lam, momentum)
    xs = _heavy_ball_1d(lr, momentum, lam, 400)
    rho = analysis.momentum_contraction_rate(lr, momentum, [lam])
    # With complex roots |x_k| oscillates, so compare the k-th root over a long window.
    measured = (abs(xs[400]) + abs(xs[399])) / (abs(xs[200]) + abs(xs[199]))
    assert measured ** (1 / 200) == pytest.approx(rho, rel=2e-2)
    assert (rho < 1) == (lr_over_crit < 1)


def test_momentum_contraction_rate_reduces_to_gd():
    for lr in (0.01, 0.1, 0.19, 0.3):
        assert analysis.momentum_contraction_rate(lr, 0.0, [1.0, 10.0]) == pytest.approx(
            analysis.contraction_rate(lr, [1.0, 10.0]))


def test_contraction_rate_is_the_measured_per_step_ratio():
    lam = np.array([1.0, 4.0, 10.0])
    q = Quadratic(lam, rotation=np.random.default_rng(1))
    for lr in (0.02, 0.1, 0.15, 0.19, 0.21):
        rho = analysis.contraction_rate(lr, lam)
        # Along the worst eigenvector the ratio is exactly rho at every step...
        worst = np.argmax(np.abs(1 - lr * lam))
        xs = _gd(q, lr, 30, x=q.Q[:, worst])
        ratios = np.linalg.norm(xs[1:], axis=1) / np.linalg.norm(xs[:-1], axis=1)
        np.testing.assert_allclose(ratios, rho, rtol=1e-9)
        # ...and from a generic start it is a bound on every step, reached asymptotically.
        xs = _gd(q, lr, 300, x=[1.0, -2.0, 0.5])
        norms = np.linalg.norm(xs, axis=1)
        assert np.all(norms[1:] <= rho * norms[:-1] * (1 + 1e-12))
        assert norms[-1] / norms[-2] == pytest.approx(rho, rel=1e-6)


def test_contraction_rate_vectorised_over_lr():
    lrs = np.linspace(0.01, 0.3, 7)
    rates = analysis.contraction_rate(lrs, [1.0, 10.0])
    np.testing.assert_allclose(rates, [analysis.contraction_rate(lr, [1.0, 10.0]) for lr in lrs])


@settings(max_examples=50, deadline=None)
@given(mu=st.floats(0.01, 10.0), kappa=st.floats(1.0, 1e3))
def test_optimal_lr_minimises_contraction_rate(mu, kappa):
    L = mu * kappa
    lr_star = analysis.optimal_lr(mu, L)
    rho_star = analysis.contraction_rate(lr_star, [mu, L])
    assert rho_star == pytest.approx((kappa - 1) / (kappa + 1), abs=1e-12)
    lrs = lr_star * np.linspace(0.5, 1.5, 1001)
    assert np.all(analysis.contraction_rate(lrs, [mu, L]) >= rho_star - 1e-12)


# --------------------------------------------------------------------------- regimes


@settings(max_examples=200, deadline=None)
@given(curvature=st.floats(1e-3, 1e3), h=st.floats(0.01, 3.0))
def test_regime_matches_the_iterates(curvature, h):
    lr = h / curvature
    name = analysis.regime(lr, curvature)
    xs = _gd(Quadratic.one_d(curvature, x0=1.0), lr, 6)[:, 0]
    step = np.abs(xs[1:]) / np.abs(np.where(xs[:-1] == 0, 1, xs[:-1]))
    if name == "monotone":
        assert np.all(xs >= 0) and np.all(np.diff(xs) <= 0)
    elif name == "oscillating":
        assert np.all(np.sign(xs[1:]) == -np.sign(xs[:-1]))
        assert np.all(step < 1)
    elif name == "marginal":
        np.testing.assert_allclose(np.abs(xs), 1.0, rtol=1e-6)
    else:
        assert name == "diverging"
        assert np.all(np.sign(xs[1:]) == -np.sign(xs[:-1]))
        assert np.all(step > 1)


def test_regime_boundaries():
    L = 7.3
    assert analysis.regime(1 / L, L) == "monotone"
    assert analysis.regime(1.0001 / L, L) == "oscillating"
    assert analysis.regime(2 / L, L) == "marginal"
    assert analysis.regime(1.9999 / L, L) == "oscillating"
    assert analysis.regime(2.0001 / L, L) == "diverging"


@pytest.mark.parametrize("lr, curvature, name", [
    (0.0, 1.0, "lr"), (-0.1, 1.0, "lr"), (math.nan, 1.0, "lr"),
    (0.1, 0.0, "curvature"), (0.1, -2.0, "curvature"),
])
def test_regime_bad_args(lr, curvature, name):
    with pytest.raises(ValueError, match=name):
        analysis.regime(lr, curvature)


@pytest.mark.parametrize("call, name", [
    (lambda: analysis.critical_lr(0.0), "L"),
    (lambda: analysis.critical_lr(1.0, momentum=1.0), "momentum"),
    (lambda: analysis.optimal_lr(2.0, 1.0), "mu"),
    (lambda: analysis.optimal_lr(-1.0, 1.0), "mu"),
    (lambda: analysis.contraction_rate(-1.0, [1.0]), "lr"),
    (lambda: analysis.contraction_rate(0.1, []), "eigenvalues"),
    (lambda: analysis.noise_floor(0.1, 1.0, -1.0), "sigma"),
    (lambda: analysis.noise_floor(0.1, 0.0, 1.0), "curvature"),
    (lambda: analysis.steps_to_tolerance(0.1, [1.0], 0.0), "tol"),
    (lambda: analysis.steps_to_tolerance(0.1, [1.0, -1.0], 1e-3), "eigenvalues"),
    (lambda: analysis.steps_to_tolerance(0.1, [1.0], 1e-3, x0=[1.0, 2.0]), "x0"),
    (lambda: analysis.steps_to_tolerance(0.1, [1.0], 1e-3, measure="l1"), "measure"),
    (lambda: analysis.steps_to_tolerance_empirical(Quadratic([1.0]), 0.1, 1e-3, -1),
     "max_steps"),
])
def test_bad_args_name_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# --------------------------------------------------------------------------- steps to tolerance


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), h=st.floats(0.05, 2.2),
       measure=st.sampled_from(["distance", "loss"]), tol_exp=st.floats(-8, -1))
def test_steps_to_tolerance_closed_form_equals_simulation(seed, h, measure, tol_exp):
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.1, 10.0, 3)
    q = Quadratic(lam, x0=rng.standard_normal(3), rotation=rng)
    lr = h / q.L
    e0 = q.Q.T @ (q.x0 - q.minimum)
    tol = 10.0**tol_exp
    max_steps = 1000
    predicted = analysis.steps_to_tolerance(lr, lam, tol, x0=e0, measure=measure)
    measured = analysis.steps_to_tolerance_empirical(q, lr, tol, max_steps=max_steps,
                                                     measure=measure)
    if measured != (predicted if predicted <= max_steps else math.inf):
        # Only acceptable if round-off decides: the exact measure sits on tol at the crossing.
        k = min(predicted, measured)
        factor = (1 - lr * lam) ** (2 * k) * (e0**2 if measure == "distance" else
                                               0.5 * lam * e0**2)
        exact = math.sqrt(factor.sum()) if measure == "distance" else factor.sum()
        assert exact == pytest.approx(tol, rel=1e-9)


def test_steps_to_tolerance_diverging_run_counts_a_transient_dip():
    # A huge fast component shrinks below tol before the slow unstable one grows back.
    lam = [1.0, 2.2]
    lr = 1.0  # 1 - lr*1 = 0 kills the first component in one step; |1 - 2.2| = 1.2 grows
    e0 = [10.0, 1e-4]
    k = analysis.steps_to_tolerance(lr, lam, 1e-3, x0=e0)
    q = Quadratic(lam, x0=e0)
    assert k == analysis.steps_to_tolerance_empirical(q, lr, 1e-3, max_steps=100) == 1
    assert analysis.steps_to_tolerance(lr, lam, 1e-5, x0=e0) == math.inf


def test_steps_to_tolerance_edges():
    assert analysis.steps_to_tolerance(0.1, [1.0], 2.0, x0=[1.0]) == 0  # already there
    assert analysis.steps_to_tolerance(1.0, [1.0], 1e-12, x0=[5.0]) == 1  # one exact step
    assert analysis.steps_to_tolerance(2.0, [1.0], 0.5, x0=[1.0]) == math.inf  # marginal
    # marginal direction with zero start error does not block the other one
    assert analysis.steps_to_tolerance(0.2, [1.0, 10.0], 1e-3, x0=[1.0, 0.0]) == 31
    # A marginal direction below tol: the rest must shrink into the gap.
    k = analysis.steps_to_tolerance(0.2, [1.0, 10.0], 0.5, x0=[1.0, 0.3])
    assert k == analysis.steps_to_tolerance_empirical(
        Quadratic([1.0, 10.0], x0=[1.0, 0.3]), 0.2, 0.5)


def test_steps_to_tolerance_u_curve_bottoms_near_optimal_lr():
    lam = np.array([1.0, 3.0, 10.0])
    lrs = np.linspace(0.01, 0.25, 500)
    steps = np.array([analysis.steps_to_tolerance(lr, lam, 1e-6) for lr in lrs])
    assert np.all(np.isinf(steps[lrs >= 0.2]))
    best = lrs[np.argmin(steps)]
    assert best == pytest.approx(analysis.optimal_lr(1.0, 10.0), rel=0.1)
    assert steps[0] > 5 * steps.min()  # too small is slow


def test_steps_to_tolerance_empirical_stops_on_overflow():
    q = Quadratic([1.0, 10.0])
    assert analysis.steps_to_tolerance_empirical(q, 1.0, 1e-3, max_steps=10**6) == math.inf


# --------------------------------------------------------------------------- noise floor


@pytest.mark.parametrize("lr, curvature", [(0.1, 1.0), (0.5, 2.0), (0.05, 4.0), (0.3, 5.0)])
def test_noise_floor_matches_many_seeded_runs(lr, curvature):
    sigma = 0.7
    rng = np.random.default_rng(2024)
    chains, burn_in, measured_steps = 4000, 300, 400
    x = np.zeros(chains)
    total = 0.0
    for k in range(burn_in + measured_steps):
        x = x - lr * (curvature * x + sigma * rng.standard_normal(chains))
        if k >= burn_in:
            total += np.mean(x**2)
    measured = total / measured_steps
    assert measured == pytest.approx(analysis.noise_floor(lr, curvature, sigma), rel=0.03)


def test_noise_floor_with_the_course_noisy_problem():
    lr, curvature, sigma = 0.2, 1.0, 0.5
    problem = NoisyGradient(Quadratic.one_d(curvature, x0=0.0), sigma,
                            np.random.default_rng(0))
    x, squares = problem.x0, []
    for k in range(40_000):
        x = x - lr * problem.grad(x)
        if k >= 100:
            squares.append(x[0] ** 2)
    assert np.mean(squares) == pytest.approx(analysis.noise_floor(lr, curvature, sigma),
                                             rel=0.05)


def test_noise_floor_shape_grows_with_lr_and_is_inf_when_unstable():
    lrs = np.array([0.01, 0.1, 0.5, 1.0, 1.9, 2.0, 3.0])
    floors = analysis.noise_floor(lrs, 1.0, 1.0)
    assert np.all(np.diff(floors[:5]) > 0)
    assert np.all(np.isinf(floors[5:]))
    assert analysis.noise_floor(0.1, 1.0, 0.0) == 0.0
    np.testing.assert_allclose(analysis.noise_floor(0.1, np.array([1.0, 2.0]), 1.0),
                               [0.1 / 1.9, 0.1 / (2 * 1.8)])


# --------------------------------------------------------------------------- mean-square recursion


def test_mean_square_recursion_has_the_closed_form_for_a_constant_lr():
    """v_t = floor + (v0 - floor) (1 - lr lambda)^(2t), which tends to the noise floor."""
    lr, lam, sigma, v0 = 0.3, 2.0, 0.8, 5.0
    v = analysis.mean_square_recursion(np.full(60, lr), lam, sigma, v0)
    floor = analysis.noise_floor(lr, lam, sigma)
    t = np.arange(61)
    np.testing.assert_allclose(v, floor + (v0 - floor) * (1 - lr * lam) ** (2 * t), rtol=1e-12)
    assert v.shape == (61,) and v[0] == v0


def test_mean_square_recursion_matches_many_seeded_runs_under_a_schedule():
    lrs = np.concatenate([np.full(30, 0.5), np.full(30, 0.1), np.full(30, 0.02)])
    lam, sigma, x0, runs = 1.5, 1.0, 2.0, 20_000
    mean_loss, diverged_at = training.noisy_sgd_runs(lrs, lam, sigma, x0, runs,
                                                     np.random.default_rng(5))
    predicted = analysis.mean_square_recursion(lrs, lam, sigma, x0**2)
    assert diverged_at is None
    # E[x^2] from the mean loss 0.5 lambda E[x^2]; 20000 runs: a few per cent of noise
    np.testing.assert_allclose(2 * mean_loss / lam, predicted, rtol=0.06)


def test_mean_square_recursion_runs_per_coordinate_and_overflows_quietly():
    lam = np.array([1.0, 4.0])
    v = analysis.mean_square_recursion([0.1, 0.2], lam, 0.5, np.array([1.0, 9.0]))
    assert v.shape == (3, 2)
    for i in range(2):  # each coordinate is the 1-D recursion
        np.testing.assert_array_equal(v[:, i], analysis.mean_square_recursion([0.1, 0.2], lam[i], 0.5,
                                                                              [1.0, 9.0][i]))
    np.testing.assert_array_equal(analysis.mean_square_recursion([], 1.0, 1.0, 2.0), [2.0])
    with np.errstate(all="raise"):  # a diverging lr gives inf, no warning escapes
        v = analysis.mean_square_recursion(np.full(2000, 3.0), 1.0, 1.0, 1.0)
    assert np.isinf(v[-1]) and v[1] == 4.0 + 9.0


@pytest.mark.parametrize("kwargs, name", [
    (dict(lrs=[0.1, -0.1]), "lrs"), (dict(lrs=[[0.1]]), "lrs"), (dict(lrs=[np.nan]), "lrs"),
    (dict(curvature=np.inf), "curvature"), (dict(sigma=-1.0), "sigma"),
    (dict(sigma="loud"), "sigma"), (dict(v0=-1.0), "v0"), (dict(v0=[1.0, np.nan]), "v0"),
])
def test_mean_square_recursion_bad_args(kwargs, name):
    args = dict(lrs=[0.1], curvature=1.0, sigma=1.0, v0=1.0) | kwargs
    with pytest.raises(ValueError, match=name):
        analysis.mean_square_recursion(**args)


def test_top_eigenvalue_defaults_and_edges():
    import inspect

    defaults = {k: p.default for k, p in inspect.signature(analysis.top_eigenvalue).parameters.items()
                if p.default is not inspect.Parameter.empty}
    assert defaults == dict(rng=None, num_iters=200, tol=1e-10)
    h = np.diag([1.0, 5.0, 2.0])
    hvp = lambda v: h @ v
    # rng=None is a generator seeded with 0
    assert analysis.top_eigenvalue(hvp, 3, num_iters=3) == analysis.top_eigenvalue(
        hvp, 3, num_iters=3, rng=np.random.default_rng(0))
    assert analysis.top_eigenvalue(hvp, 3, num_iters=3) != analysis.top_eigenvalue(
        hvp, 3, num_iters=3, rng=np.random.default_rng(1))
    assert np.isfinite(analysis.top_eigenvalue(hvp, 3, num_iters=1))  # the edge: one iteration
    assert analysis.top_eigenvalue(hvp, 3, tol=0.0) == pytest.approx(5.0)
    for kwargs, name in [(dict(num_iters=0), "num_iters"), (dict(tol=-1e-12), "tol")]:
        with pytest.raises(ValueError, match=f"^{name} "):
            analysis.top_eigenvalue(hvp, 3, **kwargs)


def test_steps_to_tolerance_matches_simulation_on_diverging_runs_with_a_dip():
    """Random runs where a stable direction shrinks while an unstable one grows back."""
    rng = np.random.default_rng(11)
    finite = 0
    for _ in range(60):
        lam = [rng.uniform(0.05, 0.9), rng.uniform(2.2, 2.8)]
        e0 = [1.0, 10 ** rng.uniform(-9, -2)]
        tol = 10 ** rng.uniform(-4, -0.5)
        measure = str(rng.choice(["distance", "loss"]))
        k = analysis.steps_to_tolerance(1.0, lam, tol, x0=e0, measure=measure)
        empirical = analysis.steps_to_tolerance_empirical(Quadratic(lam, x0=e0), 1.0, tol,
                                                          max_steps=400, measure=measure)
        assert k == empirical, (lam, e0, tol, measure)
        assert k == math.inf or type(k) is int
        finite += k != math.inf
    assert 10 < finite < 60  # both outcomes occur


def test_steps_to_tolerance_empirical_measures_the_loss_above_the_minimum_and_its_default():
    class Lifted:
        """A quadratic whose minimum loss is 3, not 0."""

        def __init__(self):
            self.q = Quadratic.one_d(1.0, x0=1.0)
            self.x0, self.minimum = self.q.x0, self.q.minimum

        def loss(self, x):
            return self.q.loss(x) + 3.0

        def grad(self, x):
            return self.q.grad(x)

    # loss - 3 = 0.5 * 0.81**k: below 1e-3 first at k = 30
    assert analysis.steps_to_tolerance_empirical(Lifted(), 0.1, 1e-3, measure="loss") == 30
    assert analysis.steps_to_tolerance_empirical(Quadratic.one_d(1.0, x0=1.0), 0.1, 1e-3,
                                                 measure="loss") == 30
    import inspect

    assert inspect.signature(analysis.steps_to_tolerance_empirical).parameters["max_steps"].default == 10_000
    assert analysis.steps_to_tolerance_empirical(Quadratic.one_d(1.0, x0=1.0), 1e-4, 0.37) == 9943
    assert analysis.steps_to_tolerance_empirical(Quadratic.one_d(1.0, x0=1.0), 1e-4, 0.36) == math.inf


def test_steps_to_tolerance_scan_counts_what_the_one_lr_loop_counts_run_by_run():
    bowl = Quadratic([1.0, 3.0, 10.0], rotation=np.random.default_rng(3))
    lrs = np.geomspace(0.01, 0.25, 40)       # up to past 2/L = 0.2: some runs diverge
    for measure, max_steps in (("distance", 3000), ("loss", 3000), ("distance", 400)):
        one_by_one = [analysis.steps_to_tolerance_empirical(bowl, lr, 1e-6, max_steps=max_steps,
                                                            measure=measure) for lr in lrs]
        scan = analysis.steps_to_tolerance_scan(bowl, lrs, 1e-6, max_steps=max_steps, measure=measure)
        assert scan.tolist() == [float(k) for k in one_by_one]
        assert np.isinf(scan).any() and np.isfinite(scan).any()


def test_steps_to_tolerance_scan_checks_every_lr_and_starts_where_asked():
    q = Quadratic.one_d(1.0, x0=1.0)
    with pytest.raises(ValueError, match="lr"):
        analysis.steps_to_tolerance_scan(q, [0.1, -0.1], 1e-3)
    assert analysis.steps_to_tolerance_scan(q, [0.1], 1e-3, params=[1e-4]).tolist() == [0.0]
    assert analysis.steps_to_tolerance_scan(q, [0.1, 0.5], 1e-3, max_steps=0).tolist() == [math.inf] * 2


def test_the_package_serves_every_name_the_course_uses_from_one_place():
    """lr_course.analysis is a package of modules by idea; the lessons, explorers, grader and
    tests import these names from the package itself, each defined in exactly one module."""
    import importlib
    names = {"top_eigenvalue": "curvature", "sharpness": "curvature",
             "critical_lr": "stability", "optimal_lr": "stability",
             "contraction_rate": "stability", "momentum_contraction_rate": "stability",
             "regime": "stability", "steps_to_tolerance": "speed",
             "steps_to_tolerance_empirical": "speed", "steps_to_tolerance_scan": "speed",
             "noise_floor": "noise", "mean_square_recursion": "noise"}
    assert sorted(analysis.__all__) == sorted(names)
    for name, module in names.items():
        home = importlib.import_module(f"lr_course.analysis.{module}")
        assert getattr(analysis, name) is getattr(home, name)
        assert getattr(home, name).__module__ == home.__name__ and name in home.__all__
