"""Optimizers as pure ``init`` / ``update`` pairs: SGD (momentum, Nesterov), Adagrad, RMSprop, Adam, AdamW.

Each factory checks its hyper-parameters and returns an :class:`Optimizer`, whose two
functions have exactly the shape students write in ``ps2_adaptive``::

    state = opt.init(params)
    params, state = opt.update(params, grads, state)

``update`` never modifies ``params``, ``grads``, ``state`` or the arrays inside ``state``;
it returns new ones. The state is a plain dict whose keys are the symbols of the update
(``"t"``, ``"m"``, ``"v"``, ``"velocity"``, ...). ``"t"`` counts completed updates, so it
is 0 before the first one.

The learning rate is a float or a schedule (any callable ``step -> lr``, such as those in
:mod:`lr_course.schedules`); an update uses ``lr(state["t"])``. That is what PyTorch does
when ``scheduler.step()`` is called after each ``optimizer.step()``.

Updates are silent about overflow: a diverging run gives inf or NaN params, as in
PyTorch, for the caller to detect (``lr_course.training`` does).

Each update is a few lines of numpy that follow the equations of its docstring, with
the operations in the order ``torch.optim`` does them (SGD, Adagrad, RMSprop, Adam,
AdamW with ``maximize=False``), so ``tests/test_optimizers.py`` replays traces recorded
from PyTorch and agrees to 1e-12 relative. Each optimizer also has
``step(params, grads, state)``, the same update written into the given arrays, the way
``torch.optim``'s ``optimizer.step()`` changes the model's tensors.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np

from . import _checks
from ._updates import (LearningRate, _lr_function, _prepare, _pure_and_in_place, _state_array,
                       _zeros_init)

__all__ = ["Optimizer", "sgd", "adagrad", "rmsprop", "adam", "adamw"]


class Optimizer(NamedTuple):
    """An optimizer: two pure functions, an in-place variant, and what a legend or a log needs.

    Attributes:
        init: ``init(params) -> state``, the state before the first update.
        update: ``update(params, grads, state) -> (new_params, new_state)``.
        lr_at: ``lr_at(t) -> float``, the learning rate the update uses when
            ``state["t"] == t``.
        name: a short label for legends, e.g. ``"Adam"`` or ``"SGD (momentum 0.9)"``.
        hyperparams: the factory's arguments, by name (``lr`` may be a schedule).
        step: ``step(params, grads, state) -> None``, the same update done in place,
            as ``torch.optim``'s ``optimizer.step()`` does it: the new params and state
            overwrite the arrays of ``params`` and ``state``, and ``state["t"]`` goes up
            by one. It gives bit-for-bit the numbers of ``update``. ``params`` and the
            state's arrays must be writeable numpy float arrays of one shape and dtype,
            in separate memory.
    """

    init: Callable[[np.ndarray], dict]
    update: Callable[[np.ndarray, np.ndarray, dict], tuple]
    lr_at: Callable[[int], float]
    name: str
    hyperparams: dict
    step: Callable[[np.ndarray, np.ndarray, dict], None]


# ---------------------------------------------------------------------------------------
# SGD

def sgd(lr: LearningRate = 0.01, momentum: float = 0.0, dampening: float = 0.0,
        nesterov: bool = False, weight_decay: float = 0.0) -> Optimizer:
    """Stochastic gradient descent, with optional heavy-ball or Nesterov momentum.

    Args:
        lr: learning rate, a float >= 0 or a schedule ``step -> lr``.
        momentum: momentum factor mu >= 0 (0 switches momentum off; the state then has
            no ``"velocity"``).
        dampening: tau in [0, 1], scales the new gradient in the velocity (not at t = 1).
        nesterov: use Nesterov's look-ahead form (needs momentum > 0 and dampening 0).
        weight_decay: lambda >= 0, an L2 penalty added to the gradient.

    Returns:
        An :class:`Optimizer` whose state is ``{"t": int, "velocity": array}``.

    The update, with t = state["t"] + 1 counting updates from 1::

        g_t = grads + lambda * p_{t-1}
        b_t = g_t                               if t == 1
            = mu * b_{t-1} + (1 - tau) * g_t    otherwise     (state "velocity")
        d_t = g_t + mu * b_t    if nesterov,   b_t    if momentum > 0,   g_t otherwise
        p_t = p_{t-1} - lr(t - 1) * d_t

    Key: p = params, g = grads, b = velocity, mu = momentum, tau = dampening,
    lambda = weight_decay.

    The first velocity is the raw gradient, undamped: PyTorch's convention, and with
    zero dampening the same as ps2's ``v <- momentum * v + g`` from v = 0. In the
    "v <- mu v - lr g; p <- p + v" form of Sutskever et al. the velocity carries past
    learning rates; here the current lr multiplies the whole velocity, so the two
    forms agree for a constant lr and differ under a schedule (PyTorch's choice is
    this one, and ``optax.sgd``'s, which scales the momentum trace by the lr afterwards;
    Keras's ``SGD`` keeps the lr inside the velocity, ``v <- mu v - lr g``). Momentum
    larger than 1 is accepted, as in PyTorch, though it diverges. Keras's
    ``weight_decay`` is decoupled (the params shrink by ``lr * weight_decay`` before the
    step, as in :func:`adamw`), not the L2 term here.

    References:
        Polyak (1964), heavy-ball momentum. Sutskever, Martens, Dahl & Hinton (2013),
        "On the importance of initialization and momentum in deep learning", ICML.

    >>> opt = sgd(lr=0.1, momentum=0.9)
    >>> state = opt.init(np.array([1.0]))
    >>> p, state = opt.update(np.array([1.0]), np.array([2.0]), state)
    >>> p, state["velocity"]
    (array([0.8]), array([2.]))
    >>> p, state = opt.update(p, np.array([2.0]), state)  # velocity 0.9 * 2 + 2
    >>> p, state["velocity"]
    (array([0.42]), array([3.8]))
    """
    lr_at = _lr_function(lr)
    momentum = _checks.real("momentum", momentum, low=0)
    dampening = _checks.real("dampening", dampening, low=0, high=1)
    weight_decay = _checks.real("weight_decay", weight_decay, low=0)
    nesterov = _checks.flag("nesterov", nesterov)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("nesterov=True needs momentum > 0 and dampening == 0, "
                         f"got momentum={momentum!r}, dampening={dampening!r}")
    mu, tau, lam = momentum, dampening, weight_decay

    def update(params, grads, state):
        p, g, t = _prepare(params, grads, state)
        if lam != 0:
            g = g + lam * p
        if mu == 0:
            return p - lr_at(t) * g, {"t": t + 1}
        if t == 0:
            b = g.copy()  # the first velocity is the gradient itself, undamped
        else:
            b = mu * _state_array(state, "velocity", p) + (1 - tau) * g
        d = g + mu * b if nesterov else b
        return p - lr_at(t) * d, {"t": t + 1, "velocity": b}

    keys = ("velocity",) if momentum else ()
    update, step = _pure_and_in_place(update, keys)
    if nesterov:
        name = f"SGD (Nesterov {momentum:g})"
    elif momentum:
        name = f"SGD (momentum {momentum:g})"
    else:
        name = "SGD"
    return Optimizer(_zeros_init(*keys), update, lr_at, name,
                     dict(lr=lr, momentum=momentum, dampening=dampening,
                          nesterov=bool(nesterov), weight_decay=weight_decay), step)


# ---------------------------------------------------------------------------------------
# Adagrad


def adagrad(lr: LearningRate = 0.01, lr_decay: float = 0.0, weight_decay: float = 0.0,
            initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> Optimizer:
    """Adagrad: divide each coordinate's step by the root of its summed squared gradients.

    Args:
        lr: learning rate, a float >= 0 or a schedule ``step -> lr``.
        lr_decay: kappa >= 0, inverse-time decay of the lr on top of any schedule.
        weight_decay: lambda >= 0, an L2 penalty added to the gradient.
        initial_accumulator_value: s_0 >= 0, the starting value of every sum.
        eps: epsilon >= 0, added to the root for safety.

    Returns:
        An :class:`Optimizer` whose state is ``{"t": int, "sum_sq": array}``.

    The update, with t = state["t"] + 1 counting updates from 1::

        g_t   = grads + lambda * p_{t-1}
        eta_t = lr(t - 1) / (1 + (t - 1) * kappa)
        s_t   = s_{t-1} + g_t**2                          (state "sum_sq")
        p_t   = p_{t-1} - eta_t * g_t / (sqrt(s_t) + epsilon)

    Key: p = params, g = grads, s = sum_sq, kappa = lr_decay, lambda = weight_decay.

    The lr decay counts from the first update (eta_1 = lr), as in PyTorch, and
    ``lr_at(t)`` returns the decayed eta (PyTorch's ``param_groups`` show the undecayed
    lr). The formula is ``torch.optim.Adagrad``'s. Keras's ``Adagrad`` and
    ``optax.adagrad`` differ in three ways: eps goes inside the root,
    ``p_t = p_{t-1} - lr * g_t / sqrt(s_t + epsilon)``; eps defaults to 1e-7; and the
    accumulator starts at s_0 = 0.1 (PyTorch, and this function, start at 0). Keras's
    ``weight_decay`` is decoupled (as in :func:`adamw`), not the L2 term here.

    Reference:
        Duchi, Hazan & Singer (2011), "Adaptive subgradient methods for online learning
        and stochastic optimization", JMLR 12.

    The first step has size about lr in every coordinate, whatever the gradient's scale:

    >>> opt = adagrad(lr=0.1)
    >>> p, state = opt.update(np.array([1.0, 1.0]), np.array([4.0, -0.01]),
    ...                       opt.init(np.zeros(2)))
    >>> p.round(6), state["sum_sq"]
    (array([0.9, 1.1]), array([1.6e+01, 1.0e-04]))
    """
    base_lr_at = _lr_function(lr)
    lr_decay = _checks.real("lr_decay", lr_decay, low=0)
    weight_decay = _checks.real("weight_decay", weight_decay, low=0)
    initial_accumulator_value = _checks.real("initial_accumulator_value",
                                             initial_accumulator_value, low=0)
    eps = _checks.real("eps", eps, low=0)
    kappa, lam = lr_decay, weight_decay

    def lr_at(t: int) -> float:
        return base_lr_at(t) / (1.0 + t * kappa)

    def update(params, grads, state):
        p, g, t = _prepare(params, grads, state)
        if lam != 0:
            g = g + lam * p
        s = _state_array(state, "sum_sq", p) + g * g
        return p - lr_at(t) * (g / (np.sqrt(s) + eps)), {"t": t + 1, "sum_sq": s}

    update, step = _pure_and_in_place(update, ("sum_sq",))
    return Optimizer(_zeros_init("sum_sq", fill=initial_accumulator_value), update, lr_at,
                     "Adagrad",
                     dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                          initial_accumulator_value=initial_accumulator_value, eps=eps), step)


# ---------------------------------------------------------------------------------------
# RMSprop


def rmsprop(lr: LearningRate = 0.01, rho: float = 0.99, eps: float = 1e-8,
            weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> Optimizer:
    """RMSprop: divide each coordinate's step by a running root-mean-square of its gradient.

    Args:
        lr: learning rate, a float >= 0 or a schedule ``step -> lr``.
        rho: decay rate of the running averages, in [0, 1) (PyTorch calls it ``alpha``).
        eps: epsilon >= 0, added to the root (outside the square root).
        weight_decay: lambda >= 0, an L2 penalty added to the gradient.
        momentum: mu >= 0; if > 0 the scaled gradient goes through a momentum buffer.
        centered: if True, divide by an estimate of the gradient's standard deviation
            (subtract the squared running mean of the gradient) instead of its RMS.

    Returns:
        An :class:`Optimizer` whose state is ``{"t", "avg_sq"}``, plus ``"avg_grad"``
        when centered and ``"momentum_buffer"`` when momentum > 0.

    The update, with t = state["t"] + 1 counting updates from 1::

        g_t = grads + lambda * p_{t-1}
        s_t = rho * s_{t-1} + (1 - rho) * g_t**2                  (state "avg_sq")
        a_t = rho * a_{t-1} + (1 - rho) * g_t                     (state "avg_grad")
        r_t = sqrt(s_t - a_t**2) + epsilon   if centered,  sqrt(s_t) + epsilon otherwise
        b_t = mu * b_{t-1} + g_t / r_t                            (state "momentum_buffer")
        p_t = p_{t-1} - lr(t - 1) * b_t      if mu > 0,  p_{t-1} - lr(t - 1) * g_t / r_t otherwise

    Key: p = params, g = grads, s = avg_sq, a = avg_grad, b = momentum_buffer,
    mu = momentum, lambda = weight_decay. All averages start at 0.

    There is no bias correction, so early steps are larger than lr: the first step is
    lr / sqrt(1 - rho) per coordinate (10 lr for rho = 0.99). The formula is PyTorch's
    (which accepts any alpha >= 0; this function only [0, 1)). Keras's ``RMSprop`` and
    ``optax.rmsprop`` differ: both default to rho = 0.9; both put eps inside the square
    root, ``r_t = sqrt(s_t + epsilon)`` (Keras always, eps 1e-7; optax unless
    ``eps_in_sqrt=False``, eps 1e-8), and ``sqrt(s_t - a_t**2 + epsilon)`` when centered;
    and with momentum both put the lr inside the buffer, ``b_t = mu * b_{t-1} +
    lr(t - 1) * g_t / r_t; p_t = p_{t-1} - b_t``, which equals the form above only for a
    constant lr. Keras's ``weight_decay`` is decoupled (as in :func:`adamw`).

    Reference:
        Hinton, Srivastava & Swersky, "Neural networks for machine learning", lecture 6e
        (2012). Graves (2013), arXiv:1308.0850, for the centered form.

    >>> opt = rmsprop(lr=0.01, rho=0.99)
    >>> p, state = opt.update(np.array([0.0]), np.array([3.0]), opt.init(np.zeros(1)))
    >>> p.round(6), state["avg_sq"].round(6)   # -lr * 3 / sqrt(0.01 * 9)
    (array([-0.1]), array([0.09]))
    """
    lr_at = _lr_function(lr)
    rho = _checks.real("rho", rho, low=0, high=1, high_open=True)
    eps = _checks.real("eps", eps, low=0)
    weight_decay = _checks.real("weight_decay", weight_decay, low=0)
    momentum = _checks.real("momentum", momentum, low=0)
    centered = _checks.flag("centered", centered)
    mu, lam = momentum, weight_decay

    def update(params, grads, state):
        p, g, t = _prepare(params, grads, state)
        if lam != 0:
            g = g + lam * p
        new_state = {"t": t + 1}
        s = new_state["avg_sq"] = rho * _state_array(state, "avg_sq", p) + (1 - rho) * (g * g)
        if centered:
            a_old = _state_array(state, "avg_grad", p)
            a = new_state["avg_grad"] = a_old + (1 - rho) * (g - a_old)  # torch's lerp
            r = np.sqrt(s - a * a) + eps
        else:
            r = np.sqrt(s) + eps
        if mu > 0:
            b = new_state["momentum_buffer"] = mu * _state_array(state, "momentum_buffer", p) + g / r
            return p - lr_at(t) * b, new_state
        return p - lr_at(t) * (g / r), new_state

    keys = ("avg_sq",) + (("avg_grad",) if centered else ()) + (("momentum_buffer",) if momentum else ())
    update, step = _pure_and_in_place(update, keys)
    name = "RMSprop" + (" (centered)" if centered else "")
    return Optimizer(_zeros_init(*keys), update, lr_at, name,
                     dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                          momentum=momentum, centered=bool(centered)), step)


# ---------------------------------------------------------------------------------------
# Adam and AdamW


def _adam_family(lr, beta1, beta2, eps, weight_decay, amsgrad, decoupled: bool) -> Optimizer:
    """Adam (``decoupled=False``) or AdamW: the factories below check and document."""
    lr_at = _lr_function(lr)
    beta1 = _checks.real("beta1", beta1, low=0, high=1, high_open=True)
    beta2 = _checks.real("beta2", beta2, low=0, high=1, high_open=True)
    eps = _checks.real("eps", eps, low=0)
    weight_decay = _checks.real("weight_decay", weight_decay, low=0)
    amsgrad = _checks.flag("amsgrad", amsgrad)
    lam = weight_decay

    def update(params, grads, state):
        p, g, t = _prepare(params, grads, state)
        lr_t, k = lr_at(t), t + 1  # the equations count updates from 1
        if lam != 0 and decoupled:
            p = p * (1 - lr_t * lam)  # AdamW shrinks the params, outside the averages
        elif lam != 0:
            g = g + lam * p
        # 1. the two moving averages (m as torch's lerp)
        m_old = _state_array(state, "m", p)
        m = m_old + (1 - beta1) * (g - m_old)
        v = beta2 * _state_array(state, "v", p) + (1 - beta2) * (g * g)
        new_state = {"t": k, "m": m, "v": v}
        if amsgrad:
            v = new_state["v_max"] = np.maximum(_state_array(state, "v_max", p), v)
        # 2. their bias corrections (both start at 0): m / (1 - beta1**k), sqrt(v / (1 - beta2**k))
        m_hat = m / (1 - beta1 ** k)
        sqrt_v_hat = np.sqrt(v) / math.sqrt(1 - beta2 ** k)
        # 3. the step
        return p - lr_t * (m_hat / (sqrt_v_hat + eps)), new_state

    keys = ("m", "v", "v_max") if amsgrad else ("m", "v")
    update, step = _pure_and_in_place(update, keys)
    name = ("AdamW" if decoupled else "Adam") + (" (AMSGrad)" if amsgrad else "")
    return Optimizer(_zeros_init(*keys), update, lr_at, name,
                     dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                          weight_decay=weight_decay, amsgrad=bool(amsgrad)), step)


def adam(lr: LearningRate = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
         weight_decay: float = 0.0, amsgrad: bool = False) -> Optimizer:
    """Adam: momentum on the gradient, divided by the root of a running mean of its square.

    Args:
        lr: learning rate, a float >= 0 or a schedule ``step -> lr``.
        beta1: decay rate of the first moment m, in [0, 1).
        beta2: decay rate of the second moment v, in [0, 1).
        eps: epsilon >= 0, added after the square root of the bias-corrected v.
        weight_decay: lambda >= 0, an L2 penalty added to the gradient (use
            :func:`adamw` for decoupled weight decay).
        amsgrad: if True, divide by the running maximum of v (AMSGrad).

    Returns:
        An :class:`Optimizer` whose state is ``{"t": int, "m": array, "v": array}``,
        plus ``"v_max"`` when amsgrad.

    The update, with t = state["t"] + 1 counting updates from 1::

        g_t     = grads + lambda * p_{t-1}
        m_t     = beta1 * m_{t-1} + (1 - beta1) * g_t            (state "m")
        v_t     = beta2 * v_{t-1} + (1 - beta2) * g_t**2         (state "v")
        u_t     = max(u_{t-1}, v_t)  if amsgrad,  v_t otherwise  (state "v_max")
        m_hat_t = m_t / (1 - beta1**t)
        v_hat_t = u_t / (1 - beta2**t)
        p_t     = p_{t-1} - lr(t - 1) * m_hat_t / (sqrt(v_hat_t) + epsilon)

    Key: p = params, g = grads, m = m, v = v, u = v_max, lambda = weight_decay,
    epsilon = eps. m, v and v_max start at 0.

    Why the bias correction: m_1 = (1 - beta1) g_1 and v_1 = (1 - beta2) g_1**2 are
    shrunk towards their zero start; dividing by 1 - beta**t undoes it, so the first
    step is lr * g / (|g| + eps), about lr * sign(g) in every coordinate.

    Same as ``torch.optim.Adam``; AMSGrad takes the maximum of the raw v and
    bias-corrects it afterwards, as PyTorch and Keras do. ``optax.adam`` is the same
    formula; ``optax.amsgrad`` instead takes the maximum of the bias-corrected v,
    ``u_t = max(u_{t-1}, v_t / (1 - beta2**t))``. Keras's eps is the "epsilon hat" of the
    paper, added to the root of the uncorrected v:
    ``p_t = p_{t-1} - lr * (sqrt(1 - beta2**t) / (1 - beta1**t)) * m_t / (sqrt(u_t) + epsilon)``,
    and its default is 1e-7. Keras's ``weight_decay`` is decoupled: Keras's ``Adam`` with
    ``weight_decay`` is :func:`adamw`, not this function's L2 term.

    References:
        Kingma & Ba (2014), "Adam: a method for stochastic optimization",
        arXiv:1412.6980. Reddi, Kale & Kumar (2018), "On the convergence of Adam and
        beyond", ICLR (AMSGrad).

    >>> opt = adam(lr=0.001)
    >>> p, state = opt.update(np.zeros(3), np.array([100.0, -0.5, 1e-3]), opt.init(np.zeros(3)))
    >>> p.round(6)   # the first step is lr * sign(g), whatever the gradient's size
    array([-0.001,  0.001, -0.001])
    >>> state["t"], state["m"]
    (1, array([ 1.e+01, -5.e-02,  1.e-04]))
    """
    return _adam_family(lr, beta1, beta2, eps, weight_decay, amsgrad, decoupled=False)


def adamw(lr: LearningRate = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
          weight_decay: float = 1e-2, amsgrad: bool = False) -> Optimizer:
    """AdamW: Adam with weight decay applied to the params directly, not through the gradient.

    Args:
        lr: learning rate, a float >= 0 or a schedule ``step -> lr``.
        beta1: decay rate of the first moment m, in [0, 1).
        beta2: decay rate of the second moment v, in [0, 1).
        eps: epsilon >= 0, added after the square root of the bias-corrected v.
        weight_decay: lambda >= 0; each update first multiplies the params by
            1 - lr * lambda.
        amsgrad: if True, divide by the running maximum of v (AMSGrad).

    Returns:
        An :class:`Optimizer` with the state of :func:`adam`.

    The update, with t = state["t"] + 1 counting updates from 1::

        m_t     = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t     = beta2 * v_{t-1} + (1 - beta2) * g_t**2
        u_t     = max(u_{t-1}, v_t)  if amsgrad,  v_t otherwise
        p_t     = (1 - lr(t - 1) * lambda) * p_{t-1}
                  - lr(t - 1) * (m_t / (1 - beta1**t)) / (sqrt(u_t / (1 - beta2**t)) + epsilon)

    Key: as in :func:`adam`; g = grads (no L2 term), lambda = weight_decay.

    The decay is multiplied by the lr, as in PyTorch and optax (so a schedule on lr
    also schedules the decay). The paper writes a separate schedule multiplier
    eta_t times lambda, with lambda not multiplied by the base lr: PyTorch's
    weight_decay=0.01 at lr=1e-3 is the paper's lambda = 1e-5.

    Reference:
        Loshchilov & Hutter (2017), "Decoupled weight decay regularization",
        arXiv:1711.05101.

    >>> opt = adamw(lr=0.1, weight_decay=0.5)
    >>> p, _ = opt.update(np.array([2.0]), np.array([0.0]), opt.init(np.zeros(1)))
    >>> p    # zero gradient: only the decay acts, 2 * (1 - 0.1 * 0.5)
    array([1.9])
    """
    return _adam_family(lr, beta1, beta2, eps, weight_decay, amsgrad, decoupled=True)

