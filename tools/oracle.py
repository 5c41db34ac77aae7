"""The equivalence oracle of tools/mutants.py: does a mutant behave like the original at all?

It knows nothing of the tests. For a module of the teaching core it loads the original and the
mutant side by side, calls every function and class the module defines (public and private)
on the same inputs, and compares what comes back, exactly: values (floats bit for bit),
arrays, the state of returned objects after exercising their methods (an optimizer is run for
a few updates, a schedule is evaluated over a range of steps, a problem's loss and gradient
are taken at random points), and raised errors (type and message).

The inputs come from the course's fixed vocabulary: an argument named ``lr`` gets learning
rates, ``step`` gets integer steps and step arrays, ``params`` random points, ``rng`` seeded
generators, and every argument also gets the edge values 0, 1, -1, 0.5, 2, nan, inf, True,
None and a string, one at a time and in seeded random combinations. Nothing differs on any of
them: the mutant counts as equivalent. An oracle can miss a difference that needs a rarer
input; it never calls a mutant equivalent that it has seen differ.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import os
import random
import re
import signal
import sys
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: Attributes that hold wall-clock measurements, which differ between any two runs.
WALL_CLOCK = {"time", "total_time", "elapsed", "seconds"}

EDGES = [0, 1, -1, 0.5, 2, 2.0, 1e-3, 1e3, math.nan, math.inf, True, None, "x", 3.0]


def _base_values(name: str, seed: int):
    """Plausible values for an argument called ``name``, from the course's vocabulary."""
    from lr_course import optimizers, schedules
    from lr_course.problems import Quadratic

    rng = np.random.default_rng(seed)
    table = [
        (("lr", "lr0", "lr_peak", "lr_max", "lr_start"), [0.1, 0.5, 1e-3, 2.0]),
        (("lr_min", "lr_end"), [0.0, 0.01, 1e-4]),
        (("step", "t", "k"), [0, 3, 17, np.arange(40), np.arange(0, 400, 7)]),
        (("num_steps", "total_steps", "warmup_steps", "drop_every", "period", "step_size_up",
          "step_size_down", "max_steps", "num", "n", "size", "num_runs", "num_iters",
          "num_per_dim", "hidden", "dim", "patience", "cooldown", "period_mult", "eval_every",
          "num_epochs", "batch_size", "minimum", "seed"), [1, 2, 3, 5, 10, 25]),
        (("factor", "decay_rate", "gamma", "rho", "beta1", "beta2", "momentum", "dampening",
          "pct_start", "smoothing", "q", "threshold", "weight_decay", "lr_decay"),
         [0.5, 0.9, 0.1, 0.3, 0.0]),
        (("eps", "tol"), [1e-8, 0.0, 0.1, 1e-3]),
        (("decay_steps", "power", "div_factor", "final_div_factor", "diverge_factor", "blowup",
          "scale", "margin", "a", "b", "l2", "initial_accumulator_value", "angle"),
         [1.0, 2.5, 10.0, 0.5]),
        (("curvature", "mu", "L", "sigma"), [1.0, 2.0, 10.0, 0.5]),
        (("x0", "center", "v0"), [None, rng.normal(size=2), 2.0, rng.normal(size=3)]),
        (("params", "x", "v", "point", "grads", "values_at"),
         [rng.normal(size=2), rng.normal(size=(2, 4)), rng.normal(size=3), rng.normal(size=1)]),
        (("eigenvalues",), [[1.0, 10.0], [0.5, 2.0, 4.0], [3.0]]),
        (("lrs",), [np.geomspace(1e-3, 1.0, 7), np.full(20, 0.1), [0.5, 0.2]]),
        (("low",), [1e-3, 0.1]),
        (("high",), [1.0, 10.0]),
        (("rng", "rotation"), [np.random.default_rng(seed), None]),
        (("problem",), [Quadratic([1.0, 10.0]), Quadratic([2.0])]),
        (("optimizer",), [optimizers.sgd(lr=0.05), optimizers.adam(lr=0.1)]),
        (("make_optimizer",), [lambda lr: optimizers.sgd(lr=lr)]),
        (("objective",), [lambda lr: (math.log10(lr) + 2) ** 2, lambda lr: math.nan if lr > 0.5 else lr]),
        (("schedule", "plateau"), [schedules.constant(0.1), schedules.ReduceOnPlateau(0.1, patience=1)]),
        (("schedules",), [[schedules.constant(0.1), schedules.constant(0.01)]]),
        (("boundaries", "milestones", "values_steps"), [[10, 20], [5], []]),
        (("values",), [[0.1, 0.05, 0.01], [0.2, 0.1]]),
        (("space",), [{"lr": ("log", 1e-4, 1.0), "momentum": ("linear", 0.0, 0.99)}]),
        (("metric",), [1.0, 0.5, math.nan]),
        (("split", "eval_split", "name"), ["val", "train", "test"]),
        (("mode",), ["min", "max", "triangular", "triangular2", "exp_range"]),
        (("anneal",), ["cos", "linear"]), (("measure",), ["distance", "loss"]),
        (("threshold_mode",), ["rel", "abs"]), (("activation",), ["tanh", "relu"]),
        (("monitor",), ["loss", "metric"]),
        (("staircase", "three_phase", "nesterov", "centered", "amsgrad", "maximize",
          "allow_indefinite", "record_params", "allow_none", "low_open", "high_open", "strict"),
         [False, True]),
        (("batch",), [None, np.arange(10), np.array([3, 1, 4])]),
        (("hvp",), [lambda v: np.array([[2.0, 1.0], [1.0, 3.0]]) @ v]),
        (("callback", "on_eval", "fn"), [None, lambda *a: None]),
        (("value",), [0.5, 3, -1, True, "0.1", np.float64(2.0), np.array(0.25), [0.1]]),
        (("options", "choices"), [("a", "b")]),
        (("description",), ["sched(lr=0.1)"]),
    ]
    for names, values in table:
        if name in names:
            return values
    return [None, 1.0, 3]


def _text(text: str) -> str:
    """A message or repr without memory addresses (they differ between any two objects)."""
    return re.sub(r" at 0x[0-9a-f]+", " at 0x?", text)[:300]


def digest(value, depth: int = 0):
    """Everything observable about ``value``, as nested tuples of plain values."""
    if depth > 3:
        return ("deep", type(value).__name__)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return ("float", value.hex() if math.isfinite(value) else repr(value))
    if isinstance(value, np.generic):
        return digest(value.item(), depth)
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
        return ("array", value.shape, str(value.dtype),
                hashlib.sha1(data.tobytes() if data.dtype.kind != "O" else repr(data).encode()).hexdigest())
    if isinstance(value, np.random.Generator):
        return ("rng", value.bit_generator.state["state"]["state"])
    if isinstance(value, dict):
        return ("dict", tuple((digest(k), digest(v, depth + 1)) for k, v in value.items()))
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return (type(value).__name__, tuple(digest(v, depth + 1) for v in value))
    if hasattr(value, "_fields") and hasattr(value, "update") and hasattr(value, "init"):
        return ("optimizer", _run_optimizer(value), value.name, _text(repr(value.hyperparams)))
    if hasattr(value, "_fields"):
        return ("record", tuple(digest(v, depth + 1) for v in value))
    if isinstance(value, (types.FunctionType, types.LambdaType)) or callable(value) and \
            not hasattr(value, "__dict__"):
        return ("callable", _call_with_steps(value))
    if hasattr(value, "__dict__"):
        return ("object", type(value).__name__, _exercise(value, depth))
    return ("other", type(value).__name__, _text(repr(value)))


def _outcome(function, *args, **kwargs):
    """What calling ``function`` gives: ("ok", digest) or ("raise", type, message)."""
    try:
        with np.errstate(all="ignore"):
            result = function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - an error is an outcome to compare
        return ("raise", type(error).__name__, _text(str(error)))
    return ("ok", digest(result, 1))


def _call_with_steps(function):
    outcomes = [_outcome(function, s) for s in (0, 1, 2, 5, 9, 30, 99, 100, 101, 250, -1)]
    outcomes.append(_outcome(function, np.arange(300)))
    outcomes.append(_outcome(function, 2.5))
    return tuple(outcomes)


def _run_optimizer(opt):
    rng = np.random.default_rng(7)
    runs = []
    for dtype in (np.float64, np.float32):
        params = rng.normal(size=3).astype(dtype)
        state = _outcome(opt.init, params)
        if state[0] == "raise":
            runs.append(state)
            continue
        state = opt.init(params)
        trace = []
        for k in range(5):
            grads = rng.normal(size=3).astype(dtype) * (10.0 ** (k - 2))
            trace.append(_outcome(opt.update, params, grads, state))
            try:
                with np.errstate(all="ignore"):
                    params, state = opt.update(params, grads, state)
            except Exception:  # noqa: BLE001
                break
        in_place = params.copy()
        copy_state = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}
        trace.append(_outcome(opt.step, in_place, rng.normal(size=3).astype(dtype), copy_state))
        trace.append(digest(in_place))
        trace.append(digest(copy_state))
        runs.append(tuple(trace))
    runs.append(tuple(_outcome(opt.lr_at, t) for t in range(6)))
    runs.append(_outcome(opt.update, np.zeros(3), np.zeros(4), opt.init(np.zeros(3))))
    runs.append(_outcome(opt.update, np.zeros(3), np.zeros(3), {"t": -1}))
    return tuple(runs)


def _exercise(obj, depth):
    """The object's attributes, and what its public methods give on probe inputs."""
    seen = []
    for name in sorted(dir(obj)):
        if name.startswith("__"):
            continue
        try:
            value = getattr(obj, name)
        except Exception as error:  # noqa: BLE001
            seen.append((name, "raise", type(error).__name__, _text(str(error))))
            continue
        if name in WALL_CLOCK:
            continue
        if inspect.ismethod(value):
            seen.append((name, _probe(value, calls=12, seed=depth)))
        elif not callable(value):
            seen.append((name, digest(value, depth + 1)))
    if callable(obj):
        seen.append(("__call__", _call_with_steps(obj)))
    return tuple(seen)


def _probe(function, calls: int = 40, seed: int = 0):
    """Outcomes of ``function`` on its base arguments, each edge value and random combinations."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return ("no signature",)
    params = [p for p in signature.parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    candidates = []
    for p in params:
        values = list(_base_values(p.name, seed))
        if p.default is not inspect.Parameter.empty:
            values.insert(0, p.default)
        candidates.append(values)
    pick = random.Random(f"{function.__qualname__}:{seed}")

    def call(choice):
        args = {p.name: v for p, v in zip(params, choice)}
        positional = [args.pop(p.name) for p in params if p.kind == p.POSITIONAL_ONLY]
        return _outcome(function, *positional, **args)

    outcomes = [call([c[0] for c in candidates])]
    for i, p in enumerate(params):
        for edge in candidates[i][1:] + EDGES:
            choice = [c[0] for c in candidates]
            choice[i] = edge
            outcomes.append(call(choice))
    for _ in range(calls):
        outcomes.append(call([pick.choice(c) for c in candidates]))
    return tuple(outcomes)


def behaviour(module) -> tuple:
    """What every function and class defined in ``module`` does on the probe inputs."""
    seen = []
    for name, value in sorted(vars(module).items()):
        if name.startswith("__") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(value) or inspect.isclass(value):
            seen.append((name, _probe(value)))
        elif not callable(value) and not inspect.ismodule(value):
            seen.append((name, digest(value)))
    return tuple(seen)


def _load(module_path: str, source: str | None):
    """The module at ``module_path`` (``lr_course/x.py``), or a twin built from ``source``."""
    import importlib

    name = module_path[:-3].replace("/", ".")
    if source is None:
        return importlib.import_module(name)
    twin = types.ModuleType(name)
    twin.__package__ = name.rpartition(".")[0]
    twin.__file__ = str(ROOT / module_path)
    sys.modules[name] = twin  # so that the dataclasses and classes of the twin resolve
    try:
        exec(compile(source, str(ROOT / module_path), "exec"), twin.__dict__)
    finally:
        del sys.modules[name]
    return twin


def equivalent(module_path: str, source: str, timeout: float = 120.0,
               original: str | None = None) -> bool:
    """Whether the mutant ``source`` of ``module_path`` behaves exactly like the original.

    ``original`` is the source the mutant was made from, if not the module's file as it is.
    Runs in a forked child (a mutant may loop or crash); a timeout or a crash is a difference.
    """
    pid = os.fork()
    if pid == 0:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            before = behaviour(_load(module_path, original))
            after = behaviour(_load(module_path, source))
            os._exit(0 if before == after else 1)
        except BaseException:
            os._exit(2)
    signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
    signal.alarm(int(timeout))
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        signal.alarm(0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
