"""Reference solution of ps2_adaptive (COURSE.md "Graded assignments"); judging side only.

``params``/``grads`` are float arrays of any shape, ``state`` a dict; every update returns
``(new_params, new_state)`` and modifies neither its inputs nor ``state``.
"""

import numpy as np


def _positive(name, value):
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")


def _unit(name, value):
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")


def sgd_momentum_init(params):
    return {"velocity": np.zeros_like(params, dtype=float)}


def sgd_momentum_update(params, grads, state, lr=0.01, momentum=0.9):
    """v <- momentum * v + g; p <- p - lr * v (PyTorch's convention)."""
    _positive("lr", lr)
    _unit("momentum", momentum)
    v = momentum * state["velocity"] + grads
    return params - lr * v, {"velocity": v}


def adagrad_init(params):
    return {"sum_sq": np.zeros_like(params, dtype=float)}


def adagrad_update(params, grads, state, lr=0.01, eps=1e-10):
    """s <- s + g^2; p <- p - lr * g / (sqrt(s) + eps)."""
    _positive("lr", lr)
    _positive("eps", eps)
    s = state["sum_sq"] + grads**2
    return params - lr * grads / (np.sqrt(s) + eps), {"sum_sq": s}


def rmsprop_init(params):
    return {"avg_sq": np.zeros_like(params, dtype=float)}


def rmsprop_update(params, grads, state, lr=0.01, rho=0.99, eps=1e-8):
    """s <- rho * s + (1 - rho) * g^2; p <- p - lr * g / (sqrt(s) + eps)."""
    _positive("lr", lr)
    _unit("rho", rho)
    _positive("eps", eps)
    s = rho * state["avg_sq"] + (1 - rho) * grads**2
    return params - lr * grads / (np.sqrt(s) + eps), {"avg_sq": s}


def adam_init(params):
    return {"m": np.zeros_like(params, dtype=float), "v": np.zeros_like(params, dtype=float), "t": 0}


def adam_update(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam with bias correction (Kingma & Ba 2015, arXiv:1412.6980)."""
    _positive("lr", lr)
    _unit("beta1", beta1)
    _unit("beta2", beta2)
    _positive("eps", eps)
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * grads
    v = beta2 * state["v"] + (1 - beta2) * grads**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), {"m": m, "v": v, "t": t}
