"""Time one update of each lr_course optimizer on 1e6 params (and 1e3), against torch.optim if present.

Runs under the course's interpreter (lr_course figures only) and under one with PyTorch::

    .venv/bin/python benchmarks/bench_optimizers.py
    /root/torchenv/bin/python benchmarks/bench_optimizers.py     # adds torch and the ratio

Each figure is the median over REPEATS timed updates (after WARMUP untimed ones), with the
state carried from one update to the next as in training; lr_course's and torch's steps
are interleaved so that both see the same load on a shared machine. lr_course's update returns new
arrays (it is a pure function); torch's step mutates its tensors in place. Torch runs
with ``foreach=True``, first with its default number of threads, then with one thread
(numpy's elementwise ops use one core, so that column compares like with like).
The target is lr_course <= 1.5 x torch. This script prints figures; it asserts nothing.
"""

import os
import pathlib
import statistics
import sys
import time

import numpy as np

try:
    import lr_course  # noqa: F401
except ImportError:  # e.g. the torch interpreter, where lr_course is not installed
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from lr_course import optimizers  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

SIZE = 1_000_000
SMALL_SIZE = 1_000  # about the course's models: per-call overhead, not bandwidth
WARMUP = 3
REPEATS = 25

# (label, lr_course factory, its kwargs); torch_step translates the kwargs.
CASES = [
    ("sgd", "sgd", dict(lr=0.01)),
    ("sgd momentum", "sgd", dict(lr=0.01, momentum=0.9)),
    ("sgd nesterov", "sgd", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("adagrad", "adagrad", dict(lr=0.01)),
    ("rmsprop", "rmsprop", dict(lr=0.01)),
    ("rmsprop centered+mom", "rmsprop", dict(lr=0.01, centered=True, momentum=0.9)),
    ("adam", "adam", dict(lr=1e-3)),
    ("adam amsgrad", "adam", dict(lr=1e-3, amsgrad=True)),
    ("adamw", "adamw", dict(lr=1e-3)),
]


def timed(step):
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def lr_course_step(factory, kwargs, dtype, rng, size):
    """One lr_course update on `size` params, carrying params and state to the next call."""
    opt = optimizers.OPTIMIZERS[factory](**kwargs)
    params = rng.normal(size=size).astype(dtype)
    grads = rng.normal(size=size).astype(dtype)
    carry = [params, opt.init(params)]

    def step():
        carry[0], carry[1] = opt.update(carry[0], grads, carry[1])

    return step


def torch_step(factory, kwargs, dtype, rng, size):
    """One torch.optim step (foreach=True) on `size` params; it mutates them in place."""
    kwargs = dict(kwargs)
    if factory == "rmsprop" and "rho" in kwargs:
        kwargs["alpha"] = kwargs.pop("rho")
    if factory in ("adam", "adamw"):
        kwargs["betas"] = (kwargs.pop("beta1", 0.9), kwargs.pop("beta2", 0.999))
    classes = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad,
               "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam,
               "adamw": torch.optim.AdamW}
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    p = torch.tensor(rng.normal(size=size), dtype=tdtype, requires_grad=True)
    p.grad = torch.tensor(rng.normal(size=size), dtype=tdtype)
    opt = classes[factory]([p], foreach=True, **kwargs)

    def step():
        with torch.no_grad():
            opt.step()

    return step


def median_ms(steps):
    """Median time of each step in ms; the steps are interleaved so they share the machine's load."""
    for _ in range(WARMUP):
        for step in steps:
            step()
    times = [[] for _ in steps]
    for _ in range(REPEATS):
        for step, record in zip(steps, times):
            record.append(timed(step))
    return [statistics.median(record) * 1e3 for record in times]


def table(size, dtypes, unit, rng):
    """Print one table of update times for `size` params; return lr_course/torch ratios."""
    scale = {"ms": 1.0, "us": 1e3}[unit]
    print(f"\n{size:.0e} params, median of {REPEATS} updates, in {unit}")
    if torch is None:
        header = f"{'optimizer':22s} {'dtype':8s} {'lr_course':>10s}"
    else:
        header = (f"{'optimizer':22s} {'dtype':8s} {'lr_course':>10s} "
                  f"{'torch':>9s} {'ratio':>6s} {'torch 1thr':>10s} {'ratio':>6s}")
    print(header)
    print("-" * len(header))
    ratios = {}
    for dtype in dtypes:
        dname = np.dtype(dtype).name
        for label, factory, kwargs in CASES:
            ours = lr_course_step(factory, kwargs, dtype, rng, size)
            if torch is None:
                (ours_ms,) = median_ms([ours])
                print(f"{label:22s} {dname:8s} {ours_ms * scale:10.2f}", flush=True)
                continue
            theirs = torch_step(factory, kwargs, dtype, rng, size)
            ours_ms, theirs_ms = median_ms([ours, theirs])
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                ours_ms_1, theirs_ms_1 = median_ms([ours, theirs])
            finally:
                torch.set_num_threads(threads)
            ratios[(label, dname)] = ours_ms / theirs_ms
            print(f"{label:22s} {dname:8s} {ours_ms * scale:10.2f} {theirs_ms * scale:9.2f} "
                  f"{ours_ms / theirs_ms:6.2f} {theirs_ms_1 * scale:10.2f} "
                  f"{ours_ms_1 / theirs_ms_1:6.2f}", flush=True)
    return ratios


def main():
    rng = np.random.default_rng(0)
    print(f"time of one optimizer update (numpy {np.__version__}, python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    if torch is None:
        print("torch not importable: lr_course figures only")
    else:
        print(f"torch {torch.__version__}, foreach=True; 'torch' uses its default "
              f"{torch.get_num_threads()} threads, 'torch 1thr' one thread, like numpy")
    ratios = table(SIZE, (np.float32, np.float64), "ms", rng)
    if ratios:
        label, dname = max(ratios, key=ratios.get)
        print(f"largest ratio lr_course/torch (default threads) at {SIZE:.0e}: "
              f"{ratios[label, dname]:.2f} ({label}, {dname}); target <= 1.5")
    # the size of the course's own models (logistic regression and the MLP on digits)
    table(SMALL_SIZE, (np.float64,), "us", rng)


if __name__ == "__main__":
    main()
