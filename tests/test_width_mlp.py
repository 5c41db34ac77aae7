"""The width-parametrized MLP: exact derivatives (against finite differences) and the muP table."""

import math

import numpy as np
import pytest

from lr_course.width_mlp import WidthMLP

CASES = [(p, loss) for p in ("standard", "mup") for loss in ("mse", "xent")]


@pytest.mark.parametrize("parametrization, loss", CASES)
def test_gradient_matches_finite_differences(parametrization, loss):
    net = WidthMLP(6, parametrization, loss, num_train=25)
    rng = np.random.default_rng(1)
    params = net.init(rng) + 0.1 * rng.standard_normal(net.dim)
    grads = net.grad(params)
    for _ in range(3):
        v = rng.standard_normal(net.dim)
        eps = 1e-6
        fd = (net.loss(params + eps * v) - net.loss(params - eps * v)) / (2 * eps)
        assert fd == pytest.approx(grads @ v, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("parametrization, loss", CASES)
def test_hvp_matches_finite_differences_of_the_gradient(parametrization, loss):
    net = WidthMLP(5, parametrization, loss, num_train=20)
    rng = np.random.default_rng(2)
    params = net.init(rng) + 0.2 * rng.standard_normal(net.dim)
    v = rng.standard_normal(net.dim)
    eps = 1e-5
    fd = (net.grad(params + eps * v) - net.grad(params - eps * v)) / (2 * eps)
    np.testing.assert_allclose(net.hvp(params, v), fd, rtol=1e-5, atol=1e-8)


def test_hessian_from_hvp_is_symmetric():
    net = WidthMLP(3, "mup", "xent", num_train=10)
    params = net.x0
    H = np.stack([net.hvp(params, e) for e in np.eye(net.dim)])
    np.testing.assert_allclose(H, H.T, atol=1e-10)


def test_batches_select_rows():
    net = WidthMLP(4, "standard", "mse", num_train=30)
    params = net.x0
    rows = np.array([3, 7, 11])
    sub = WidthMLP(4, "standard", "mse", num_train=30)
    sub.X, sub.Y = net.X[rows], net.Y[rows]
    assert net.loss(params, batch=rows) == pytest.approx(sub.loss(params))
    np.testing.assert_allclose(net.grad(params, batch=rows), sub.grad(params))


def test_mup_is_sgd_with_the_per_layer_rates_of_table_3():
    """One SGD step on muP's params moves the effective weights with lr * n (input, hidden bias)
    and lr / n (output), and leaves the output bias at lr: checked against a hand-written
    step on the effective weights of a standard network with the same function."""
    n, lr = 16, 0.05
    mup = WidthMLP(n, "mup", "mse", num_train=40)
    std = WidthMLP(n, "standard", "mse", num_train=40)
    p = mup.init(np.random.default_rng(3))
    w1, c1, w2, b2 = mup.unpack(p)
    a, b = math.sqrt(n), 1 / math.sqrt(n)
    effective = np.concatenate([(a * w1).ravel(), a * c1, (b * w2).ravel(), b2])
    assert std.loss(effective) == pytest.approx(mup.loss(p))          # the same function
    g = std.grad(effective)
    W1, C1, W2, B2 = std.unpack(g)
    by_hand = np.concatenate([(a * w1 - lr * n * W1).ravel(), a * c1 - lr * n * C1,
                              (b * w2 - lr / n * W2).ravel(), b2 - lr * B2])
    q = p - lr * mup.grad(p)
    v1, d1, v2, e2 = mup.unpack(q)
    np.testing.assert_allclose(np.concatenate([(a * v1).ravel(), a * d1, (b * v2).ravel(), e2]), by_hand,
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("parametrization, out_var", [("standard", lambda n: 1 / n), ("mup", lambda n: 1 / n**2)])
def test_initial_variances_follow_the_table(parametrization, out_var):
    n = 400
    net = WidthMLP(n, parametrization, "mse", num_train=10)
    w1, c1, w2, b2 = net.unpack(net.init(np.random.default_rng(4)))
    W1, W2 = net.in_mult * w1, net.out_mult * w2
    assert W1.var() == pytest.approx(1 / 64, rel=0.02)
    assert W2.var() == pytest.approx(out_var(n), rel=0.05)
    assert not c1.any() and not b2.any()


def test_mup_outputs_shrink_with_width_and_standard_ones_do_not():
    def spread(par, n):
        net = WidthMLP(n, par, "mse", num_train=100)
        return net.outputs(net.x0).std()
    assert spread("mup", 1024) < 0.25 * spread("mup", 64)
    assert 0.5 < spread("standard", 1024) / spread("standard", 64) < 2


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="width"):
        WidthMLP(0)
    with pytest.raises(ValueError, match="parametrization"):
        WidthMLP(4, "ntk")
    with pytest.raises(ValueError, match="loss"):
        WidthMLP(4, loss="hinge")
    with pytest.raises(ValueError, match="num_train"):
        WidthMLP(4, num_train=100000)
    net = WidthMLP(4, num_train=10)
    with pytest.raises(ValueError, match="params"):
        net.loss(np.zeros(3))
    with pytest.raises(ValueError, match="batch"):
        net.loss(net.x0, batch=np.array([10]))
    with pytest.raises(ValueError, match="rng"):
        net.init(0)
    with pytest.raises(ValueError, match="v must"):
        net.hvp(net.x0, np.zeros(2))
