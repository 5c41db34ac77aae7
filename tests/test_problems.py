"""Tests for lr_course.problems: exact derivatives against finite differences and closed forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lr_course import problems
from lr_course.problems import Quadratic


def fd_grad(f, x, h=1e-6):
    """Central finite-difference gradient of a scalar function."""
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def fd_hvp(grad, x, v, h=1e-5):
    """Central finite difference of the gradient along v."""
    return (grad(x + h * v) - grad(x - h * v)) / (2 * h)


# --- Quadratic --------------------------------------------------------------------------------


def test_quadratic_closed_form_values():
    q = Quadratic([1.0, 4.0], center=[1.0, -1.0], x0=[3.0, 0.0])
    assert q.dim == 2 and q.mu == 1.0 and q.L == 4.0
    assert q.min_value == 0.0
    np.testing.assert_array_equal(q.minimum, [1.0, -1.0])
    # d = (2, 1): f = 0.5 * (1*4 + 4*1) = 4
    assert q.loss(q.x0) == pytest.approx(4.0)
    np.testing.assert_allclose(q.grad(q.x0), [2.0, 4.0])
    value, g = q.loss_and_grad(q.x0)
    assert value == pytest.approx(4.0)
    np.testing.assert_allclose(g, [2.0, 4.0])
    assert isinstance(q.loss(q.x0), float)


@pytest.mark.parametrize("dim", [1, 2, 3, 10, 256])
def test_quadratic_loss_and_grad_has_the_bits_of_grad_and_loss(dim):
    # loss_and_grad takes a faster path for one point; the lessons' runs must not move by a bit
    rng = np.random.default_rng(dim)
    q = Quadratic(np.geomspace(0.5, 20.0, dim), rotation=rng, center=rng.standard_normal(dim))
    for scale in (1e-8, 1.0, 1e8):
        x = scale * rng.standard_normal(dim)
        value, g = q.loss_and_grad(x)
        d = x - q.minimum
        reference = np.tensordot(q.A, d, axes=1)
        assert np.array_equal(g, q.grad(x)) and np.array_equal(g, reference)
        assert value == 0.5 * float(np.dot(d, reference))
        assert value == pytest.approx(q.loss(x), rel=1e-12)


def test_quadratic_minimum_has_zero_gradient_and_value():
    q = Quadratic([0.5, 2.0, 7.0], rotation=np.random.default_rng(3), center=[1.0, 2.0, 3.0])
    assert q.loss(q.minimum) == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(q.grad(q.minimum), 0.0, atol=1e-14)


def test_x0_is_a_fresh_copy():
    q = Quadratic([1.0, 2.0])
    x = q.x0
    x[:] = 99.0
    np.testing.assert_array_equal(q.x0, [1.0, 1.0])
    assert q.x0.dtype == np.float64 and q.x0.shape == (2,)


def test_attributes_cannot_be_corrupted_in_place():
    q = Quadratic([1.0, 2.0])
    with pytest.raises(ValueError):
        q.A[0, 0] = 5.0
    with pytest.raises(ValueError):
        q.eigenvalues[0] = 5.0


@settings(max_examples=40, deadline=None)
@given(
    eig=st.lists(st.floats(0.01, 100.0), min_size=1, max_size=6),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_quadratic_derivatives_are_exact(eig, seed):
    rng = np.random.default_rng(seed)
    dim = len(eig)
    q = Quadratic(eig, rotation=rng, center=rng.normal(size=dim))
    # The eigen-decomposition we asked for is the one we got.
    np.testing.assert_allclose(np.linalg.eigvalsh(q.hessian(q.x0)), np.sort(eig), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(q.Q.T @ q.Q, np.eye(dim), atol=1e-12)
    x = rng.normal(size=dim)
    v = rng.normal(size=dim)
    scale = max(eig) * (1 + np.abs(x).max() + np.abs(q.minimum).max())
    np.testing.assert_allclose(q.grad(x), fd_grad(q.loss, x), atol=1e-5 * scale)
    np.testing.assert_allclose(q.hvp(x, v), q.hessian(x) @ v, rtol=1e-12, atol=1e-12 * scale)
    np.testing.assert_allclose(q.hvp(x, v), fd_hvp(q.grad, x, v), atol=1e-6 * scale)
    # Exact: the loss is 0.5 (x-c)^T A (x-c) computed another way.
    d = x - q.minimum
    expected = 0.5 * sum(l * (q.Q[:, i] @ d) ** 2 for i, l in enumerate(eig))
    assert q.loss(x) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_angle_rotation_turns_the_first_eigenvector():
    q = Quadratic([1.0, 10.0], rotation=np.pi / 2)
    # Turned by 90 degrees, the curvature-1 direction is the y axis.
    np.testing.assert_allclose(q.A, np.diag([10.0, 1.0]), atol=1e-12)


def test_explicit_orthogonal_matrix():
    Q = np.array([[0.0, 1.0], [1.0, 0.0]])
    q = Quadratic([2.0, 3.0], rotation=Q)
    np.testing.assert_allclose(q.A, np.diag([3.0, 2.0]))


def test_quadratic_loss_broadcasts_over_grid():
    q = Quadratic.ill_conditioned(angle=0.3)
    X, Y = np.meshgrid(np.linspace(-2, 2, 7), np.linspace(-1, 3, 5))
    Z = q.loss(np.stack([X, Y]))
    assert Z.shape == X.shape
    expected = [[q.loss(np.array([x, y])) for x, y in zip(rx, ry)] for rx, ry in zip(X, Y)]
    np.testing.assert_allclose(Z, expected, rtol=1e-12)
    G = q.grad(np.stack([X, Y]))
    assert G.shape == (2,) + X.shape
    np.testing.assert_allclose(G[:, 1, 2], q.grad(np.array([X[1, 2], Y[1, 2]])))


def test_one_d_and_ill_conditioned_constructors():
    q = Quadratic.one_d(curvature=3.0, x0=2.0)
    assert q.dim == 1 and q.L == q.mu == 3.0
    np.testing.assert_array_equal(q.x0, [2.0])
    assert q.loss(q.x0) == pytest.approx(6.0)
    ic = problems.ill_conditioned(mu=0.5, L=20.0)
    assert (ic.mu, ic.L, ic.dim) == (0.5, 20.0, 2)
    assert ic.condition_number == pytest.approx(40.0)
    # Off-axis start: both eigen-directions are excited.
    assert np.all(np.abs(ic.Q.T @ (ic.x0 - ic.minimum)) > 0.1)
    (xlo, xhi), (ylo, yhi) = ic.bounds
    assert xlo < ic.x0[0] < xhi and ylo < ic.x0[1] < yhi


def test_gradient_descent_threshold_is_two_over_L():
    """A check with teeth: GD converges just below 2/L and diverges just above."""
    q = Quadratic.ill_conditioned(mu=1.0, L=10.0)

    def run(lr, steps=400):
        x = q.x0
        for _ in range(steps):
            x = x - lr * q.grad(x)
        return q.loss(x)

    assert run(0.99 * 2 / q.L) < 1e-3
    assert run(1.01 * 2 / q.L) > 1e3


def test_divergence_gives_inf_without_warnings():
    q = Quadratic([1.0, 2.0])
    with np.errstate(all="raise"):
        assert q.loss(np.array([1e200, 1e200])) == np.inf


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(eigenvalues=[1.0, -1.0]), "eigenvalues"),
        (dict(eigenvalues=[0.0, 1.0]), "eigenvalues"),
        (dict(eigenvalues=[]), "eigenvalues"),
        (dict(eigenvalues=[1.0, np.nan]), "eigenvalues"),
        (dict(eigenvalues=[1.0, 2.0], x0=[1.0]), "x0"),
        (dict(eigenvalues=[1.0, 2.0], center=[1.0, 2.0, 3.0]), "center"),
        (dict(eigenvalues=[1.0, 2.0, 3.0], rotation=0.5), "rotation"),
        (dict(eigenvalues=[1.0, 2.0], rotation=np.ones((2, 2))), "rotation"),
        (dict(eigenvalues=[1.0, 2.0], rotation="left"), "rotation"),
        (dict(eigenvalues=[1.0, 2.0], center=[1.0, np.inf]), "^center must be finite"),
        (dict(eigenvalues=[1.0, 2.0], x0=[np.nan, 0.0]), "^x0 must be finite"),
    ],
)
def test_quadratic_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        Quadratic(**kwargs)


def test_indefinite_allowed_on_request():
    q = Quadratic([1.0, -1.0], allow_indefinite=True)
    assert q.mu == -1.0 and q.condition_number == np.inf
    assert q.loss(np.array([0.0, 1.0])) == pytest.approx(-0.5)


def test_bad_constructor_arguments_named():
    with pytest.raises(ValueError, match="curvature"):
        Quadratic.one_d(curvature=-1.0)
    with pytest.raises(ValueError, match="^mu "):
        Quadratic.ill_conditioned(mu=0.0)
    assert Quadratic.ill_conditioned(mu=1e-12).mu == 1e-12  # the edge: any mu > 0
    q = Quadratic.ill_conditioned()  # the documented defaults
    assert (q.mu, q.L) == (1.0, 10.0) and q.x0.tolist() == [-2.0, 0.8]
    assert np.allclose(q.hessian(), np.diag([1.0, 10.0]))
    with pytest.raises(ValueError, match="L"):
        Quadratic.ill_conditioned(mu=2.0, L=1.0)
    with pytest.raises(ValueError, match="params"):
        Quadratic([1.0, 2.0]).grad(np.zeros(3))


# --- 2-D surfaces -----------------------------------------------------------------------------

SURFACE_CLASSES = [problems.Rosenbrock, problems.Beale, problems.Himmelblau, problems.Saddle]


def test_registry_builds_2d_problems_with_the_protocol():
    assert set(problems.SURFACES) >= {"ill_conditioned", "rosenbrock", "beale", "himmelblau", "saddle"}
    for name, make in problems.SURFACES.items():
        p = make()
        assert p.dim == 2, name
        assert p.x0.shape == (2,) and p.x0.dtype == np.float64
        (xlo, xhi), (ylo, yhi) = p.bounds
        for point in (p.x0, p.minimum):
            assert xlo <= point[0] <= xhi and ylo <= point[1] <= yhi, name
        assert p.loss(p.minimum) == pytest.approx(p.min_value, abs=1e-12)
        assert isinstance(p.name, str)


@pytest.mark.parametrize("cls", SURFACE_CLASSES)
def test_surface_derivatives_match_finite_differences(cls):
    p = cls()
    rng = np.random.default_rng(0)
    (xlo, xhi), (ylo, yhi) = p.bounds
    for _ in range(20):
        x = np.array([rng.uniform(xlo, xhi), rng.uniform(ylo, yhi)])
        v = rng.normal(size=2)
        g = p.grad(x)
        scale = 1.0 + np.abs(g).max()
        np.testing.assert_allclose(g, fd_grad(p.loss, x), rtol=1e-6, atol=1e-6 * scale)
        H = p.hessian(x)
        np.testing.assert_array_equal(H, H.T)
        hscale = 1.0 + np.abs(H).max()
        np.testing.assert_allclose(p.hvp(x, v), H @ v, rtol=1e-12, atol=1e-12 * hscale)
        np.testing.assert_allclose(p.hvp(x, v), fd_hvp(p.grad, x, v), rtol=1e-5, atol=1e-5 * hscale)
        value, g2 = p.loss_and_grad(x)
        assert value == p.loss(x)
        np.testing.assert_array_equal(g2, g)


@pytest.mark.parametrize("cls", SURFACE_CLASSES)
def test_every_listed_minimum_is_a_stationary_minimum(cls):
    p = cls()
    for m in p.minima:
        np.testing.assert_allclose(p.grad(m), 0.0, atol=1e-10)
        assert p.loss(m) == pytest.approx(p.min_value, abs=1e-12)
        assert np.all(np.linalg.eigvalsh(p.hessian(m)) > 0)
    assert any(np.array_equal(p.minimum, m) for m in p.minima)


@settings(max_examples=30, deadline=None)
@given(
    index=st.integers(0, len(SURFACE_CLASSES) - 1),
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_surfaces_broadcast_over_grids_pointwise(index, shape, seed):
    p = SURFACE_CLASSES[index]()
    rng = np.random.default_rng(seed)
    (xlo, xhi), (ylo, yhi) = p.bounds
    grid = np.stack([rng.uniform(xlo, xhi, size=shape), rng.uniform(ylo, yhi, size=shape)])
    Z = p.loss(grid)
    G = p.grad(grid)
    assert Z.shape == tuple(shape) and G.shape == (2, *shape)
    for idx in np.ndindex(*shape):
        point = grid[(slice(None),) + idx]
        assert Z[idx] == pytest.approx(p.loss(point), rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(G[(slice(None),) + idx], p.grad(point), rtol=1e-12, atol=1e-12)


def test_meshgrid_contour_use():
    p = problems.Rosenbrock()
    X, Y = np.meshgrid(np.linspace(*p.bounds[0], 50), np.linspace(*p.bounds[1], 40))
    Z = p.loss(np.stack([X, Y]))
    assert Z.shape == (40, 50) and np.all(Z >= 0)


def test_rosenbrock_closed_form_and_parameters():
    r = problems.Rosenbrock(a=2.0, b=10.0)
    np.testing.assert_array_equal(r.minimum, [2.0, 4.0])
    assert r.loss(np.array([0.0, 0.0])) == pytest.approx(4.0)
    # Hessian at the minimum: [[2 + 8 b a^2, -4 b a], [-4 b a, 2 b]]
    np.testing.assert_allclose(r.hessian(r.minimum), [[322.0, -80.0], [-80.0, 20.0]])
    with pytest.raises(ValueError, match="b"):
        problems.Rosenbrock(b=0.0)
    with pytest.raises(ValueError, match="a"):
        problems.Rosenbrock(a=np.inf)


def test_saddle_escape_needs_a_push():
    s = problems.Saddle()
    np.testing.assert_allclose(s.hessian(s.saddle_point), np.diag([1.0, -1.0]))

    def gd(x, lr=0.1, steps=300):
        for _ in range(steps):
            x = x - lr * s.grad(x)
        return x

    np.testing.assert_allclose(gd(np.array([1.0, 0.0])), [0.0, 0.0], atol=1e-10)  # stuck on the ridge
    np.testing.assert_allclose(gd(s.x0), s.minimum, atol=1e-6)  # a little y escapes
    assert s.loss(np.array([0.0, 10.0])) > 0  # bounded below: no runaway


def test_surfaces_custom_start_and_bad_start():
    assert problems.Beale(x0=(2.0, 0.0)).x0.tolist() == [2.0, 0.0]
    b = problems.Himmelblau(x0=(8.0, 0.0))
    assert b.bounds[0][1] > 8.0  # the plotting box grows to show the start
    with pytest.raises(ValueError, match="x0"):
        problems.Himmelblau(x0=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="x0"):
        problems.Saddle(x0=(np.nan, 0.0))
    with pytest.raises(ValueError, match="params"):
        problems.Beale().loss(np.zeros(3))
    with pytest.raises(ValueError, match="v"):
        problems.Beale().hvp(np.zeros(2), np.zeros(3))


def test_surfaces_diverge_quietly():
    with np.errstate(all="raise"):
        for cls in SURFACE_CLASSES:
            p = cls()
            value = p.loss(np.array([1e200, -1e200]))
            assert not np.isfinite(value) or value > 1e300
            p.grad(np.array([1e200, -1e200]))


# --- NoisyGradient ----------------------------------------------------------------------------


def test_noisy_gradient_statistics():
    q = Quadratic([1.0, 3.0])
    noisy = problems.NoisyGradient(q, sigma=0.5, rng=np.random.default_rng(1))
    x = np.array([0.3, -0.2])
    draws = np.array([noisy.grad(x) for _ in range(20000)])
    np.testing.assert_allclose(draws.mean(axis=0), q.grad(x), atol=0.02)
    np.testing.assert_allclose(draws.std(axis=0), [0.5, 0.5], rtol=0.03)
    np.testing.assert_allclose(np.corrcoef(draws.T)[0, 1], 0.0, atol=0.03)
    assert noisy.loss(x) == q.loss(x)
    value, g = noisy.loss_and_grad(x)
    assert value == q.loss(x) and not np.allclose(g, q.grad(x))
    np.testing.assert_array_equal(noisy.hvp(x, np.ones(2)), q.hvp(x, np.ones(2)))


def test_noisy_gradient_delegates_and_is_reproducible():
    q = Quadratic.ill_conditioned()
    a = problems.NoisyGradient(q, 0.1, np.random.default_rng(7))
    b = problems.NoisyGradient(q, 0.1, np.random.default_rng(7))
    assert a.exact is q and a.dim == 2 and a.L == q.L and a.mu == q.mu
    np.testing.assert_array_equal(a.minimum, q.minimum)
    np.testing.assert_array_equal(a.hessian(a.x0), q.A)
    np.testing.assert_array_equal(a.grad(a.x0), b.grad(b.x0))
    zero = problems.NoisyGradient(q, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(zero.grad(q.x0), q.grad(q.x0))
    with pytest.raises(AttributeError):
        a.no_such_attribute


def test_noisy_sgd_reaches_the_predicted_noise_floor():
    """E[x^2] -> lr sigma^2 / (lambda (2 - lr lambda)) for constant-lr SGD on 0.5 lambda x^2."""
    lam, sigma, lr = 2.0, 1.0, 0.2
    noisy = problems.NoisyGradient(Quadratic.one_d(curvature=lam), sigma, np.random.default_rng(5))
    x, tail = noisy.x0, []
    for step in range(40000):
        x = x - lr * noisy.grad(x)
        if step >= 1000:
            tail.append(x[0] ** 2)
    predicted = lr * sigma**2 / (lam * (2 - lr * lam))
    assert np.mean(tail) == pytest.approx(predicted, rel=0.1)


@pytest.mark.parametrize(
    "args, word",
    [
        ((-0.1, np.random.default_rng(0)), "sigma"),
        ((np.nan, np.random.default_rng(0)), "sigma"),
        ((0.1, 0), "rng"),
        ((0.1, None), "rng"),
    ],
)
def test_noisy_gradient_bad_arguments(args, word):
    with pytest.raises(ValueError, match=word):
        problems.NoisyGradient(Quadratic([1.0]), *args)
    with pytest.raises(ValueError, match="problem"):
        problems.NoisyGradient(object(), 0.1, np.random.default_rng(0))


def test_rotation_by_an_angle_turns_the_axes_counterclockwise():
    c, s = np.cos(0.3), np.sin(0.3)
    q = Quadratic([1.0, 10.0], rotation=0.3)
    rotation = np.array([[c, -s], [s, c]])
    np.testing.assert_allclose(q.hessian(), rotation @ np.diag([1.0, 10.0]) @ rotation.T,
                               atol=1e-14)
    np.testing.assert_allclose(q.hessian(np.zeros(2)), q.hessian())
    with pytest.raises(ValueError, match="params"):
        q.hessian(np.zeros(3))


def test_the_surfaces_default_starts_and_boxes():
    """The starts and plotting boxes the explorers show (Rosenbrock's is the classic (-1.2, 1))."""
    from lr_course import surfaces

    expected = {surfaces.Rosenbrock: ([-1.2, 1.0], ((-2.0, 2.0), (-1.0, 3.0))),
                surfaces.Beale: ([1.0, 1.4], ((-4.5, 4.5), (-4.5, 4.5))),
                surfaces.Himmelblau: ([0.0, 0.0], ((-5.0, 5.0), (-5.0, 5.0))),
                surfaces.Saddle: ([1.0, 0.01], ((-1.5, 1.5), (-1.5, 1.5)))}
    for cls, (x0, box) in expected.items():
        s = cls()
        assert s.x0.tolist() == x0 and s.bounds == box, cls.__name__
    q = problems.SURFACES["quadratic"]()
    assert q.eigenvalues.tolist() == [1.0, 2.0] and q.x0.tolist() == [-2.0, 1.5]


def test_noisy_gradient_adds_sigma_times_the_draws_and_hides_no_dunder():
    q = Quadratic([1.0, 3.0])
    noisy = problems.NoisyGradient(q, 0.5, np.random.default_rng(9))
    draws = np.random.default_rng(9).standard_normal(2)
    np.testing.assert_array_equal(noisy.grad(q.x0), q.grad(q.x0) + 0.5 * draws)
    assert noisy.mu == q.mu  # everything else is the exact problem's
    import copy
    import pickle

    twin = copy.deepcopy(noisy)  # copying looks attributes up before exact exists
    assert twin.mu == q.mu and pickle.loads(pickle.dumps(noisy)).sigma == 0.5
