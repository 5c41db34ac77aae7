"""Time one step of each lr_course optimizer on 1e6 params against torch.optim's, in the same run.

Runs under the course's interpreter (lr_course figures only) and under one with PyTorch::

    .venv/bin/python benchmarks/bench_optimizers.py
    /root/torchenv/bin/python benchmarks/bench_optimizers.py     # adds torch and the ratios

Three ways of taking a step are timed, on the same params and gradient:

- ``update``: lr_course's pure ``opt.update``, which returns new arrays (the ps2 API);
- ``step``: lr_course's ``opt.step``, the same numbers written in place;
- ``torch``: ``torch.optim`` with ``foreach=True`` on its default threads, in place.

lr_course's updates are plain whole-array numpy, on one thread. Each is timed in two cache
states, because at 1e6 params the answer depends on them:

- ``cold``: before each timed step, a read of a buffer twice the size of the last-level
  cache evicts everything, as when a model's arrays do not fit in cache or the forward
  and backward passes push them out;
- ``warm``: steps follow each other on the same arrays, which stay in cache if they fit
  (1e6 float32 params and grads: 8 MB).

Figures are medians of REPEATS timed steps; the three ways alternate, round by round, so
that they share the machine's load. The course's optimizers are written to read like
their equations, not to race torch: there is no target, and the script prints figures
and asserts nothing.
"""

from __future__ import annotations

import argparse
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


def lr_course_steps(factory, kwargs, params, grads):
    """(update, step): one pure update carrying params and state along, and one in-place step."""
    opt = getattr(optimizers, factory)(**kwargs)
    carry = [params.copy(), opt.init(params)]
    own_params = params.copy()
    own_state = opt.init(own_params)

    def update():
        carry[0], carry[1] = opt.update(carry[0], grads, carry[1])

    def step():
        opt.step(own_params, grads, own_state)

    return update, step


def torch_step(factory, kwargs, params, grads):
    """One torch.optim step (foreach=True), mutating its own copy of the params."""
    kwargs = dict(kwargs)
    if factory == "rmsprop" and "rho" in kwargs:
        kwargs["alpha"] = kwargs.pop("rho")
    if factory in ("adam", "adamw"):
        kwargs["betas"] = (kwargs.pop("beta1", 0.9), kwargs.pop("beta2", 0.999))
    classes = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad,
               "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam,
               "adamw": torch.optim.AdamW}
    p = torch.tensor(params.copy(), requires_grad=True)
    p.grad = torch.tensor(grads.copy())
    opt = classes[factory]([p], foreach=True, **kwargs)

    def step():
        with torch.no_grad():
            opt.step()

    return step


def _last_level_cache_bytes() -> int:
    try:
        size = os.sysconf("SC_LEVEL3_CACHE_SIZE") or os.sysconf("SC_LEVEL2_CACHE_SIZE")
    except (ValueError, OSError, AttributeError):
        size = 0
    return size if size > 0 else 32 << 20


class Evictor:
    """Reads a buffer twice the last-level cache's size, leaving none of the timed arrays there."""

    def __init__(self):
        self.buffer = np.ones(2 * _last_level_cache_bytes() // 8)

    def __call__(self):
        self.buffer.sum()


def median_ms(steps, repeats, evict=None):
    """The median time in ms of each of ``steps``, round-robin over ``repeats`` rounds.

    Cold (``evict`` given): evict, then time one step. Warm: one untimed step, then
    three timed ones in a row, so the arrays are where the step itself leaves them.
    """
    times = [[] for _ in steps]
    for step in steps:  # first calls: allocations, torch's dispatch caches
        step()
    for _ in range(repeats):
        for step, record in zip(steps, times):
            if evict is not None:
                evict()
                timed = 1
            else:
                step()
                timed = 3
            for _ in range(timed):
                start = time.perf_counter()
                step()
                record.append(time.perf_counter() - start)
    return [statistics.median(record) * 1e3 for record in times]


def table(size, dtypes, repeats, regimes, unit="ms"):
    """Print the times for `size` params; return {(regime, way, label, dtype): ratio to torch}."""
    scale = {"ms": 1.0, "us": 1e3}[unit]
    rng = np.random.default_rng(0)
    ways = ["update", "step"] + (["torch"] if torch is not None else [])
    print(f"\n{size:.0e} params, median of {repeats} steps, in {unit}"
          + ("; (x) is the ratio to torch" if torch is not None else ""))
    header = f"{'optimizer':22s} {'dtype':8s}"
    for regime in regimes:
        header += "".join(f" {regime + ' ' + way:>18s}" for way in ways)
    print(header)
    print("-" * len(header))
    ratios = {}
    for dtype in dtypes:
        dname = np.dtype(dtype).name
        params = rng.normal(size=size).astype(dtype)
        grads = rng.normal(size=size).astype(dtype)
        for label, factory, kwargs in CASES:
            steps = list(lr_course_steps(factory, kwargs, params, grads))
            if torch is not None:
                steps.append(torch_step(factory, kwargs, params, grads))
            row = f"{label:22s} {dname:8s}"
            for regime, evict in regimes.items():
                times = median_ms(steps, repeats, evict)
                for way, ms in zip(ways, times):
                    cell = f"{ms * scale:.3f}"
                    if torch is not None and way != "torch":
                        ratio = ms / times[-1]
                        ratios[regime, way, label, dname] = ratio
                        cell += f" ({ratio:4.2f}x)"
                    row += f" {cell:>18s}"
            print(row, flush=True)
    return ratios


def summarize(ratios, size):
    """One line per way and regime: the largest ratio to torch, and where it occurs."""
    print(f"\nlargest ratio to torch at {size:.0e} params:")
    for regime, way in sorted({key[:2] for key in ratios}):
        worst = max((key for key in ratios if key[:2] == (regime, way)), key=ratios.get)
        print(f"  {way:6s} {regime:4s}: {ratios[worst]:.2f} ({worst[2]}, {worst[3]})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="params per step (1e6)")
    parser.add_argument("--repeats", type=int, default=25, help="timed rounds per figure (25)")
    parser.add_argument("--small-size", type=int, default=1_000,
                        help="a second table at about the course's model sizes (1e3; 0 skips it)")
    args = parser.parse_args(argv)
    print(f"time of one optimizer step (numpy {np.__version__}, python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    if torch is None:
        print("torch not importable: lr_course figures only")
    else:
        print(f"torch {torch.__version__}, foreach=True, on {torch.get_num_threads()} threads")
    ratios = table(args.size, (np.float32, np.float64), args.repeats,
                   {"cold": Evictor(), "warm": None})
    if ratios:
        summarize(ratios, args.size)
    if args.small_size:
        # the course's own models (logistic regression and the MLP on digits): call overhead
        table(args.small_size, (np.float64,), args.repeats, {"warm": None}, unit="us")


if __name__ == "__main__":
    main()
