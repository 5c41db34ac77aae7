"""Sharpness tracking: power iteration against exact eigenvalues, and gradient descent by hand."""

import numpy as np
import pytest

from lr_course.problems import Quadratic
from lr_course.sharpness import track_sharpness, warm_power_iteration
from lr_course.width_mlp import WidthMLP


def test_power_iteration_finds_the_top_eigenpair():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    lam = np.array([0.1, 0.5, 1, 2, 3, 4, 5, 9.0])
    H = (Q * lam) @ Q.T
    value, vec = warm_power_iteration(lambda v: H @ v, rng.standard_normal(8), 200)
    assert value == pytest.approx(9.0, rel=1e-10)
    assert abs(vec @ Q[:, -1]) == pytest.approx(1.0, abs=1e-8)


def test_warm_start_needs_few_iterations():
    H = np.diag([1.0, 2.0, 10.0])
    near = np.array([0.01, 0.01, 1.0])
    assert warm_power_iteration(lambda v: H @ v, near, 3)[0] == pytest.approx(10.0, rel=1e-6)


def test_gd_on_a_quadratic_by_hand():
    q = Quadratic([1.0, 4.0], x0=[1.0, 1.0])
    run = track_sharpness(q, lr=0.1, num_steps=30, every=7)
    x = np.array([1.0, 1.0])
    expected = []
    for _ in range(31):
        expected.append(0.5 * (x[0] ** 2 + 4 * x[1] ** 2))
        x = x - 0.1 * np.array([1.0, 4.0]) * x
    np.testing.assert_allclose(run.loss, expected, rtol=1e-12)
    assert run.steps.tolist() == [0, 7, 14, 21, 28, 30]
    np.testing.assert_allclose(run.sharpness, 4.0, rtol=1e-6)
    assert run.threshold == pytest.approx(20.0) and not run.diverged


def test_sharpness_of_a_network_matches_its_full_hessian():
    net = WidthMLP(3, "standard", "mse", num_train=15)
    run = track_sharpness(net, lr=0.05, num_steps=40, every=20, num_iters=40)
    for step, measured in zip(run.steps, run.sharpness):
        params = net.x0
        for _ in range(step):
            params = params - 0.05 * net.grad(params)
        H = np.stack([net.hvp(params, e) for e in np.eye(net.dim)])
        assert measured == pytest.approx(np.linalg.eigvalsh(H).max(), rel=1e-3), step


def test_divergence_stops_the_run():
    run = track_sharpness(Quadratic([1.0, 4.0]), lr=0.6, num_steps=500, every=10)
    assert run.diverged and len(run.loss) < 501


def test_sharpness_between_selects_steps():
    run = track_sharpness(Quadratic([2.0]), lr=0.1, num_steps=100, every=10)
    assert run.sharpness_between(50, 80).size == 3


def test_bad_arguments_name_themselves():
    q = Quadratic([1.0])
    with pytest.raises(ValueError, match="lr"):
        track_sharpness(q, lr=0.0, num_steps=5)
    with pytest.raises(ValueError, match="every"):
        track_sharpness(q, lr=0.1, num_steps=5, every=0)
    with pytest.raises(ValueError, match="num_steps"):
        track_sharpness(q, lr=0.1, num_steps=-1)
    with pytest.raises(ValueError, match="rng"):
        track_sharpness(q, lr=0.1, num_steps=5, rng=3)
    with pytest.raises(ValueError, match="num_iters"):
        warm_power_iteration(lambda v: v, np.ones(2), 0)
    with pytest.raises(ValueError, match="non-zero"):
        warm_power_iteration(lambda v: v, np.zeros(2), 3)
