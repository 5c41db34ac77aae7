"""Adam's adaptive factor: its simulation against Adam's own second moment, and the closed forms."""

import math

import numpy as np
import pytest

from lr_course.adam_variance import adaptive_factors, psi_variance, radam_rectification, radam_rho
from lr_course.optimizers import adam


def test_factors_are_adams_second_moment():
    """Feed the same noise to the course's Adam, recover v_hat from its state, compare."""
    psi = adaptive_factors(30, 4, beta2=0.99, sigma=2.0, rng=np.random.default_rng(5))
    grads = 2.0 * np.random.default_rng(5).standard_normal((30, 4))
    opt = adam(lr=1e-3, beta2=0.99, eps=0.0)
    params = np.zeros(4)
    state = opt.init(params)
    for t in range(30):
        params, state = opt.update(params, grads[t], state)
        v_hat = state["v"] / (1 - 0.99 ** (t + 1))
        np.testing.assert_allclose(psi[t], 1 / np.sqrt(v_hat), rtol=1e-12)


def test_closed_form_variance_against_chi_square_samples():
    rng = np.random.default_rng(0)
    for k in (5, 12, 40):
        v = rng.chisquare(k, size=400_000) / k               # mean of k squared N(0, 1)
        assert np.var(1 / np.sqrt(v)) == pytest.approx(psi_variance(float(k)), rel=0.03), k
    assert psi_variance(2.0) == math.inf and psi_variance(1.0) == math.inf
    assert psi_variance(10.0, sigma=3.0) == pytest.approx(psi_variance(10.0) / 9)
    assert psi_variance(1e4) * 2e4 == pytest.approx(1.0, rel=1e-3)


def test_rho_by_hand():
    beta2 = 0.98
    rho_inf = 2 / (1 - beta2) - 1
    for t in (1, 2, 7, 50, 400):
        assert radam_rho(t, beta2) == pytest.approx(rho_inf - 2 * t * beta2**t / (1 - beta2**t), rel=1e-12)
    assert radam_rho(1, 0.9) == pytest.approx(1.0)                # one square at the first step
    values = radam_rho(np.arange(1, 5000), 0.999)
    assert np.all(np.diff(values) > 0) and values[-1] < 1999


def test_rectification_is_zero_then_rises_to_one():
    r = radam_rectification(np.arange(1, 100_000), 0.999)
    assert np.all(r[:4] == 0) and r[4] > 0
    assert np.all(np.diff(r[4:]) >= 0) and 0.99 < r[-1] <= 1.0
    rho = radam_rho(300, 0.999)
    rho_inf = 1999.0
    expected = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    assert radam_rectification(300, 0.999) == pytest.approx(expected, rel=1e-12)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="beta2"):
        radam_rho(3, 1.0)
    with pytest.raises(ValueError, match="t must"):
        radam_rho(0)
    with pytest.raises(ValueError, match="k must"):
        psi_variance(-1.0)
    with pytest.raises(ValueError, match="sigma"):
        adaptive_factors(3, 3, sigma=0.0)
    with pytest.raises(ValueError, match="num_runs"):
        adaptive_factors(3, 0)
    with pytest.raises(ValueError, match="rng"):
        adaptive_factors(3, 3, rng=1)
