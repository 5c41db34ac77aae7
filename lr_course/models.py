"""The course's real models: softmax regression and a one-hidden-layer MLP on the 8x8 digits.

Both follow the Problem protocol of :mod:`lr_course.problems` on the TRAINING split, with
minibatches: ``loss(params, batch=None)``, ``grad``, ``loss_and_grad`` and ``hvp(params, v,
batch=None)``, where ``batch`` is an integer index array into the training set (None = all of
it). They add ``num_train``, ``init(rng)``, ``x0``, ``evaluate(params, split)`` and
``accuracy(params, split)``. ``params`` is one flat float array (layouts in each class).

The objective is the mean cross-entropy over the batch plus ``0.5 * l2 * ||W||^2`` over the
weight matrices; biases are not regularised (penalising them only shifts the class priors).
Diverging runs are part of the course: huge ``params`` give an inf or NaN loss, silently.

Note: the penalty adds ``l2 * W`` to the gradient, which is what PyTorch's
``SGD(weight_decay=l2)`` does (though torch decays biases too); it is not AdamW's decoupled
weight decay, which bypasses Adam's scaling.

>>> model = LogisticRegression()
>>> round(model.loss(model.x0), 4)  # ten equally likely classes: log(10)
2.3026
>>> model.evaluate(model.x0, split="val")[1] < 0.2
True
"""

from __future__ import annotations

import numpy as np

from lr_course import _checks
from lr_course.digits import SPLITS, Digits, load_digits

__all__ = ["Digits", "load_digits", "LogisticRegression", "MLP"]


# --- shared numerics ------------------------------------------------------------------------


def _label_index(y, n_classes):
    """Where each row's label sits in a C-ordered (n, n_classes) array, flattened: one take
    instead of indexing with ``[np.arange(n), y]`` (about 40% less time at a minibatch's size)."""
    return np.arange(0, len(y) * n_classes, n_classes) + y


def _softmax_xent(Z, y):
    """Mean cross-entropy of logits Z (n, C) against labels y, and the softmax probabilities.

    Subtracting each row's maximum first (log-sum-exp) keeps exp from overflowing for any
    finite logits; with infinite or NaN logits the loss comes out inf/NaN, as it should.
    """
    # The ufuncs' own reductions: what max, sum and mean call, without their wrappers
    # (a tenth of a minibatch gradient at the digits' size); the same numbers.
    Zs = Z - np.maximum.reduce(Z, axis=1, keepdims=True)
    E = np.exp(Zs)
    S = np.add.reduce(E, axis=1, keepdims=True)
    terms = np.log(S[:, 0]) - Zs.ravel()[_label_index(y, Zs.shape[1])]
    loss = float(np.add.reduce(terms) / len(terms))
    return loss, E / S


def _minus_onehot(P, y):
    """``P - onehot(y)``, in place (P of shape (n, C), as :func:`_softmax_xent` makes it)."""
    if P.flags.c_contiguous:      # then ravel is a view, and the write reaches P
        P.ravel()[_label_index(y, P.shape[1])] -= 1.0
    else:
        P[np.arange(len(y)), y] -= 1.0


_QUIET = dict(over="ignore", invalid="ignore", divide="ignore", under="ignore")


class _Classifier:
    """Batching, evaluation and argument checks shared by the two models."""

    dim: int

    def __init__(self, data, l2):
        if data is None:
            data = load_digits()
        for attr in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test", "n_classes"):
            if not hasattr(data, attr):
                raise ValueError(f"data must be a Digits-like object with .{attr}, got {data!r}")
        l2 = _checks.real("l2", l2, low=0)
        self.data = data
        self.l2 = l2
        self.n_features = int(data.X_train.shape[1])
        self.n_classes = int(data.n_classes)
        self.num_train = int(len(data.y_train))

    @property
    def x0(self):
        """The default start: ``init`` with a fixed seed (0); a fresh array each time."""
        return self.init(np.random.default_rng(0))

    def _params(self, params):
        x = np.asarray(params, dtype=float)
        if x.shape != (self.dim,):
            raise ValueError(f"params must be a flat array of shape ({self.dim},), got shape {x.shape}")
        return x

    def _batch(self, batch):
        """(X, y) of the training rows in ``batch`` (all of them for None)."""
        if batch is None:
            return self.data.X_train, self.data.y_train
        idx = np.asarray(batch)
        if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
            raise ValueError(
                f"batch must be a non-empty 1-D integer index array into the training set, "
                f"got {batch!r}"
            )
        if np.minimum.reduce(idx) < 0 or np.maximum.reduce(idx) >= self.num_train:
            raise ValueError(
                f"batch indices must be in [0, {self.num_train}), got min {idx.min()}, max {idx.max()}"
            )
        # take copies the rows as indexing does, in half the time at a minibatch's size
        return self.data.X_train.take(idx, axis=0), self.data.y_train.take(idx)

    def _split(self, split):
        _checks.choice("split", split, SPLITS)
        return getattr(self.data, f"X_{split}"), getattr(self.data, f"y_{split}")

    def loss(self, params, batch=None):
        """Mean cross-entropy over ``batch`` plus the L2 penalty."""
        return self.loss_and_grad(params, batch, need_grad=False)[0]

    def grad(self, params, batch=None):
        """Gradient of :meth:`loss`."""
        return self.loss_and_grad(params, batch)[1]

    def evaluate(self, params, split="val"):
        """Return ``(cross_entropy, accuracy)`` on ``split`` ("train", "val" or "test").

        The loss here is the data term only (no L2 penalty), so models trained with
        different ``l2`` compare fairly; ``loss(params)`` is the training objective.
        """
        X, y = self._split(split)
        with np.errstate(**_QUIET):
            Z = self._logits(self._params(params), X)
            value, _ = _softmax_xent(Z, y)
            accuracy = float(np.mean(np.argmax(Z, axis=1) == y))
        return value, accuracy

    def accuracy(self, params, split="val"):
        """Fraction of ``split`` classified correctly."""
        return self.evaluate(params, split)[1]

    def predict(self, params, split="val"):
        """Predicted labels on ``split``."""
        X, _ = self._split(split)
        with np.errstate(**_QUIET):
            return np.argmax(self._logits(self._params(params), X), axis=1)


# --- the models -----------------------------------------------------------------------------


class LogisticRegression(_Classifier):
    r"""Multinomial (softmax) logistic regression on the digits: a convex model problem.

    .. math::

        f(\theta) = \frac1n \sum_{i \in B} \Big[\log \sum_c e^{z_{ic}} - z_{i y_i}\Big]
                    + \tfrac12 \lambda \lVert W \rVert^2, \qquad z_i = W^\top x_i + b

    with B = ``batch`` (n rows), :math:`\lambda` = ``l2``; biases b are not penalised.
    ``params`` is the (n_features + 1, n_classes) matrix ``[W; b]`` flattened row by row:
    the bias row comes last. The Hessian-vector product is exact (closed form: per sample the
    logit Hessian is diag(p) - p p^T), and so is ``hessian``, which is cheap at this size.

    Args:
        data: a :class:`Digits` (``load_digits()`` if None).
        l2: weight of the L2 penalty on W, >= 0.

    >>> model = LogisticRegression(l2=0.0)
    >>> model.dim, model.num_train
    (650, 1078)
    >>> x = model.x0
    >>> for step in range(50):
    ...     x = x - 0.5 * model.grad(x)
    >>> model.accuracy(x, split="val") > 0.85
    True
    """

    name = "logistic regression"

    def __init__(self, data=None, l2=1e-4):
        super().__init__(data, l2)
        self.dim = (self.n_features + 1) * self.n_classes

    def init(self, rng=None):
        """Zeros: the problem is convex, so a symmetric start is fine (``rng`` is not used)."""
        return np.zeros(self.dim)

    def unpack(self, params):
        """Views ``(W, b)`` of shapes (n_features, n_classes) and (n_classes,)."""
        theta = self._params(params).reshape(self.n_features + 1, self.n_classes)
        return theta[:-1], theta[-1]

    def _logits(self, params, X):
        W, b = self.unpack(params)
        return X @ W + b

    def loss_and_grad(self, params, batch=None, need_grad=True):
        """Return ``(loss, grad)``; the gradient is None when ``need_grad`` is False."""
        W, b = self.unpack(params)
        X, y = self._batch(batch)
        with np.errstate(**_QUIET):
            value, P = _softmax_xent(X @ W + b, y)
            value += 0.5 * self.l2 * float(np.add.reduce(W * W, axis=None))
            if not need_grad:
                return value, None
            # d loss / d logits = (p - onehot(y)) / n
            _minus_onehot(P, y)
            P /= len(y)
            g = np.empty((self.n_features + 1, self.n_classes))
            g[:-1] = X.T @ P + self.l2 * W
            g[-1] = np.add.reduce(P, axis=0)
        return value, g.ravel()

    def hvp(self, params, v, batch=None):
        """Exact Hessian-vector product."""
        W, b = self.unpack(params)
        V = np.asarray(v, dtype=float)
        if V.shape != (self.dim,):
            raise ValueError(f"v must be a flat array of shape ({self.dim},), got shape {V.shape}")
        V = V.reshape(self.n_features + 1, self.n_classes)
        X, y = self._batch(batch)
        with np.errstate(**_QUIET):
            _, P = _softmax_xent(X @ W + b, y)
            dZ = X @ V[:-1] + V[-1]  # change of the logits along v
            # (diag(p) - p p^T) dz, row by row, averaged over the batch
            R = P * (dZ - np.sum(P * dZ, axis=1, keepdims=True)) / len(y)
            out = np.empty_like(V)
            out[:-1] = X.T @ R + self.l2 * V[:-1]
            out[-1] = R.sum(axis=0)
        return out.ravel()

    def hessian(self, params, batch=None):
        """The exact (dim, dim) Hessian, in the layout of ``params``."""
        W, b = self.unpack(params)
        X, y = self._batch(batch)
        n, F, C = len(y), self.n_features, self.n_classes
        Xa = np.hstack([X, np.ones((n, 1))])
        with np.errstate(**_QUIET):
            _, P = _softmax_xent(X @ W + b, y)
            H = np.empty((F + 1, C, F + 1, C))
            for c in range(C):
                for d in range(c, C):
                    weight = P[:, c] * ((c == d) - P[:, d]) / n
                    block = Xa.T @ (Xa * weight[:, None])
                    H[:, c, :, d] = block
                    H[:, d, :, c] = block
            reg = np.zeros(F + 1)
            reg[:F] = self.l2
            idx = np.arange(F + 1)
            H[idx, :, idx, :] += reg[:, None, None] * np.eye(C)
        return H.reshape(self.dim, self.dim)

    def __repr__(self):
        return f"LogisticRegression(l2={self.l2}, num_train={self.num_train})"


_ACTIVATIONS = ("tanh", "relu")


class MLP(_Classifier):
    r"""A one-hidden-layer network on the digits, with exact backpropagation.

    .. math::

        h_i = \phi(W_1^\top x_i + b_1), \quad z_i = W_2^\top h_i + b_2, \quad
        f = \frac1n \sum_{i \in B} \mathrm{xent}(z_i, y_i)
            + \tfrac12 \lambda (\lVert W_1 \rVert^2 + \lVert W_2 \rVert^2)

    with :math:`\phi` = ``activation``, :math:`\lambda` = ``l2`` (biases not penalised).
    ``params`` is W1 (n_features, hidden), b1 (hidden), W2 (hidden, n_classes), b2
    (n_classes), each flattened row by row, in that order.

    ``hvp`` is exact: Pearlmutter's R-operator, i.e. the forward-mode derivative of the
    backward pass along v (B. A. Pearlmutter, "Fast exact multiplication by the Hessian",
    Neural Computation 6(1), 1994). It costs about two gradients.

    Args:
        data: a :class:`Digits` (``load_digits()`` if None).
        hidden: number of hidden units, >= 1.
        activation: "tanh" or "relu"; ``init`` draws the hidden layer from Glorot-uniform for
            tanh and He-normal for relu, the output layer from Glorot-uniform.
        l2: weight of the L2 penalty on W1 and W2, >= 0.

    >>> model = MLP(hidden=16)
    >>> model.dim
    1210
    >>> loss, grads = model.loss_and_grad(model.x0, batch=np.arange(32))
    >>> grads.shape
    (1210,)
    """

    name = "MLP"

    def __init__(self, data=None, hidden=32, activation="tanh", l2=1e-4):
        super().__init__(data, l2)
        self.hidden = _checks.integer("hidden", hidden, minimum=1)
        self.activation = _checks.choice("activation", activation, _ACTIVATIONS)
        F, H, C = self.n_features, self.hidden, self.n_classes
        self._shapes = ((F, H), (H,), (H, C), (C,))
        self._ends = np.cumsum([np.prod(s) for s in self._shapes])
        self._starts = np.concatenate([[0], self._ends[:-1]])
        self.dim = int(self._ends[-1])

    def unpack(self, params):
        """Views ``(W1, b1, W2, b2)`` into ``params``."""
        x = self._params(params)
        return tuple(x[s:e].reshape(shape)
                     for s, e, shape in zip(self._starts, self._ends, self._shapes))

    def init(self, rng):
        """Random weights (Glorot-uniform; He-normal for a relu hidden layer), zero biases."""
        rng = _checks.generator(rng)
        parts = []
        for layer, (fan_in, fan_out) in enumerate((self._shapes[0], self._shapes[2])):
            if self.activation == "relu" and layer == 0:
                # relu zeroes half its inputs, so its layer needs twice the variance
                # (He et al. 2015, arXiv:1502.01852).
                W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
            else:
                # Keeps the variance of signals and gradients roughly constant through a
                # tanh or linear layer (Glorot & Bengio 2010).
                a = np.sqrt(6.0 / (fan_in + fan_out))
                W = rng.uniform(-a, a, size=(fan_in, fan_out))
            parts += [W.ravel(), np.zeros(fan_out)]
        return np.concatenate(parts)

    def _act(self, A):
        """phi(A), phi'(A) and phi''(A)."""
        if self.activation == "tanh":
            Hh = np.tanh(A)
            d1 = 1.0 - Hh * Hh
            return Hh, d1, -2.0 * Hh * d1
        on = (A > 0).astype(float)
        return A * on, on, np.zeros_like(A)

    def _logits(self, params, X):
        W1, b1, W2, b2 = self.unpack(params)
        return self._act(X @ W1 + b1)[0] @ W2 + b2

    def _penalty(self, W1, W2):
        return 0.5 * self.l2 * float(np.add.reduce(W1 * W1, axis=None)
                                     + np.add.reduce(W2 * W2, axis=None))

    def loss_and_grad(self, params, batch=None, need_grad=True):
        """Return ``(loss, grad)`` by backpropagation; grad is None when ``need_grad`` is False."""
        W1, b1, W2, b2 = self.unpack(params)
        X, y = self._batch(batch)
        n = len(y)
        with np.errstate(**_QUIET):
            # 1. forward
            A = X @ W1 + b1
            if self.activation == "tanh":
                Hh = np.tanh(A)
            else:
                Hh = np.maximum(A, 0.0)
            value, P = _softmax_xent(Hh @ W2 + b2, y)
            value += self._penalty(W1, W2)
            if not need_grad:
                return value, None
            # 2. backward: output layer
            _minus_onehot(P, y)
            P /= n
            gW2 = Hh.T @ P + self.l2 * W2
            gb2 = np.add.reduce(P, axis=0)
            # 3. backward: hidden layer
            dA = P @ W2.T
            dA *= (1.0 - Hh * Hh) if self.activation == "tanh" else (A > 0)
            gW1 = X.T @ dA + self.l2 * W1
            gb1 = np.add.reduce(dA, axis=0)
        return value, np.concatenate([gW1.ravel(), gb1, gW2.ravel(), gb2])

    def hvp(self, params, v, batch=None):
        """Exact Hessian-vector product by the R-operator (see the class docstring)."""
        W1, b1, W2, b2 = self.unpack(params)
        v = np.asarray(v, dtype=float)
        if v.shape != (self.dim,):
            raise ValueError(f"v must be a flat array of shape ({self.dim},), got shape {v.shape}")
        V1, c1, V2, c2 = self.unpack(v)
        X, y = self._batch(batch)
        n = len(y)
        with np.errstate(**_QUIET):
            # 1. forward pass and its directional derivative R{.} along v
            A = X @ W1 + b1
            Hh, d1, d2 = self._act(A)
            RA = X @ V1 + c1
            RH = d1 * RA
            _, P = _softmax_xent(Hh @ W2 + b2, y)
            RZ = RH @ W2 + Hh @ V2 + c2
            RP = P * (RZ - np.sum(P * RZ, axis=1, keepdims=True))
            # 2. backward pass and its R{.}
            dZ = P
            _minus_onehot(dZ, y)
            dZ /= n
            RdZ = RP / n
            hW2 = RH.T @ dZ + Hh.T @ RdZ + self.l2 * V2
            hb2 = RdZ.sum(axis=0)
            dH = dZ @ W2.T
            RdH = RdZ @ W2.T + dZ @ V2.T
            RdA = RdH * d1 + dH * d2 * RA
            hW1 = X.T @ RdA + self.l2 * V1
            hb1 = RdA.sum(axis=0)
        return np.concatenate([hW1.ravel(), hb1, hW2.ravel(), hb2])

    def __repr__(self):
        return f"MLP(hidden={self.hidden}, activation={self.activation!r}, l2={self.l2})"
