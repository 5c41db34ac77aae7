"""The catapult model: exact derivatives, the one-step formulas, and the three phases."""

import math

import numpy as np
import pytest

from lr_course import optimizers, training
from lr_course.catapult import UVModel


def test_derivatives_against_finite_differences():
    m = UVModel(7, target=0.3, rng=np.random.default_rng(1))
    p = m.x0
    rng = np.random.default_rng(2)
    v = rng.standard_normal(m.dim)
    eps = 1e-6
    assert (m.loss(p + eps * v) - m.loss(p - eps * v)) / (2 * eps) == pytest.approx(m.grad(p) @ v, rel=1e-6)
    fd = (m.grad(p + eps * v) - m.grad(p - eps * v)) / (2 * eps)
    np.testing.assert_allclose(m.hessian(p) @ v, fd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(m.hvp(p, v), m.hessian(p) @ v, rtol=1e-12, atol=1e-12)


def test_one_step_formulas_of_the_module():
    m = UVModel(50, target=0.7, rng=np.random.default_rng(3))
    p, eta, n = m.x0, 0.4, 50
    f, lam = m.output(p), m.ntk(p)
    r = f - 0.7
    q = p - eta * m.grad(p)
    assert m.output(q) == pytest.approx(f - eta * lam * r + eta**2 * r**2 * f / n, rel=1e-12)
    assert m.ntk(q) == pytest.approx(lam - 4 * eta * r * f / n + eta**2 * r**2 * lam / n, rel=1e-12)


def test_at_a_minimum_the_top_hessian_eigenvalue_is_the_kernel():
    m = UVModel(5, target=0.0, rng=np.random.default_rng(4))
    p = m.x0
    p[5:] -= (p[:5] @ p[5:]) / (p[:5] @ p[:5]) * p[:5]       # make u . v = 0, so f = 0 = target
    assert m.output(p) == pytest.approx(0.0, abs=1e-12)
    assert np.linalg.eigvalsh(m.hessian(p)).max() == pytest.approx(m.ntk(p), rel=1e-10)
    assert m.sharpness_at_minimum(p) == pytest.approx(m.ntk(p), rel=1e-12)


@pytest.mark.parametrize("factor, phase", [(1.0, "lazy"), (3.0, "catapult"), (4.4, "divergent")])
def test_the_three_phases(factor, phase):
    m = UVModel(500, rng=np.random.default_rng(5))
    lam0 = m.ntk(m.x0)
    run = training.train(m, optimizers.sgd(lr=factor / lam0), num_steps=300, blowup=1e12)
    if phase == "divergent":
        assert run.diverged
        return
    assert not run.diverged and run.final_loss < 1e-6 * run.loss[0]
    lam_end = m.ntk(run.final_params)
    if phase == "lazy":
        assert run.loss.max() == run.loss[0] and lam_end == pytest.approx(lam0, rel=0.02)
    else:
        assert run.loss.max() > 10 * run.loss[0] and lam_end * factor / lam0 < 2


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="width"):
        UVModel(0)
    with pytest.raises(ValueError, match="target"):
        UVModel(3, target=math.inf)
    with pytest.raises(ValueError, match="rng"):
        UVModel(3, rng=1)
    with pytest.raises(ValueError, match="params"):
        UVModel(3).loss(np.zeros(5))
