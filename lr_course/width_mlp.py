r"""A one-hidden-layer network whose width is a knob, in the standard or the muP parametrization.

Lesson 07 uses it twice: with a squared-error loss it shows the edge of stability (the
sharpness of full-batch gradient descent climbs to ``2 / lr``), and at several widths it shows
how the best learning rate moves with width in the standard parametrization and stays put in
the maximal-update parametrization (muP).

The network, for an input :math:`x \in \mathbb{R}^d` and width :math:`n`:

.. math::

    h = \tanh\big(a\,(w_1 x + c_1)\big), \qquad f(x) = b\, w_2 h + b_2

with trainable ``w1`` (n, d), ``c1`` (n,), ``w2`` (k, n), ``b2`` (k,) and fixed multipliers
:math:`a, b` that depend on the parametrization:

===============  =================  ====================  ==================================
parametrization  multipliers a, b   init of w1, w2        what one SGD step with lr does
===============  =================  ====================  ==================================
``"standard"``   1, 1               N(0, 1/d), N(0, 1/n)  every layer moves with lr
``"mup"``        sqrt(n), 1/sqrt(n) N(0, 1/(n d)), N(0,   the effective weights a w1, b w2
                                    1/n)                  have variances 1/d and 1/n^2 and
                                                          move with lr n and lr / n
===============  =================  ====================  ==================================

The muP row is Table 3 of Yang et al. (2022) for SGD (input weights and hidden biases: init
variance 1/fan_in, lr times fan_out = n; output weights: init variance 1/fan_in^2, lr times
1/fan_in = 1/n), written with multipliers so that one global lr does it: plain SGD on ``w``
with lr equals SGD on ``a w`` with lr ``a^2`` times as large, so the multiplier carries the
per-layer lr. The output bias is not scaled (its fan-out, the number of classes, is fixed).

The data are the course's 8x8 digits (the first ``num_train`` training rows); the loss is
``"mse"``, :math:`\tfrac{1}{2N}\sum_i \lVert f(x_i) - e_{y_i}\rVert^2` against one-hot targets
(the setting where Cohen et al. see the edge of stability most clearly), or ``"xent"``, the
mean softmax cross-entropy. Gradients and Hessian-vector products are exact (backpropagation,
and its forward-mode derivative for ``hvp``).

References: G. Yang, E. J. Hu et al., Tensor Programs V: Tuning Large Neural Networks via
Zero-Shot Hyperparameter Transfer, arXiv:2203.03466 (Table 3); J. Cohen et al., Gradient
Descent on Neural Networks Typically Occurs at the Edge of Stability, arXiv:2103.00065.

>>> net = WidthMLP(width=16, num_train=50)
>>> net.dim == 16 * 64 + 16 + 10 * 16 + 10
True
>>> round(net.loss(np.zeros(net.dim)), 6)  # f = 0: half the squared norm of a one-hot target
0.5
"""

from __future__ import annotations

import math

import numpy as np

from lr_course.models import load_digits

__all__ = ["WidthMLP", "PARAMETRIZATIONS", "LOSSES"]

PARAMETRIZATIONS = ("standard", "mup")
LOSSES = ("mse", "xent")
_QUIET = dict(over="ignore", invalid="ignore", divide="ignore", under="ignore")


def _positive_int(value, name, maximum=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return int(value)


class WidthMLP:
    r"""A tanh network with one hidden layer of ``width`` units, on the digits.

    Follows the course's Problem protocol (``dim``, ``x0``, ``loss``, ``grad``,
    ``loss_and_grad``, ``hvp``, ``init``, ``num_train``; ``batch`` is an optional index array
    into the rows used), so ``training.train`` and ``analysis.sharpness`` work on it.

    Args:
        width: the number of hidden units n, >= 1.
        parametrization: ``"standard"`` or ``"mup"`` (see the module's table).
        loss: ``"mse"`` (half the squared error against one-hot targets, summed over the 10
            outputs and averaged over examples) or ``"xent"`` (softmax cross-entropy).
        num_train: use the first ``num_train`` training rows of the digits (1 ..1078); all if
            None. A few hundred keep full-batch runs fast.
        data: a :class:`lr_course.digits.Digits`; ``load_digits()`` if None.

    Attributes:
        in_mult, out_mult: the multipliers a and b; ``dim``; ``X`` and ``Y`` (one-hot) in use.

    >>> std, mup = WidthMLP(64, "standard"), WidthMLP(64, "mup")
    >>> std.in_mult, mup.in_mult, mup.out_mult
    (1.0, 8.0, 0.125)
    """

    def __init__(self, width, parametrization="standard", loss="mse", num_train=None, data=None):
        self.width = _positive_int(width, "width")
        if parametrization not in PARAMETRIZATIONS:
            raise ValueError(f"parametrization must be one of {PARAMETRIZATIONS}, got {parametrization!r}")
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        self.parametrization = parametrization
        self.loss_name = loss
        data = load_digits() if data is None else data
        total = int(len(data.y_train))
        num_train = total if num_train is None else _positive_int(num_train, "num_train", total)
        self.X = np.array(data.X_train[:num_train], dtype=float)
        self.y = np.array(data.y_train[:num_train])
        self.n_classes = int(data.n_classes)
        self.Y = np.eye(self.n_classes)[self.y]
        self.num_train = num_train
        self.n_features = int(self.X.shape[1])
        n, d, k = self.width, self.n_features, self.n_classes
        self._shapes = ((n, d), (n,), (k, n), (k,))
        self._sizes = tuple(math.prod(s) for s in self._shapes)
        self.dim = sum(self._sizes)
        if parametrization == "mup":
            self.in_mult, self.out_mult = math.sqrt(n), 1.0 / math.sqrt(n)
        else:
            self.in_mult, self.out_mult = 1.0, 1.0

    # --- parameters --------------------------------------------------------------------------

    def unpack(self, params):
        """Views ``(w1, c1, w2, b2)`` into the flat ``params``."""
        x = np.asarray(params, dtype=float)
        if x.shape != (self.dim,):
            raise ValueError(f"params must be a flat array of shape ({self.dim},), got shape {x.shape}")
        parts, start = [], 0
        for shape, size in zip(self._shapes, self._sizes):
            parts.append(x[start:start + size].reshape(shape))
            start += size
        return tuple(parts)

    def init(self, rng):
        """Draw a fresh start from ``rng`` (a ``numpy.random.Generator``) as in the table."""
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator, got {rng!r}")
        n, d = self.width, self.n_features
        w1 = rng.standard_normal((n, d)) / math.sqrt(d) / self.in_mult
        w2 = rng.standard_normal((self.n_classes, n)) / math.sqrt(n)
        return np.concatenate([w1.ravel(), np.zeros(n), w2.ravel(), np.zeros(self.n_classes)])

    @property
    def x0(self):
        """The default start: ``init`` with seed 0 (a fresh array each time)."""
        return self.init(np.random.default_rng(0))

    # --- the objective -----------------------------------------------------------------------

    def _rows(self, batch):
        if batch is None:
            return self.X, self.Y
        idx = np.asarray(batch)
        if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
            raise ValueError(f"batch must be a non-empty 1-D integer index array, got {batch!r}")
        if idx.min() < 0 or idx.max() >= self.num_train:
            raise ValueError(f"batch indices must be in [0, {self.num_train}), got {batch!r}")
        return self.X[idx], self.Y[idx]

    def _forward(self, params, X):
        w1, c1, w2, b2 = self.unpack(params)
        h = np.tanh(self.in_mult * (X @ w1.T + c1))
        return (w1, c1, w2, b2), h, self.out_mult * (h @ w2.T) + b2

    def _residual(self, f, Y):
        """The loss and dL/df (already divided by the number of rows)."""
        N = len(Y)
        if self.loss_name == "mse":
            diff = f - Y
            return 0.5 * float(np.sum(diff * diff)) / N, diff / N, None
        z = f - f.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        p = e / s
        value = float(np.mean(np.log(s[:, 0]) - np.sum(z * Y, axis=1)))
        return value, (p - Y) / N, p

    def outputs(self, params, batch=None):
        """The network's outputs f(x) on the rows in ``batch`` (all if None), shape (N, 10)."""
        X, _ = self._rows(batch)
        with np.errstate(**_QUIET):
            return self._forward(params, X)[2]

    def loss(self, params, batch=None):
        """The loss on ``batch`` (all rows if None)."""
        X, Y = self._rows(batch)
        with np.errstate(**_QUIET):
            return self._residual(self._forward(params, X)[2], Y)[0]

    def loss_and_grad(self, params, batch=None):
        """The loss and its exact gradient (backpropagation)."""
        X, Y = self._rows(batch)
        with np.errstate(**_QUIET):
            (w1, c1, w2, b2), h, f = self._forward(params, X)
            value, r, _ = self._residual(f, Y)
            g_w2 = self.out_mult * (r.T @ h)
            da = (self.out_mult * (r @ w2)) * (1.0 - h * h)
            g_w1 = self.in_mult * (da.T @ X)
            g_c1 = self.in_mult * da.sum(axis=0)
            grads = np.concatenate([g_w1.ravel(), g_c1, g_w2.ravel(), r.sum(axis=0)])
        return value, grads

    def grad(self, params, batch=None):
        """The exact gradient of :meth:`loss`."""
        return self.loss_and_grad(params, batch)[1]

    def hvp(self, params, v, batch=None):
        r"""The exact Hessian-vector product :math:`H v`, the directional derivative of the gradient.

        Each quantity of the backward pass is differentiated along ``v`` (Pearlmutter's R-op):
        a cost of about two gradients, and no Hessian is formed.
        """
        X, Y = self._rows(batch)
        v = np.asarray(v, dtype=float)
        if v.shape != (self.dim,):
            raise ValueError(f"v must be a flat array of shape ({self.dim},), got shape {v.shape}")
        a, b = self.in_mult, self.out_mult
        with np.errstate(**_QUIET):
            (w1, c1, w2, b2), h, f = self._forward(params, X)
            _, r, p = self._residual(f, Y)
            V1, C1, V2, B2 = self.unpack(v)
            slope = 1.0 - h * h
            Rh = slope * (a * (X @ V1.T + C1))                  # derivative of h along v
            Rf = b * (Rh @ w2.T + h @ V2.T) + B2                 # ... of the outputs
            if p is None:
                Rr = Rf / len(Y)                                 # mse: dL/df is linear in f
            else:
                Rr = p * (Rf - np.sum(p * Rf, axis=1, keepdims=True)) / len(Y)
            R_w2 = b * (Rr.T @ h + r.T @ Rh)
            dh = b * (r @ w2)
            R_da = b * (Rr @ w2 + r @ V2) * slope - 2.0 * dh * h * Rh
            R_w1 = a * (R_da.T @ X)
            R_c1 = a * R_da.sum(axis=0)
            return np.concatenate([R_w1.ravel(), R_c1, R_w2.ravel(), Rr.sum(axis=0)])

    def accuracy(self, params, batch=None):
        """Fraction of the rows in ``batch`` (all if None) whose largest output is the label."""
        X, Y = self._rows(batch)
        return float(np.mean(np.argmax(self.outputs(params, batch), axis=1) == np.argmax(Y, axis=1)))

    def __repr__(self):
        return (f"WidthMLP(width={self.width}, parametrization={self.parametrization!r}, "
                f"loss={self.loss_name!r}, num_train={self.num_train})")
