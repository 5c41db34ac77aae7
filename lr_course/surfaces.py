"""Classic 2-D test surfaces with exact gradients and Hessians: Rosenbrock, Beale, Himmelblau
and a saddle.

They follow the problem protocol of :mod:`lr_course.problems` (which re-exports them and lists
them in :data:`lr_course.problems.SURFACES`), plus ``minimum``, ``min_value`` and ``bounds``;
``loss`` and ``grad`` also accept a stacked grid of shape ``(2, ...)`` for contour plots.
"""

from __future__ import annotations

import numpy as np

from lr_course import _checks
from lr_course._points import _as_point, _as_points, _read_only, _scalar_or_array

__all__ = ["Rosenbrock", "Beale", "Himmelblau", "Saddle"]


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
        self.a = _checks.real("a", a)
        self.b = _checks.real("b", b, low=0, low_open=True)
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
