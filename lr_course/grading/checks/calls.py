"""Calls and records: what the grader asks a notebook's code to do, and what came back.

A :class:`Call` is plain data naming functions of a notebook (the student's, or the source
notebook's solution) and the inputs to give them; :func:`execute` runs it against a
namespace and returns a :class:`Record`, plain data again. Both cross the sandbox's wall as
JSON through :mod:`.codec`, never as pickles, and a Record read back is checked field by
field (:meth:`Record.from_data`): the student controls every byte of it.

Kinds of Call (each run by one ``_run_<kind>`` function):

``"call"``
    ``value = f(*args, **kwargs)`` on deep copies of the inputs; ``args_after`` keeps the
    copies afterwards, so that a judge can tell whether the inputs were modified. The
    placeholders :class:`~.codec.RngSeed` and :class:`~.codec.Objective` become a fresh
    ``numpy.random.Generator`` and a catalogue objective (its calls are recorded in
    ``extra["objective_calls"]``).
``"rollout"``
    ``state = init(params)``, then ``params, state = update(params, g, state, **kwargs)``
    for each ``g`` of ``grads_seq``; ``value = {"params": [params after each step],
    "state": the last state}``. With ``state`` given, that state is used instead of calling
    ``init``. With ``watch_inputs``, ``extra["mutated"]`` says which inputs an update
    modified (what an ``unchanged`` check judges; comparing every input after every step
    costs more than a small update, so only the rollouts that need it pay for it).
``"schedule"``
    ``value = [schedule(step) for step in range(num_steps)]`` as a float array.
``"train"``
    Trains the named problem of :data:`PROBLEMS` for ``num_steps`` with ``init``/``update``
    and ``kwargs`` (``lr`` among them), minibatches drawn from ``seed``;
    ``value = {"params": final params}``, ``extra["steps"]`` the updates made.

Nothing here imports the rest of ``lr_course`` at module level: the ``"train"`` kind
imports :mod:`lr_course.models` when it runs (the sandbox provides it).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .codec import CodecError, Objective, RngSeed, decode, encode, plain_equal, roundtrip

__all__ = ["Call", "Record", "KINDS", "UnsendableValue", "execute", "same", "OBJECTIVES", "PROBLEMS",
           "MAX_ERROR_CHARS", "MAX_OUTPUT_CHARS", "MAX_WARNINGS"]

# What one answer may cost to record.
MAX_ERROR_CHARS = 500          # exception messages are truncated to this
MAX_OUTPUT_CHARS = 2000        # printed output captured during a call
MAX_WARNINGS = 20              # distinct warnings kept per call
MAX_STEPS = 10_000             # steps of a rollout, schedule or training run

KINDS = ("call", "rollout", "schedule", "train")


@dataclass(frozen=True)
class Call:
    """One thing to run in a notebook's namespace (plain data; see the module doc)."""

    kind: str                      # one of KINDS
    function: str = ""             # the function ("call", "schedule"), the update otherwise
    args: tuple = ()               # positional arguments ("call")
    kwargs: dict = field(default_factory=dict)  # keyword arguments (hyper-parameters)
    init: str = ""                 # init(params) -> state ("rollout", "train")
    params: Any = None             # initial params ("rollout")
    grads_seq: tuple = ()          # gradients fed one per step ("rollout")
    state: Any = None              # a given start state instead of init(params) ("rollout")
    problem: str = ""              # a name in PROBLEMS ("train")
    num_steps: int = 0             # steps ("schedule", "train")
    seed: int = 0                  # seeds the minibatches ("train")
    watch_inputs: bool = False     # report which inputs each update modified ("rollout")

    def names(self) -> tuple:
        """The notebook names this call needs."""
        return tuple(n for n in (self.function, self.init) if n)

    def to_data(self) -> dict:
        """JSON-able form (see :func:`~.codec.encode`)."""
        return {f.name: encode(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_data(cls, data: dict) -> "Call":
        """Inverse of :meth:`to_data`; raises CodecError on malformed data."""
        if type(data) is not dict or not set(data) <= {f.name for f in dataclasses.fields(cls)}:
            raise CodecError("malformed Call")
        values = {k: decode(v) for k, v in data.items()}
        if values.get("kind") not in KINDS:
            raise CodecError(f"unknown Call kind {values.get('kind')!r:.40}")
        for name in ("function", "init", "problem"):
            if type(values.get(name, "")) is not str:
                raise CodecError(f"Call.{name} must be a str")
        for name in ("num_steps", "seed"):
            if type(values.get(name, 0)) is not int:
                raise CodecError(f"Call.{name} must be an int")
        if type(values.get("watch_inputs", False)) is not bool:
            raise CodecError("Call.watch_inputs must be a bool")
        if not 0 <= values.get("num_steps", 0) <= MAX_STEPS:
            raise CodecError(f"Call.num_steps must be in [0, {MAX_STEPS}]")
        for name in ("args", "grads_seq"):
            if name in values:
                if type(values[name]) not in (tuple, list):
                    raise CodecError(f"Call.{name} must be a sequence")
                values[name] = tuple(values[name])
        if len(values.get("grads_seq", ())) > MAX_STEPS:
            raise CodecError(f"Call.grads_seq has more than {MAX_STEPS} steps")
        if type(values.get("kwargs", {})) is not dict:
            raise CodecError("Call.kwargs must be a dict")
        return cls(**values)


@dataclass
class Record:
    """What one Call did, as plain data."""

    ok: bool                       # the call returned (no exception)
    value: Any = None              # what it returned, normalised through the codec
    error: str = ""                # "TypeName: message", truncated; "" when ok
    error_type: str = ""           # the exception's class name
    error_bases: tuple = ()        # class names along its MRO (a ValueError subclass counts)
    warnings: list = field(default_factory=list)  # warning messages raised during the call
    args_after: Any = None         # ("call") [args, kwargs] after the call
    output: str = ""               # what the call printed (stdout + stderr), truncated
    seconds: float = 0.0           # wall time of the call
    extra: dict = field(default_factory=dict)  # kind-specific facts (see the module doc)

    def raised(self, name: str) -> bool:
        """True if the call raised ``name`` or a subclass of it."""
        return not self.ok and name in self.error_bases

    def to_data(self) -> dict:
        """JSON-able form (see :func:`~.codec.encode`)."""
        return {f.name: encode(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_data(cls, data: dict) -> "Record":
        """Inverse of :meth:`to_data`, for untrusted data: every field's type is checked.

        Raises:
            CodecError: on anything that is not exactly a Record's layout.
        """
        if type(data) is not dict or "ok" not in data or \
                not set(data) <= {f.name for f in dataclasses.fields(cls)}:
            raise CodecError("malformed Record")
        values = {k: decode(v) for k, v in data.items()}
        if type(values["ok"]) is not bool:
            raise CodecError("Record.ok must be a bool")
        for name in ("error", "error_type", "output"):
            if type(values.get(name, "")) is not str:
                raise CodecError(f"Record.{name} must be a str")
            values[name] = values.get(name, "")[:MAX_OUTPUT_CHARS]
        found = values.get("warnings", [])
        if type(found) is not list or len(found) > MAX_WARNINGS or \
                not all(type(w) is str for w in found):
            raise CodecError("Record.warnings must be a short list of str")
        values["warnings"] = [w[:MAX_ERROR_CHARS] for w in found]
        bases = values.get("error_bases", ())
        if type(bases) not in (tuple, list) or len(bases) > 64 or \
                not all(type(b) is str for b in bases):
            raise CodecError("Record.error_bases must be a short sequence of str")
        values["error_bases"] = tuple(b[:100] for b in bases)
        if type(values.get("extra", {})) is not dict:
            raise CodecError("Record.extra must be a dict")
        seconds = values.get("seconds", 0.0)
        if type(seconds) not in (int, float) or not math.isfinite(seconds) or seconds < 0:
            raise CodecError("Record.seconds must be a finite number >= 0")
        values["seconds"] = float(seconds)
        return cls(**values)


class UnsendableValue(Exception):
    """A value the codec refuses to carry (too many dimensions, too deep, too large).

    Deliberately not a ``ValueError`` (the codec's own :class:`~.codec.CodecError` is one):
    a call whose result cannot reach the grader has failed, and must never pass for a call
    that raised the ``ValueError`` a check asked for.
    """


def normalise(obj):
    """What ``obj`` looks like after a trip through the codec (in-process == sandbox).

    Raises:
        UnsendableValue: the codec refuses ``obj``.

    >>> normalise(np.zeros((1,) * 33))
    Traceback (most recent call last):
    ...
    lr_course.grading.checks.calls.UnsendableValue: the grader cannot receive this value: too many dimensions
    """
    try:
        return roundtrip(obj)
    except CodecError as exc:
        raise UnsendableValue(f"the grader cannot receive this value: {exc}") from None


def same(a, b) -> bool:
    """Exact structural equality of plain data (arrays compared bitwise, NaN == NaN).

    >>> same({"m": np.array([np.nan])}, {"m": np.array([np.nan])}), same((1,), [1])
    (True, False)
    """
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if type(a) is not type(b):
        return False
    if type(a) in (tuple, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


def same_normalised(a, b) -> bool:
    """``same(normalise(a), normalise(b))``, without the two copies where the answer is sure.

    A rollout asks this three times per step (were the inputs the update got modified?),
    and normalising costs more than the update of a small array. Where ``a`` and ``b`` are
    plain data the codec carries unchanged (exact types, within its limits) and equal, both
    normalise to equal values, so the answer is True without normalising; in every other
    case (a difference, a student's own type, a value near a limit) the slow comparison
    decides, so the answer, and an error the codec raises, are always the slow one's.

    >>> same_normalised({"m": np.array([np.nan, 1.0])}, {"m": np.array([np.nan, 1.0])})
    True
    >>> same_normalised(np.zeros(2), np.zeros(2, dtype=np.float32))
    False
    """
    if plain_equal(a, b):
        return True
    return bool(same(normalise(a), normalise(b)))


def execute(call: Call, namespace: dict) -> Record:
    """Run ``call`` against the definitions in ``namespace``; never raises.

    Every exception is caught and recorded; warnings (numpy floating-point errors
    included) are recorded instead of printed; whatever the call prints is captured.

    >>> rec = execute(Call("call", "f", args=(np.ones(2),)), {"f": lambda x: x / 0})
    >>> rec.ok, rec.warnings
    (True, ['RuntimeWarning: divide by zero encountered in divide'])
    >>> execute(Call("call", "g"), {}).error
    'NameError: g is not defined'
    """
    runner = _RUNNERS.get(call.kind)
    sink = io.StringIO()
    start = time.perf_counter()
    record = Record(ok=False)
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"), \
            contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("always")
        try:
            if runner is None:
                raise ValueError(f"unknown Call kind {call.kind!r}")
            for name in call.names():
                if not callable(namespace.get(name)):
                    raise NameError(f"{name} is not defined" if name not in namespace
                                    else f"{name} is not a function")
            runner(call, namespace, record)
            record.ok = True
        except BaseException as exc:  # noqa: BLE001 - a student's SystemExit is an answer too
            if isinstance(exc, KeyboardInterrupt):
                raise
            message = f"{type(exc).__name__}: {_text(exc)}"
            record.error = message[:MAX_ERROR_CHARS]
            record.error_type = type(exc).__name__[:100]
            record.error_bases = tuple(c.__name__ for c in type(exc).__mro__)
            record.value = None
    record.seconds = time.perf_counter() - start
    seen = []
    for w in caught:
        text = f"{w.category.__name__}: {_text(w.message)}"[:MAX_ERROR_CHARS]
        if text not in seen:
            seen.append(text)
    record.warnings = seen[:MAX_WARNINGS]
    record.output = sink.getvalue()[:MAX_OUTPUT_CHARS]
    return record


def _text(obj) -> str:
    """``str(obj)``, or a placeholder when a student's __str__ misbehaves."""
    try:
        text = str(obj)
    except BaseException:  # noqa: BLE001
        return "<unprintable>"
    return text if type(text) is str else "<unprintable>"


def _run_call(call, namespace, record):
    objective_calls = []
    args = _materialise(copy.deepcopy(tuple(call.args)), objective_calls)
    kwargs = _materialise(copy.deepcopy(dict(call.kwargs)), objective_calls)
    value = namespace[call.function](*args, **kwargs)
    record.value = normalise(value)
    record.args_after = normalise([_strip_live(list(args)), _strip_live(kwargs)])
    if any(type(x) is Objective for x in _flatten((call.args, call.kwargs))):
        record.extra["objective_calls"] = objective_calls


def _materialise(obj, objective_calls):
    """Replace placeholders by live objects (a Generator, a recording objective)."""
    if type(obj) is RngSeed:
        return np.random.default_rng(obj.seed)
    if type(obj) is Objective:
        return _recording_objective(obj, objective_calls)
    if type(obj) is tuple:
        return tuple(_materialise(x, objective_calls) for x in obj)
    if type(obj) is list:
        return [_materialise(x, objective_calls) for x in obj]
    if type(obj) is dict:
        return {k: _materialise(v, objective_calls) for k, v in obj.items()}
    return obj


def _recording_objective(spec, calls):
    if spec.name not in OBJECTIVES:
        raise KeyError(f"unknown objective {spec.name!r}")
    fn = OBJECTIVES[spec.name](**spec.options)

    def objective(lr):
        calls.append(normalise(lr))
        return fn(lr)

    return objective


def _strip_live(obj):
    """Arguments after the call, without the live Generator and objective objects."""
    if isinstance(obj, np.random.Generator) or callable(obj):
        return None
    if type(obj) in (tuple, list):
        return [_strip_live(x) for x in obj]
    if type(obj) is dict:
        return {k: _strip_live(v) for k, v in obj.items()}
    return obj


def _flatten(obj):
    if type(obj) in (tuple, list):
        for x in obj:
            yield from _flatten(x)
    elif type(obj) is dict:
        for x in obj.values():
            yield from _flatten(x)
    else:
        yield obj


def _fresh(obj):
    """``copy.deepcopy(obj)``, by the array's own copy for a plain numeric array (the same
    copy, memory layout included, without deepcopy's bookkeeping)."""
    if type(obj) is np.ndarray and obj.dtype.kind in "biufc":
        return obj.copy(order="K")
    return copy.deepcopy(obj)


def _run_rollout(call, namespace, record):
    init, update = namespace[call.init], namespace[call.function]
    params = _fresh(call.params)
    state = copy.deepcopy(call.state) if call.state is not None else init(_fresh(params))
    history = []
    watch = call.watch_inputs
    mutated = {"params": False, "grads": False, "state": False}
    for g in call.grads_seq:
        params_in, grads_in, state_in = _fresh(params), _fresh(g), copy.deepcopy(state)
        out = update(params_in, grads_in, state_in, **copy.deepcopy(call.kwargs))
        if watch:
            mutated["params"] |= not same_normalised(params_in, params)
            mutated["grads"] |= not same_normalised(grads_in, g)
            mutated["state"] |= not same_normalised(state_in, state)
        if not (type(out) is tuple and len(out) == 2):
            raise TypeError(f"{call.function} must return (new_params, new_state), "
                            f"got {type(out).__name__}")
        params, state = out
        history.append(normalise(params))   # a copy: later steps cannot change it
    record.value = {"params": history, "state": normalise(state)}
    if watch:
        record.extra["mutated"] = mutated


def _run_schedule(call, namespace, record):
    schedule = namespace[call.function]
    lrs = []
    for step in range(call.num_steps):
        lr = schedule(step)
        if isinstance(lr, np.ndarray) and lr.ndim == 0:
            lr = lr[()]
        if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, (int, float, np.integer,
                                                                   np.floating)):
            raise TypeError(f"{call.function}({step}) returned {type(lr).__name__}, "
                            "not a number")
        lrs.append(float(lr))
    record.value = np.array(lrs, dtype=float)


def _run_train(call, namespace, record):
    if call.problem not in PROBLEMS:
        raise KeyError(f"unknown problem {call.problem!r}")
    rng = np.random.default_rng(call.seed)
    params, grad_fn = PROBLEMS[call.problem]()
    kwargs = dict(call.kwargs)
    batch_size = kwargs.pop("batch_size", 64)
    update = namespace[call.function]
    state = namespace[call.init](params.copy())
    steps = 0
    for _ in range(call.num_steps):
        g = grad_fn(params, rng, batch_size)
        out = update(params, g, state, **kwargs)
        if not (type(out) is tuple and len(out) == 2):
            raise TypeError(f"{call.function} must return (new_params, new_state), "
                            f"got {type(out).__name__}")
        params, state = out
        params = np.asarray(params, dtype=float)
        steps += 1
    record.value = {"params": normalise(np.asarray(params, dtype=float))}
    record.extra["steps"] = steps


_RUNNERS = {"call": _run_call, "rollout": _run_rollout, "schedule": _run_schedule,
            "train": _run_train}


# ---------------------------------------------------------------------------------------
# Catalogues: objectives for search functions, problems for applied checks. They run where
# the notebook's code runs, and the grader uses the same definitions to judge.


def _bowl(best=0.1, width=1.0, diverge_above=None):
    """Score = squared log-distance from ``best``; NaN above ``diverge_above`` (diverged)."""
    def f(lr):
        lr = float(lr)
        if diverge_above is not None and lr > diverge_above:
            return float("nan")
        return float((math.log10(lr) - math.log10(best)) ** 2 / width)
    return f


def _decreasing_then_inf(diverge_above=1.0):
    """Score falls with lr until ``diverge_above``, where the run blows up (inf)."""
    def f(lr):
        lr = float(lr)
        return float("inf") if lr > diverge_above else 1.0 / lr
    return f


OBJECTIVES: dict[str, Callable[..., Callable[[float], float]]] = {
    "bowl": _bowl,
    "decreasing_then_inf": _decreasing_then_inf,
}


def _digits_logreg():
    """Multinomial logistic regression on the course's digits; minibatch gradients."""
    from lr_course import models  # the sandbox provides models and its data
    model = models.LogisticRegression()
    n = model.num_train

    def grad(params, rng, batch_size):
        batch = rng.choice(n, size=batch_size, replace=False) if batch_size else None
        return model.loss_and_grad(params, batch=batch)[1]

    return np.asarray(model.x0, dtype=float), grad


PROBLEMS: dict[str, Callable] = {
    "digits_logreg": _digits_logreg,
}
