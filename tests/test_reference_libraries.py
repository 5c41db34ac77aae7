"""optax and Keras, pinned the way torch is: recorded traces against ours or our documented rule.

``tests/reference/record_optax_keras.py`` records the traces (where jax, optax and keras are
installed) on the problem of the torch traces. A run is either the same algorithm as one of
ours (replayed with our optimizer) or a convention our docstrings say differs; then the rule
as the docstring states it is written out here and must reproduce the library's trace.
"""

import json
import pathlib

import numpy as np
import pytest

from lr_course import optimizers, schedules

HERE = pathlib.Path(__file__).parent / "reference"
DATA = np.load(HERE / "optax_keras.npz", allow_pickle=False)
INFO = json.loads(str(DATA["configs"]))
TORCH = np.load(HERE / "torch_optimizers.npz", allow_pickle=False)
A, P0, NOISE = TORCH["A"], TORCH["params0"], TORCH["noise"]
NUM_STEPS = INFO["num_steps"]


def ours(opt):
    """Our optimizer on the recorded problem."""
    params, state, out = P0.copy(), opt.init(P0), [P0.copy()]
    for k in range(NUM_STEPS):
        params, state = opt.update(params, A @ params + NOISE[k], state)
        out.append(params)
    return np.array(out)


def rule(step):
    """A documented rule on the recorded problem: ``step(k, p, g, memory) -> p``."""
    params, memory, out = P0.copy(), {}, [P0.copy()]
    for k in range(NUM_STEPS):
        params = step(k, params, A @ params + NOISE[k], memory)
        out.append(params)
    return np.array(out)


def _ema(memory, key, decay, value):
    memory[key] = decay * memory.get(key, 0.0) + (1 - decay) * value
    return memory[key]


def eps_inside_rmsprop(lr, rho, eps, centered=False, momentum=0.0, inside=True):
    """Keras's and optax's RMSprop: eps inside the root; with momentum, lr inside the buffer."""
    def step(k, p, g, memory):
        s = _ema(memory, "s", rho, g * g)
        if centered:
            s = s - _ema(memory, "a", rho, g) ** 2
        r = np.sqrt(s + eps) if inside else np.sqrt(s) + eps
        if momentum:
            memory["b"] = momentum * memory.get("b", 0.0) + lr(k) * g / r
            return p - memory["b"]
        return p - lr(k) * g / r
    return step


def eps_inside_adagrad(lr, eps=1e-7, s0=0.1):
    """Keras's and optax's Adagrad: s_0 = 0.1, p -= lr g / sqrt(s + eps) with eps = 1e-7."""
    def step(k, p, g, memory):
        memory["s"] = memory.get("s", s0) + g * g
        return p - lr * g / np.sqrt(memory["s"] + eps)
    return step


def keras_adam(lr, eps, beta1=0.9, beta2=0.999):
    """Keras's Adam: eps hat, added to the root of the uncorrected v."""
    def step(k, p, g, memory):
        t = k + 1
        m, v = _ema(memory, "m", beta1, g), _ema(memory, "v", beta2, g * g)
        return p - lr * np.sqrt(1 - beta2**t) / (1 - beta1**t) * m / (np.sqrt(v) + eps)
    return step


def optax_amsgrad(lr, eps=1e-8, beta1=0.9, beta2=0.999):
    """optax.amsgrad: the running maximum of the bias-corrected v."""
    def step(k, p, g, memory):
        t = k + 1
        m, v = _ema(memory, "m", beta1, g), _ema(memory, "v", beta2, g * g)
        memory["u"] = np.maximum(memory.get("u", 0.0), v / (1 - beta2**t))
        return p - lr * (m / (1 - beta1**t)) / (np.sqrt(memory["u"]) + eps)
    return step


def constant(lr):
    return lambda k: lr


def f32(lr):
    """Keras keeps its learning rate in a float32 variable: lr as Keras rounds it."""
    return float(np.float32(lr))


EXPECTED = {
    # the same algorithm as ours
    "optax_sgd_momentum": lambda: ours(optimizers.sgd(lr=0.02, momentum=0.9)),
    "optax_sgd_nesterov": lambda: ours(optimizers.sgd(lr=0.02, momentum=0.9, nesterov=True)),
    "optax_adam": lambda: ours(optimizers.adam(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-3)),
    "optax_adamw": lambda: ours(optimizers.adamw(lr=0.05, weight_decay=0.1)),
    "optax_rmsprop_eps_outside": lambda: ours(optimizers.rmsprop(lr=0.01, rho=0.9, eps=1e-6)),
    # lr inside the buffer equals ours for a constant lr
    "optax_rmsprop_momentum": lambda: ours(optimizers.rmsprop(lr=0.005, rho=0.9, eps=1e-6,
                                                              momentum=0.9)),
    "keras_sgd_momentum": lambda: ours(optimizers.sgd(lr=f32(0.02), momentum=0.9)),
    "keras_adam_eps0": lambda: ours(optimizers.adam(lr=f32(0.05), eps=0.0)),
    # Keras's weight_decay is decoupled: its Adam with it is our adamw
    "keras_adam_weight_decay": lambda: ours(optimizers.adamw(lr=f32(0.05), eps=0.0,
                                                             weight_decay=0.1)),
    # Keras's AMSGrad takes the maximum of the raw v, as ours does
    "keras_amsgrad": lambda: ours(optimizers.adam(lr=f32(0.05), eps=0.0, amsgrad=True)),
    # the conventions the docstrings state
    "optax_rmsprop": lambda: rule(eps_inside_rmsprop(constant(0.01), 0.9, 1e-3)),
    "optax_rmsprop_centered": lambda: rule(eps_inside_rmsprop(constant(0.01), 0.9, 1e-3, True)),
    "optax_rmsprop_momentum_schedule": lambda: rule(eps_inside_rmsprop(
        lambda k: 0.005 * 0.97**k, 0.9, 1e-6, momentum=0.9, inside=False)),
    "optax_adagrad": lambda: rule(eps_inside_adagrad(0.5)),
    "optax_amsgrad": lambda: rule(optax_amsgrad(0.05)),
    "keras_adam": lambda: rule(keras_adam(f32(0.05), 1e-3)),
    "keras_adagrad": lambda: rule(eps_inside_adagrad(f32(0.5))),
    "keras_rmsprop": lambda: rule(eps_inside_rmsprop(constant(f32(0.01)), 0.9, 1e-3)),
    "keras_rmsprop_centered": lambda: rule(eps_inside_rmsprop(constant(f32(0.01)), 0.9, 1e-3,
                                                              True)),
    "keras_rmsprop_momentum": lambda: rule(eps_inside_rmsprop(constant(f32(0.005)), 0.9, 1e-3,
                                                              momentum=0.9)),
}
OPTIMIZER_RUNS = [r["id"] for r in INFO["runs"] if r["name"] != "ReduceLROnPlateau"]


def test_every_recorded_run_is_checked():
    assert sorted(EXPECTED) == sorted(OPTIMIZER_RUNS) and len(OPTIMIZER_RUNS) == 20


@pytest.mark.parametrize("run_id", OPTIMIZER_RUNS)
def test_matches_the_library_trace(run_id):
    np.testing.assert_allclose(EXPECTED[run_id](), DATA[f"{run_id}__params"], rtol=1e-10, atol=1e-12)


def test_the_rule_for_eps_in_the_root_is_not_ours():
    """The documented differences are real: ours differs from each of those traces."""
    for run_id, opt in [("optax_rmsprop", optimizers.rmsprop(lr=0.01, rho=0.9, eps=1e-3)),
                        ("optax_adagrad", optimizers.adagrad(lr=0.5, eps=1e-7,
                                                             initial_accumulator_value=0.1)),
                        ("keras_adam", optimizers.adam(lr=0.05, eps=1e-3)),
                        ("optax_amsgrad", optimizers.adam(lr=0.05, amsgrad=True)),
                        ("optax_rmsprop_momentum_schedule", optimizers.rmsprop(
                            lr=lambda t: 0.005 * 0.97**t, rho=0.9, eps=1e-6, momentum=0.9))]:
        assert not np.allclose(ours(opt), DATA[f"{run_id}__params"], rtol=1e-9), run_id


PLATEAU_RUNS = [r for r in INFO["runs"] if r["name"] == "ReduceLROnPlateau"]


@pytest.mark.parametrize("run", PLATEAU_RUNS, ids=[r["id"] for r in PLATEAU_RUNS])
def test_keras_plateau_is_ours_with_patience_and_cooldown_one_less(run):
    k = run["kwargs"]
    plateau = schedules.ReduceOnPlateau(1.0, factor=k["factor"], patience=k["patience"] - 1,
                                        cooldown=k["cooldown"] - 1, threshold=k["min_delta"],
                                        threshold_mode="abs", lr_min=k.get("min_lr", 0.0))
    lrs = [plateau.step(metric) for metric in DATA[f"{run['id']}__metrics"]]
    keras_lrs = DATA[f"{run['id']}__lr"]
    np.testing.assert_allclose(lrs, keras_lrs, rtol=1e-6)  # Keras keeps its lr in float32
    assert len(set(np.round(keras_lrs, 6))) >= 3  # the run cuts at least twice
    same_counts = schedules.ReduceOnPlateau(1.0, factor=k["factor"], patience=k["patience"],
                                            cooldown=k["cooldown"], threshold=k["min_delta"],
                                            threshold_mode="abs", lr_min=k.get("min_lr", 0.0))
    assert not np.allclose([same_counts.step(m) for m in DATA[f"{run['id']}__metrics"]], keras_lrs)
