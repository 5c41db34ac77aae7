r"""The catapult model: a wide two-layer linear network on one example, solvable by hand.

Lewkowycz et al. (2020) explain what a network does at learning rates above the classical limit
with the smallest model that shows it: :math:`f = v^\top u / \sqrt n` for one input
:math:`x = 1`, with :math:`u, v \in \mathbb{R}^n`, and the loss
:math:`L = \tfrac12 (f - y)^2`. Its curvature is measured by the neural tangent kernel

.. math::

    \lambda = \lVert \nabla_{u,v} f \rVert^2 = \frac{\lVert u \rVert^2 + \lVert v \rVert^2}{n},

which is also the top eigenvalue of the Hessian at any minimum (there the Hessian is
:math:`\nabla f \nabla f^\top`). One gradient step with rate :math:`\eta` on the residual
:math:`r = f - y` gives, exactly (expand :math:`u' = u - \eta r v/\sqrt n`,
:math:`v' = v - \eta r u/\sqrt n`):

.. math::

    f' = f - \eta \lambda r + \frac{\eta^2 r^2 f}{n}, \qquad
    \lambda' = \lambda - \frac{4 \eta r f}{n} + \frac{\eta^2 r^2 \lambda}{n}.

With :math:`y = 0` (so :math:`r = f`) the second reads
:math:`\lambda' = \lambda + \eta f^2 (\eta\lambda - 4) / n`: while :math:`\eta\lambda < 4` a large
loss *lowers* the curvature. Below :math:`2/\lambda_0` nothing much moves (the "lazy" phase);
between :math:`2/\lambda_0` and :math:`4/\lambda_0` the loss first grows, the curvature falls
until it is below :math:`2/\eta`, and training converges at a flatter point (the catapult);
above :math:`4/\lambda_0` the curvature grows with the loss and training diverges.

Reference: A. Lewkowycz, Y. Bahri, E. Dyer, J. Sohl-Dickstein, G. Gur-Ari, The large learning
rate phase of deep learning: the catapult mechanism, arXiv:2003.02218.

>>> model = UVModel(width=4, target=0.0, rng=np.random.default_rng(0))
>>> params = model.x0
>>> lam = model.ntk(params)
>>> bool(np.isclose(model.sharpness_at_minimum(params), lam))
True
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["UVModel"]


class UVModel:
    r"""The two-layer linear model :math:`f = v^\top u / \sqrt n` fitted to one target.

    Follows the course's Problem protocol on ``params = concatenate([u, v])`` (length
    ``2 * width``): ``loss``, ``grad``, ``loss_and_grad``, ``hvp``, ``hessian``, ``x0``, ``dim``.

    Args:
        width: n, >= 1.
        target: y, a finite number.
        rng: a ``numpy.random.Generator`` for the start (standard normal u and v, as in the
            paper's NTK parametrization); ``default_rng(0)`` if None.

    Attributes:
        width, target, dim.
    """

    def __init__(self, width, target=0.0, rng=None):
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
            raise ValueError(f"width must be an integer >= 1, got {width!r}")
        target = float(target)
        if not math.isfinite(target):
            raise ValueError(f"target must be a finite number, got {target!r}")
        rng = np.random.default_rng(0) if rng is None else rng
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator or None, got {rng!r}")
        self.width = int(width)
        self.target = target
        self.dim = 2 * self.width
        self._x0 = rng.standard_normal(self.dim)

    @property
    def x0(self):
        """The start drawn at construction (a fresh copy)."""
        return self._x0.copy()

    def _split(self, params):
        p = np.asarray(params, dtype=float)
        if p.shape != (self.dim,):
            raise ValueError(f"params must be a flat array of shape ({self.dim},), got shape {p.shape}")
        return p[: self.width], p[self.width:]

    def output(self, params):
        """The network's output f."""
        u, v = self._split(params)
        with np.errstate(over="ignore", invalid="ignore"):
            return float(u @ v) / math.sqrt(self.width)

    def ntk(self, params):
        r"""The tangent kernel :math:`\lambda = (\lVert u\rVert^2 + \lVert v\rVert^2) / n`."""
        p = np.asarray(params, dtype=float)
        self._split(p)
        with np.errstate(over="ignore", invalid="ignore"):
            return float(p @ p) / self.width

    def sharpness_at_minimum(self, params):
        """The top Hessian eigenvalue the model would have at a minimum with these weights (= ntk)."""
        u, v = self._split(params)
        J = np.concatenate([v, u]) / math.sqrt(self.width)
        return float(J @ J)

    def loss(self, params):
        """Half the squared residual."""
        with np.errstate(over="ignore", invalid="ignore"):
            return 0.5 * (self.output(params) - self.target) ** 2

    def loss_and_grad(self, params):
        """The loss and its gradient ``r * (v, u) / sqrt(n)``."""
        u, v = self._split(params)
        with np.errstate(over="ignore", invalid="ignore"):
            r = float(u @ v) / math.sqrt(self.width) - self.target
            return 0.5 * r * r, r * np.concatenate([v, u]) / math.sqrt(self.width)

    def grad(self, params):
        """The gradient of :meth:`loss`."""
        return self.loss_and_grad(params)[1]

    def hessian(self, params):
        r"""The exact Hessian :math:`J J^\top + r\,\partial^2 f`, with :math:`J = (v, u)/\sqrt n`."""
        u, v = self._split(params)
        n = self.width
        J = np.concatenate([v, u]) / math.sqrt(n)
        r = float(u @ v) / math.sqrt(n) - self.target
        H = np.outer(J, J)
        H[:n, n:] += r * np.eye(n) / math.sqrt(n)
        H[n:, :n] += r * np.eye(n) / math.sqrt(n)
        return H

    def hvp(self, params, v):
        """The Hessian-vector product, without forming the Hessian."""
        u, w = self._split(params)
        a, b = self._split(v)
        n = self.width
        with np.errstate(over="ignore", invalid="ignore"):
            J = np.concatenate([w, u]) / math.sqrt(n)
            r = float(u @ w) / math.sqrt(n) - self.target
            return J * float(J @ np.asarray(v, dtype=float)) + r * np.concatenate([b, a]) / math.sqrt(n)

    def __repr__(self):
        return f"UVModel(width={self.width}, target={self.target})"
