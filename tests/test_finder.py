"""Tests for lr_course.finder: the learning-rate range test."""

import math
import warnings

import numpy as np
import pytest

from lr_course.finder import range_test
from lr_course.models import MLP, LogisticRegression
from lr_course.optimizers import adam, sgd
from lr_course.problems import Quadratic
from lr_course.training import train


def plain_sgd(lr):
    return sgd(lr=lr)


def _random_quadratic(seed):
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.01, 1.0, 5) * 10 ** rng.uniform(-1, 3)
    return Quadratic(lam, x0=rng.standard_normal(5), rotation=rng)


# --------------------------------------------------------------------------- on quadratics


@pytest.mark.parametrize("seed", range(5))
def test_quadratic_blows_up_a_small_factor_above_two_over_L(seed):
    q = _random_quadratic(seed)
    crit = 2 / q.L
    # Sweep seven decades that put 2/L in the upper part, as a user who does not know L would.
    r = range_test(q, plain_sgd, lr_min=crit * 1e-5, lr_max=crit * 1e2)
    assert r.diverged
    # Observed blow-up lags the stability limit: the loss was near zero, so the unstable
    # direction needs a few steps above 2/L to grow back; but never below 2/L.
    assert 1.0 < r.diverged_lr / crit < 10.0
    assert r.suggestion < r.best_lr < r.diverged_lr
    assert r.suggestion < crit
    h = train(q, sgd(lr=r.suggestion), num_steps=200)
    assert not h.diverged and h.final_loss < 1e-3 * h.loss[0]


def test_default_sweep_on_a_textbook_quadratic():
    q = Quadratic([0.5, 10.0])  # 2/L = 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = range_test(q, plain_sgd)
    assert 0.2 < r.diverged_lr < 2.0
    assert r.suggestion < 0.2


def test_momentum_moves_the_blow_up_to_the_heavy_ball_limit():
    q = Quadratic([0.5, 10.0])
    r0 = range_test(q, plain_sgd, num_steps=300)
    r9 = range_test(q, lambda lr: sgd(lr=lr, momentum=0.9), num_steps=300)
    crit9 = 3.8 / q.L  # (2 + 2 * 0.9) / L
    assert 1.0 < r9.diverged_lr / crit9 < 10.0
    # Heavy ball tolerates a larger lr, but its oscillations show up sooner relative to it.
    assert r9.diverged_lr < 10 * r0.diverged_lr


def test_lrs_are_the_geometric_sweep_and_losses_follow_each_update():
    q = Quadratic([1.0, 4.0], rotation=0.4)
    r = range_test(q, plain_sgd, lr_min=1e-4, lr_max=0.1, num_steps=40)
    assert not r.diverged and len(r.lrs) == len(r.losses) == len(r.smoothed) == 40
    np.testing.assert_allclose(r.lrs, np.geomspace(1e-4, 0.1, 40), rtol=1e-12)
    x = q.x0
    for lr, loss in zip(r.lrs, r.losses):  # replay: losses[i] is the loss after lrs[i]
        x = x - lr * q.grad(x)
        assert loss == pytest.approx(q.loss(x), rel=1e-12)
    assert r.best_lr == r.lrs[np.argmin(r.smoothed)]
    assert r.suggestion == pytest.approx(r.best_lr / 10)


@pytest.mark.parametrize("smoothing", [0.0, 0.5, 0.98])
def test_smoothed_is_the_bias_corrected_ema(smoothing):
    r = range_test(Quadratic([1.0, 10.0]), plain_sgd, smoothing=smoothing)
    n = len(r.losses)
    expected = np.empty(n)
    for i in range(n):  # the weights written out in closed form
        weights = (1 - smoothing) * smoothing ** (i - np.arange(i + 1))
        expected[i] = weights @ r.losses[:i + 1] / (1 - smoothing ** (i + 1))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(r.smoothed[finite], expected[finite], rtol=1e-9)


@pytest.mark.parametrize("factor", [1.5, 4.0, 100.0])
def test_stops_at_the_first_blow_up_of_the_smoothed_loss(factor):
    r = range_test(Quadratic([1.0, 10.0]), plain_sgd, diverge_factor=factor, smoothing=0.9)
    assert r.diverged
    s = r.smoothed
    best_before = np.minimum.accumulate(s)[:-1]
    assert np.all(s[1:-1] <= factor * best_before[:-1])  # no earlier stop was due
    assert not np.isfinite(s[-1]) or s[-1] > factor * best_before[-1]
    assert r.diverged_lr == r.lrs[-1]


def test_overflow_stops_cleanly():
    q = Quadratic([1.0, 1e6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = range_test(q, plain_sgd, lr_min=1e-3, lr_max=1e3, diverge_factor=1e300)
    assert r.diverged and not np.isfinite(r.losses[-1])
    assert np.all(np.isfinite(r.losses[:-1]))


def test_immediate_blow_up_means_start_lower():
    q = Quadratic([1.0, 10.0])
    r = range_test(q, plain_sgd, lr_min=5.0, lr_max=50.0)
    assert r.diverged and len(r.lrs) == 1
    assert r.best_lr == r.diverged_lr == 5.0 and r.suggestion == 0.5


def test_start_params_respected_and_not_modified():
    q = Quadratic([1.0, 10.0])
    start = np.array([3.0, -3.0])
    r = range_test(q, plain_sgd, params=start, lr_min=1e-4, lr_max=1e-3, num_steps=5)
    np.testing.assert_array_equal(start, [3.0, -3.0])
    assert r.losses[0] == pytest.approx(q.loss(start - 1e-4 * q.grad(start)))


# --------------------------------------------------------------------------- on the digits


def test_suggestion_trains_logistic_regression_well():
    model = LogisticRegression()
    r = range_test(model, plain_sgd, lr_max=1e3, batch_size=32, rng=np.random.default_rng(0))
    assert r.diverged  # cross-entropy grows only linearly, so it takes a large lr
    h = train(model, sgd(lr=r.suggestion), batch_size=32, num_epochs=3, eval_every=50,
              rng=np.random.default_rng(1))
    assert not h.diverged and h.final_val > 0.9


def test_suggestion_trains_the_mlp_well_and_adam_blows_up_sooner():
    model = MLP()
    r_sgd = range_test(model, plain_sgd, lr_max=100.0, batch_size=32,
                       rng=np.random.default_rng(0))
    r_adam = range_test(model, lambda lr: adam(lr=lr), lr_max=100.0, batch_size=32,
                        rng=np.random.default_rng(0))
    assert r_sgd.diverged and r_adam.diverged
    # Adam's steps are about lr per coordinate whatever the gradient: it breaks at a smaller lr.
    assert r_adam.diverged_lr < r_sgd.diverged_lr
    h = train(model, sgd(lr=r_sgd.suggestion), batch_size=32, num_epochs=3, eval_every=50,
              rng=np.random.default_rng(1))
    assert not h.diverged and h.final_val > 0.9


def test_range_test_on_minibatches_is_seeded():
    model = LogisticRegression()
    a = range_test(model, plain_sgd, batch_size=16, rng=np.random.default_rng(5), num_steps=30)
    b = range_test(model, plain_sgd, batch_size=16, rng=np.random.default_rng(5), num_steps=30)
    np.testing.assert_array_equal(a.losses, b.losses)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, name", [
    (dict(lr_min=0.0), "lr_min"), (dict(lr_min=math.inf), "lr_min"),
    (dict(lr_max=1e-7), "lr_max"), (dict(lr_min=1e-3, lr_max=1e-3), "lr_max"),
    (dict(num_steps=1), "num_steps"),
    (dict(num_steps=10.0), "num_steps"), (dict(smoothing=1.0), "smoothing"),
    (dict(smoothing=-0.1), "smoothing"), (dict(diverge_factor=1.0), "diverge_factor"),
])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        range_test(Quadratic([1.0]), plain_sgd, **kwargs)


def test_bad_make_optimizer_and_non_finite_start():
    with pytest.raises(ValueError, match="make_optimizer"):
        range_test(Quadratic([1.0]), sgd(lr=0.1))
    with pytest.raises(ValueError, match="not finite"):
        range_test(Quadratic([1.0]), plain_sgd, params=np.array([np.inf]))
