"""The check API: what a graded test asks of student code, as plain data.

A graded test cell names checks (``check("ps2.adam_update.first_step", adam_init,
adam_update)``). A :class:`Check` turns a seeded ``rng`` into a list of :class:`Call`
(plain data: which student function to run on which inputs), :func:`execute` runs one
Call against the student's definitions and returns a :class:`Record` (plain data: what
came back), and ``Check.judge`` compares the records with the reference implementation
in the grader's own process. Because Calls and Records cross a process boundary as
JSON (:func:`encode` / :func:`decode`, never pickle), the same checks run in-process
(the notebook's self-check, nbgrader autograde) and in the sandboxed engine.

This module is what runs INSIDE the sandbox, so it imports only the standard library,
numpy and the codec (:mod:`lr_course.grading.codec`, loaded by path there) at module
level; the ``"train"`` kind imports :mod:`lr_course.problems` / :mod:`lr_course.models` on
demand. It never imports the reference solutions.

Kinds of Call (each executed by one ``_run_<kind>`` function below):

``"call"``
    ``value = namespace[function](*args, **kwargs)`` on deep copies; ``args_after``
    holds the copies afterwards (so a judge can tell whether inputs were modified).
    Placeholders :class:`RngSeed` and :class:`Objective` in args/kwargs are replaced by
    a fresh ``numpy.random.Generator`` / a catalogue objective (whose calls are
    recorded in ``extra["objective_calls"]``).
``"rollout"``
    ``state = namespace[init](params)``, then for each ``g`` in ``grads_seq``:
    ``params, state = namespace[function](params, g, state, **kwargs)``.
    ``value = {"params": [params after each step], "state": last state}``;
    ``extra["mutated"]`` says whether params, grads or state passed in were modified.
``"train"``
    Runs the named problem of :data:`PROBLEMS` for ``num_steps`` seeded by ``seed``:
    plain SGD when ``function`` is empty, else the student's ``init``/``function``
    (update) pair; the lr is ``kwargs["lr"]`` or ``namespace[schedule](step)``.
    ``value = {"params": final params, "lrs": lrs used (when a schedule is given)}``.

Registry: ``CHECKS`` (id -> Check) and ``ASSIGNMENTS`` (assignment -> list of Test) are
loaded lazily on first access (``spec.CHECKS``), because loading them imports the
reference implementations, which the sandbox must not see.

Interface stability: the names above, the fields of Call/Record/Check/Outcome/Test and
the JSON layout of ``Call.to_data()`` / ``Record.to_data()`` are the contract with the
engine (lr_course.grading.engine/runner). Additions are backward compatible.
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

# The codec is spec's wire format; its names (and size limits) stay importable from here.
try:
    from lr_course.grading.codec import (MAX_ARRAY_BYTES, MAX_DEPTH, MAX_NODES, MAX_STR_CHARS,
                                         MAX_TOTAL_BYTES, CodecError, Objective, RngSeed,
                                         Unsupported, decode, encode)
except ModuleNotFoundError:  # in the sandbox, where the runner has loaded codec.py by path
    from lr_course_grading_codec import (MAX_ARRAY_BYTES, MAX_DEPTH, MAX_NODES, MAX_STR_CHARS,
                                         MAX_TOTAL_BYTES, CodecError, Objective, RngSeed,
                                         Unsupported, decode, encode)

__all__ = [
    "Call", "Record", "Outcome", "Check", "Test", "RngSeed", "Objective", "Unsupported",
    "execute", "encode", "decode", "run_check", "register", "register_assignment",
    "OBJECTIVES", "PROBLEMS", "KINDS", "CodecError",
]

# ---------------------------------------------------------------------------------------
# Limits: what a student's answer may cost to record (the codec's own limits, on what
# untrusted data may cost to decode, are in codec.py).
MAX_ERROR_CHARS = 500          # exception messages are truncated to this
MAX_OUTPUT_CHARS = 2000        # printed output captured during a call
MAX_WARNINGS = 20              # distinct warnings kept per call


# ---------------------------------------------------------------------------------------
# Calls and records


KINDS = ("call", "rollout", "train")


@dataclass(frozen=True)
class Call:
    """One thing the grader asks the student's code to do (plain data; see module doc)."""

    kind: str                      # one of KINDS
    function: str = ""             # student function ("call"), update ("rollout"/"train")
    args: tuple = ()               # positional arguments ("call")
    kwargs: dict = field(default_factory=dict)  # keyword arguments (hyper-parameters)
    init: str = ""                 # student init function ("rollout"/"train")
    params: Any = None             # initial params ("rollout")
    grads_seq: tuple = ()          # gradients fed one per step ("rollout")
    problem: str = ""              # a name in PROBLEMS ("train")
    num_steps: int = 0             # steps to run ("train")
    seed: int = 0                  # seeds the problem's noise and minibatches ("train")
    schedule: str = ""             # student schedule(step) -> lr, optional ("train")
    options: dict = field(default_factory=dict)  # problem options ("train")

    def names(self) -> tuple:
        """The student names this call needs."""
        return tuple(n for n in (self.function, self.init, self.schedule) if n)

    def to_data(self) -> dict:
        """JSON-able form (see :func:`encode`)."""
        return {f.name: encode(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_data(cls, data: dict) -> "Call":
        """Inverse of :meth:`to_data`; raises CodecError on malformed data."""
        if type(data) is not dict or not set(data) <= {f.name for f in dataclasses.fields(cls)}:
            raise CodecError("malformed Call")
        values = {k: decode(v) for k, v in data.items()}
        if values.get("kind") not in KINDS:
            raise CodecError(f"unknown Call kind {values.get('kind')!r:.40}")
        for name in ("args", "grads_seq"):
            if name in values and not isinstance(values[name], (tuple, list)):
                raise CodecError(f"Call.{name} must be a sequence")
            if name in values:
                values[name] = tuple(values[name])
        for name in ("kwargs", "options"):
            if name in values and type(values[name]) is not dict:
                raise CodecError(f"Call.{name} must be a dict")
        return cls(**values)


@dataclass
class Record:
    """The outcome of one Call, as plain data."""

    ok: bool                       # the call returned (no exception)
    value: Any = None              # what it returned, normalised through the codec
    error: str = ""                # "TypeName: message", truncated; "" when ok
    error_type: str = ""           # the exception's class name
    error_bases: tuple = ()        # class names along its MRO (a ValueError subclass counts)
    warnings: list = field(default_factory=list)  # warning messages raised during the call
    args_after: Any = None         # ("call") (args, kwargs) after the call
    output: str = ""               # what the call printed (stdout + stderr), truncated
    seconds: float = 0.0           # wall time of the call
    extra: dict = field(default_factory=dict)  # kind-specific facts (see module doc)

    def raised(self, name: str) -> bool:
        """True if the call raised ``name`` or a subclass of it."""
        return not self.ok and name in self.error_bases

    def to_data(self) -> dict:
        """JSON-able form (see :func:`encode`)."""
        return {f.name: encode(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_data(cls, data: dict) -> "Record":
        """Inverse of :meth:`to_data`; raises CodecError on malformed data."""
        if type(data) is not dict or "ok" not in data or \
                not set(data) <= {f.name for f in dataclasses.fields(cls)}:
            raise CodecError("malformed Record")
        values = {k: decode(v) for k, v in data.items()}
        if type(values["ok"]) is not bool:
            raise CodecError("Record.ok must be a bool")
        for name in ("error", "error_type", "output"):
            if type(values.get(name, "")) is not str:
                raise CodecError(f"Record.{name} must be a str")
        if not isinstance(values.get("warnings", []), list) or \
                not all(type(w) is str for w in values.get("warnings", [])):
            raise CodecError("Record.warnings must be a list of str")
        if not isinstance(values.get("error_bases", ()), (tuple, list)):
            raise CodecError("Record.error_bases must be a sequence")
        values["error_bases"] = tuple(str(b) for b in values.get("error_bases", ()))
        if type(values.get("extra", {})) is not dict:
            raise CodecError("Record.extra must be a dict")
        if type(values.get("seconds", 0.0)) not in (int, float):
            raise CodecError("Record.seconds must be a number")
        return cls(**values)


def _normalise(obj):
    """What ``obj`` looks like after a trip through the codec (in-process == sandbox)."""
    return decode(encode(obj))


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
        calls.append(_normalise(lr))
        return fn(lr)

    return objective


def execute(call: Call, namespace: dict) -> Record:
    """Run ``call`` against the student's definitions in ``namespace``; never raises.

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
            message = f"{type(exc).__name__}: {exc}"
            record.error = message[:MAX_ERROR_CHARS]
            record.error_type = type(exc).__name__[:100]
            record.error_bases = tuple(c.__name__ for c in type(exc).__mro__)
            record.value = None
    record.seconds = time.perf_counter() - start
    seen = []
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"[:MAX_ERROR_CHARS]
        if text not in seen:
            seen.append(text)
    record.warnings = seen[:MAX_WARNINGS]
    record.output = sink.getvalue()[:MAX_OUTPUT_CHARS]
    return record


def _run_call(call, namespace, record):
    objective_calls = []
    args = _materialise(copy.deepcopy(tuple(call.args)), objective_calls)
    kwargs = _materialise(copy.deepcopy(dict(call.kwargs)), objective_calls)
    value = namespace[call.function](*args, **kwargs)
    record.value = _normalise(value)
    record.args_after = _normalise((_strip_live(args), _strip_live(kwargs)))
    if any(type(x) is Objective for x in _flatten((call.args, call.kwargs))):
        record.extra["objective_calls"] = objective_calls


def _strip_live(obj):
    """Args after the call, without the live Generator/objective objects."""
    if isinstance(obj, np.random.Generator) or callable(obj):
        return None
    if type(obj) in (tuple, list):
        return type(obj)(_strip_live(x) for x in obj)
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


def _run_rollout(call, namespace, record):
    init, update = namespace[call.init], namespace[call.function]
    params = copy.deepcopy(call.params)
    state = init(copy.deepcopy(params))
    history = []
    mutated = {"params": False, "grads": False, "state": False}
    for g in call.grads_seq:
        params_in, grads_in, state_in = copy.deepcopy(params), copy.deepcopy(g), copy.deepcopy(state)
        out = update(params_in, grads_in, state_in, **copy.deepcopy(call.kwargs))
        mutated["params"] |= not same(_normalise(params_in), _normalise(params))
        mutated["grads"] |= not same(_normalise(grads_in), _normalise(g))
        mutated["state"] |= not same(_normalise(state_in), _normalise(state))
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError(f"{call.function} must return (new_params, new_state), "
                            f"got {type(out).__name__}")
        params, state = out
        history.append(_normalise(copy.deepcopy(params)))
    record.value = {"params": history, "state": _normalise(state)}
    record.extra["mutated"] = mutated


def _run_train(call, namespace, record):
    if call.problem not in PROBLEMS:
        raise KeyError(f"unknown problem {call.problem!r}")
    rng = np.random.default_rng(call.seed)
    params, grad_fn = PROBLEMS[call.problem](rng, **call.options)
    kwargs = dict(call.kwargs)
    base_lr = kwargs.pop("lr", None)
    schedule = namespace[call.schedule] if call.schedule else None
    update = namespace[call.function] if call.function else None
    state = namespace[call.init](params.copy()) if update is not None else None
    lrs = []
    for step in range(call.num_steps):
        lr = schedule(step) if schedule is not None else base_lr
        if schedule is not None:
            lrs.append(float(lr))
        g = grad_fn(params, rng)
        if update is None:
            params = params - lr * g
        else:
            params, state = update(params, g, state, lr=lr, **kwargs)
            params = np.asarray(params, dtype=float)
    record.value = {"params": _normalise(np.asarray(params, dtype=float)),
                    "lrs": np.array(lrs, dtype=float)}


_RUNNERS = {"call": _run_call, "rollout": _run_rollout, "train": _run_train}


# ---------------------------------------------------------------------------------------
# Catalogues: objectives for the search functions and problems for the applied parts.
# They live here (not in the checks) because they run where the student's code runs.


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


def noisy_quadratic_spec():
    """The ps1 applied problem (shared with the judge, which computes E[loss] exactly).

    f(x) = 0.5 * sum_i eigenvalues_i * x_i**2, gradients with N(0, sigma**2) noise, SGD
    from x0 for ``num_steps``; ``target`` is the expected loss to reach within the budget.
    """
    return {"eigenvalues": np.array([1.0, 0.5, 0.25, 0.1]), "x0": np.full(4, 4.0),
            "sigma": 1.0, "num_steps": 200, "target": 0.09}


def _noisy_quadratic(rng, replicas=1):
    # Replicas are independent runs stacked as rows, so many seeds cost one numpy op a step.
    spec = noisy_quadratic_spec()
    lam, sigma = spec["eigenvalues"], spec["sigma"]

    def grad(params, rng):
        return lam * params + sigma * rng.standard_normal(params.shape)

    x0 = np.tile(spec["x0"], (int(replicas), 1)) if replicas > 1 else spec["x0"].copy()
    return x0, grad


def _digits_logreg(rng, batch_size=64):
    from lr_course import models  # the sandbox provides models and its data
    model = models.LogisticRegression()
    n = model.num_train

    def grad(params, rng):
        batch = rng.choice(n, size=batch_size, replace=False) if batch_size else None
        return model.loss_and_grad(params, batch=batch)[1]

    return np.asarray(model.x0, dtype=float), grad


PROBLEMS: dict[str, Callable] = {
    "noisy_quadratic": _noisy_quadratic,
    "digits_logreg": _digits_logreg,
}


# ---------------------------------------------------------------------------------------
# Checks, tests and the registry


@dataclass
class Outcome:
    """The verdict of one check: shown to the student without expected values."""

    passed: bool
    message: str                   # what was found, in words
    hint: str = ""                 # where to look, when failed
    warnings: list = field(default_factory=list)  # numpy warnings seen (never a zero by itself)


@dataclass(frozen=True)
class Check:
    """A named test: cases from an rng, judged against the reference in the grader."""

    id: str                        # "ps2.adam_update.first_step"
    functions: tuple               # student names it needs, in check()'s argument order
    description: str               # what is checked, in words, shown to students
    cases: Callable[[np.random.Generator], list]   # rng -> list[Call]
    judge: Callable[[list, list], Outcome]         # (calls, records) -> Outcome


@dataclass(frozen=True)
class Test:
    """One graded nbgrader test cell."""

    grade_id: str                  # the cell's nbgrader grade_id
    points: float                  # its points
    check_ids: tuple               # checks it runs; all must pass for the points
    hidden: bool = False           # inside BEGIN/END HIDDEN TESTS (removed at release)


_CHECKS: dict[str, Check] = {}
_ASSIGNMENTS: dict[str, list] = {}
_LOADED = False


def register(check: Check) -> Check:
    """Add a check to the registry (ids are unique)."""
    if check.id in _CHECKS:
        raise ValueError(f"check id {check.id!r} registered twice")
    _CHECKS[check.id] = check
    return check


def register_assignment(name: str, tests: list) -> None:
    """Declare an assignment's graded test cells (the single source of truth)."""
    _ASSIGNMENTS[name] = list(tests)


def _load_registry():
    global _LOADED
    if not _LOADED:
        _LOADED = True
        from lr_course.grading import checks  # noqa: F401 - registers on import


def __getattr__(name):
    # Lazy so that the sandbox can import spec without importing the reference solutions.
    if name == "CHECKS":
        _load_registry()
        return _CHECKS
    if name == "ASSIGNMENTS":
        _load_registry()
        return _ASSIGNMENTS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run_check(check: Check, namespace: dict, rng: np.random.Generator) -> Outcome:
    """Generate cases, execute them in-process, judge: the whole check in one process."""
    calls = check.cases(rng)
    records = [Record.from_data(execute(c, namespace).to_data()) for c in calls]
    return judge_safely(check, calls, records)


def judge_safely(check: Check, calls: list, records: list) -> Outcome:
    """``check.judge``, but a crash in judging (a bug, or absurd data) is a failed check."""
    seen = []
    for r in records:
        seen.extend(w for w in r.warnings if w not in seen)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            outcome = check.judge(calls, records)
    except Exception as exc:  # noqa: BLE001
        outcome = Outcome(False, f"could not judge the answer ({type(exc).__name__})",
                          "make sure your functions return the types the assignment asks for")
    if not outcome.passed and any(r.error_type == "NotImplementedError" for r in records):
        outcome.hint = "not written yet: replace `raise NotImplementedError()` with your code"
    outcome.warnings = list(dict.fromkeys(list(outcome.warnings) + seen))[:MAX_WARNINGS]
    return outcome
