"""Tests for lr_course.optimizers: PyTorch traces, hand-worked steps, properties, argument checks."""

import inspect
import json
import pathlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lr_course import optimizers, schedules
from lr_course.optimizers import Optimizer, adagrad, adam, adamw, rmsprop, sgd

REFERENCE = pathlib.Path(__file__).parent / "reference" / "torch_optimizers.npz"

#: The factories by the name the reference traces use.
OPTIMIZERS = {f.__name__: f for f in (sgd, adagrad, rmsprop, adam, adamw)}

# One configuration per code path, for the properties that must hold for all of them.
ALL_CONFIGS = {
    "sgd": dict(factory="sgd", kwargs=dict(lr=0.1)),
    "sgd_momentum": dict(factory="sgd", kwargs=dict(lr=0.1, momentum=0.9)),
    "sgd_dampening_wd": dict(factory="sgd", kwargs=dict(lr=0.1, momentum=0.9, dampening=0.5,
                                                        weight_decay=0.1)),
    "sgd_nesterov": dict(factory="sgd", kwargs=dict(lr=0.1, momentum=0.9, nesterov=True)),
    "adagrad": dict(factory="adagrad", kwargs=dict(lr=0.1, lr_decay=0.1, weight_decay=0.1,
                                                   initial_accumulator_value=0.2)),
    "rmsprop": dict(factory="rmsprop", kwargs=dict(lr=0.01, weight_decay=0.1)),
    "rmsprop_centered_momentum": dict(factory="rmsprop", kwargs=dict(lr=0.01, centered=True,
                                                                     momentum=0.9)),
    "adam": dict(factory="adam", kwargs=dict(lr=0.01, weight_decay=0.1)),
    "adam_amsgrad": dict(factory="adam", kwargs=dict(lr=0.01, amsgrad=True)),
    "adamw": dict(factory="adamw", kwargs=dict(lr=0.01, weight_decay=0.1)),
    "adamw_amsgrad": dict(factory="adamw", kwargs=dict(lr=0.01, amsgrad=True)),
}


def make(config_id, **overrides):
    config = ALL_CONFIGS[config_id]
    return OPTIMIZERS[config["factory"]](**{**config["kwargs"], **overrides})


def run(opt, params, grads_seq):
    state = opt.init(params)
    for grads in grads_seq:
        params, state = opt.update(params, grads, state)
    return params, state


# --- PyTorch reference traces ---------------------------------------------------------------

def _load_reference():
    data = np.load(REFERENCE, allow_pickle=False)
    return data, json.loads(str(data["configs"]))


REF, REF_INFO = _load_reference()


def _replay(run_config, lr):
    a, noise = REF["A"], REF["noise"]
    opt = OPTIMIZERS[run_config["factory"]](**{**run_config["kwargs"], "lr": lr})
    params = REF["params0"].copy()
    state = opt.init(params)
    trajectory, lrs = [params], []
    for k in range(REF_INFO["num_steps"]):
        lrs.append(opt.lr_at(state["t"]))
        params, state = opt.update(params, a @ params + noise[k], state)
        trajectory.append(params)
    return np.array(trajectory), np.array(lrs), state


def _exponential(lr0, gamma):
    return lambda step: lr0 * gamma ** step


def _check_against_reference(run_config, trajectory, lrs, state):
    run_id = run_config["id"]
    torch_lrs = REF[f"{run_id}__lr"]
    # our lr_at includes Adagrad's lr_decay; torch applies it inside the step
    decay = run_config["kwargs"].get("lr_decay", 0.0)
    torch_lrs = torch_lrs / (1 + np.arange(len(torch_lrs)) * decay)
    np.testing.assert_allclose(lrs, torch_lrs, rtol=1e-12, atol=0)
    np.testing.assert_allclose(trajectory, REF[f"{run_id}__params"], rtol=1e-12, atol=1e-14)
    prefix = f"{run_id}__state__"
    torch_state = {key[len(prefix):]: REF[key] for key in REF.files if key.startswith(prefix)}
    # torch's SGD keeps no step count; every other key must be there, under our name
    assert set(state) - set(torch_state) <= {"t"}
    assert set(torch_state) <= set(state)
    for key, expected in torch_state.items():
        np.testing.assert_allclose(state[key], expected, rtol=1e-12, atol=1e-14, err_msg=key)


@pytest.mark.parametrize("run_config", REF_INFO["runs"], ids=lambda r: r["id"])
def test_matches_torch_trace(run_config):
    lr = run_config["kwargs"]["lr"]
    if run_config["gamma"]:
        lr = _exponential(lr, run_config["gamma"])  # torch's ExponentialLR, stepped after each update
    _check_against_reference(run_config, *_replay(run_config, lr))


def test_reference_covers_every_option():
    """The traces exercise every factory and every non-default option named in the brief."""
    seen = {(r["factory"], key) for r in REF_INFO["runs"] for key in r["kwargs"]}
    for factory, options in [("sgd", ["momentum", "dampening", "nesterov", "weight_decay"]),
                             ("adagrad", ["lr_decay", "initial_accumulator_value", "weight_decay"]),
                             ("rmsprop", ["centered", "momentum", "weight_decay"]),
                             ("adam", ["amsgrad", "weight_decay"]), ("adamw", ["amsgrad"])]:
        for option in options:
            assert (factory, option) in seen
    assert any(r["gamma"] for r in REF_INFO["runs"])


def test_matches_torch_trace_with_schedules_module():
    """The course's own exponential_decay schedule reproduces torch's ExponentialLR."""
    for run_config in [r for r in REF_INFO["runs"] if r["gamma"]]:
        lr = schedules.exponential_decay(lr0=run_config["kwargs"]["lr"],
                                         decay_rate=run_config["gamma"], decay_steps=1)
        _check_against_reference(run_config, *_replay(run_config, lr))


# --- hand-worked steps ------------------------------------------------------------------------

def test_sgd_plain_step():
    opt = sgd(lr=0.5)
    p, state = opt.update(np.array([1.0, -2.0]), np.array([2.0, 4.0]), opt.init(np.zeros(2)))
    np.testing.assert_array_equal(p, [0.0, -4.0])
    assert state == {"t": 1}


def test_sgd_momentum_dampening_and_nesterov_by_hand():
    p0, g1, g2 = np.array([1.0]), np.array([2.0]), np.array([-1.0])
    lr, mu, tau = 0.1, 0.9, 0.25
    # heavy ball with dampening: b1 = g1 (no dampening on the first step), b2 = mu b1 + (1 - tau) g2
    p, s = run(sgd(lr=lr, momentum=mu, dampening=tau), p0, [g1, g2])
    b2 = mu * 2.0 + (1 - tau) * -1.0
    np.testing.assert_allclose(s["velocity"], [b2])
    np.testing.assert_allclose(p, [1.0 - lr * 2.0 - lr * b2])
    # Nesterov: the step uses g + mu * b, so the first step is lr * (1 + mu) * g1
    p, s = run(sgd(lr=lr, momentum=mu, nesterov=True), p0, [g1])
    np.testing.assert_allclose(p, [1.0 - lr * (1 + mu) * 2.0])
    np.testing.assert_allclose(s["velocity"], [2.0])


def test_adam_first_step_is_lr_times_sign_of_grads():
    """Bias correction makes the first step lr * g / (|g| + eps): lr * sign(g) at any scale."""
    g = np.array([1e4, -3.0, 2e-3, -1e-6])
    lr = 0.01
    p, state = adam(lr=lr).update(np.zeros(4), g, adam().init(np.zeros(4)))
    np.testing.assert_allclose(p, -lr * g / (np.abs(g) + 1e-8), rtol=1e-15)
    np.testing.assert_allclose(p[:3], -lr * np.sign(g[:3]), rtol=1e-5)
    assert abs(p[3]) < lr  # a gradient of 1e-6 feels eps = 1e-8: 1% short
    # without the correction the step would be (1 - beta1) / sqrt(1 - beta2) = 3.16 lr
    np.testing.assert_allclose(state["m"], 0.1 * g)
    np.testing.assert_allclose(state["v"], 0.001 * g**2)
    p, _ = adam(lr=lr, eps=0.0).update(np.zeros(4), g, adam().init(np.zeros(4)))
    np.testing.assert_allclose(p, -lr * np.sign(g), rtol=1e-15)


def test_adam_second_step_by_hand():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    g1, g2 = 2.0, -1.0
    p, s = run(adam(lr=lr), np.array([0.0]), [np.array([g1]), np.array([g2])])
    m = b1 * (1 - b1) * g1 + (1 - b1) * g2
    v = b2 * (1 - b2) * g1**2 + (1 - b2) * g2**2
    step2 = lr * (m / (1 - b1**2)) / (np.sqrt(v / (1 - b2**2)) + eps)
    np.testing.assert_allclose(p, [-lr * g1 / (abs(g1) + eps) - step2], rtol=1e-14)
    assert s["t"] == 2


def test_amsgrad_divides_by_the_largest_v():
    lr = 0.1
    grads = [np.array([10.0]), np.array([0.1])]
    _, s = run(adam(lr=lr, amsgrad=True), np.array([0.0]), grads)
    assert s["v_max"][0] == pytest.approx(0.001 * 100.0)  # v after the first, larger gradient
    assert s["v"][0] < s["v_max"][0]


def test_adamw_decays_params_by_lr_times_weight_decay():
    lr, wd = 0.1, 0.2
    p, _ = run(adamw(lr=lr, weight_decay=wd), np.array([3.0, -1.0]), [np.zeros(2)] * 3)
    np.testing.assert_allclose(p, np.array([3.0, -1.0]) * (1 - lr * wd) ** 3, rtol=1e-15)
    # Adam's weight decay instead goes through the normalised gradient: a step of about lr
    p, _ = run(adam(lr=lr, weight_decay=wd), np.array([3.0]), [np.zeros(1)])
    np.testing.assert_allclose(p, [3.0 - lr], rtol=1e-6)


def test_adagrad_by_hand():
    lr, decay, s0, eps = 0.5, 0.25, 1.0, 1e-10
    g1, g2 = 3.0, 4.0
    p, s = run(adagrad(lr=lr, lr_decay=decay, initial_accumulator_value=s0), np.array([0.0]),
               [np.array([g1]), np.array([g2])])
    step1 = lr * g1 / (np.sqrt(s0 + g1**2) + eps)
    step2 = lr / (1 + decay) * g2 / (np.sqrt(s0 + g1**2 + g2**2) + eps)
    np.testing.assert_allclose(p, [-step1 - step2], rtol=1e-14)
    np.testing.assert_allclose(s["sum_sq"], [s0 + g1**2 + g2**2])


def test_rmsprop_first_steps_by_hand():
    lr, rho, eps, g = 0.01, 0.99, 1e-8, -2.0
    p, _ = rmsprop(lr=lr, rho=rho).update(np.array([0.0]), np.array([g]),
                                          rmsprop().init(np.zeros(1)))
    # no bias correction: the first step is lr / sqrt(1 - rho), ten times lr
    np.testing.assert_allclose(p, [-lr * g / (np.sqrt(1 - rho) * abs(g) + eps)], rtol=1e-14)
    np.testing.assert_allclose(np.abs(p), [10 * lr], rtol=1e-6)
    # centered: s - a^2 = (1 - rho) g^2 - (1 - rho)^2 g^2 = rho (1 - rho) g^2
    opt = rmsprop(lr=lr, rho=rho, centered=True)
    p, s = opt.update(np.array([0.0]), np.array([g]), opt.init(np.zeros(1)))
    np.testing.assert_allclose(p, [-lr * g / (np.sqrt(rho * (1 - rho)) * abs(g) + eps)], rtol=1e-12)
    np.testing.assert_allclose(s["avg_grad"], [(1 - rho) * g])


# --- properties -------------------------------------------------------------------------------

nonzero = st.floats(1e-3, 1e3).flatmap(lambda x: st.sampled_from([x, -x]))
grad_vectors = st.lists(nonzero, min_size=3, max_size=3)


@settings(max_examples=60, deadline=None)
@given(grads=st.lists(grad_vectors, min_size=1, max_size=4),
       scale=st.floats(1e-3, 1e3),
       config=st.sampled_from([("rmsprop", {}), ("rmsprop", {"centered": True}),
                               ("rmsprop", {"momentum": 0.9}), ("adam", {}),
                               ("adam", {"amsgrad": True}), ("adamw", {}), ("adagrad", {})]))
def test_adaptive_methods_ignore_the_scale_of_the_gradient(grads, scale, config):
    """With eps = 0, RMSprop, Adam(W) and Adagrad give the same steps for c * g as for g."""
    factory, kwargs = config
    opt = OPTIMIZERS[factory](lr=0.01, eps=0.0, **kwargs)
    grads = [np.array(g) for g in grads]
    p0 = np.array([0.5, -1.0, 2.0])
    p_plain, _ = run(opt, p0, grads)
    p_scaled, _ = run(opt, p0, [scale * g for g in grads])
    # the step is scale-free; the params themselves are O(1), so compare their changes
    np.testing.assert_allclose(p_scaled - p0, p_plain - p0, rtol=1e-8, atol=1e-12)


def test_sgd_is_not_scale_invariant():
    """The property above can fail: plain SGD's step grows with the gradient."""
    p0, g = np.ones(2), np.array([1.0, -2.0])
    assert not np.allclose(run(sgd(lr=0.1), p0, [g])[0], run(sgd(lr=0.1), p0, [10 * g])[0])


def _snapshot(state):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}


@settings(max_examples=40, deadline=None)
@given(config_id=st.sampled_from(sorted(ALL_CONFIGS)),
       seed=st.integers(0, 2**32 - 1), num_steps=st.integers(1, 3))
def test_update_modifies_nothing_it_is_given(config_id, seed, num_steps):
    rng = np.random.default_rng(seed)
    opt = make(config_id)
    params = rng.normal(size=(2, 3))
    state = opt.init(params)
    for _ in range(num_steps):
        grads = rng.normal(size=(2, 3))
        before = params.copy(), grads.copy(), _snapshot(state)
        state_id, arrays = id(state), {k: v for k, v in state.items()}
        new_params, new_state = opt.update(params, grads, state)
        np.testing.assert_array_equal(params, before[0])
        np.testing.assert_array_equal(grads, before[1])
        assert id(state) == state_id and set(state) == set(before[2])
        for key, value in before[2].items():
            assert state[key] is arrays[key]
            np.testing.assert_array_equal(state[key], value)
        # and nothing returned shares memory with what was given
        returned = [new_params] + [v for v in new_state.values() if isinstance(v, np.ndarray)]
        given_ = [params, grads] + [v for v in state.values() if isinstance(v, np.ndarray)]
        assert new_state is not state
        for out in returned:
            assert not any(np.shares_memory(out, x) for x in given_)
        assert new_state["t"] == state["t"] + 1
        params, state = new_params, new_state


@pytest.mark.parametrize("config_id", sorted(ALL_CONFIGS))
def test_float32_stays_float32(config_id):
    # a schedule returning a numpy float64 must not promote float32 params either
    opt = make(config_id, lr=lambda step: np.float64(0.01))
    params = np.linspace(-1, 1, 6, dtype=np.float32)
    p, state = run(opt, params, [np.full(6, 0.5, dtype=np.float32)] * 3)
    assert p.dtype == np.float32
    for key, value in state.items():
        if key != "t":
            assert value.dtype == np.float32, key
    # and it agrees with the float64 computation to float32 precision
    p64, _ = run(opt, params.astype(np.float64), [np.full(6, 0.5)] * 3)
    np.testing.assert_allclose(p, p64, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 3, 4)])
@pytest.mark.parametrize("config_id", sorted(ALL_CONFIGS))
def test_any_shape_works_elementwise(config_id, shape):
    rng = np.random.default_rng(0)
    opt = make(config_id)
    params = rng.normal(size=shape)
    grads_seq = [rng.normal(size=shape) for _ in range(3)]
    p, state = run(opt, params, grads_seq)
    assert isinstance(p, np.ndarray) and p.shape == shape
    assert all(v.shape == shape for k, v in state.items() if k != "t")
    p_flat, _ = run(opt, params.reshape(-1), [g.reshape(-1) for g in grads_seq])
    np.testing.assert_array_equal(p.reshape(-1), p_flat)


def test_lists_and_int_arrays_are_accepted():
    p, _ = run(sgd(lr=0.5), [1, 2], [[2, 2]])
    assert p.dtype == np.float64
    np.testing.assert_array_equal(p, [0.0, 1.0])


def test_lr_schedule_is_evaluated_at_state_t():
    calls = []

    def schedule(step):
        calls.append(step)
        return 0.1 * (step + 1)

    opt = sgd(lr=schedule)
    state = {"t": 5}
    p, new_state = opt.update(np.array([1.0]), np.array([1.0]), state)
    assert calls == [5]
    np.testing.assert_allclose(p, [1.0 - 0.6])
    assert new_state["t"] == 6 and opt.lr_at(5) == pytest.approx(0.6)
    # from init, successive updates use lr(0), lr(1), lr(2)
    calls.clear()
    run(sgd(lr=schedule), np.zeros(1), [np.ones(1)] * 3)
    assert calls == [0, 1, 2]


@pytest.mark.parametrize("factory", sorted(OPTIMIZERS))
def test_schedule_equals_float_lr_when_constant(factory):
    rng = np.random.default_rng(1)
    grads_seq = [rng.normal(size=4) for _ in range(4)]
    p_float, _ = run(OPTIMIZERS[factory](lr=0.03), np.ones(4), grads_seq)
    p_sched, _ = run(OPTIMIZERS[factory](lr=lambda step: 0.03), np.ones(4), grads_seq)
    np.testing.assert_array_equal(p_float, p_sched)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("config_id", sorted(ALL_CONFIGS))
def test_divergence_gives_inf_or_nan_without_warnings(config_id):
    """A run blowing up is expected in this course: no RuntimeWarning, non-finite params."""
    opt = make(config_id, lr=1e300)
    params = np.array([1e300, -1.0, 0.0])
    state = opt.init(params)
    for _ in range(4):
        with np.errstate(all="ignore"):  # the test's own gradient overflows too
            grads = np.array([1e300, -1e300, 0.0]) * params
        params, state = opt.update(params, grads, state)
    assert not np.all(np.isfinite(params))


def test_adagrad_lr_at_includes_lr_decay():
    opt = adagrad(lr=0.5, lr_decay=0.25)
    assert [opt.lr_at(t) for t in range(3)] == [0.5, 0.5 / 1.25, 0.5 / 1.5]


@pytest.mark.parametrize("bad_value", [-0.1, np.nan, "fast"])
def test_bad_schedule_values_raise_at_update(bad_value):
    opt = adam(lr=lambda step: bad_value)
    with pytest.raises(ValueError, match="lr schedule"):
        opt.update(np.zeros(2), np.ones(2), opt.init(np.zeros(2)))


# --- argument checks --------------------------------------------------------------------------

BAD_ARGUMENTS = [
    (sgd, dict(lr=-0.1), "lr"), (sgd, dict(lr=float("nan")), "lr"), (sgd, dict(lr="0.1x"), "lr"),
    (sgd, dict(momentum=-0.5), "momentum"), (sgd, dict(dampening=1.5), "dampening"),
    (sgd, dict(dampening=-0.1), "dampening"), (sgd, dict(weight_decay=-1e-4), "weight_decay"),
    (sgd, dict(nesterov=True), "nesterov"), (sgd, dict(nesterov=True, momentum=0.9, dampening=0.1), "nesterov"),
    (sgd, dict(nesterov="yes", momentum=0.9), "nesterov"), (sgd, dict(momentum=True), "momentum"),
    (adagrad, dict(lr=-1.0), "lr"), (adagrad, dict(lr_decay=-0.1), "lr_decay"),
    (adagrad, dict(weight_decay=-0.1), "weight_decay"),
    (adagrad, dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (adagrad, dict(eps=-1e-10), "eps"),
    (rmsprop, dict(lr=-0.01), "lr"), (rmsprop, dict(rho=1.0), "rho"), (rmsprop, dict(rho=-0.1), "rho"),
    (rmsprop, dict(eps=-1.0), "eps"), (rmsprop, dict(weight_decay=-0.1), "weight_decay"),
    (rmsprop, dict(momentum=-0.9), "momentum"), (rmsprop, dict(centered=None), "centered"),
    (adam, dict(lr=-1e-3), "lr"), (adam, dict(beta1=1.0), "beta1"), (adam, dict(beta1=-0.1), "beta1"),
    (adam, dict(beta2=1.0), "beta2"), (adam, dict(beta2=1.5), "beta2"), (adam, dict(eps=-1e-8), "eps"),
    (adam, dict(eps=float("inf")), "eps"), (adam, dict(weight_decay=-0.1), "weight_decay"),
    (adam, dict(amsgrad="no"), "amsgrad"),
    (adamw, dict(lr=-1e-3), "lr"), (adamw, dict(beta1=1.2), "beta1"), (adamw, dict(beta2=-0.5), "beta2"),
    (adamw, dict(eps=-1.0), "eps"), (adamw, dict(weight_decay=-0.01), "weight_decay"),
]


@pytest.mark.parametrize("factory, kwargs, name", BAD_ARGUMENTS,
                         ids=[f"{f.__name__}-{k}" for f, k, _ in BAD_ARGUMENTS])
def test_bad_hyperparameters_raise_value_error_naming_them(factory, kwargs, name):
    with pytest.raises(ValueError) as excinfo:
        factory(**kwargs)
    message = str(excinfo.value)
    assert name in message
    assert any(repr(v) in message or str(v) in message for v in kwargs.values())


@pytest.mark.parametrize("bad_state, name", [({}, "state"), ({"t": -1}, "state['t']"),
                                             ({"t": 1.5}, "state['t']"), (None, "state")])
def test_bad_state_raises(bad_state, name):
    with pytest.raises(ValueError, match=name.replace("[", r"\[").replace("]", r"\]")):
        sgd().update(np.zeros(2), np.zeros(2), bad_state)


def test_mismatched_shapes_and_complex_raise():
    with pytest.raises(ValueError, match="grads must have the shape"):
        adam().update(np.zeros(3), np.zeros(4), adam().init(np.zeros(3)))
    with pytest.raises(ValueError, match="params must be a real float"):
        adam().init(np.zeros(3, dtype=complex))


# --- the factories and the Optimizer record ----------------------------------------------------

@pytest.mark.parametrize("key", sorted(OPTIMIZERS))
def test_factories_build_described_optimizers(key):
    factory = OPTIMIZERS[key]
    opt = factory()
    assert isinstance(opt, Optimizer) and isinstance(opt.name, str) and opt.name
    assert set(opt.hyperparams) == set(inspect.signature(factory).parameters)
    assert opt.lr_at(0) == opt.hyperparams["lr"]
    assert opt.init(np.zeros(2))["t"] == 0
    assert factory.__doc__ and ">>>" in factory.__doc__


def test_names_describe_the_variant():
    assert sgd().name == "SGD"
    assert sgd(momentum=0.9).name == "SGD (momentum 0.9)"
    assert sgd(momentum=0.9, nesterov=True).name == "SGD (Nesterov 0.9)"
    assert adam(amsgrad=True).name == "Adam (AMSGrad)"
    assert adamw().name == "AdamW" and rmsprop(centered=True).name == "RMSprop (centered)"


def test_state_keys_follow_ps2():
    """ps2_adaptive's names: velocity, sum_sq, avg_sq, m, v, t."""
    z = np.zeros(2)
    assert set(sgd(momentum=0.9).init(z)) == {"t", "velocity"}
    assert set(adagrad().init(z)) == {"t", "sum_sq"}
    assert set(rmsprop().init(z)) == {"t", "avg_sq"}
    assert set(rmsprop(centered=True, momentum=0.5).init(z)) == {"t", "avg_sq", "avg_grad",
                                                                "momentum_buffer"}
    assert set(adam().init(z)) == {"t", "m", "v"}
    assert set(adamw(amsgrad=True).init(z)) == {"t", "m", "v", "v_max"}
    np.testing.assert_array_equal(adagrad(initial_accumulator_value=0.5).init(z)["sum_sq"], [0.5, 0.5])


def test_module_imports_nothing_heavy():
    assert "matplotlib" not in optimizers.__dict__ and "ipywidgets" not in optimizers.__dict__


# --- step: the same update in place -----------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(config_id=st.sampled_from(sorted(ALL_CONFIGS)), seed=st.integers(0, 2**32 - 1),
       shape=st.sampled_from([(), (7,), (3, 4)]), dtype=st.sampled_from([np.float32, np.float64]))
def test_step_gives_update_bit_for_bit_in_place(config_id, seed, shape, dtype):
    rng = np.random.default_rng(seed)
    opt = make(config_id)
    pure_params = rng.normal(size=shape).astype(dtype)
    pure_state = opt.init(pure_params)
    params = pure_params.copy()
    state = opt.init(params)
    arrays = {key: value for key, value in state.items() if key != "t"}
    for _ in range(4):
        grads = rng.normal(size=shape).astype(dtype)
        pure_params, pure_state = opt.update(pure_params, grads, pure_state)
        assert opt.step(params, grads, state) is None
        np.testing.assert_array_equal(params, pure_params)
        assert state["t"] == pure_state["t"]
        for key, array in arrays.items():
            assert state[key] is array  # the same arrays, overwritten
            np.testing.assert_array_equal(array, pure_state[key], err_msg=key)


def test_step_accepts_grads_of_another_dtype_and_the_params_themselves():
    opt = sgd(lr=0.5)
    params = np.array([2.0, 4.0])
    opt.step(params, params, opt.init(params))  # g = p: p - 0.5 p
    np.testing.assert_array_equal(params, [1.0, 2.0])
    params32 = np.ones(3, dtype=np.float32)
    opt.step(params32, np.ones(3), opt.init(params32))
    assert params32.dtype == np.float32
    np.testing.assert_array_equal(params32, [0.5, 0.5, 0.5])


def _step_error(opt, params, grads, state):
    with pytest.raises(ValueError) as excinfo:
        opt.step(params, grads, state)
    return str(excinfo.value)


def test_step_refuses_what_it_cannot_overwrite():
    opt = adam()
    z = np.zeros(4)
    assert "numpy float array" in _step_error(opt, [0.0, 0.0], [1.0, 1.0], opt.init(np.zeros(2)))
    assert "numpy float array" in _step_error(opt, np.zeros(4, dtype=int), z, opt.init(z))
    frozen = np.zeros(4)
    frozen.flags.writeable = False
    assert "params to be writeable" in _step_error(opt, frozen, z, opt.init(z))
    state32 = opt.init(np.zeros(4, dtype=np.float32))
    assert "state['m']" in _step_error(opt, np.zeros(4), z, state32)
    state = opt.init(z)
    state["v"] = state["m"]
    assert "state['v'] and state['m'] in separate memory" in _step_error(opt, np.zeros(4), z, state)
    state = opt.init(z)
    params = np.zeros(4)
    state["m"] = params
    assert "state['m'] and params in separate memory" in _step_error(opt, params, z, state)
    state = opt.init(z)
    del state["v"]
    assert "state has no 'v'" in _step_error(opt, np.zeros(4), z, state)


def test_step_overwrites_strided_arrays_and_reads_grads_that_alias_the_state():
    """step computes the whole update before it writes, so views and aliased grads are safe."""
    opt = adam(lr=0.1)
    grads = np.array([1.0, -2.0, 3.0, 0.5])
    expected, expected_state = opt.update(np.ones(4), grads, opt.init(np.ones(4)))
    buffer = np.ones(8)
    params = buffer[::2]  # a strided view
    state = opt.init(params)
    opt.step(params, grads, state)
    np.testing.assert_array_equal(buffer[::2], expected)
    np.testing.assert_array_equal(buffer[1::2], np.ones(4))
    state = opt.init(np.ones(4))
    state["m"][...] = grads  # grads read from the state's own array, which step overwrites
    expected, expected_state = opt.update(np.ones(4), grads, state)
    params = np.ones(4)
    assert opt.step(params, state["m"], state) is None
    np.testing.assert_array_equal(params, expected)
    for key in ("m", "v"):
        np.testing.assert_array_equal(state[key], expected_state[key])


def test_a_refused_step_changes_nothing():
    opt = sgd(lr=0.1, momentum=0.9)
    params = np.ones(3)
    state = opt.init(params)
    opt.step(params, np.ones(3), state)
    before = params.copy(), state["velocity"].copy(), state["t"]
    state_bad = {**state, "velocity": np.zeros(3, dtype=np.float32)}
    with pytest.raises(ValueError, match="velocity"):
        opt.step(params, np.ones(3), state_bad)
    np.testing.assert_array_equal(params, before[0])
    np.testing.assert_array_equal(state["velocity"], before[1])
    assert state["t"] == before[2] and state_bad["t"] == before[2]


def test_update_names_a_missing_or_misshapen_state_array():
    opt = rmsprop(centered=True)
    state = opt.init(np.zeros(3))
    del state["avg_grad"]
    with pytest.raises(ValueError, match=r"state has no 'avg_grad'"):
        opt.update(np.zeros(3), np.ones(3), state)
    state = opt.init(np.zeros(3))
    state["avg_sq"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"state\['avg_sq'\] must have the shape of params \(3,\)"):
        opt.update(np.zeros(3), np.ones(3), state)


def test_the_documented_defaults():
    """torch.optim's defaults, as the Args say."""
    assert sgd().hyperparams == dict(lr=0.01, momentum=0.0, dampening=0.0, nesterov=False,
                                     weight_decay=0.0)
    assert adagrad().hyperparams == dict(lr=0.01, lr_decay=0.0, weight_decay=0.0,
                                         initial_accumulator_value=0.0, eps=1e-10)
    assert rmsprop().hyperparams == dict(lr=0.01, rho=0.99, eps=1e-8, weight_decay=0.0,
                                         momentum=0.0, centered=False)
    assert adam().hyperparams == dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                                      weight_decay=0.0, amsgrad=False)
    assert adamw().hyperparams == dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                                       weight_decay=1e-2, amsgrad=False)
    # and the update uses them: the first default SGD step is 0.01 g
    p, _ = sgd().update(np.array([1.0]), np.array([2.0]), sgd().init(np.zeros(1)))
    assert p.tolist() == [1.0 - 0.01 * 2.0]


TINY = 1e-12
EDGES = [
    # factory, argument, its valid edge, just past it
    (sgd, "lr", 0.0, -TINY), (sgd, "momentum", 0.0, -TINY), (sgd, "dampening", 0.0, -TINY),
    (sgd, "dampening", 1.0, 1.0 + 1e-9), (sgd, "weight_decay", 0.0, -TINY),
    (adagrad, "lr", 0.0, -TINY), (adagrad, "lr_decay", 0.0, -TINY),
    (adagrad, "weight_decay", 0.0, -TINY), (adagrad, "initial_accumulator_value", 0.0, -TINY),
    (adagrad, "eps", 0.0, -TINY),
    (rmsprop, "lr", 0.0, -TINY), (rmsprop, "rho", 0.0, -TINY), (rmsprop, "rho", 1 - 1e-9, 1.0),
    (rmsprop, "eps", 0.0, -TINY), (rmsprop, "weight_decay", 0.0, -TINY),
    (rmsprop, "momentum", 0.0, -TINY), (rmsprop, "centered", True, 1),
    (adam, "lr", 0.0, -TINY), (adam, "beta1", 0.0, -TINY), (adam, "beta1", 1 - 1e-9, 1.0),
    (adam, "beta2", 0.0, -TINY), (adam, "beta2", 1 - 1e-9, 1.0), (adam, "eps", 0.0, -TINY),
    (adam, "weight_decay", 0.0, -TINY), (adam, "amsgrad", True, 0),
    (adamw, "beta1", 1 - 1e-9, 1.0), (adamw, "weight_decay", 0.0, -TINY),
]


@pytest.mark.parametrize("factory, name, valid, invalid", EDGES,
                         ids=[f"{f.__name__}-{n}-{i}" for i, (f, n, _, _) in enumerate(EDGES)])
def test_both_edges_of_every_range(factory, name, valid, invalid):
    opt = factory(**{name: valid})
    p, _ = opt.update(np.ones(2), np.ones(2), opt.init(np.ones(2)))
    assert np.all(np.isfinite(p)) and opt.hyperparams[name] == valid
    with pytest.raises(ValueError, match=f"^{name} "):
        factory(**{name: invalid})


def test_a_course_schedule_is_asked_once_per_step_and_other_callables_every_time():
    from lr_course import models, schedules, training
    from lr_course.schedules import _base

    asked = []
    schedule = schedules.cosine_decay(2.0, total_steps=50)
    counting = _base.Schedule(lambda steps: (asked.append(1), schedule.fn(steps))[1], "counting")
    model = models.LogisticRegression()
    history = training.train(model, optimizers.sgd(lr=counting), num_steps=50, batch_size=16)
    assert len(asked) == 51                                     # 50 updates and the last entry
    assert np.array_equal(history.lr, schedule(np.arange(51)))
    same = training.train(model, optimizers.sgd(lr=schedule), num_steps=50, batch_size=16)
    assert np.array_equal(same.final_params, history.final_params)

    calls = []
    def plain(step):                                             # not a Schedule: no memory
        calls.append(step)
        return 0.1
    training.train(model, optimizers.sgd(lr=plain), num_steps=10, batch_size=16)
    assert len(calls) == 21
    opt = optimizers.sgd(lr=counting)
    before = len(asked)
    assert opt.lr_at(3) == opt.lr_at(3) and opt.lr_at(np.int64(3)) == schedule(3)
    assert len(asked) == before + 2                              # a numpy int is asked again
