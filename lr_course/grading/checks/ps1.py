"""Checks of ps1_schedules: the five decay schedules and the applied part (my_schedule)."""

from __future__ import annotations

import numpy as np

from lr_course.grading import judging as J
from lr_course.grading.reference import ps1 as ref
from lr_course.grading.spec import Call, Check, Outcome, Test, noisy_quadratic_spec, register, \
    register_assignment

A = "ps1"


def _call(function, *args, **kwargs):
    return Call("call", function, args=tuple(args), kwargs=kwargs)


def _ints(rng, low, high, size):
    return [int(x) for x in rng.integers(low, high, size)]


def _arrays(rng, high):
    """Integer step arrays: a 1-D range, a 2-D block and a numpy integer scalar."""
    return [np.arange(high), rng.integers(0, high, size=(3, 4)), np.int64(rng.integers(0, high))]


# Each schedule is described once: how to draw its hyper-parameters, where its interesting
# steps are, which invalid calls must raise, and the hint for a wrong value.
SCHEDULES = {
    "step_decay": dict(
        reference=ref.step_decay,
        draw=lambda rng: (float(rng.uniform(0.05, 1.0)), int(rng.integers(3, 9)),
                          float(rng.choice([0.1, 0.3, 0.5, 0.7]))),
        call=lambda f, hp, step: _call(f, hp[0], step, hp[1], factor=hp[2]),
        steps=lambda hp, rng: [0, 1, hp[1] - 1, hp[1], hp[1] + 1, 2 * hp[1] + 2,
                               5 * hp[1] - 1] + _ints(rng, 0, 60, 3),
        invalid=[((0.1, 5, 0), {}, "drop_every"), ((0.1, 5, 2), {"factor": 1.5}, "factor"),
                 ((0.1, 5, 2), {"factor": 0.0}, "factor"), ((0.1, -1, 2), {}, "step")],
        hint="the rate is lr0 times factor for every COMPLETED block of drop_every steps: "
             "count the blocks with floor division",
        describe="step_decay gives lr0 * factor ** floor(step / drop_every)"),
    "exponential_decay": dict(
        reference=ref.exponential_decay,
        staircase_index=3,
        draw=lambda rng: (float(rng.uniform(0.05, 1.0)), float(rng.uniform(0.3, 0.95)),
                          int(rng.integers(5, 40)), bool(rng.integers(0, 2))),
        call=lambda f, hp, step: _call(f, hp[0], step, hp[1], hp[2], staircase=hp[3]),
        steps=lambda hp, rng: [0, 1, hp[2] - 1, hp[2], hp[2] + 3, 3 * hp[2] + 1]
        + _ints(rng, 0, 200, 3),
        invalid=[((0.1, 5, 1.5, 10), {}, "decay_rate"), ((0.1, 5, 0.0, 10), {}, "decay_rate"),
                 ((0.1, 5, 0.5, 0), {}, "decay_steps"), ((0.1, -3, 0.5, 10), {}, "step")],
        hint="the exponent is step / decay_steps, floored only when staircase=True",
        describe="exponential_decay, smooth and staircase"),
    "inverse_time_decay": dict(
        reference=ref.inverse_time_decay,
        staircase_index=3,
        # decay_steps >= 2: with 1 the staircase floors nothing and cannot be told apart
        draw=lambda rng: (float(rng.uniform(0.05, 1.0)), float(rng.uniform(0.1, 3.0)),
                          int(rng.integers(2, 20)), bool(rng.integers(0, 2))),
        call=lambda f, hp, step: _call(f, hp[0], step, hp[1], decay_steps=hp[2], staircase=hp[3]),
        steps=lambda hp, rng: [0, 1, hp[2], hp[2] + 1, 4 * hp[2] + 2] + _ints(rng, 0, 200, 3),
        invalid=[((0.1, 5, -1.0), {}, "decay_rate"), ((0.1, -1, 0.5), {}, "step")],
        hint="divide lr0 by 1 + decay_rate * step / decay_steps (that ratio floored when "
             "staircase=True)",
        describe="inverse_time_decay, smooth and staircase"),
    "cosine_decay": dict(
        reference=ref.cosine_decay,
        draw=lambda rng: (float(rng.uniform(0.1, 1.0)), int(rng.integers(20, 200)),
                          float(rng.choice([0.0, 0.01, 0.05]))),
        call=lambda f, hp, step: _call(f, hp[0], step, hp[1], lr_min=hp[2]),
        steps=lambda hp, rng: [0, 1, hp[1] // 2, hp[1] - 1, hp[1]] + _ints(rng, 0, hp[1], 3),
        invalid=[((0.1, 5, 100), {"lr_min": 0.5}, "lr_min"),
                 ((0.1, 5, 100), {"lr_min": -0.1}, "lr_min"), ((0.1, -1, 100), {}, "step")],
        hint="the rate goes from lr0 at step 0 down to lr_min at total_steps along half a "
             "cosine: check the factor (1 + cos(pi * step / total_steps)) / 2",
        describe="cosine_decay from lr0 down to lr_min"),
    "linear_warmup": dict(
        reference=ref.linear_warmup,
        draw=lambda rng: (float(rng.uniform(0.05, 1.0)), int(rng.integers(2, 50))),
        call=lambda f, hp, step: _call(f, hp[0], step, hp[1]),
        steps=lambda hp, rng: [0, 1, hp[1] - 2, hp[1] - 1] + _ints(rng, 0, hp[1], 3),
        invalid=[((0.1, 5, 0), {}, "warmup_steps"), ((0.1, -1, 10), {}, "step")],
        hint="step counts from 0, so the first step already uses (0 + 1) / warmup_steps of "
             "lr_peak",
        describe="linear_warmup up to lr_peak"),
}


def _values_check(name, spec):
    def cases(rng):
        calls = []
        for i in range(2):
            hp = spec["draw"](rng)
            if "staircase_index" in spec:  # one smooth and one staircase schedule
                k = spec["staircase_index"]
                hp = hp[:k] + (bool(i),) + hp[k + 1:]
            calls += [spec["call"](name, hp, s) for s in spec["steps"](hp, rng)]
        return calls
    return Check(f"{A}.{name}.values", (name,), f"{spec['describe']}: values at single steps "
                 "(boundaries included)", cases, J.values_judge(spec["reference"], spec["hint"]))


def _array_check(name, spec):
    def cases(rng):
        hp = spec["draw"](rng)
        variants = [hp]
        if "staircase_index" in spec:  # both branches must take arrays and leave them alone
            k = spec["staircase_index"]
            variants = [hp[:k] + (flag,) + hp[k + 1:] for flag in (False, True)]
        return [spec["call"](name, v, s) for v in variants for s in _arrays(rng, 150)]
    hint = ("step may be a numpy integer array: use numpy operations (np.floor, np.minimum, "
            "np.cos) rather than math or min(), return an array of step's shape, and never "
            "modify step")
    return Check(f"{A}.{name}.array", (name,), f"{name} accepts numpy arrays of steps (1-D and "
                 "2-D) and leaves them unchanged",
                 cases, J.all_of(J.values_judge(spec["reference"], hint),
                                 J.unchanged_judge("do not modify the step array you are given")))


def _invalid_check(name, spec):
    def cases(rng):
        return [_call(name, *args, **kwargs) for args, kwargs, _ in spec["invalid"]]
    names = {i: bad for i, (_, _, bad) in enumerate(spec["invalid"])}

    def argument_of(call):
        for i, (args, kwargs, bad) in enumerate(spec["invalid"]):
            if tuple(call.args) == tuple(args) and call.kwargs == kwargs:
                return bad
        return names[0]
    return Check(f"{A}.{name}.invalid", (name,), f"{name} rejects invalid arguments and a "
                 "negative step with a ValueError naming the argument", cases,
                 J.raises_judge(argument_of, "check the allowed range of each argument (see "
                                "the table) and raise ValueError with the argument's name"))


def _sequence(records):
    """The values of a single array call, or an Outcome saying why they are unusable."""
    rec = records[0]
    if not rec.ok:
        return Outcome(False, f"calling with an array of steps raised {rec.error}",
                       "step may be a numpy integer array: use numpy operations")
    v = rec.value
    if not isinstance(v, np.ndarray) or v.dtype.kind != "f" or not np.all(np.isfinite(v)):
        return Outcome(False, f"an array of steps gave {J.show(v)}, not a finite float array",
                       "return a float array of the same shape as step")
    return v


def _property_check(check_id, name, description, make_call, prop, hint):
    def cases(rng):
        return [make_call(rng)]

    def judge(calls, records):
        v = _sequence(records)
        if isinstance(v, Outcome):
            return v
        if v.shape != np.shape(calls[0].args[1]):
            return Outcome(False, f"returned shape {v.shape} for steps of shape "
                                  f"{np.shape(calls[0].args[1])}", "keep step's shape")
        problem = prop(calls[0], v)
        return Outcome(False, problem, hint) if problem else Outcome(True, "the property holds")
    return Check(check_id, (name,), description, cases, judge)


def _piecewise(call, v):
    lr0, step, d = call.args
    factor = call.kwargs["factor"]
    blocks = v.reshape(-1, d)
    if not np.allclose(blocks, blocks[:, :1], rtol=1e-12, atol=0):
        return "the rate changes between two drops"
    if not np.isclose(blocks[0, 0], lr0, rtol=1e-12):
        return "the first block does not start at lr0"
    if not np.allclose(blocks[1:, 0] / blocks[:-1, 0], factor, rtol=1e-9):
        return "consecutive blocks do not differ by exactly factor"
    return None


def _constant_ratio(call, v):
    lr0, step, rate, decay_steps = call.args
    if not np.isclose(v[0], lr0, rtol=1e-12):
        return "the schedule does not start at lr0"
    ratio = v[1:] / v[:-1]
    if not np.allclose(ratio, ratio[0], rtol=1e-9):
        return "the ratio between consecutive steps is not constant"
    if not np.isclose(ratio[0], rate ** (1 / decay_steps), rtol=1e-9):
        return "the ratio is constant, but it does not reach decay_rate after decay_steps steps"
    return None


def _holds(value_of):
    def prop(call, v):
        if not np.allclose(v, value_of(call), rtol=1e-12, atol=1e-15):
            return "the rate does not hold its final value"
        return None
    return prop


PROPERTIES = [
    _property_check(
        f"{A}.step_decay.piecewise_constant", "step_decay",
        "step_decay is constant between drops and falls by exactly factor at each drop",
        lambda rng: (lambda d: _call("step_decay", 0.5, np.arange(6 * d), d, factor=0.3))(
            int(rng.integers(3, 9))),
        _piecewise, "floor(step / drop_every) is the number of completed blocks; the rate may "
                    "change only when a new block starts"),
    _property_check(
        f"{A}.exponential_decay.constant_ratio", "exponential_decay",
        "smooth exponential_decay shrinks by the same ratio every step",
        lambda rng: _call("exponential_decay", 0.5, np.arange(60), float(rng.uniform(0.3, 0.9)),
                          int(rng.integers(5, 20))),
        _constant_ratio, "without staircase the exponent step / decay_steps is not rounded"),
    _property_check(
        f"{A}.cosine_decay.holds_after_total", "cosine_decay",
        "cosine_decay holds lr_min for steps past total_steps",
        lambda rng: (lambda t: _call("cosine_decay", 0.5, np.arange(t, 3 * t + 7), t,
                                     lr_min=0.01))(int(rng.integers(10, 50))),
        _holds(lambda call: call.kwargs["lr_min"]),
        "past total_steps the course's cosine holds lr_min (optax and Keras do the same; "
        "PyTorch's CosineAnnealingLR climbs back up): cap the step at total_steps"),
    _property_check(
        f"{A}.linear_warmup.holds_after_warmup", "linear_warmup",
        "linear_warmup holds lr_peak once the warm-up is over",
        lambda rng: (lambda w: _call("linear_warmup", 0.5, np.arange(w - 1, 4 * w), w))(
            int(rng.integers(2, 30))),
        _holds(lambda call: call.args[0]),
        "once (step + 1) / warmup_steps reaches 1 the rate stays at lr_peak"),
]


# --- the applied part ------------------------------------------------------------------

REPLICAS = 2000  # independent seeded runs, stacked; the mean loss is known within ~1%


def expected_loss(lrs):
    """Exact E[loss] of SGD with the rates ``lrs`` on the noisy quadratic (see spec).

    Per coordinate, E[x_{t+1}^2] = (1 - lr_t * lambda)^2 E[x_t^2] + lr_t^2 sigma^2.
    """
    problem = noisy_quadratic_spec()
    lam, sigma = problem["eigenvalues"], problem["sigma"]
    m = problem["x0"] ** 2
    with np.errstate(all="ignore"):
        for lr in np.asarray(lrs, dtype=float):
            m = (1 - lr * lam) ** 2 * m + lr**2 * sigma**2
    return float(0.5 * np.sum(lam * m))


def _train_call(rng, replicas=REPLICAS):
    problem = noisy_quadratic_spec()
    return Call("train", problem="noisy_quadratic", num_steps=problem["num_steps"],
                seed=int(rng.integers(2**31)), schedule="my_schedule",
                options={"replicas": replicas})


def _train_values(rec):
    if not rec.ok:
        return Outcome(False, f"training with my_schedule raised {rec.error}",
                       "my_schedule(step) takes an int step >= 0 and returns a float")
    lrs, params = rec.value["lrs"], rec.value["params"]
    if not np.all(np.isfinite(lrs)) or np.any(lrs < 0):
        return Outcome(False, "my_schedule returned a negative or non-finite rate",
                       "a learning rate is a finite number >= 0")
    return lrs, params


def _judge_target(calls, records):
    got = _train_values(records[0])
    if isinstance(got, Outcome):
        return got
    lrs, params = got
    problem = noisy_quadratic_spec()
    exact = expected_loss(lrs)
    with np.errstate(all="ignore"):
        losses = 0.5 * np.sum(problem["eigenvalues"] * params**2, axis=-1)
    mean, stderr = float(np.mean(losses)), float(np.std(losses) / np.sqrt(losses.size))
    if not np.isfinite(exact) or exact > problem["target"]:
        return Outcome(False, f"expected loss after {problem['num_steps']} steps is {exact:.4g}; "
                              f"the target is {problem['target']}",
                       "start with a large rate (below 2/L) to get close fast, then decay it so "
                       "the noise floor shrinks: no constant rate reaches the target")
    if not mean <= problem["target"] + 5 * stderr:
        return Outcome(False, f"the seeded runs end at a mean loss of {mean:.4g}, above the "
                              f"target {problem['target']}",
                       "my_schedule must be a pure function of step")
    return Outcome(True, f"expected loss {exact:.4g} <= target {problem['target']} "
                         f"({losses.size} seeded runs: mean {mean:.4g})")


def _judge_pure(calls, records):
    a, b = (_train_values(r) for r in records)
    for got in (a, b):
        if isinstance(got, Outcome):
            return got
    if not np.array_equal(a[0], b[0]):
        return Outcome(False, "my_schedule gave different rates in two runs",
                       "the rate may depend on step only (no global counters or randomness)")
    return Outcome(True, "my_schedule is a pure function of step")


APPLIED = [
    Check(f"{A}.my_schedule.reaches_target", ("my_schedule",),
          "SGD with my_schedule on the noisy quadratic reaches the target expected loss within "
          "the step budget (run with seeds)", lambda rng: [_train_call(rng)], _judge_target),
    Check(f"{A}.my_schedule.pure", ("my_schedule",),
          "my_schedule gives the same finite, non-negative rates in independent runs",
          lambda rng: [_train_call(rng, replicas=2), _train_call(rng, replicas=2)], _judge_pure),
]


for _name, _spec in SCHEDULES.items():
    register(_values_check(_name, _spec))
    register(_array_check(_name, _spec))
    register(_invalid_check(_name, _spec))
for _check in PROPERTIES + APPLIED:
    register(_check)

_HIDDEN_EXTRA = {"step_decay": ["piecewise_constant"], "exponential_decay": ["constant_ratio"],
                 "cosine_decay": ["holds_after_total"], "linear_warmup": ["holds_after_warmup"],
                 "inverse_time_decay": []}

register_assignment("ps1_schedules", [
    *[Test(f"test_{n}", 2, (f"{A}.{n}.values",)) for n in SCHEDULES],
    Test("test_my_schedule", 4, (f"{A}.my_schedule.reaches_target",)),
    *[Test(f"test_{n}_hidden", 2, (f"{A}.{n}.array", *(f"{A}.{n}.{p}" for p in _HIDDEN_EXTRA[n]),
                                   f"{A}.{n}.invalid"), hidden=True) for n in SCHEDULES],
    Test("test_my_schedule_hidden", 1, (f"{A}.my_schedule.pure",), hidden=True),
])
