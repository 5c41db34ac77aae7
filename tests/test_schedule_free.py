"""Schedule-free SGD: its two special cases written out by hand, and the vectorised runs."""

import numpy as np
import pytest

from lr_course.problems import Quadratic
from lr_course.schedule_free import averaged_params, schedule_free_runs, schedule_free_sgd
from lr_course.training import noisy_sgd_runs, train

BOWL = Quadratic([0.5, 2.0], x0=[1.0, -2.0], rotation=0.4)


def _run(opt, problem, num_steps):
    params = problem.x0
    state = opt.init(params)
    for _ in range(num_steps):
        params, state = opt.update(params, problem.grad(params), state)
    return params, state


def test_beta_zero_is_sgd_with_a_polyak_average():
    y, state = _run(schedule_free_sgd(lr=0.3, beta=0.0), BOWL, 25)
    z, iterates = BOWL.x0, []
    for _ in range(25):
        z = z - 0.3 * BOWL.grad(z)
        iterates.append(z)
    np.testing.assert_allclose(state["z"], z, rtol=1e-12)
    np.testing.assert_allclose(y, z, rtol=1e-12)                     # the gradient point is z
    np.testing.assert_allclose(averaged_params(state), np.mean(iterates, axis=0), rtol=1e-12)


def test_beta_one_takes_the_gradient_at_the_average():
    y, state = _run(schedule_free_sgd(lr=0.2, beta=1.0), BOWL, 10)
    x = z = BOWL.x0
    for k in range(10):
        z = z - 0.2 * BOWL.grad(x)
        x = x + (z - x) / (k + 1)
    np.testing.assert_allclose(averaged_params(state), x, rtol=1e-12)
    np.testing.assert_allclose(y, x, rtol=1e-12)


def test_warmup_weights_the_average_by_the_squared_rate():
    opt = schedule_free_sgd(lr=0.4, beta=0.0, warmup_steps=4)
    _, state = _run(opt, BOWL, 6)
    rates = [opt.lr_at(t) for t in range(6)]
    assert rates == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.4, 0.4])
    z, zs = BOWL.x0, []
    for r in rates:
        z = z - r * BOWL.grad(z)
        zs.append(z)
    weights = np.array(rates) ** 2
    np.testing.assert_allclose(averaged_params(state), weights @ np.array(zs) / weights.sum(), rtol=1e-12)


def test_in_place_step_matches_update_and_inputs_are_not_modified():
    opt = schedule_free_sgd(lr=0.1)
    params = BOWL.x0
    state = opt.init(params)
    grads = BOWL.grad(params)
    keep = params.copy(), grads.copy(), state["z"].copy()
    new_params, new_state = opt.update(params, grads, state)
    np.testing.assert_array_equal(params, keep[0])
    np.testing.assert_array_equal(grads, keep[1])
    np.testing.assert_array_equal(state["z"], keep[2])
    opt.step(params, grads, state)
    np.testing.assert_array_equal(params, new_params)
    np.testing.assert_array_equal(state["x"], new_state["x"])
    assert state["t"] == new_state["t"] == 1


def test_works_with_train():
    history = train(BOWL, schedule_free_sgd(lr=0.5), num_steps=200)
    assert history.final_loss < 1e-6 and history.name.startswith("schedule-free")


def test_vectorised_runs_match_the_optimizer_on_the_same_noise():
    lr, beta, lam, sigma = 0.3, 0.9, 1.5, 0.7
    mean = schedule_free_runs(lr, beta, lam, sigma, 1.0, 40, 3, np.random.default_rng(9))
    noise = sigma * np.random.default_rng(9).standard_normal((40, 3))
    opt = schedule_free_sgd(lr=lr, beta=beta)
    y = np.ones(3)
    state = opt.init(y)
    expected = [0.5 * lam]
    for k in range(40):
        y, state = opt.update(y, lam * y + noise[k], state)
        x = averaged_params(state)
        expected.append(0.5 * lam * np.mean(x * x))
    np.testing.assert_allclose(mean, expected, rtol=1e-12)


def test_same_noise_as_noisy_sgd_runs():
    """With beta = 0 and one step, z is the SGD iterate: both functions draw the same noise."""
    a = schedule_free_runs(0.2, 0.0, 1.0, 1.0, 1.0, 1, 50, np.random.default_rng(4))
    b, _ = noisy_sgd_runs(np.array([0.2]), 1.0, 1.0, 1.0, 50, np.random.default_rng(4))
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_averaging_beats_the_constant_rate_noise_floor():
    sf = schedule_free_runs(0.3, 0.9, 1.0, 1.0, 1.0, 1000, 1000, np.random.default_rng(0))[-1]
    floor = 0.5 * 0.3 / (2 - 0.3)                                    # loss at SGD's floor, lr 0.3
    assert sf < floor / 10


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="lr"):
        schedule_free_sgd(lr=0)
    with pytest.raises(ValueError, match="beta"):
        schedule_free_sgd(beta=1.5)
    with pytest.raises(ValueError, match="warmup_steps"):
        schedule_free_sgd(warmup_steps=-1)
    with pytest.raises(ValueError, match="state"):
        averaged_params({})
    with pytest.raises(ValueError, match="same shape"):
        opt = schedule_free_sgd()
        opt.update(np.zeros(2), np.zeros(3), opt.init(np.zeros(2)))
    with pytest.raises(ValueError, match="rng"):
        schedule_free_runs(0.1, 0.9, 1.0, 1.0, 1.0, 5, 5, 0)
    with pytest.raises(ValueError, match="num_runs"):
        schedule_free_runs(0.1, 0.9, 1.0, 1.0, 1.0, 5, 0, np.random.default_rng(0))
