"""Loss landscapes with exact gradients: quadratics, classic 2-D surfaces, noisy gradients.

The classic surfaces (Rosenbrock, Beale, Himmelblau, Saddle) are defined in
:mod:`lr_course.surfaces` and importable from here too.

Every problem in the course (these surfaces, and the models in :mod:`lr_course.models`)
follows one protocol, so that optimizers, training loops and explorers never need to know
which problem they are running on:

``dim``
    the number of parameters (an int).
``x0``
    the default starting point: a fresh float64 1-D array of length ``dim`` each time it is
    read, so a caller may modify it freely.
``loss(params) -> float``
    the objective at ``params``, one flat float array of length ``dim``.
``grad(params) -> ndarray``
    the gradient, same shape as ``params``.
``loss_and_grad(params) -> (float, ndarray)``
    both at once (cheaper than two calls for the models).
``hvp(params, v) -> ndarray``
    the Hessian-vector product H(params) @ v, exact here (curvature lessons need it).
``hessian(params) -> ndarray``
    the full ``(dim, dim)`` Hessian, where it is cheap (every problem in this module).

The 2-D surfaces (and 2-D quadratics) add ``minimum``, ``min_value`` and ``bounds``
(``((xmin, xmax), (ymin, ymax))`` for contour plots), and their ``loss`` and ``grad`` also
accept a stacked grid of shape ``(2, ...)``, e.g. ``loss(np.stack([X, Y]))``, returning an
array of the grid's shape. :data:`SURFACES` maps a name to a constructor for the explorers.

Divergent training is a lesson here, not an error: a huge ``params`` gives an inf or NaN loss
without numpy warnings.

>>> q = Quadratic([1.0, 10.0])
>>> q.dim, q.mu, q.L
(2, 1.0, 10.0)
>>> q.loss(np.array([1.0, 1.0]))
5.5
"""

from __future__ import annotations

import numpy as np

from lr_course import _checks
from lr_course._points import _as_point, _as_points, _read_only, _scalar_or_array
# The classic 2-D surfaces live in their own module; they are part of this one's API.
from lr_course.surfaces import Beale, Himmelblau, Rosenbrock, Saddle

__all__ = [
    "Quadratic",
    "ill_conditioned",
    "Rosenbrock",
    "Beale",
    "Himmelblau",
    "Saddle",
    "NoisyGradient",
    "SURFACES",
]


# --- quadratics -----------------------------------------------------------------------------


def _bounds_around(center, x0, margin=1.5):
    """A square-ish plotting box that shows both the minimum and the start."""
    reach = margin * max(float(np.max(np.abs(x0 - center))), 1e-12)
    return tuple((float(c - reach), float(c + reach)) for c in center)


class Quadratic:
    r"""A quadratic bowl with chosen curvatures: the model problem of the learning-rate lessons.

    .. math::

        f(x) = \tfrac12 (x - c)^\top A (x - c), \qquad A = Q\,\mathrm{diag}(\lambda)\,Q^\top

    where :math:`\lambda` = ``eigenvalues``, :math:`c` = ``center`` and :math:`Q` comes from
    ``rotation``. Gradient descent on it converges iff ``0 < lr < 2 / L`` and the best fixed
    step is ``2 / (mu + L)``, with ``mu`` and ``L`` the smallest and largest eigenvalues.

    Args:
        eigenvalues: the curvatures, a non-empty 1-D sequence; its length is ``dim``. All must be
            > 0 unless ``allow_indefinite=True`` (a negative one makes a saddle).
        x0: default start; ``center + 1`` in every coordinate if None.
        rotation: None for ``Q = I`` (axes are the eigenvectors); a number, for ``dim == 2``,
            the angle in radians of the first eigenvector; a ``numpy.random.Generator`` for a
            random orthogonal ``Q`` (uniform over rotations and reflections); or an orthogonal
            ``(dim, dim)`` matrix whose columns are the eigenvectors.
        center: the minimizer ``c``; zeros if None.
        allow_indefinite: accept zero or negative eigenvalues.

    Attributes:
        eigenvalues, mu, L, A, Q, minimum (= ``center``), min_value (0.0), condition_number
        (``L / mu``), bounds (for ``dim == 2``; plotting box around the minimum and ``x0``).

    >>> q = Quadratic([1.0, 4.0], x0=[2.0, 1.0])
    >>> q.grad(q.x0)
    array([2., 4.])
    >>> q.hvp(q.x0, np.array([0.0, 1.0]))
    array([0., 4.])
    >>> round(2 / (q.mu + q.L), 3)  # the best fixed learning rate
    0.4
    """

    name = "quadratic"

    def __init__(self, eigenvalues, x0=None, rotation=None, center=None, allow_indefinite=False):
        lam = np.asarray(eigenvalues, dtype=float)
        if lam.ndim != 1 or lam.size == 0:
            raise ValueError(
                f"eigenvalues must be a non-empty 1-D sequence, got shape {lam.shape}"
            )
        if not np.all(np.isfinite(lam)):
            raise ValueError(f"eigenvalues must be finite, got {lam.tolist()}")
        if not allow_indefinite and np.any(lam <= 0):
            raise ValueError(
                f"eigenvalues must all be > 0 for a positive-definite quadratic, got "
                f"{lam.tolist()} (pass allow_indefinite=True for a saddle)"
            )
        dim = lam.size
        self.dim = dim
        self.eigenvalues = _read_only(lam)
        self.mu = float(lam.min())
        self.L = float(lam.max())
        self.Q = _read_only(_orthogonal(rotation, dim))
        # Symmetrise so round-off never makes A (and hence the Hessian) slightly asymmetric.
        A = (self.Q * lam) @ self.Q.T
        self.A = _read_only(0.5 * (A + A.T))
        if center is None:
            center = np.zeros(dim)
        self.minimum = _read_only(_as_point(center, dim, "center"))
        if not np.all(np.isfinite(self.minimum)):
            raise ValueError(f"center must be finite, got {self.minimum.tolist()}")
        self.min_value = 0.0
        if x0 is None:
            x0 = self.minimum + 1.0
        self._x0 = _read_only(_as_point(x0, dim, "x0"))
        if not np.all(np.isfinite(self._x0)):
            raise ValueError(f"x0 must be finite, got {self._x0.tolist()}")
        if dim == 2:
            self.bounds = _bounds_around(self.minimum, self._x0)

    # Constructors for the lessons' standard cases.

    @classmethod
    def one_d(cls, curvature=1.0, x0=1.0):
        r"""The 1-D quadratic :math:`f(x) = \tfrac12 \lambda x^2`, with :math:`\lambda` = ``curvature``.

        Gradient descent multiplies x by ``1 - lr * curvature`` each step: monotone below
        ``1 / curvature``, oscillating up to ``2 / curvature``, diverging above.

        >>> q = Quadratic.one_d(curvature=2.0, x0=1.0)
        >>> x = q.x0
        >>> x - 0.25 * q.grad(x)  # lr = 0.25 < 1/lambda: shrinks without changing sign
        array([0.5])
        """
        curvature = _checks.real("curvature", curvature, low=0, low_open=True)
        return cls([curvature], x0=[_checks.real("x0", x0)])

    @classmethod
    def ill_conditioned(cls, mu=1.0, L=10.0, angle=0.0, x0=(-2.0, 0.8)):
        r"""The 2-D ill-conditioned bowl of the lessons: curvature ``mu`` along one axis, ``L``
        along the other, the axes turned by ``angle`` radians.

        The default start lies off both axes, so gradient descent shows both behaviours at
        once: a fast (possibly zig-zagging) direction with curvature ``L`` and a slow one with
        curvature ``mu``. Condition number ``L / mu`` = 10 by default.

        >>> q = Quadratic.ill_conditioned()
        >>> q.mu, q.L, q.condition_number
        (1.0, 10.0, 10.0)
        """
        mu = _checks.real("mu", mu, low=0, low_open=True)
        L = _checks.real("L", L, low=mu, rule=f"a finite number >= mu = {mu}")
        q = cls([mu, L], x0=x0, rotation=_checks.real("angle", angle))
        q.name = "ill-conditioned quadratic"
        return q

    # The protocol.

    @property
    def x0(self):
        """The default start (a fresh copy)."""
        return np.array(self._x0)

    @property
    def condition_number(self):
        """``L / mu`` (inf if ``mu <= 0``)."""
        return self.L / self.mu if self.mu > 0 else float("inf")

    def loss(self, params):
        """Return f(params); ``params`` of shape (dim,) or a stacked grid (dim, ...)."""
        x = _as_points(params, self.dim)
        d = x - self.minimum.reshape((self.dim,) + (1,) * (x.ndim - 1))
        with np.errstate(over="ignore", invalid="ignore"):
            Ad = np.tensordot(self.A, d, axes=1)
            value = 0.5 * np.sum(d * Ad, axis=0)
        return _scalar_or_array(value, x)

    def grad(self, params):
        """Return A (params - c); shape of ``params`` (a point or a grid)."""
        x = _as_points(params, self.dim)
        d = x - self.minimum.reshape((self.dim,) + (1,) * (x.ndim - 1))
        with np.errstate(over="ignore", invalid="ignore"):
            return np.tensordot(self.A, d, axes=1)

    def loss_and_grad(self, params):
        """Return ``(loss(params), grad(params))`` for one point."""
        x = _as_point(params, self.dim)
        # For one point A @ d gives the bits of grad's tensordot (tests/test_problems.py checks
        # it), without tensordot's reshaping: the step costs a third less in the lessons' loops.
        d = x - self.minimum
        with np.errstate(over="ignore", invalid="ignore"):
            g = self.A @ d
            value = 0.5 * float(np.dot(d, g))
        return value, g

    def hessian(self, params=None):
        """Return A (the Hessian is constant; ``params`` is accepted for the protocol)."""
        if params is not None:
            _as_point(params, self.dim)
        return np.array(self.A)

    def hvp(self, params, v):
        """Return A @ v."""
        _as_point(params, self.dim)
        v = _as_point(v, self.dim, "v")
        with np.errstate(over="ignore", invalid="ignore"):
            return self.A @ v

    def __repr__(self):
        return f"Quadratic(eigenvalues={self.eigenvalues.tolist()}, dim={self.dim})"


def _orthogonal(rotation, dim):
    """The eigenvector matrix Q of a Quadratic from its ``rotation`` argument."""
    if rotation is None:
        return np.eye(dim)
    if isinstance(rotation, np.random.Generator):
        # QR of a Gaussian matrix, signs fixed by R's diagonal, is uniform on O(dim)
        # (Mezzadri 2007, "How to generate random matrices from the classical compact groups").
        q, r = np.linalg.qr(rotation.standard_normal((dim, dim)))
        return q * np.where(np.diag(r) < 0, -1.0, 1.0)
    if isinstance(rotation, (bool, np.bool_)):
        raise ValueError(f"rotation must be None, an angle, a Generator or a matrix, got {rotation!r}")
    try:
        arr = np.asarray(rotation, dtype=float)
    except (TypeError, ValueError):
        arr = None
    if arr is not None and arr.ndim == 0:
        if dim != 2:
            raise ValueError(f"rotation as an angle needs dim == 2, got dim = {dim}")
        angle = _checks.real("rotation", arr)
        c, s = np.cos(angle), np.sin(angle)
        return np.array([[c, -s], [s, c]])
    if arr is not None and arr.shape == (dim, dim):
        if not (np.all(np.isfinite(arr)) and np.allclose(arr.T @ arr, np.eye(dim), atol=1e-8)):
            raise ValueError("rotation as a matrix must be orthogonal (Q.T @ Q == I)")
        return arr
    raise ValueError(
        f"rotation must be None, an angle (dim 2), a numpy Generator or an orthogonal "
        f"({dim}, {dim}) matrix, got {rotation!r}"
    )


def ill_conditioned(mu=1.0, L=10.0, angle=0.0, x0=(-2.0, 0.8)):
    """The 2-D ill-conditioned lesson quadratic; same as :meth:`Quadratic.ill_conditioned`.

    >>> ill_conditioned(mu=1.0, L=100.0).condition_number
    100.0
    """
    return Quadratic.ill_conditioned(mu=mu, L=L, angle=angle, x0=x0)


# --- noisy gradients ------------------------------------------------------------------------


class NoisyGradient:
    r"""A problem whose gradient carries Gaussian noise: a model of minibatch SGD.

    .. math::

        \tilde g(x) = \nabla f(x) + \sigma\,\xi, \qquad \xi \sim \mathcal N(0, I)

    with :math:`\sigma` = ``sigma`` and :math:`\xi` drawn from ``rng``. ``loss``, ``hvp`` and
    ``hessian`` are the exact ones of the wrapped problem (what we measure and what sets
    stability are noise-free); only ``grad`` and the gradient of ``loss_and_grad`` are noisy.
    With a constant lr, SGD on :math:`\tfrac12\lambda x^2` stalls at
    :math:`E[x^2] = \mathrm{lr}\,\sigma^2 / (\lambda (2 - \mathrm{lr}\,\lambda))`.

    A draw is made on every call, even with ``sigma = 0``, so runs with the same seed and
    different ``sigma`` see the same noise directions (common random numbers). Any other
    attribute (``mu``, ``L``, ``minimum``, ``bounds``, ``evaluate``...) is the wrapped
    problem's, and extra arguments (a model's ``batch=``) are passed through.

    Args:
        problem: any problem following the protocol; available as ``.exact``.
        sigma: noise standard deviation per coordinate, >= 0.
        rng: a ``numpy.random.Generator``; the source of all the noise.

    >>> noisy = NoisyGradient(Quadratic.one_d(), sigma=0.1, rng=np.random.default_rng(0))
    >>> noisy.loss(np.array([1.0]))  # the exact loss
    0.5
    >>> g = noisy.grad(np.array([1.0]))  # 1.0 plus noise
    >>> bool(abs(g[0] - 1.0) < 1.0)
    True
    """

    def __init__(self, problem, sigma, rng):
        for attr in ("dim", "x0", "loss", "grad", "loss_and_grad"):
            if not hasattr(problem, attr):
                raise ValueError(f"problem must follow the Problem protocol (no .{attr}), got {problem!r}")
        sigma = _checks.real("sigma", sigma, low=0)
        rng = _checks.generator(rng)
        self.exact = problem
        self.sigma = sigma
        self.rng = rng
        self.dim = problem.dim

    @property
    def x0(self):
        """The wrapped problem's default start (a fresh copy)."""
        return self.exact.x0

    def loss(self, params, *args, **kwargs):
        """The exact loss."""
        return self.exact.loss(params, *args, **kwargs)

    def grad(self, params, *args, **kwargs):
        """The exact gradient plus ``sigma`` times a standard normal draw."""
        g = self.exact.grad(params, *args, **kwargs)
        return g + self.sigma * self.rng.standard_normal(np.shape(g))

    def loss_and_grad(self, params, *args, **kwargs):
        """The exact loss and a noisy gradient."""
        value, g = self.exact.loss_and_grad(params, *args, **kwargs)
        return value, g + self.sigma * self.rng.standard_normal(np.shape(g))

    def hvp(self, params, v, *args, **kwargs):
        """The exact Hessian-vector product of the wrapped problem."""
        return self.exact.hvp(params, v, *args, **kwargs)

    def __getattr__(self, name):
        # Only reached for attributes not found normally; guard against recursion while
        # the object is half-built (copy, pickle).
        if name == "exact" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.exact, name)

    def __repr__(self):
        return f"NoisyGradient({self.exact!r}, sigma={self.sigma})"


# --- the explorers' menu --------------------------------------------------------------------


def _well_conditioned():
    q = Quadratic([1.0, 2.0], x0=(-2.0, 1.5))
    q.name = "well-conditioned quadratic"
    return q


#: Name -> constructor (no arguments) of each 2-D landscape the explorers offer.
SURFACES = {
    "quadratic": _well_conditioned,
    "ill_conditioned": Quadratic.ill_conditioned,
    "rosenbrock": Rosenbrock,
    "beale": Beale,
    "himmelblau": Himmelblau,
    "saddle": Saddle,
}
