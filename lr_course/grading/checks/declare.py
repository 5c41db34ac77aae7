"""What a test cell declares: checks as small dataclasses, and the functions that make them.

A test cell of an assignment's source notebook says *what* to check::

    from lr_course.grading import checks as ck

    rng = ck.rng("step_decay")
    ck.part("values on drawn cases", points=1)
    for _ in range(5):
        ck.same(step_decay, float(rng.uniform(0.01, 1)), int(rng.integers(0, 100)), 7)
    ck.part("a ValueError naming the argument", points=1)
    ck.raises(step_decay, 0.1, 3, 0, names="drop_every")

Each call builds a :class:`Check` (plain data: which functions to run on which inputs and
how to judge them) and hands it to the current *mode*:

* **recording** (inside a sandbox, set by :mod:`.runner`): the source notebook's solution
  cells have run; the check's calls are executed against the solution and the check goes
  out with the solution's records. The grader then has the student's code run exactly the
  same calls, and compares the two in its own process (:mod:`.compare`).
* **self-check** (a student's kernel, the default): the calls run on the student's
  functions right here and are compared with the values the release computed from the
  solution (a ``<notebook>.checks.json`` file beside the released notebook); a report is
  printed, and a failure raises ``AssertionError`` (so nbgrader's validate shows it).

``rng(label)`` gives the random inputs: a Generator seeded from the mode's seed and the
label, so the grader draws the same inputs for the solution and for the student, and a
different student gets different ones.
"""

from __future__ import annotations

import zlib

import numpy as np

from .calls import Call, normalise
from .check import MAX_TEXT, Check
from .codec import Objective, RngSeed

__all__ = ["same", "raises", "unchanged", "rollout", "invariant",
           "reproducible", "log_uniform_samples", "search", "reaches_target", "pure", "trains",
           "part", "rng", "seeded", "objective", "set_mode", "get_mode"]

# ---------------------------------------------------------------------------------------
# Modes: where a declared check goes.

_MODE = [None]


def set_mode(mode) -> None:
    """Install ``mode`` (with ``seed``, ``part(what, points)`` and ``add(check, functions,
    data)``, ``data`` being ``check.to_data()``).

    None restores the default, the self-check of a student's kernel.
    """
    _MODE[0] = mode


def get_mode():
    """The current mode; the self-check mode is created on first use."""
    if _MODE[0] is None:
        from .modes import SelfCheck
        _MODE[0] = SelfCheck()
    return _MODE[0]


def rng(label: str) -> np.random.Generator:
    """The Generator a test cell draws its inputs from, seeded by the mode and ``label``.

    The same label gives the same draws for the solution and for the student being graded;
    another student, or the self-check, gets other draws.
    """
    if not isinstance(label, str) or not label:
        raise ValueError(f"label must be a non-empty str, got {label!r}")
    return np.random.default_rng([get_mode().seed, zlib.crc32(label.encode())])


def seeded(generator: np.random.Generator) -> RngSeed:
    """A placeholder argument that becomes ``numpy.random.default_rng(seed)`` in the call."""
    return RngSeed(int(generator.integers(2**31)))


def objective(name: str, **options) -> Objective:
    """A placeholder argument that becomes a catalogue objective ``f(lr) -> score``."""
    return Objective(name, options)


def part(what: str, points: float) -> None:
    """Start a part of this test cell: the checks that follow earn ``points`` together.

    A test cell without parts is one part worth all its points; with parts, the parts'
    points must add up to the cell's.
    """
    if not isinstance(what, str) or not what:
        raise ValueError(f"what must be a non-empty str, got {what!r}")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not points > 0:
        raise ValueError(f"points must be a number > 0, got {points!r}")
    get_mode().part(what[:MAX_TEXT], float(points))


def _name(function) -> str:
    if isinstance(function, str):
        return function
    name = getattr(function, "__name__", None)
    if not callable(function) or not isinstance(name, str):
        raise ValueError(f"expected a function of the notebook, got {function!r:.60}")
    return name


def _text(value, name) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a str, got {value!r:.60}")
    return value[:MAX_TEXT]


def _declare(kind, calls, functions, what, hint, **options):
    check = Check(kind, tuple(calls), _text(what, "what"), _text(hint, "hint"), "", options)
    # What runs here is what a sandbox would receive: every value of the calls went through
    # the codec already (normalise), and the options are JSON's own types, so reading the
    # data back would give the same check again (a test holds every check of the course's
    # assignments to that). The recorder sends this data on; the grader reads it strictly.
    data = check.to_data()
    live = {_name(f): f for f in functions if not isinstance(f, str)}
    get_mode().add(check, live, data)


def _call(function, args, kwargs) -> Call:
    return Call("call", _name(function), args=tuple(normalise(list(args))),
                kwargs=normalise(dict(kwargs)))


def same(function, *args, rtol: float = 1e-6, atol: float = 1e-12, what: str = "",
         hint: str = "", **kwargs) -> None:
    """``function(*args, **kwargs)`` gives what the solution gives (or the same ValueError)."""
    _declare("same", [_call(function, args, kwargs)], [function], what, hint, rtol=float(rtol),
             atol=float(atol))


def raises(function, *args, names, what: str = "", hint: str = "", **kwargs) -> None:
    """``function(*args, **kwargs)`` raises ValueError whose message names one of ``names``."""
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"names must be a str or a list of str, got {names!r}")
    _declare("raises", [_call(function, args, kwargs)], [function], what, hint, names=list(names))


def unchanged(function, *args, what: str = "", hint: str = "", **kwargs) -> None:
    """``function(*args, **kwargs)`` returns without modifying its arguments."""
    _declare("unchanged", [_call(function, args, kwargs)], [function], what, hint)


def _rollout(init, update, params, grads, state, hyper, watch_inputs=False) -> Call:
    if not isinstance(grads, (list, tuple)) or not grads:
        raise ValueError("grads must be a non-empty list of gradient arrays")
    return Call("rollout", _name(update), init=_name(init), params=normalise(params),
                grads_seq=tuple(normalise(list(grads))),
                state=None if state is None else normalise(state), kwargs=normalise(hyper),
                watch_inputs=watch_inputs)


def rollout(init, update, params, grads, *, state=None, rtol: float = 1e-6,
            atol: float = 1e-12, what: str = "", hint: str = "", check: str = "same",
            **hyper) -> None:
    """Run an optimizer for ``len(grads)`` steps; every step matches the solution's.

    ``state`` starts from a given state instead of ``init(params)``; ``check="unchanged"``
    requires instead that no update modifies its params, grads or state.
    """
    if check not in ("same", "unchanged"):
        raise ValueError(f"check must be 'same' or 'unchanged', got {check!r}")
    call = _rollout(init, update, params, grads, state, hyper,
                    watch_inputs=check == "unchanged")
    options = {"rtol": float(rtol), "atol": float(atol)} if check == "same" else {}
    _declare(check, [call], [init, update], what, hint, **options)


def invariant(init, update, params, grads, *, scales, rtol: float = 1e-6, atol: float = 1e-12,
              what: str = "", hint: str = "", **hyper) -> None:
    """The path is the same when every gradient is multiplied by each of ``scales``."""
    calls = [_rollout(init, update, params, grads, None, hyper)]
    for c in scales:
        calls.append(_rollout(init, update, params, [float(c) * np.asarray(g) for g in grads],
                              None, hyper))
    _declare("agree", calls, [init, update], what, hint, rtol=float(rtol), atol=float(atol))


def reproducible(function, *args, seed_index: int, generator, what: str = "",
                 hint: str = "", **kwargs) -> None:
    """The call with the Generator at ``args[seed_index]`` depends on its seed, and only on it.

    Declares two checks: two generators with the same seed give the same result, and a
    generator with another seed gives a different one.
    """
    args = list(args)
    first, other = seeded(generator), seeded(generator)
    if other == first:
        other = RngSeed(first.seed + 1)
    args[seed_index] = first
    again = list(args)
    changed = list(args)
    changed[seed_index] = other
    _declare("agree", [_call(function, args, kwargs), _call(function, again, kwargs)],
             [function], what, hint, rtol=0.0, atol=0.0)
    _declare("differ", [_call(function, args, kwargs), _call(function, changed, kwargs)],
             [function], what, hint)


def log_uniform_samples(function, low: float, high: float, size: int, generator, *,
                        max_ks: float = 0.05, what: str = "", hint: str = "") -> None:
    """``function(low, high, size, rng)`` returns ``size`` floats in [low, high), uniform in log."""
    _declare("log_uniform", [_call(function, (float(low), float(high), int(size),
                                              seeded(generator)), {})],
             [function], what, hint, max_ks=float(max_ks))


def search(function, *args, returns: int = 2, what: str = "", hint: str = "", **kwargs) -> None:
    """A search over an :func:`objective` placeholder returns a consistent best lr.

    ``returns=2``: ``(best_lr, scores)`` over the lrs given as the second argument;
    ``returns=3``: ``(best_lr, lrs, scores)``. The objective is called exactly once per lr,
    in order; scores are its values; the best lr has the lowest finite score.
    """
    if returns not in (2, 3):
        raise ValueError(f"returns must be 2 or 3, got {returns!r}")
    _declare("search", [_call(function, args, kwargs)], [function], what, hint, returns=int(returns))


def reaches_target(schedule, *, eigenvalues, x0, sigma: float, num_steps: int, target: float,
                   what: str = "", hint: str = "") -> None:
    """SGD with ``schedule`` on a noisy quadratic reaches E[loss] <= ``target`` in ``num_steps``.

    The loss is 0.5 * sum(eigenvalues * x**2) with N(0, sigma**2) gradient noise, from x0;
    the grader computes the expected loss exactly from the learning rates the schedule gives.
    """
    call = Call("schedule", _name(schedule), num_steps=int(num_steps))
    _declare("target", [call], [schedule], what, hint, eigenvalues=[float(v) for v in eigenvalues],
             x0=[float(v) for v in x0], sigma=float(sigma), target=float(target))


def pure(schedule, *, num_steps: int, what: str = "", hint: str = "") -> None:
    """``schedule(step)`` for ``step in range(num_steps)`` gives the same rates when run twice."""
    call = Call("schedule", _name(schedule), num_steps=int(num_steps))
    _declare("agree", [call, call], [schedule], what, hint, rtol=0.0, atol=0.0)


def trains(init, update, *, problem: str, num_steps: int, seed: int, accuracy: float,
           what: str = "", hint: str = "", **hyper) -> None:
    """Training ``problem`` with the optimizer reaches a validation ``accuracy``."""
    call = Call("train", _name(update), init=_name(init), problem=problem,
                num_steps=int(num_steps), seed=int(seed), kwargs=normalise(hyper))
    _declare("accuracy", [call], [init, update], what, hint, accuracy=float(accuracy))

