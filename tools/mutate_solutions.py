"""Mutation score of the graded assignments: does grading catch every small change of a solution?

Each solution region (``### BEGIN SOLUTION`` ... ``### END SOLUTION``) of each source notebook
is broken one small way at a time by :func:`tools.mutants.mutants` (an operator, a
comparison, a constant, a default, a boolean operator, a removed statement or raise). A mutant
is *killed* when the grader, judging it against the untouched solution, takes points away.
A mutant that keeps full marks is put to an oracle that knows nothing of the test cells: it
calls every function of the cell, original and mutant side by side, on a fixed battery of
inputs (valid values, both edges of every stated range, invalid values, arrays, states you did
not create) and compares what comes back, what was raised and what the inputs look like
afterwards. If nothing differs the mutant is *equivalent* and leaves the score::

    score = killed / (mutants - equivalent)

Usage (``make mutate`` runs everything)::

    python tools/mutate_solutions.py                          # every assignment
    python tools/mutate_solutions.py --assignment ps2_adaptive
    python tools/mutate_solutions.py --sample 10 --seed 1     # 10 mutants per assignment

Exits 1 if the score of any assignment is below ``--target`` (default 0.99).
"""

from __future__ import annotations

import argparse
import copy
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from mutants import mutants  # noqa: E402  (tools/ is not a package)

from lr_course.grading.checks.calls import OBJECTIVES  # noqa: E402
from lr_course.grading.engine import Grader  # noqa: E402
from lr_course.grading.inprocess import InProcess  # noqa: E402
from lr_course.grading.submission import load_source  # noqa: E402

SOURCE = ROOT / "autograder" / "source"
ASSIGNMENTS = ("ps1_schedules", "ps2_adaptive", "ps3_tuning")
_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION.*?^[ \t]*### END SOLUTION", re.M | re.S)
SECRET = b"mutation-score-secret".ljust(32, b".")


# --------------------------------------------------------------------------- the oracle's inputs

def _arrays(rng):
    shapes = [(), (3,), (2, 3)]
    return [np.asarray(rng.normal(size=s) * 10.0 ** rng.uniform(-6, 3, size=s)) for s in shapes]


def _spd(rng, dim):
    q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    h = (q * 10 ** rng.uniform(-1, 3, dim)) @ q.T
    return (h + h.T) / 2


def pools(rng) -> dict:
    """Values the oracle tries for each argument name: valid, both edges, invalid."""
    steps = [0, 1, 7, 40, 150, 250, -1, np.arange(0, 260, 9), np.array([[3, -1], [2, 5]]),
             np.array(9), 2.5]
    hessians = [np.diag([0.5, 2.0, 9.0]), _spd(rng, 4), np.array([[3.0]]), np.ones((2, 3)),
                np.array([[2.0, 1.0], [0.0, 2.0]]), np.diag([1.0, -0.5]), np.diag([1.0, 0.0]),
                np.zeros((0, 0))]
    return {
        "lr0": [-0.1, 0.0, 1e-9, 0.1, 1.0], "lr_peak": [-0.1, 0.0, 1e-9, 0.3],
        "step": steps, "drop_every": [0, 0.5, 1, 3, 10], "factor": [0.0, 0.3, 0.5, 1.0, 1.5],
        "decay_rate": [-0.1, 0.0, 0.5, 1.0, 1.5], "decay_steps": [-1, 0, 0.25, 1, 3, 10],
        "staircase": [False, True], "total_steps": [0, 1, 10, 100],
        "lr_min": [-1e-9, 0.0, 0.05, 0.1, 1.0], "warmup_steps": [0, 0.5, 1, 5, 30],
        "lr": [-1e-9, 0.0, 1e-3, 0.01, 0.3], "momentum": [-1e-9, 0.0, 0.5, 0.9, 0.999999, 1.0],
        "rho": [-1e-9, 0.0, 0.5, 0.99, 0.999999, 1.0],
        "beta1": [-1e-9, 0.0, 0.5, 0.9, 0.999999, 1.0],
        "beta2": [-1e-9, 0.0, 0.5, 0.999, 0.999999, 1.0],
        "eps": [-1e-12, 0.0, 1e-10, 1e-8, 0.5],
        "low": [-1e-3, 0.0, 1e-6, 1e-3, 0.1, 1.0], "high": [1e-3, 0.1, 1.0, 10.0],
        "num": [1, 2, 3, 9], "size": [-1, 0, 1, 5, 500], "n": [0, 1, 5, 40],
        "hessian": hessians,
        "lrs": [np.geomspace(1e-4, 1.0, 7), [float(x) for x in np.geomspace(1e-3, 1, 5)], [0.5]],
        "objective": [("bowl", {"best": 0.01}), ("bowl", {"best": 1.0, "diverge_above": 0.05}),
                      ("decreasing_then_inf", {"diverge_above": 0.02})],
        "rng": [11, 12],
    }


def _materialise(name, value):
    """Live arguments, fresh for each side (a Generator, an objective)."""
    if name == "rng":
        return np.random.default_rng(value)
    if name == "objective":
        return OBJECTIVES[value[0]](**value[1])
    return copy.deepcopy(value)


def _outcome(function, kwargs):
    """``("value", result)`` or ``("raised", error name)``, and the arguments afterwards."""
    import warnings
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return ("value", function(**kwargs)), kwargs
        except BaseException as exc:  # noqa: BLE001 - a raised error is an outcome too
            return ("raised", type(exc).__name__), kwargs


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
            return False
        if a.dtype.kind in "fc":
            return bool(np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and \
            all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b) or abs(a - b) <= 1e-12 * max(abs(a), abs(b))
    return type(a) is type(b) and a == b


def battery(function, name, namespace, rng, size=300) -> list:
    """Keyword-argument dicts to call ``function`` with (plain data, made live per side)."""
    import inspect
    table = pools(rng)
    parameters = list(inspect.signature(function).parameters.values())
    calls = []
    for _ in range(size):
        kwargs = {}
        for p in parameters:
            if p.name in table:
                if p.default is not inspect.Parameter.empty and rng.random() < 0.3:
                    continue
                kwargs[p.name] = table[p.name][int(rng.integers(len(table[p.name])))]
            elif p.name in ("params", "grads"):
                kwargs[p.name] = None       # filled below
            elif p.name == "state":
                kwargs[p.name] = None
        calls.append(kwargs)
    if "params" in [p.name for p in parameters]:
        init = namespace.get(name.replace("_update", "_init"))
        for kwargs in calls:
            params = _arrays(rng)[int(rng.integers(3))]
            grads = np.asarray(rng.normal(size=np.shape(params)) *
                               10.0 ** rng.uniform(-6, 3, size=np.shape(params)))
            if rng.random() < 0.1:
                grads = np.ones(4)
            kwargs["params"], kwargs["grads"] = params, grads
            if "state" in kwargs and init is not None:
                state = init(params)
                if rng.random() < 0.6:
                    state = {k: (int(rng.integers(0, 30)) if k == "t" else
                                 np.abs(rng.normal(size=np.shape(params))))
                             for k in state}
                kwargs["state"] = state
    return calls


def _reaches_ps1_target(schedule) -> bool:
    """ps1's applied task, its text's numbers, by a simulation of SGD over many noise draws.

    E[x_i^2] of SGD on 0.5 * sum(lambda_i x_i^2) with N(0, 1) gradient noise, estimated from
    4000 independent runs (not the grader's closed form), must end below 0.09 in 200 steps.
    """
    lam, rng = np.array([1.0, 0.5, 0.25, 0.1]), np.random.default_rng(0)
    x = np.full((4000, 4), 4.0)
    try:
        for step in range(200):
            lr = float(schedule(step))
            if not (np.isfinite(lr) and lr >= 0) or float(schedule(step)) != lr:
                return False
            x = x - lr * (lam * x + rng.standard_normal(x.shape))
    except Exception:  # noqa: BLE001
        return False
    return float(np.mean(0.5 * np.sum(lam * x**2, axis=1))) < 0.09 - 0.003   # MC margin


# Functions whose task is a goal, not a formula: a mutant that still meets it is equivalent.
GOALS = {"my_schedule": _reaches_ps1_target}


def differs(cell_functions: list, original: dict, mutant: dict, seed: int = 0) -> bool:
    """Whether any function of the cell behaves differently in ``mutant`` on the battery."""
    for name in cell_functions:
        if not callable(original.get(name)):
            continue
        if not callable(mutant.get(name)):
            return True
        if name in GOALS:
            if not GOALS[name](mutant[name]):
                return True
            continue
        rng = np.random.default_rng([seed, len(name)])
        for kwargs in battery(original[name], name, original, rng):
            a, args_a = _outcome(original[name], {k: _materialise(k, v) for k, v in kwargs.items()})
            b, args_b = _outcome(mutant[name], {k: _materialise(k, v) for k, v in kwargs.items()})
            plain = [k for k in kwargs if k not in ("rng", "objective")]
            if a[0] != b[0] or not _same(a[1], b[1]) or \
                    not all(_same(args_a[k], args_b[k]) for k in plain):
                return True
    return False


# --------------------------------------------------------------------------- mutants and grading

def solution_cells(nb) -> list:
    """(cell index, grade_id, source, line ranges of its solution regions)."""
    out = []
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            ranges = [(cell.source[:m.start()].count("\n") + 1,
                       cell.source[:m.end()].count("\n") + 1)
                      for m in _REGION.finditer(cell.source)]
            out.append((i, meta["grade_id"], cell.source, ranges))
    return out


def cell_mutants(source: str, ranges: list) -> list:
    """The mutants of ``source`` that change a line inside one of its solution regions."""
    found = []
    for description, mutated in mutants(source):
        line = int(description.split(":")[0][1:])
        if any(a <= line <= b for a, b in ranges):
            found.append((description, mutated))
    return found


def _namespace(nb, replace=None) -> dict:
    """The notebook's definitions (a cell replaced), its prints kept off the report."""
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        return _run_cells(nb, replace)


def _run_cells(nb, replace):
    namespace = {"__name__": "__main__"}
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
            continue
        source = replace[1] if replace and replace[0] == i else cell.source
        try:
            exec(compile(source, f"<cell {i}>", "exec"), namespace)
        except Exception:  # noqa: BLE001 - a broken mutant defines less
            pass
    return namespace


def defined(source: str) -> list:
    import ast
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]


def run(assignment: str, sample: int | None, seed: int, folder: Path, report) -> dict:
    path = SOURCE / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(path, as_version=4)
    source = load_source(path, assignment)
    grader = Grader(source, InProcess(), secret=SECRET)
    original = _namespace(nb)
    jobs = [(i, gid, src, d, m) for i, gid, src, ranges in solution_cells(nb)
            for d, m in cell_mutants(src, ranges)]
    if sample is not None and sample < len(jobs):
        jobs = random.Random(seed).sample(jobs, sample)
    counts = {"mutants": len(jobs), "killed": 0, "equivalent": 0, "survived": []}
    for i, gid, src, description, mutated in jobs:
        planted = copy.deepcopy(nb)
        planted.cells[i].source = mutated
        target = folder / f"{assignment}.ipynb"
        nbformat.write(planted, target)
        result = grader.grade_file(target, "mutant")
        if result.score < result.max_score:
            counts["killed"] += 1
            continue
        if not differs(defined(src), original, _namespace(nb, (i, mutated)), seed):
            counts["equivalent"] += 1
            report(f"  equivalent: {gid} {description}")
            continue
        counts["survived"].append(f"{gid} {description}")
        report(f"  survived: {gid} {description}")
    live = counts["mutants"] - counts["equivalent"]
    counts["score"] = counts["killed"] / live if live else 1.0
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", choices=ASSIGNMENTS, action="append")
    parser.add_argument("--sample", type=int, default=None, help="mutants per assignment")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=float, default=0.99)
    args = parser.parse_args(argv)
    if args.sample is not None and args.sample < 1:
        parser.error(f"--sample must be at least 1, got {args.sample}")
    worst = 1.0
    print(f"{'assignment':16s} {'mutants':>8s} {'killed':>7s} {'equiv.':>7s} {'score':>7s}")
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        for assignment in args.assignment or ASSIGNMENTS:
            c = run(assignment, args.sample, args.seed, Path(folder), print)
            worst = min(worst, c["score"])
            print(f"{assignment:16s} {c['mutants']:8d} {c['killed']:7d} {c['equivalent']:7d} "
                  f"{c['score']:7.1%}", flush=True)
    print(f"worst score {worst:.1%} (target {args.target:.0%}), {time.monotonic() - start:.0f} s")
    return 0 if worst >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
