"""Loss landscapes with exact gradients: quadratics, classic 2-D surfaces, noisy gradients.

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


# --- helpers shared by every problem -------------------------------------------------------


def _as_point(params, dim, name="params"):
    """Return ``params`` as a float64 array of shape ``(dim,)``, or raise ValueError."""
    x = np.asarray(params, dtype=float)
    if x.shape != (dim,):
        raise ValueError(f"{name} must be a flat array of shape ({dim},), got shape {x.shape}")
    return x


def _as_points(params, dim, name="params"):
    """Return ``params`` as a float64 array of shape ``(dim, ...)`` (one point or a grid)."""
    x = np.asarray(params, dtype=float)
    if x.ndim == 0 or x.shape[0] != dim:
        raise ValueError(
            f"{name} must have shape ({dim},) or ({dim}, ...) for a grid, got shape {x.shape}"
        )
    return x


def _scalar_or_array(value, x):
    """A Python float for a single point, an array for a grid."""
    return float(value) if x.ndim == 1 else value


def _finite_float(value, name):
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def _read_only(array):
    array = np.array(array, dtype=float)
    array.setflags(write=False)
    return array


def _bounds_around(center, x0, margin=1.5):
    """A square-ish plotting box that shows both the minimum and the start."""
    reach = margin * max(float(np.max(np.abs(x0 - center))), 1e-12)
    return tuple((float(c - reach), float(c + reach)) for c in center)


# --- quadratics -----------------------------------------------------------------------------


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
        curvature = _finite_float(curvature, "curvature")
        if curvature <= 0:
            raise ValueError(f"curvature must be > 0, got {curvature}")
        return cls([curvature], x0=[_finite_float(x0, "x0")])

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
        mu = _finite_float(mu, "mu")
        L = _finite_float(L, "L")
        if mu <= 0:
            raise ValueError(f"mu must be > 0, got {mu}")
        if L < mu:
            raise ValueError(f"L must be >= mu = {mu}, got {L}")
        q = cls([mu, L], x0=x0, rotation=_finite_float(angle, "angle"))
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
        g = self.grad(x)
        with np.errstate(over="ignore", invalid="ignore"):
            value = 0.5 * float(np.dot(x - self.minimum, g))
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
        angle = _finite_float(arr, "rotation")
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


# --- classic 2-D test surfaces --------------------------------------------------------------


class _Surface2D:
    """Shared machinery of the 2-D surfaces: subclasses give f, its gradient and Hessian in x, y.

    ``_f``, ``_g`` and ``_h`` are written with elementwise numpy operations so that the same
    code evaluates one point or a whole contour-plot grid.
    """

    dim = 2
    name = "surface"
    min_value = 0.0

    def _init_start(self, x0, default):
        self._x0 = _read_only(_as_point(default if x0 is None else x0, 2, "x0"))
        if not np.all(np.isfinite(self._x0)):
            raise ValueError(f"x0 must be finite, got {self._x0.tolist()}")

    @property
    def x0(self):
        """The default start (a fresh copy)."""
        return np.array(self._x0)

    def loss(self, params):
        """Return f(params); ``params`` of shape (2,) or a stacked grid (2, ...)."""
        p = _as_points(params, 2)
        with np.errstate(over="ignore", invalid="ignore"):
            value = self._f(p[0], p[1])
        return _scalar_or_array(value, p)

    def grad(self, params):
        """Return the gradient; shape of ``params`` (a point or a grid)."""
        p = _as_points(params, 2)
        with np.errstate(over="ignore", invalid="ignore"):
            return np.stack(np.broadcast_arrays(*self._g(p[0], p[1]))).astype(float)

    def loss_and_grad(self, params):
        """Return ``(loss(params), grad(params))`` for one point."""
        p = _as_point(params, 2)
        return self.loss(p), self.grad(p)

    def hessian(self, params):
        """Return the 2 x 2 Hessian at one point."""
        x, y = _as_point(params, 2)
        with np.errstate(over="ignore", invalid="ignore"):
            hxx, hxy, hyy = (float(h) for h in self._h(x, y))
        return np.array([[hxx, hxy], [hxy, hyy]])

    def hvp(self, params, v):
        """Return hessian(params) @ v."""
        v = _as_point(v, 2, "v")
        with np.errstate(over="ignore", invalid="ignore"):
            return self.hessian(params) @ v

    def __repr__(self):
        return f"{type(self).__name__}()"


def _box_including(box, points, margin=0.5):
    """Grow a plotting box ((xmin, xmax), (ymin, ymax)) so that every point is inside it."""
    out = []
    for axis, (lo, hi) in enumerate(box):
        values = [p[axis] for p in points]
        out.append((float(min(lo, min(values) - margin)), float(max(hi, max(values) + margin))))
    return tuple(out)


class Rosenbrock(_Surface2D):
    r"""Rosenbrock's banana valley: easy to find the valley, slow to walk along it.

    .. math::

        f(x, y) = (a - x)^2 + b\,(y - x^2)^2

    One minimum, at :math:`(a, a^2)` with value 0. The curvature across the valley (about
    ``200 b`` near the minimum for ``a = 1``) is far larger than along it, so the largest
    stable learning rate is small and plain gradient descent crawls.

    Args:
        a: position of the minimum, ``(a, a**2)``.
        b: steepness of the valley walls, > 0.
        x0: start; the classic ``(-1.2, 1.0)`` if None.

    Reference: H. H. Rosenbrock, "An automatic method for finding the greatest or least value
    of a function", The Computer Journal 3(3), 1960.

    >>> r = Rosenbrock()
    >>> r.loss(r.minimum), r.grad(r.minimum)
    (0.0, array([0., 0.]))
    >>> r.loss(np.array([-1.2, 1.0]))
    24.2
    """

    name = "Rosenbrock"

    def __init__(self, a=1.0, b=100.0, x0=None):
        self.a = _finite_float(a, "a")
        self.b = _finite_float(b, "b")
        if self.b <= 0:
            raise ValueError(f"b must be > 0, got {b}")
        self.minimum = _read_only([self.a, self.a**2])
        self.minima = (self.minimum,)
        self._init_start(x0, (-1.2, 1.0))
        self.bounds = _box_including(((-2.0, 2.0), (-1.0, 3.0)), [self.minimum, self._x0])

    def _f(self, x, y):
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2

    def _g(self, x, y):
        r = y - x**2
        return -2.0 * (self.a - x) - 4.0 * self.b * x * r, 2.0 * self.b * r

    def _h(self, x, y):
        return 2.0 - 4.0 * self.b * (y - 3.0 * x**2), -4.0 * self.b * x, 2.0 * self.b

    def __repr__(self):
        return f"Rosenbrock(a={self.a}, b={self.b})"


class Beale(_Surface2D):
    r"""Beale's function: a flat plateau, steep walls near the corners and a curved valley.

    .. math::

        f(x, y) = \sum_{i=1}^{3} \left(c_i - x + x y^i\right)^2, \qquad c = (1.5,\ 2.25,\ 2.625)

    Global minimum at (3, 0.5) with value 0. Gradients differ by orders of magnitude across
    the plot box, which is where per-parameter (adaptive) step sizes show their worth.

    Args:
        x0: start; ``(1.0, 1.4)`` if None (on the plateau, above the valley).

    Reference: E. M. L. Beale, "On an iterative method for finding a local minimum of a
    function of more than one variable", Technical Report 25, Princeton University, 1958.

    >>> b = Beale()
    >>> b.loss(b.minimum)
    0.0
    """

    name = "Beale"
    _c = (1.5, 2.25, 2.625)

    def __init__(self, x0=None):
        self.minimum = _read_only([3.0, 0.5])
        self.minima = (self.minimum,)
        self._init_start(x0, (1.0, 1.4))
        self.bounds = _box_including(((-4.5, 4.5), (-4.5, 4.5)), [self.minimum, self._x0])

    def _f(self, x, y):
        return sum((c - x + x * y**i) ** 2 for i, c in enumerate(self._c, start=1))

    def _g(self, x, y):
        gx = gy = 0.0
        for i, c in enumerate(self._c, start=1):
            r = c - x + x * y**i
            gx = gx + 2.0 * r * (y**i - 1.0)
            gy = gy + 2.0 * r * i * x * y ** (i - 1)
        return gx, gy

    def _h(self, x, y):
        # H = 2 * sum_i (grad r_i grad r_i^T + r_i * Hessian of r_i).
        hxx = hxy = hyy = 0.0
        for i, c in enumerate(self._c, start=1):
            r = c - x + x * y**i
            rx, ry = y**i - 1.0, i * x * y ** (i - 1)
            rxy = i * y ** (i - 1)
            ryy = i * (i - 1) * x * y ** (i - 2) if i >= 2 else 0.0
            hxx = hxx + 2.0 * rx * rx
            hxy = hxy + 2.0 * (rx * ry + r * rxy)
            hyy = hyy + 2.0 * (ry * ry + r * ryy)
        return hxx, hxy, hyy


class Himmelblau(_Surface2D):
    r"""Himmelblau's function: four minima of equal depth, so the start decides the answer.

    .. math::

        f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2

    Minima (value 0) at (3, 2), (-2.805118, 3.131313), (-3.779310, -3.283186) and
    (3.584428, -1.848127); ``minimum`` is (3, 2) and ``minima`` lists all four. A local
    maximum sits near (-0.2708, -0.9230).

    Args:
        x0: start; ``(0.0, 0.0)`` if None.

    Reference: D. M. Himmelblau, "Applied Nonlinear Programming", McGraw-Hill, 1972.

    >>> h = Himmelblau()
    >>> [round(h.loss(m), 12) for m in h.minima]
    [0.0, 0.0, 0.0, 0.0]
    """

    name = "Himmelblau"

    def __init__(self, x0=None):
        # Refined by Newton's method to machine precision.
        self.minima = tuple(
            _read_only(m)
            for m in (
                [3.0, 2.0],
                [-2.805118086952745, 3.131312518250573],
                [-3.779310253377747, -3.283185991286169],
                [3.5844283403304917, -1.8481265269644034],
            )
        )
        self.minimum = self.minima[0]
        self._init_start(x0, (0.0, 0.0))
        self.bounds = _box_including(((-5.0, 5.0), (-5.0, 5.0)), [self._x0])

    def _f(self, x, y):
        return (x**2 + y - 11.0) ** 2 + (x + y**2 - 7.0) ** 2

    def _g(self, x, y):
        r1, r2 = x**2 + y - 11.0, x + y**2 - 7.0
        return 4.0 * x * r1 + 2.0 * r2, 2.0 * r1 + 4.0 * y * r2

    def _h(self, x, y):
        return 12.0 * x**2 + 4.0 * y - 42.0, 4.0 * (x + y), 4.0 * x + 12.0 * y**2 - 26.0


class Saddle(_Surface2D):
    r"""A saddle point with a floor: the ridge at the origin that gradient descent must leave.

    .. math::

        f(x, y) = \tfrac12 x^2 - \tfrac12 y^2 + \tfrac14 y^4

    The origin is a saddle (Hessian diag(1, -1)); the quartic term bounds the function below,
    so a run that escapes along y settles in one of two minima, (0, 1) and (0, -1), with value
    -1/4 (Hessian diag(1, 2)). We chose this over the plain ``0.5 (x^2 - y^2)``, which is
    unbounded below: there every escape looks like divergence. Started exactly on the ridge
    (y = 0), gradient descent converges to the saddle and stays; a tiny y, or gradient noise,
    lets it escape, slowly at first (the escape speed is set by the negative curvature).

    Args:
        x0: start; ``(1.0, 0.01)`` if None (close to the ridge, so the escape takes a while).

    >>> s = Saddle()
    >>> s.grad(s.saddle_point), s.hessian(s.saddle_point)
    (array([0., 0.]), array([[ 1.,  0.],
           [ 0., -1.]]))
    >>> s.loss(s.minimum)
    -0.25
    """

    name = "saddle"
    min_value = -0.25

    def __init__(self, x0=None):
        self.minima = (_read_only([0.0, 1.0]), _read_only([0.0, -1.0]))
        self.minimum = self.minima[0]
        self.saddle_point = _read_only([0.0, 0.0])
        self._init_start(x0, (1.0, 0.01))
        self.bounds = _box_including(((-1.5, 1.5), (-1.5, 1.5)), [self._x0])

    def _f(self, x, y):
        return 0.5 * x**2 - 0.5 * y**2 + 0.25 * y**4

    def _g(self, x, y):
        return x, y**3 - y

    def _h(self, x, y):
        return 1.0, 0.0 * x, 3.0 * y**2 - 1.0


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
        sigma = _finite_float(sigma, "sigma")
        if sigma < 0:
            raise ValueError(f"sigma must be >= 0, got {sigma}")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(
                f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}"
            )
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
