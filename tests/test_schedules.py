"""Tests for lr_course.schedules: closed forms, PyTorch traces, argument checks, properties."""

import json
import math
import pathlib

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lr_course import schedules as S

TORCH = json.loads(
    (pathlib.Path(__file__).parent / "reference" / "torch_schedules.json").read_text()
)["cases"]


def torch_cases(name):
    cases = [case for case in TORCH if case["scheduler"] == name]
    assert cases, f"no recorded {name} cases"
    return pytest.mark.parametrize("case", cases, ids=lambda c: json.dumps(c["kwargs"]))


def assert_matches(ours, torch_lrs):
    # Torch chains multiplications step by step where we use the closed form; the rounding
    # differs by a few ulps at most.
    np.testing.assert_allclose(ours, torch_lrs, rtol=1e-12, atol=0)


# --- closed forms at hand-picked points -------------------------------------------------------


def test_constant():
    assert S.constant(0.3)(0) == 0.3
    assert S.constant(0.3)(10**9) == 0.3


def test_step_decay_is_the_ps1_formula():
    sched = S.step_decay(lr0=0.2, drop_every=5, factor=0.1)
    for step in [0, 4, 5, 9, 10, 14, 15, 123]:
        assert sched(step) == pytest.approx(0.2 * 0.1 ** math.floor(step / 5), rel=1e-15)


def test_multistep_decay():
    sched = S.multistep_decay(lr0=1.0, milestones=[2, 2, 5], factor=0.5)
    assert [sched(t) for t in range(7)] == [1.0, 1.0, 0.25, 0.25, 0.25, 0.125, 0.125]


def test_piecewise_constant_switches_at_the_boundary():
    sched = S.piecewise_constant([3, 7], [0.3, 0.2, 0.1])
    assert [sched(t) for t in (0, 2, 3, 6, 7, 100)] == [0.3, 0.3, 0.2, 0.2, 0.1, 0.1]


def test_exponential_decay_smooth_and_staircase():
    smooth = S.exponential_decay(lr0=0.1, decay_rate=0.96, decay_steps=100)
    stairs = S.exponential_decay(lr0=0.1, decay_rate=0.96, decay_steps=100, staircase=True)
    assert smooth(250) == pytest.approx(0.1 * 0.96**2.5, rel=1e-14)
    assert stairs(250) == pytest.approx(0.1 * 0.96**2, rel=1e-14)
    assert stairs(99) == 0.1
    # A non-integer decay_steps is allowed (Keras does too).
    assert S.exponential_decay(1.0, 0.5, 2.5)(5) == pytest.approx(0.25, rel=1e-15)


def test_inverse_time_decay():
    smooth = S.inverse_time_decay(lr0=0.5, decay_rate=2.0, decay_steps=4)
    stairs = S.inverse_time_decay(lr0=0.5, decay_rate=2.0, decay_steps=4, staircase=True)
    assert smooth(6) == pytest.approx(0.5 / (1 + 2.0 * 6 / 4), rel=1e-15)
    assert stairs(6) == pytest.approx(0.5 / (1 + 2.0 * 1), rel=1e-15)
    assert S.inverse_time_decay(0.5, 0.0)(1000) == 0.5


def test_polynomial_decay():
    sched = S.polynomial_decay(lr0=1.0, total_steps=10, lr_end=0.1, power=2.0)
    assert sched(0) == 1.0
    assert sched(5) == pytest.approx(0.1 + 0.9 * 0.25, rel=1e-15)
    assert sched(10) == sched(11) == sched(10**6) == pytest.approx(0.1, rel=1e-15)
    ramp = S.polynomial_decay(lr0=0.0, total_steps=4, lr_end=1.0)
    assert [ramp(t) for t in range(6)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]


def test_cosine_decay_points_and_hold():
    sched = S.cosine_decay(lr0=0.1, total_steps=100, lr_min=0.01)
    assert sched(0) == pytest.approx(0.1, rel=1e-15)
    assert sched(50) == pytest.approx(0.055, rel=1e-14)
    assert sched(25) == pytest.approx(0.01 + 0.09 * (1 + math.sqrt(0.5)) / 2, rel=1e-14)
    assert sched(100) == sched(101) == sched(250) == pytest.approx(0.01, rel=1e-14)


def test_cosine_warm_restarts_restart_points():
    sched = S.cosine_warm_restarts(lr0=1.0, period=3, period_mult=2, lr_min=0.1)
    # Cycles start at 0, 3, 9, 21, 45 with lengths 3, 6, 12, 24.
    for start in (0, 3, 9, 21, 45):
        assert sched(start) == pytest.approx(1.0, rel=1e-15)
    assert sched(9 + 6) == pytest.approx(0.55, rel=1e-14)  # half way through the 12-step cycle
    flat = S.cosine_warm_restarts(lr0=1.0, period=4)
    assert [round(flat(t), 12) for t in range(9)] == [round(flat(t % 4), 12) for t in range(9)]


def test_cosine_warm_restarts_huge_steps_do_not_overflow():
    sched = S.cosine_warm_restarts(lr0=1.0, period=1, period_mult=1000)
    values = sched(np.array([0, 1, 10**17, 2**62]))
    assert np.all(np.isfinite(values)) and np.all(values >= 0)


def test_linear_warmup_ps1_convention():
    sched = S.linear_warmup(lr_peak=0.4, warmup_steps=4)
    assert [sched(t) for t in range(6)] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.4, 0.4])
    assert S.linear_warmup(0.4, 1)(0) == 0.4


def test_join_counts_from_each_boundary():
    sched = S.join([S.constant(1.0), S.linear_warmup(2.0, 4), S.constant(0.5)], [2, 5])
    assert [sched(t) for t in range(7)] == [1.0, 1.0, 0.5, 1.0, 1.5, 0.5, 0.5]
    assert S.join([S.constant(0.7)], [])(3) == 0.7


def test_join_accepts_plain_functions():
    sched = S.join([S.constant(1.0), lambda step: 0.5 + 0 * np.asarray(step)], [2])
    assert sched(1) == 1.0 and sched(2) == 0.5
    np.testing.assert_array_equal(sched(np.arange(4)), [1.0, 1.0, 0.5, 0.5])


def test_warmup_cosine_is_warmup_then_cosine():
    sched = S.warmup_cosine(lr_peak=1.0, warmup_steps=5, total_steps=25, lr_min=0.1)
    warm, decay = S.linear_warmup(1.0, 5), S.cosine_decay(1.0, 20, 0.1)
    for t in range(40):
        assert sched(t) == (warm(t) if t < 5 else decay(t - 5))
    no_warmup = S.warmup_cosine(lr_peak=1.0, warmup_steps=0, total_steps=20)
    assert no_warmup(0) == 1.0 and no_warmup(10) == pytest.approx(0.5)


def test_cyclic_triangular_by_hand():
    sched = S.cyclic(lr_min=0.0, lr_max=1.0, step_size_up=2, step_size_down=4)
    assert [sched(t) for t in range(8)] == pytest.approx(
        [0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0, 0.5]
    )
    exp = S.cyclic(0.0, 1.0, 2, mode="exp_range", gamma=0.5)
    assert exp(2) == pytest.approx(0.25)  # top of the triangle times gamma**step


def test_one_cycle_endpoints():
    sched = S.one_cycle(lr_max=1.0, total_steps=100, pct_start=0.25, div_factor=10.0,
                        final_div_factor=100.0)
    assert sched(0) == pytest.approx(0.1)
    assert sched(24) == pytest.approx(1.0)
    assert sched(99) == pytest.approx(0.001)
    assert sched(100) == sched(5000) == sched(99)  # holds where torch would raise
    three = S.one_cycle(lr_max=1.0, total_steps=100, pct_start=0.25, three_phase=True)
    assert three(24) == pytest.approx(1.0)
    assert three(48) == pytest.approx(1.0 / 25)


def test_reduce_on_plateau_by_hand():
    plateau = S.ReduceOnPlateau(lr0=1.0, factor=0.5, patience=2, cooldown=1)
    lrs = [plateau.step(m) for m in [5, 4, 4, 4, 4, 4, 4, 4, 4, 3]]
    # Cut after 3 bad checks (patience + 1); one cooldown check; then 3 more bad checks.
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert plateau.lr == 0.25 and plateau.best == 3


def test_reduce_on_plateau_called_like_a_schedule_gives_its_current_lr():
    plateau = S.ReduceOnPlateau(lr0=1.0, factor=0.5, patience=0)
    assert plateau(0) == 1.0
    plateau.step(1.0), plateau.step(1.0)
    assert plateau(7) == plateau.lr == 0.5
    with pytest.raises(ValueError, match="step"):
        plateau(-1)


def test_reduce_on_plateau_respects_lr_min():
    plateau = S.ReduceOnPlateau(lr0=1.0, factor=0.1, patience=0, lr_min=0.05)
    assert [plateau.step(1.0) for _ in range(4)] == [1.0, 0.1, 0.05, 0.05]


# --- PyTorch traces ---------------------------------------------------------------------------


@torch_cases("StepLR")
def test_step_decay_matches_torch(case):
    kw, lrs = case["kwargs"], case["lrs"]
    sched = S.step_decay(case["lr0"], drop_every=kw["step_size"], factor=kw["gamma"])
    assert_matches(sched(np.arange(len(lrs))), lrs)


@torch_cases("MultiStepLR")
def test_multistep_decay_matches_torch(case):
    kw, lrs = case["kwargs"], case["lrs"]
    sched = S.multistep_decay(case["lr0"], milestones=kw["milestones"], factor=kw["gamma"])
    assert_matches(sched(np.arange(len(lrs))), lrs)


@torch_cases("ExponentialLR")
def test_exponential_decay_matches_torch(case):
    lrs = case["lrs"]
    sched = S.exponential_decay(case["lr0"], decay_rate=case["kwargs"]["gamma"])
    assert_matches(sched(np.arange(len(lrs))), lrs)


@torch_cases("PolynomialLR")
def test_polynomial_decay_matches_torch(case):
    kw, lrs = case["kwargs"], case["lrs"]
    sched = S.polynomial_decay(case["lr0"], total_steps=kw["total_iters"], power=kw["power"])
    assert_matches(sched(np.arange(len(lrs))), lrs)


@torch_cases("CosineAnnealingLR")
def test_cosine_decay_matches_torch_until_total_steps_then_holds(case):
    kw, lrs = case["kwargs"], np.array(case["lrs"])
    t_max, eta_min, lr0 = kw["T_max"], kw["eta_min"], case["lr0"]
    sched = S.cosine_decay(lr0, total_steps=t_max, lr_min=eta_min)
    steps = np.arange(len(lrs))
    upto = steps <= t_max
    assert_matches(sched(steps[upto]), lrs[upto])
    if len(lrs) > t_max + 1:
        # The intended difference: torch keeps following the cosine past T_max (back up to
        # lr0 at 2 * T_max); cosine_decay holds lr_min, like optax and Keras.
        past = steps[~upto]
        np.testing.assert_allclose(
            lrs[~upto],
            eta_min + (lr0 - eta_min) * (1 + np.cos(np.pi * past / t_max)) / 2,
            rtol=1e-9, atol=1e-12 * lr0,
        )
        assert np.all(sched(past) == sched(t_max))
        assert lrs[2 * t_max] == pytest.approx(lr0)


@torch_cases("CosineAnnealingWarmRestarts")
def test_cosine_warm_restarts_matches_torch(case):
    kw, lrs = case["kwargs"], case["lrs"]
    sched = S.cosine_warm_restarts(case["lr0"], period=kw["T_0"], period_mult=kw["T_mult"],
                                   lr_min=kw["eta_min"])
    assert_matches(sched(np.arange(len(lrs))), lrs)


@torch_cases("CyclicLR")
def test_cyclic_matches_torch(case):
    kw, lrs = case["kwargs"], case["lrs"]
    sched = S.cyclic(kw["base_lr"], kw["max_lr"], kw["step_size_up"], kw.get("step_size_down"),
                     mode=kw["mode"], gamma=kw.get("gamma", 1.0))
    assert_matches(sched(np.arange(len(lrs))), lrs)


@torch_cases("OneCycleLR")
def test_one_cycle_matches_torch(case):
    kw, lrs = dict(case["kwargs"]), case["lrs"]
    kw["anneal"] = kw.pop("anneal_strategy", "cos")
    kw["lr_max"] = kw.pop("max_lr")
    sched = S.one_cycle(**kw)
    assert len(lrs) == kw["total_steps"]  # torch refuses to go further
    assert_matches(sched(np.arange(len(lrs))), lrs)


@torch_cases("LinearLR")
def test_linear_warmup_matches_torch_linear_lr(case):
    kw, lrs = case["kwargs"], case["lrs"]
    warmup_steps = kw["total_iters"] + 1
    assert kw["start_factor"] == pytest.approx(1 / warmup_steps)
    sched = S.linear_warmup(case["lr0"], warmup_steps)
    assert_matches(sched(np.arange(len(lrs))), lrs)


@torch_cases("ReduceLROnPlateau")
def test_reduce_on_plateau_matches_torch(case):
    kw = dict(case["kwargs"])
    if "min_lr" in kw:
        kw["lr_min"] = kw.pop("min_lr")
    plateau = S.ReduceOnPlateau(case["lr0"], **kw)
    ours = [plateau.step(metric) for metric in case["metrics"]]
    assert ours == pytest.approx(case["lrs"], rel=1e-12)


def test_torch_traces_actually_change():
    # A trace that never moves would make the comparisons above vacuous.
    for case in TORCH:
        assert len(set(case["lrs"])) > 1, case


# --- calling conventions and argument checks --------------------------------------------------

EXAMPLES = [
    S.constant(0.1),
    S.step_decay(0.1, 3),
    S.multistep_decay(0.1, [2, 5]),
    S.piecewise_constant([2, 4], [0.3, 0.2, 0.1]),
    S.exponential_decay(0.1, 0.9, 2),
    S.exponential_decay(0.1, 0.9, 2, staircase=True),
    S.inverse_time_decay(0.1, 0.5, 2, staircase=True),
    S.polynomial_decay(0.1, 10, 0.01, 2.0),
    S.cosine_decay(0.1, 10, 0.01),
    S.cosine_warm_restarts(0.1, 3, 2, 0.01),
    S.linear_warmup(0.1, 4),
    S.join([S.linear_warmup(0.1, 3), S.cosine_decay(0.1, 5)], [3]),
    S.warmup_cosine(0.1, 3, 10),
    S.cyclic(0.01, 0.1, 3, 2, "triangular2"),
    S.cyclic(0.01, 0.1, 3, mode="exp_range", gamma=0.9),
    S.one_cycle(0.1, 20),
    S.one_cycle(0.1, 20, anneal="linear", three_phase=True),
]


@pytest.mark.parametrize("sched", EXAMPLES, ids=repr)
def test_int_gives_float_and_array_gives_same_shape(sched):
    assert type(sched(3)) is float
    assert type(sched(np.int32(3))) is float
    grid = np.arange(24).reshape(2, 3, 4)
    values = sched(grid)
    assert isinstance(values, np.ndarray)
    assert values.shape == (2, 3, 4) and values.dtype == np.float64
    assert values[1, 2, 3] == sched(23)
    assert sched(np.array([], dtype=int)).shape == (0,)
    assert sched([0, 1, 2]).shape == (3,)


@pytest.mark.parametrize("sched", EXAMPLES, ids=repr)
@pytest.mark.parametrize("bad", [-1, np.int64(-5), np.array([0, 3, -2]), 1.5, np.array([0.0, 1.0]),
                                 "3", True, None])
def test_bad_step_raises(sched, bad):
    with pytest.raises(ValueError, match="step"):
        sched(bad)


def test_repr_and_name():
    sched = S.step_decay(0.1, 30)
    assert repr(sched) == "step_decay(lr0=0.1, drop_every=30, factor=0.5)"
    assert sched.__name__ == "step_decay"
    joined = S.join([S.constant(1.0), sched], [10])
    assert repr(joined) == f"join(schedules=[constant(lr=1.0), {sched!r}], boundaries=[10])"


def test_a_call_has_no_hidden_state():
    sched = S.one_cycle(1.0, 50)
    first = sched(np.arange(60))
    sched(7), sched(np.arange(1000))
    np.testing.assert_array_equal(sched(np.arange(60)), first)


def test_long_decays_underflow_quietly():
    with np.errstate(all="raise"):
        assert S.exponential_decay(1.0, 0.5)(10**6) == 0.0
        assert S.exponential_decay(1.0, 0.5)(np.array([10**6]))[0] == 0.0


BAD_ARGS = [
    (S.constant, dict(lr=-0.1), "lr"),
    (S.constant, dict(lr=float("nan")), "lr"),
    (S.constant, dict(lr="0.1"), "lr"),
    (S.step_decay, dict(lr0=-1.0, drop_every=3), "lr0"),
    (S.step_decay, dict(lr0=0.1, drop_every=0), "drop_every"),
    (S.step_decay, dict(lr0=0.1, drop_every=2.5), "drop_every"),
    (S.step_decay, dict(lr0=0.1, drop_every=3, factor=1.5), "factor"),
    (S.step_decay, dict(lr0=0.1, drop_every=3, factor=0.0), "factor"),
    (S.multistep_decay, dict(lr0=0.1, milestones=[5, 3]), "milestones"),
    (S.multistep_decay, dict(lr0=0.1, milestones=[0, 3]), "milestones"),
    (S.multistep_decay, dict(lr0=0.1, milestones=5), "milestones"),
    (S.multistep_decay, dict(lr0=0.1, milestones=[3], factor=2.0), "factor"),
    (S.piecewise_constant, dict(boundaries=[3, 3], values=[1, 2, 3]), "boundaries"),
    (S.piecewise_constant, dict(boundaries=[3], values=[1.0]), "values"),
    (S.piecewise_constant, dict(boundaries=[3], values=[1.0, -1.0]), "values"),
    (S.exponential_decay, dict(lr0=0.1, decay_rate=1.5), "decay_rate"),
    (S.exponential_decay, dict(lr0=0.1, decay_rate=0.0), "decay_rate"),
    (S.exponential_decay, dict(lr0=0.1, decay_rate=0.5, decay_steps=0), "decay_steps"),
    (S.inverse_time_decay, dict(lr0=0.1, decay_rate=-0.5), "decay_rate"),
    (S.inverse_time_decay, dict(lr0=0.1, decay_rate=0.5, decay_steps=-1), "decay_steps"),
    (S.polynomial_decay, dict(lr0=0.1, total_steps=0), "total_steps"),
    (S.polynomial_decay, dict(lr0=0.1, total_steps=10, lr_end=-0.1), "lr_end"),
    (S.polynomial_decay, dict(lr0=0.1, total_steps=10, power=0.0), "power"),
    (S.cosine_decay, dict(lr0=0.1, total_steps=0), "total_steps"),
    (S.cosine_decay, dict(lr0=0.1, total_steps=10, lr_min=0.2), "lr_min"),
    (S.cosine_decay, dict(lr0=0.1, total_steps=10, lr_min=-0.01), "lr_min"),
    (S.cosine_warm_restarts, dict(lr0=0.1, period=0), "period"),
    (S.cosine_warm_restarts, dict(lr0=0.1, period=5, period_mult=0), "period_mult"),
    (S.cosine_warm_restarts, dict(lr0=0.1, period=5, period_mult=1.5), "period_mult"),
    (S.cosine_warm_restarts, dict(lr0=0.1, period=5, lr_min=0.5), "lr_min"),
    (S.linear_warmup, dict(lr_peak=-1.0, warmup_steps=3), "lr_peak"),
    (S.linear_warmup, dict(lr_peak=0.1, warmup_steps=0), "warmup_steps"),
    (S.join, dict(schedules=[], boundaries=[]), "schedules"),
    (S.join, dict(schedules=5, boundaries=[]), "schedules"),
    (S.join, dict(schedules=[S.constant(1.0)] * 2, boundaries=7), "boundaries"),
    (S.multistep_decay, dict(lr0=0.1, milestones=[3, 2.5]), "milestones"),
    (S.join, dict(schedules=[0.1, 0.2], boundaries=[3]), "schedules"),
    (S.join, dict(schedules=[S.constant(1.0)] * 2, boundaries=[]), "boundaries"),
    (S.join, dict(schedules=[S.constant(1.0)] * 3, boundaries=[5, 2]), "boundaries"),
    (S.warmup_cosine, dict(lr_peak=0.1, warmup_steps=-1, total_steps=10), "warmup_steps"),
    (S.warmup_cosine, dict(lr_peak=0.1, warmup_steps=10, total_steps=10), "total_steps"),
    (S.warmup_cosine, dict(lr_peak=0.1, warmup_steps=1, total_steps=10, lr_min=1.0), "lr_min"),
    (S.cyclic, dict(lr_min=-0.1, lr_max=1.0, step_size_up=3), "lr_min"),
    (S.cyclic, dict(lr_min=0.5, lr_max=0.1, step_size_up=3), "lr_max"),
    (S.cyclic, dict(lr_min=0.1, lr_max=1.0, step_size_up=0), "step_size_up"),
    (S.cyclic, dict(lr_min=0.1, lr_max=1.0, step_size_up=3, step_size_down=0), "step_size_down"),
    (S.cyclic, dict(lr_min=0.1, lr_max=1.0, step_size_up=3, mode="sine"), "mode"),
    (S.cyclic, dict(lr_min=0.1, lr_max=1.0, step_size_up=3, gamma=1.1), "gamma"),
    (S.one_cycle, dict(lr_max=-1.0, total_steps=10), "lr_max"),
    (S.one_cycle, dict(lr_max=1.0, total_steps=1), "total_steps"),
    (S.one_cycle, dict(lr_max=1.0, total_steps=10, pct_start=1.0), "pct_start"),
    (S.one_cycle, dict(lr_max=1.0, total_steps=10, pct_start=0.05), "pct_start"),
    (S.one_cycle, dict(lr_max=1.0, total_steps=10, pct_start=0.6, three_phase=True),
     "pct_start"),
    (S.one_cycle, dict(lr_max=1.0, total_steps=10, div_factor=0.5), "div_factor"),
    (S.one_cycle, dict(lr_max=1.0, total_steps=10, final_div_factor=0.0), "final_div_factor"),
    (S.one_cycle, dict(lr_max=1.0, total_steps=10, anneal="cosine"), "anneal"),
    (S.ReduceOnPlateau, dict(lr0=-1.0), "lr0"),
    (S.ReduceOnPlateau, dict(lr0=1.0, factor=1.0), "factor"),
    (S.ReduceOnPlateau, dict(lr0=1.0, patience=-1), "patience"),
    (S.ReduceOnPlateau, dict(lr0=1.0, threshold=-0.1), "threshold"),
    (S.ReduceOnPlateau, dict(lr0=1.0, threshold=1.0), "threshold"),
    (S.ReduceOnPlateau, dict(lr0=1.0, threshold_mode="relative"), "threshold_mode"),
    (S.ReduceOnPlateau, dict(lr0=1.0, mode="minimum"), "mode"),
    (S.ReduceOnPlateau, dict(lr0=1.0, cooldown=-1), "cooldown"),
    (S.ReduceOnPlateau, dict(lr0=1.0, lr_min=-1.0), "lr_min"),
]


@pytest.mark.parametrize("factory, kwargs, name", BAD_ARGS,
                         ids=[f"{f.__name__}-{n}-{i}" for i, (f, _, n) in enumerate(BAD_ARGS)])
def test_bad_argument_raises_value_error_naming_it(factory, kwargs, name):
    with pytest.raises(ValueError) as info:
        factory(**kwargs)
    message = str(info.value)
    assert message.startswith(name) or f" {name} " in message, message
    assert "got" in message


def test_error_message_shows_the_value():
    with pytest.raises(ValueError, match=r"^decay_rate must be in \(0, 1\], got 1.5$"):
        S.exponential_decay(0.1, 1.5)


def test_reduce_on_plateau_rejects_non_numeric_metric():
    with pytest.raises(ValueError, match="metric"):
        S.ReduceOnPlateau(1.0).step("low")


#: Every factory of a step -> lr function (join needs schedules, so the strategy below builds it).
FACTORIES = {name: getattr(S, name) for name in S.__all__
             if name not in ("Schedule", "ReduceOnPlateau", "join")}


def test_the_namespace_exports_every_factory_under_its_name():
    assert len(FACTORIES) == 13
    for name, factory in FACTORIES.items():
        assert factory.__name__ == name and callable(factory)


def test_import_stays_light():
    import subprocess
    import sys

    code = ("import sys, lr_course.schedules; "
            "print(any(m in sys.modules for m in ('matplotlib', 'ipywidgets', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- properties -------------------------------------------------------------------------------

lrs = st.floats(1e-6, 10.0)
steps = st.integers(0, 10_000)
fractions = st.floats(0.01, 1.0)


@st.composite
def any_schedule(draw):
    """A valid schedule from any factory, with drawn arguments."""
    lr = draw(lrs)
    low = lr * draw(st.floats(0.0, 1.0))
    n = st.integers(1, 300)
    which = draw(st.sampled_from(sorted(FACTORIES) + ["join"]))
    if which == "constant":
        return S.constant(lr)
    if which == "step_decay":
        return S.step_decay(lr, draw(n), draw(fractions))
    if which == "multistep_decay":
        return S.multistep_decay(lr, sorted(draw(st.lists(n, max_size=4))), draw(fractions))
    if which == "piecewise_constant":
        bounds = sorted(draw(st.sets(n, max_size=4)))
        return S.piecewise_constant(bounds, draw(st.lists(lrs, min_size=len(bounds) + 1,
                                                          max_size=len(bounds) + 1)))
    if which in ("exponential_decay", "inverse_time_decay"):
        rate = draw(fractions) if which == "exponential_decay" else draw(st.floats(0, 10))
        return FACTORIES[which](lr, rate, draw(st.floats(0.5, 300)), draw(st.booleans()))
    if which == "polynomial_decay":
        return S.polynomial_decay(lr, draw(n), draw(st.floats(0, 10)), draw(st.floats(0.1, 5)))
    if which == "cosine_decay":
        return S.cosine_decay(lr, draw(n), low)
    if which == "cosine_warm_restarts":
        return S.cosine_warm_restarts(lr, draw(n), draw(st.integers(1, 4)), low)
    if which == "linear_warmup":
        return S.linear_warmup(lr, draw(n))
    if which == "warmup_cosine":
        warmup = draw(st.integers(0, 100))
        return S.warmup_cosine(lr, warmup, warmup + draw(n), low)
    if which == "cyclic":
        return S.cyclic(low, lr, draw(n), draw(st.none() | n),
                        draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
                        draw(st.floats(0.9, 1.0)))
    if which == "one_cycle":
        total = draw(st.integers(4, 1000))
        three = draw(st.booleans())
        pct = draw(st.floats(1.01 / total * 1.01, 0.49 if three else 0.99))
        return S.one_cycle(lr, total, pct, draw(st.floats(1, 100)), draw(st.floats(1, 1e4)),
                           draw(st.sampled_from(["cos", "linear"])), three)
    assert which == "join"
    return S.join([S.linear_warmup(lr, draw(n)), S.cosine_decay(lr, draw(n), low)], [draw(n)])


@given(any_schedule(), st.lists(steps, min_size=1, max_size=20))
def test_values_are_finite_non_negative_and_array_equals_elementwise(sched, points):
    values = sched(np.array(points))
    assert np.all(np.isfinite(values)) and np.all(values >= 0)
    assert values.tolist() == [sched(p) for p in points]


@given(lrs, st.integers(1, 200), fractions, steps)
def test_step_decay_constant_between_boundaries_and_drops_by_factor(lr0, every, factor, step):
    sched = S.step_decay(lr0, every, factor)
    start = (step // every) * every  # the window holding step
    assert sched(step) == sched(start)
    assert sched(start + every) == pytest.approx(sched(start) * factor, rel=1e-12)


@given(lrs, st.floats(0.05, 1.0), st.floats(0.5, 100.0), st.integers(0, 2000))
def test_exponential_has_constant_ratio(lr0, rate, decay_steps, step):
    sched = S.exponential_decay(lr0, rate, decay_steps)
    assume(sched(step + 1) > 1e-290)  # a ratio of subnormals (or of zeros) says nothing
    assert sched(step + 1) / sched(step) == pytest.approx(rate ** (1 / decay_steps), rel=1e-9)


@given(lrs, fractions, st.integers(1, 100), steps)
def test_staircase_is_constant_within_a_window(lr0, rate, decay_steps, step):
    for factory in (S.exponential_decay, S.inverse_time_decay):
        sched = factory(lr0, rate, decay_steps, staircase=True)
        start = (step // decay_steps) * decay_steps
        window = sched(np.arange(start, start + decay_steps))
        assert np.all(window == window[0])


@given(lrs, st.floats(0, 1), st.integers(1, 500))
def test_cosine_monotone_and_holds_lr_min(lr0, frac, total_steps):
    sched = S.cosine_decay(lr0, total_steps, lr0 * frac)
    values = sched(np.arange(total_steps + 50))
    assert np.all(np.diff(values) <= 0)
    assert np.all(values[total_steps:] == values[total_steps])
    assert values[total_steps] == pytest.approx(lr0 * frac, rel=1e-12, abs=1e-15)


@given(lrs, st.integers(1, 500))
def test_warmup_reaches_peak_at_warmup_steps_minus_one_and_stays(lr_peak, warmup_steps):
    sched = S.linear_warmup(lr_peak, warmup_steps)
    values = sched(np.arange(warmup_steps + 20))
    assert np.all(np.diff(values[:warmup_steps]) > 0)
    assert values[warmup_steps - 1] == lr_peak
    assert np.all(values[warmup_steps - 1:] == lr_peak)


@given(lrs, st.floats(0.0, 1.0), st.integers(1, 200), st.integers(1, 50), st.integers(1, 200))
def test_join_continuous_where_pieces_agree(lr0, frac, first_len, extra, second_len):
    # The first piece reaches mid at first_len and holds it; the second starts from mid. Joined
    # at any boundary past first_len, there is no jump at the seam: the largest step-to-step
    # change is one the pieces already make on their own.
    mid = lr0 * frac
    first = S.polynomial_decay(lr0, first_len, lr_end=mid)
    second = S.cosine_decay(mid, second_len)
    boundary = first_len + extra
    sched = S.join([first, second], [boundary])
    assert sched(boundary - 1) == first(boundary - 1)
    assert sched(boundary) == second(0)
    assert sched(boundary) == pytest.approx(sched(boundary - 1), rel=1e-12)
    values = sched(np.arange(boundary + second_len + 2))
    own_jumps = np.concatenate([np.diff(first(np.arange(first_len + 2))),
                                np.diff(second(np.arange(second_len + 2)))])
    assert np.max(np.abs(np.diff(values))) <= np.max(np.abs(own_jumps)) * (1 + 1e-12) + 1e-15


@settings(max_examples=50)
@given(st.lists(st.floats(0.0, 10.0), min_size=1, max_size=60), st.integers(0, 5),
       st.integers(0, 3), fractions.filter(lambda f: f < 1))
def test_plateau_lr_never_rises_and_never_undercuts_lr_min(metrics, patience, cooldown, factor):
    plateau = S.ReduceOnPlateau(1.0, factor=factor, patience=patience, cooldown=cooldown,
                                lr_min=0.01)
    values = [plateau.step(m) for m in metrics]
    assert all(b <= a for a, b in zip([1.0] + values, values))
    assert min(values) >= 0.01


# --- both edges of every range: the valid edge is accepted, the one just past it refused -----

TINY = 1e-12
EDGES = [
    # factory, the other arguments, the argument, its valid edge, just past it
    (S.constant, {}, "lr", 0.0, -TINY),
    (S.step_decay, dict(lr0=0.1), "drop_every", 1, 0),
    (S.step_decay, dict(lr0=0.1, drop_every=3), "factor", 1.0, 1.0 + 1e-9),
    (S.step_decay, dict(lr0=0.1, drop_every=3), "factor", TINY, 0.0),
    (S.step_decay, dict(drop_every=3), "lr0", 0.0, -TINY),
    (S.multistep_decay, dict(lr0=0.1), "milestones", [1, 1], [0]),
    (S.multistep_decay, dict(lr0=0.1, milestones=[3]), "factor", 1.0, 1.0 + 1e-9),
    (S.multistep_decay, dict(lr0=0.1, milestones=[3]), "factor", TINY, 0.0),
    (S.multistep_decay, dict(milestones=[3]), "lr0", 0.0, -TINY),
    (S.piecewise_constant, dict(values=[0.1, 0.2]), "boundaries", [1], [0]),
    (S.piecewise_constant, dict(values=[0.1, 0.2, 0.3]), "boundaries", [1, 2], [2, 2]),
    (S.piecewise_constant, dict(boundaries=[3]), "values", [0.0, 0.0], [0.0, -TINY]),
    (S.exponential_decay, dict(lr0=0.1), "decay_rate", 1.0, 1.0 + 1e-9),
    (S.exponential_decay, dict(lr0=0.1), "decay_rate", TINY, 0.0),
    (S.exponential_decay, dict(lr0=0.1, decay_rate=0.5), "decay_steps", TINY, 0.0),
    (S.exponential_decay, dict(lr0=0.1, decay_rate=0.5), "staircase", True, 1),
    (S.exponential_decay, dict(decay_rate=0.5), "lr0", 0.0, -TINY),
    (S.inverse_time_decay, dict(lr0=0.1), "decay_rate", 0.0, -TINY),
    (S.inverse_time_decay, dict(lr0=0.1, decay_rate=0.5), "decay_steps", TINY, 0.0),
    (S.inverse_time_decay, dict(lr0=0.1, decay_rate=0.5), "staircase", False, "yes"),
    (S.inverse_time_decay, dict(decay_rate=0.5), "lr0", 0.0, -TINY),
    (S.polynomial_decay, dict(lr0=0.1), "total_steps", 1, 0),
    (S.polynomial_decay, dict(lr0=0.1, total_steps=10), "lr_end", 0.0, -TINY),
    (S.polynomial_decay, dict(lr0=0.1, total_steps=10), "power", TINY, 0.0),
    (S.polynomial_decay, dict(total_steps=10), "lr0", 0.0, -TINY),
    (S.cosine_decay, dict(lr0=0.1), "total_steps", 1, 0),
    (S.cosine_decay, dict(lr0=0.1, total_steps=10), "lr_min", 0.1, 0.1 + 1e-9),
    (S.cosine_decay, dict(lr0=0.1, total_steps=10), "lr_min", 0.0, -TINY),
    (S.cosine_decay, dict(total_steps=10), "lr0", 0.0, -TINY),
    (S.cosine_warm_restarts, dict(lr0=0.1), "period", 1, 0),
    (S.cosine_warm_restarts, dict(lr0=0.1, period=5), "period_mult", 1, 0),
    (S.cosine_warm_restarts, dict(lr0=0.1, period=5), "lr_min", 0.1, 0.1 + 1e-9),
    (S.cosine_warm_restarts, dict(lr0=0.1, period=5), "lr_min", 0.0, -TINY),
    (S.linear_warmup, dict(lr_peak=0.1), "warmup_steps", 1, 0),
    (S.linear_warmup, dict(warmup_steps=3), "lr_peak", 0.0, -TINY),
    (S.warmup_cosine, dict(lr_peak=0.1, total_steps=10), "warmup_steps", 0, -1),
    (S.warmup_cosine, dict(lr_peak=0.1, warmup_steps=4), "total_steps", 5, 4),
    (S.warmup_cosine, dict(lr_peak=0.1, warmup_steps=1, total_steps=10), "lr_min", 0.1, 0.1 + 1e-9),
    (S.warmup_cosine, dict(lr_peak=0.1, warmup_steps=1, total_steps=10), "lr_min", 0.0, -TINY),
    (S.warmup_cosine, dict(warmup_steps=1, total_steps=10), "lr_peak", 0.0, -TINY),
    (S.cyclic, dict(lr_max=1.0, step_size_up=3), "lr_min", 0.0, -TINY),
    (S.cyclic, dict(lr_min=0.5, step_size_up=3), "lr_max", 0.5, 0.5 - 1e-9),
    (S.cyclic, dict(lr_min=0.1, lr_max=1.0), "step_size_up", 1, 0),
    (S.cyclic, dict(lr_min=0.1, lr_max=1.0, step_size_up=3), "step_size_down", 1, 0),
    (S.cyclic, dict(lr_min=0.1, lr_max=1.0, step_size_up=3, mode="exp_range"), "gamma", 1.0,
     1.0 + 1e-9),
    (S.cyclic, dict(lr_min=0.1, lr_max=1.0, step_size_up=3, mode="exp_range"), "gamma", TINY, 0.0),
    (S.one_cycle, dict(lr_max=1.0, pct_start=0.99), "total_steps", 2, 1),
    (S.one_cycle, dict(total_steps=10), "lr_max", 0.0, -TINY),
    (S.one_cycle, dict(lr_max=1.0, total_steps=100), "div_factor", 1.0, 1.0 - 1e-9),
    (S.one_cycle, dict(lr_max=1.0, total_steps=100), "final_div_factor", 1.0, 1.0 - 1e-9),
    (S.one_cycle, dict(lr_max=1.0, total_steps=100), "pct_start", 0.999, 1.0),
    (S.one_cycle, dict(lr_max=1.0, total_steps=100, three_phase=True), "pct_start", 0.499, 0.5),
    (S.one_cycle, dict(lr_max=1.0, total_steps=100), "three_phase", True, 1),
    (S.ReduceOnPlateau, {}, "lr0", 0.0, -TINY),
    (S.ReduceOnPlateau, dict(lr0=1.0), "factor", 1.0 - 1e-9, 1.0),
    (S.ReduceOnPlateau, dict(lr0=1.0), "factor", TINY, 0.0),
    (S.ReduceOnPlateau, dict(lr0=1.0), "patience", 0, -1),
    (S.ReduceOnPlateau, dict(lr0=1.0), "threshold", 0.0, -TINY),
    (S.ReduceOnPlateau, dict(lr0=1.0), "threshold", 1.0 - 1e-9, 1.0),
    (S.ReduceOnPlateau, dict(lr0=1.0, threshold_mode="abs"), "threshold", 5.0, -TINY),
    (S.ReduceOnPlateau, dict(lr0=1.0), "cooldown", 0, -1),
    (S.ReduceOnPlateau, dict(lr0=1.0), "lr_min", 0.0, -TINY),
    (S.ReduceOnPlateau, dict(lr0=1.0), "eps", 0.0, -TINY),
]


@pytest.mark.parametrize("factory, others, name, valid, invalid", EDGES,
                         ids=[f"{f.__name__}-{n}-{i}" for i, (f, _, n, _, _) in enumerate(EDGES)])
def test_both_edges_of_every_range(factory, others, name, valid, invalid):
    made = factory(**others, **{name: valid})
    if isinstance(made, S.Schedule):
        assert np.all(np.isfinite(made(np.arange(30))))
    with pytest.raises(ValueError, match=f"^(each of )?{name} "):
        factory(**others, **{name: invalid})


def _defaults(function):
    import inspect

    return {k: p.default for k, p in inspect.signature(function).parameters.items()
            if p.default is not inspect.Parameter.empty}


def test_the_documented_defaults():
    """torch's defaults where torch has the schedule (one_cycle's, ReduceLROnPlateau's)."""
    assert _defaults(S.ReduceOnPlateau) == dict(factor=0.1, patience=10, threshold=1e-4,
                                                threshold_mode="rel", mode="min", cooldown=0,
                                                lr_min=0.0, eps=1e-8)
    assert _defaults(S.one_cycle) == dict(pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
                                          anneal="cos", three_phase=False)
    assert _defaults(S.cyclic) == dict(step_size_down=None, mode="triangular", gamma=1.0)
    assert _defaults(S.exponential_decay) == _defaults(S.inverse_time_decay) == dict(
        decay_steps=1, staircase=False)
    assert _defaults(S.step_decay) == dict(factor=0.5) and _defaults(S.multistep_decay) == dict(factor=0.1)
    assert _defaults(S.polynomial_decay) == dict(lr_end=0.0, power=1.0)
    assert _defaults(S.cosine_decay) == _defaults(S.warmup_cosine) == dict(lr_min=0.0)
    assert _defaults(S.cosine_warm_restarts) == dict(period_mult=1, lr_min=0.0)
    # and they are the ones used: a default-built plateau cuts after 11 bad checks, by 10x
    plateau = S.ReduceOnPlateau(1.0)
    cuts = [plateau.step(1.0) for _ in range(12)]
    assert cuts[:11] == [1.0] * 11 and cuts[11] == pytest.approx(0.1)


def test_one_cycle_refuses_pct_start_zero_by_its_range():
    with pytest.raises(ValueError, match=r"^pct_start must be in \(0, 1\), got 0.0$"):
        S.one_cycle(1.0, 100, pct_start=0.0)
    with pytest.raises(ValueError, match=r"^pct_start must be in \(0, 0.5\), got 0.0$"):
        S.one_cycle(1.0, 100, pct_start=0.0, three_phase=True)
