"""Record float64 trajectories of optax and Keras optimizers, for tests/test_reference_libraries.py.

Run with an interpreter that has jax, optax and keras (none of them is a dependency of
lr_course), for instance a throwaway venv outside the repository::

    python3 -m venv /tmp/ref-venv && /tmp/ref-venv/bin/pip install jax optax keras
    KERAS_BACKEND=jax /tmp/ref-venv/bin/python tests/reference/record_optax_keras.py

It writes ``tests/reference/optax_keras.npz`` next to this file. The problem is the one of
the torch traces (``torch_optimizers.npz``: the same A, start and noise), so that
``grads_k = A @ params_k + noise_k`` feeds back on each library's own trajectory.

Saved arrays: ``configs`` (a JSON string: the library, the constructor and its keyword
arguments of each run, and ``versions``), per optimizer run ``<id>__params``
(NUM_STEPS + 1 x N, the start included), and per plateau run ``<id>__metrics`` and
``<id>__lr`` (the metric fed at each check and the lr Keras set after it).
"""

import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

HERE = pathlib.Path(__file__).parent
OUT = HERE / "optax_keras.npz"
NUM_STEPS = 60

# (id, constructor in optax's namespace, its keyword arguments); lr may be ("exponential", lr0, gamma)
OPTAX_RUNS = [
    ("optax_sgd_momentum", "sgd", dict(learning_rate=0.02, momentum=0.9)),
    ("optax_sgd_nesterov", "sgd", dict(learning_rate=0.02, momentum=0.9, nesterov=True)),
    ("optax_adam", "adam", dict(learning_rate=0.05, b1=0.8, b2=0.99, eps=1e-3)),
    ("optax_adamw", "adamw", dict(learning_rate=0.05, weight_decay=0.1)),
    ("optax_rmsprop_eps_outside", "rmsprop", dict(learning_rate=0.01, decay=0.9, eps=1e-6,
                                                  eps_in_sqrt=False)),
    ("optax_rmsprop", "rmsprop", dict(learning_rate=0.01, decay=0.9, eps=1e-3)),
    ("optax_rmsprop_centered", "rmsprop", dict(learning_rate=0.01, decay=0.9, eps=1e-3,
                                               centered=True)),
    ("optax_rmsprop_momentum", "rmsprop", dict(learning_rate=0.005, decay=0.9, eps=1e-6,
                                               eps_in_sqrt=False, momentum=0.9)),
    ("optax_rmsprop_momentum_schedule", "rmsprop",
     dict(learning_rate=("exponential", 0.005, 0.97), decay=0.9, eps=1e-6, eps_in_sqrt=False,
          momentum=0.9)),
    ("optax_adagrad", "adagrad", dict(learning_rate=0.5)),
    ("optax_amsgrad", "amsgrad", dict(learning_rate=0.05)),
]

# (id, class in keras.optimizers, its keyword arguments)
KERAS_RUNS = [
    ("keras_sgd_momentum", "SGD", dict(learning_rate=0.02, momentum=0.9)),
    ("keras_adam", "Adam", dict(learning_rate=0.05, epsilon=1e-3)),
    ("keras_adam_eps0", "Adam", dict(learning_rate=0.05, epsilon=0.0)),
    ("keras_adam_weight_decay", "Adam", dict(learning_rate=0.05, epsilon=0.0, weight_decay=0.1)),
    ("keras_amsgrad", "Adam", dict(learning_rate=0.05, epsilon=0.0, amsgrad=True)),
    ("keras_adagrad", "Adagrad", dict(learning_rate=0.5)),
    ("keras_rmsprop", "RMSprop", dict(learning_rate=0.01, rho=0.9, epsilon=1e-3)),
    ("keras_rmsprop_centered", "RMSprop", dict(learning_rate=0.01, rho=0.9, epsilon=1e-3,
                                               centered=True)),
    ("keras_rmsprop_momentum", "RMSprop", dict(learning_rate=0.005, rho=0.9, epsilon=1e-3,
                                               momentum=0.9)),
]

# (id, ReduceLROnPlateau keyword arguments, the metrics fed, one per check)
PLATEAU_RUNS = [
    ("keras_plateau_p3_c2", dict(factor=0.5, patience=3, cooldown=2, min_delta=0.01),
     [5, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5]),
    ("keras_plateau_p1_c1", dict(factor=0.3, patience=1, cooldown=1, min_delta=0.0),
     [3.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9]),
    ("keras_plateau_p2_c3", dict(factor=0.1, patience=2, cooldown=3, min_delta=0.1, min_lr=1e-3),
     [1.0] * 25),
]


def _lr(spec):
    if isinstance(spec, tuple):
        _, lr0, gamma = spec
        return lambda count: lr0 * gamma ** count
    return spec


def optax_trajectory(name, kwargs, a, params0, noise):
    kwargs = {k: _lr(v) if k == "learning_rate" else v for k, v in kwargs.items()}
    opt = getattr(optax, name)(**kwargs)
    params = jnp.asarray(params0)
    state = opt.init(params)
    out = [np.asarray(params)]
    for k in range(NUM_STEPS):
        grads = jnp.asarray(a) @ params + jnp.asarray(noise[k])
        updates, state = opt.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        out.append(np.asarray(params))
    return np.array(out)


def keras_trajectory(name, kwargs, a, params0, noise):
    opt = getattr(keras.optimizers, name)(**kwargs)
    variable = keras.Variable(np.array(params0), dtype="float64")
    opt.build([variable])
    out = [np.array(variable.numpy())]
    for k in range(NUM_STEPS):
        grads = a @ out[-1] + noise[k]
        opt.apply_gradients([(keras.ops.convert_to_tensor(grads, dtype="float64"), variable)])
        out.append(np.array(variable.numpy()))
    return np.array(out)


def keras_plateau(kwargs, metrics):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="mse")
    callback = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", verbose=0, **kwargs)
    callback.set_model(model)
    callback.on_train_begin()
    lrs = []
    for epoch, metric in enumerate(metrics):
        callback.on_epoch_end(epoch, {"val_loss": float(metric)})
        lrs.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
    return np.array(lrs)


def main():
    torch_data = np.load(HERE / "torch_optimizers.npz", allow_pickle=False)
    a, params0, noise = torch_data["A"], torch_data["params0"], torch_data["noise"]
    arrays, runs = {}, []
    for run_id, name, kwargs in OPTAX_RUNS:
        arrays[f"{run_id}__params"] = optax_trajectory(name, kwargs, a, params0, noise)
        runs.append(dict(id=run_id, library="optax", name=name, kwargs=kwargs))
    for run_id, name, kwargs in KERAS_RUNS:
        arrays[f"{run_id}__params"] = keras_trajectory(name, kwargs, a, params0, noise)
        runs.append(dict(id=run_id, library="keras", name=name, kwargs=kwargs))
    for run_id, kwargs, metrics in PLATEAU_RUNS:
        arrays[f"{run_id}__metrics"] = np.array(metrics, dtype=float)
        arrays[f"{run_id}__lr"] = keras_plateau(kwargs, metrics)
        runs.append(dict(id=run_id, library="keras", name="ReduceLROnPlateau", kwargs=kwargs))
    info = dict(runs=runs, num_steps=NUM_STEPS,
                versions=dict(jax=jax.__version__, optax=optax.__version__, keras=keras.__version__))
    np.savez_compressed(OUT, configs=json.dumps(info), **arrays)
    print(f"wrote {OUT} ({len(runs)} runs; {info['versions']})")


if __name__ == "__main__":
    main()
