"""Print how long the digits models take per call (full batch and a minibatch of 64).

Run: .venv/bin/python benchmarks/bench_models.py
"""

import timeit

import numpy as np

from lr_course.models import MLP, LogisticRegression, load_digits


def per_call_ms(fn, repeat=5, number=200):
    return 1e3 * min(timeit.repeat(fn, repeat=repeat, number=number)) / number


def main():
    start = timeit.default_timer()
    load_digits.cache_clear()
    load_digits()
    print(f"load_digits (first call, parses the CSV): {1e3 * (timeit.default_timer() - start):.1f} ms")
    batch = np.arange(64)
    for model in (LogisticRegression(), MLP(hidden=32), MLP(hidden=32, activation="relu")):
        x = model.x0
        v = np.random.default_rng(0).normal(size=model.dim)
        full = per_call_ms(lambda: model.loss_and_grad(x))
        mini = per_call_ms(lambda: model.loss_and_grad(x, batch=batch))
        hvp = per_call_ms(lambda: model.hvp(x, v))
        print(
            f"{model!r:60s} loss_and_grad full {full:6.3f} ms | batch 64 {mini:6.3f} ms | "
            f"hvp full {hvp:6.3f} ms"
        )


if __name__ == "__main__":
    main()
