"""Record float64 trajectories of torch.optim optimizers, for tests/test_optimizers.py to replay.

Run with an interpreter that has PyTorch (torch is never a dependency of lr_course)::

    /root/torchenv/bin/python tests/reference/record_torch_optimizers.py

It writes ``tests/reference/torch_optimizers.npz`` next to this file. The problem is a
noisy quadratic whose gradient feeds back on the trajectory::

    grads_k = A @ params_k + noise_k

with a fixed, seeded symmetric positive-definite A (eigenvalues from 0.5 to 4) and a
fixed noise sequence. Each run starts from the same params and takes NUM_STEPS steps.

Saved arrays: ``A``, ``params0``, ``noise`` (NUM_STEPS x N), ``configs`` (a JSON string:
a list of runs, each with an ``id``, the lr_course factory name and its keyword
arguments, the torch class and its keyword arguments, and an optional exponential lr
schedule), and per run ``<id>__params`` (NUM_STEPS + 1 x N, the start included),
``<id>__lr`` (the lr torch used at each step) and ``<id>__state__<key>`` (the final
optimizer state under lr_course's key names).
"""

import json
import pathlib

import numpy as np
import torch

N = 8
NUM_STEPS = 100
SEED = 20240601
OUT = pathlib.Path(__file__).with_name("torch_optimizers.npz")

# (id, lr_course factory, lr_course kwargs, exponential-schedule gamma or None).
# torch's arguments are derived from ours by TORCH_NAMES below.
RUNS = [
    ("sgd_plain", "sgd", dict(lr=0.05), None),
    ("sgd_momentum", "sgd", dict(lr=0.02, momentum=0.9), None),
    ("sgd_dampening", "sgd", dict(lr=0.02, momentum=0.9, dampening=0.3), None),
    ("sgd_nesterov", "sgd", dict(lr=0.02, momentum=0.9, nesterov=True), None),
    ("sgd_weight_decay", "sgd", dict(lr=0.05, weight_decay=0.1), None),
    ("sgd_momentum_weight_decay", "sgd", dict(lr=0.02, momentum=0.5, weight_decay=0.1), None),
    ("adagrad_plain", "adagrad", dict(lr=0.5), None),
    ("adagrad_lr_decay", "adagrad", dict(lr=0.5, lr_decay=0.05), None),
    ("adagrad_initial_accumulator", "adagrad", dict(lr=0.5, initial_accumulator_value=0.3), None),
    ("adagrad_weight_decay", "adagrad", dict(lr=0.5, weight_decay=0.1, eps=1e-6), None),
    ("rmsprop_plain", "rmsprop", dict(lr=0.01), None),
    ("rmsprop_centered", "rmsprop", dict(lr=0.01, centered=True), None),
    ("rmsprop_momentum", "rmsprop", dict(lr=0.005, momentum=0.9), None),
    ("rmsprop_weight_decay", "rmsprop", dict(lr=0.01, rho=0.9, weight_decay=0.1, eps=1e-6), None),
    ("rmsprop_centered_momentum", "rmsprop", dict(lr=0.005, centered=True, momentum=0.5), None),
    ("adam_plain", "adam", dict(lr=0.05), None),
    ("adam_amsgrad", "adam", dict(lr=0.05, amsgrad=True), None),
    ("adam_weight_decay", "adam", dict(lr=0.05, weight_decay=0.1), None),
    ("adam_betas_eps", "adam", dict(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-3), None),
    ("adamw_plain", "adamw", dict(lr=0.05), None),
    ("adamw_amsgrad", "adamw", dict(lr=0.05, weight_decay=0.1, amsgrad=True), None),
    ("sgd_momentum_exponential_lr", "sgd", dict(lr=0.03, momentum=0.9), 0.97),
    ("adam_exponential_lr", "adam", dict(lr=0.1), 0.97),
    ("adagrad_lr_decay_exponential_lr", "adagrad", dict(lr=0.5, lr_decay=0.05), 0.97),
]

TORCH_CLASSES = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad,
                 "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam,
                 "adamw": torch.optim.AdamW}

# torch's state names -> ours (torch says momentum_buffer for SGD's velocity and RMSprop's buffer).
STATE_NAMES = {"momentum_buffer": "momentum_buffer", "sum": "sum_sq", "square_avg": "avg_sq",
               "grad_avg": "avg_grad", "exp_avg": "m", "exp_avg_sq": "v",
               "max_exp_avg_sq": "v_max", "step": "t"}


def our_state_name(factory: str, torch_name: str) -> str:
    if factory == "sgd" and torch_name == "momentum_buffer":
        return "velocity"
    return STATE_NAMES[torch_name]


def torch_kwargs(factory: str, kwargs: dict) -> dict:
    """Our keyword arguments in torch's spelling (rho -> alpha, beta1/beta2 -> betas)."""
    out = dict(kwargs)
    if factory == "rmsprop" and "rho" in out:
        out["alpha"] = out.pop("rho")
    if factory in ("adam", "adamw"):
        out["betas"] = (out.pop("beta1", 0.9), out.pop("beta2", 0.999))
    return out


def make_problem(rng: np.random.Generator):
    q, _ = np.linalg.qr(rng.normal(size=(N, N)))
    eigenvalues = np.geomspace(0.5, 4.0, N)
    a = (q * eigenvalues) @ q.T
    a = (a + a.T) / 2  # exactly symmetric
    params0 = rng.normal(scale=2.0, size=N)
    noise = rng.normal(scale=0.5, size=(NUM_STEPS, N))
    return a, params0, noise


def run(factory, kwargs, gamma, a, params0, noise):
    a_t = torch.tensor(a, dtype=torch.float64)
    p = torch.tensor(params0, dtype=torch.float64, requires_grad=True)
    opt = TORCH_CLASSES[factory]([p], **torch_kwargs(factory, kwargs))
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma) if gamma else None
    trajectory = [p.detach().numpy().copy()]
    lrs = []
    for k in range(NUM_STEPS):
        with torch.no_grad():
            p.grad = a_t @ p + torch.tensor(noise[k], dtype=torch.float64)
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched is not None:
            sched.step()
        trajectory.append(p.detach().numpy().copy())
    state = {our_state_name(factory, key): np.asarray(value.detach().numpy() if torch.is_tensor(value) else value)
             for key, value in opt.state[p].items()}
    return np.array(trajectory), np.array(lrs), state


def main():
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(SEED)
    a, params0, noise = make_problem(rng)
    arrays = {"A": a, "params0": params0, "noise": noise}
    configs = []
    for run_id, factory, kwargs, gamma in RUNS:
        trajectory, lrs, state = run(factory, kwargs, gamma, a, params0, noise)
        if not np.all(np.isfinite(trajectory)):
            raise RuntimeError(f"{run_id} diverged; pick a smaller lr")
        arrays[f"{run_id}__params"] = trajectory
        arrays[f"{run_id}__lr"] = lrs
        for key, value in state.items():
            arrays[f"{run_id}__state__{key}"] = value
        configs.append(dict(id=run_id, factory=factory, kwargs=kwargs, gamma=gamma,
                            torch_class=TORCH_CLASSES[factory].__name__,
                            torch_kwargs=torch_kwargs(factory, kwargs)))
    arrays["configs"] = np.array(json.dumps(dict(
        torch_version=torch.__version__, seed=SEED, num_steps=NUM_STEPS, runs=configs)))
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {len(configs)} runs of {NUM_STEPS} steps to {OUT}")


if __name__ == "__main__":
    main()
