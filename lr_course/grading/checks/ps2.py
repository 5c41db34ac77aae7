"""Checks of ps2_adaptive: momentum, Adagrad, RMSprop, Adam and the applied part."""

from __future__ import annotations

import numpy as np

from lr_course.grading import judging as J
from lr_course.grading.reference import ps2 as ref
from lr_course.grading.spec import Call, Check, Outcome, Test, register, register_assignment

A = "ps2"

# name -> (reference init, reference update, hyper-parameters to draw, invalid calls, hints)
OPTIMIZERS = {
    "sgd_momentum": dict(
        init=ref.sgd_momentum_init, update=ref.sgd_momentum_update,
        draw=lambda rng: {"lr": float(rng.uniform(0.01, 0.2)),
                          "momentum": float(rng.uniform(0.5, 0.95))},
        invalid=[({"lr": -0.1}, "lr"), ({"momentum": -0.5}, "momentum"),
                 ({"momentum": 1.5}, "momentum")],
        state=lambda rng, shape: {"velocity": rng.normal(size=shape)},
        hint="v <- momentum * v + g, then p <- p - lr * v"),
    "adagrad": dict(
        init=ref.adagrad_init, update=ref.adagrad_update,
        draw=lambda rng: {"lr": float(rng.uniform(0.01, 0.5))},
        invalid=[({"lr": -0.1}, "lr"), ({"eps": -1.0}, "eps")],
        state=lambda rng, shape: {"sum_sq": rng.uniform(0.1, 2.0, size=shape)},
        hint="s accumulates the squared gradients (never forgets); divide by sqrt(s) + eps"),
    "rmsprop": dict(
        init=ref.rmsprop_init, update=ref.rmsprop_update,
        draw=lambda rng: {"lr": float(rng.uniform(0.001, 0.05)), "rho": float(rng.uniform(0.8, 0.99))},
        invalid=[({"lr": -0.1}, "lr"), ({"rho": 1.5}, "rho"), ({"rho": -0.1}, "rho")],
        state=lambda rng, shape: {"avg_sq": rng.uniform(0.1, 2.0, size=shape)},
        hint="s is a moving average: rho * s + (1 - rho) * g**2; divide by sqrt(s) + eps"),
    "adam": dict(
        init=ref.adam_init, update=ref.adam_update,
        draw=lambda rng: {"lr": float(rng.uniform(0.001, 0.05)),
                          "beta1": float(rng.uniform(0.8, 0.95)),
                          "beta2": float(rng.uniform(0.99, 0.9999))},
        invalid=[({"lr": -0.1}, "lr"), ({"beta1": 1.5}, "beta1"), ({"beta2": -0.5}, "beta2"),
                 ({"eps": -1e-8}, "eps")],
        state=lambda rng, shape: {"m": rng.normal(size=shape),
                                  "v": rng.uniform(0.1, 2.0, size=shape),
                                  "t": int(rng.integers(1, 20))},
        hint="t <- t + 1 first; m and v are moving averages; divide m / (1 - beta1**t) by "
             "sqrt(v / (1 - beta2**t)) + eps"),
}


def _rollout(name, rng, shape, num_steps, kwargs, scale=1.0):
    params = rng.normal(size=shape)
    grads = tuple(scale * rng.normal(size=shape) for _ in range(num_steps))
    return Call("rollout", f"{name}_update", init=f"{name}_init", params=params,
                grads_seq=grads, kwargs=kwargs)


def _reference_rollout(name, call):
    spec = OPTIMIZERS[name]
    params, state = call.params, spec["init"](call.params)
    out = []
    for g in call.grads_seq:
        params, state = spec["update"](params, g, state, **call.kwargs)
        out.append(params)
    return out


def _describe_rollout(call):
    kw = ", ".join(f"{k}={v:.4g}" for k, v in call.kwargs.items())
    return (f"{len(call.grads_seq)} steps of {call.function} from {call.init}(params), params "
            f"of shape {np.shape(call.params)}" + (f", {kw}" if kw else ""))


def _first_step_hint(name, call, got, expected):
    """A diagnosis from the size of the first step relative to the expected one."""
    p0 = call.params
    with np.errstate(all="ignore"):
        ratio = float(np.median(np.abs(got - p0) / np.abs(expected - p0)))
    if not np.isfinite(ratio):
        return None
    lr = call.kwargs.get("lr")
    if name == "adam" and lr:
        size = float(np.median(np.abs(got - p0))) / lr
        if abs(ratio - 1) > 0.05:
            return (f"your first Adam step is {size:.3g} x lr, expected about lr: check the "
                    "bias correction (and that t is 1 at the first update)")
    if name == "sgd_momentum" and np.isclose(ratio, 1 - call.kwargs.get("momentum", 0.9),
                                             rtol=1e-3):
        return ("your first step is (1 - momentum) times too small: PyTorch's momentum adds the "
                "whole gradient, v <- momentum * v + g (not the moving-average form)")
    if abs(ratio - 1) > 1e-6:
        return f"your first step is {ratio:.3g} x the expected one"
    return None


def _rollout_judge(name, hint):
    def judge(calls, records):
        for call, rec in zip(calls, records):
            if not rec.ok:
                better = hint
                if "not defined" in rec.error:
                    better = f"define {call.init} and {call.function} before this check"
                return Outcome(False, f"{_describe_rollout(call)} raised {rec.error}", better)
            got = rec.value["params"]
            for k, (g, e) in enumerate(zip(got, _reference_rollout(name, call))):
                fake = type("R", (), {"ok": True, "value": g})()
                reason = J.mismatch(fake, e, rtol=1e-6, atol=1e-12)
                if reason:
                    sharper = _first_step_hint(name, call, g, e) if k == 0 and \
                        isinstance(g, np.ndarray) and g.shape == e.shape else None
                    if k > 0:
                        sharper = ("the first step is right but a later one is not: check how "
                                   "the state is updated and carried to the next step")
                    return Outcome(False, f"{_describe_rollout(call)}: the params after step "
                                          f"{k + 1} {reason.replace('returned', 'are')}",
                                   sharper or hint)
        return Outcome(True, f"correct on all {len(calls)} runs")
    return judge


def _well_formed_judge(calls, records):
    """The update runs and returns float params of the right shape (not necessarily right)."""
    for call, rec in zip(calls, records):
        if not rec.ok:
            return Outcome(False, f"{_describe_rollout(call)} raised {rec.error}",
                           "fix the update first")
        for p in rec.value["params"]:
            if not (isinstance(p, np.ndarray) and p.shape == np.shape(call.params)
                    and p.dtype.kind == "f"):
                return Outcome(False, f"{call.function} returned params that are not a float "
                                      "array of the input's shape", "fix the update first")
    return Outcome(True, "the update returns well-formed params")


def _mutation_judge(calls, records):
    for call, rec in zip(calls, records):
        if not rec.ok:
            return Outcome(False, f"{_describe_rollout(call)} raised {rec.error}",
                           "fix the update first")
        changed = [k for k, v in rec.extra.get("mutated", {}).items() if v]
        if changed:
            return Outcome(False, f"{call.function} modified its input {' and '.join(changed)}",
                           "build new arrays (p - lr * ...) and a new state dict instead of "
                           "updating in place (-=, +=, state[...] = ...)")
    return Outcome(True, "params, grads and state passed in were left unchanged")


def _scale_judge(calls, records):
    a, b = records
    for call, rec in zip(calls, records):
        if not rec.ok:
            return Outcome(False, f"{_describe_rollout(call)} raised {rec.error}", "fix the update")
    pa, pb = a.value["params"][-1], b.value["params"][-1]
    if not (isinstance(pa, np.ndarray) and isinstance(pb, np.ndarray) and pa.shape == pb.shape
            and np.allclose(pa, pb, rtol=1e-5, atol=1e-9)):
        return Outcome(False, "multiplying every gradient by 1000 changed the trajectory",
                       "dividing by the root of the averaged squared gradient cancels any "
                       "common scale of the gradients")
    return Outcome(True, "the trajectory does not change when the gradients are rescaled")


def _sign_judge(calls, records):
    rec, call = records[0], calls[0]
    if not rec.ok:
        return Outcome(False, f"{_describe_rollout(call)} raised {rec.error}", "fix adam first")
    step = rec.value["params"][0]
    if not isinstance(step, np.ndarray) or step.shape != call.params.shape:
        return Outcome(False, "the first step did not return params of the right shape", "")
    delta = (call.params - step) / call.kwargs["lr"]
    sign = np.sign(call.grads_seq[0])
    if not np.all(np.isfinite(delta)) or not np.allclose(delta, sign, rtol=1e-3, atol=1e-3):
        size = float(np.median(np.abs(delta))) if np.all(np.isfinite(delta)) else float("nan")
        return Outcome(False, f"for gradients from 1e-3 to 1e3 the first step is not lr * "
                              f"sign(g) (median size {size:.3g} x lr)",
                       "with bias correction m_hat = g and v_hat = g**2 at t = 1")
    return Outcome(True, "the first Adam step is lr * sign(g) whatever the gradient's size")


def _from_state_cases(name):
    def cases(rng):
        spec = OPTIMIZERS[name]
        calls = []
        for shape in [(4,), (2, 3)]:
            calls.append(Call("call", f"{name}_update",
                              args=(rng.normal(size=shape), rng.normal(size=shape),
                                    spec["state"](rng, shape)), kwargs=spec["draw"](rng)))
        return calls
    return cases


def _from_state_judge(name, hint):
    update = OPTIMIZERS[name]["update"]

    def judge(calls, records):
        for call, rec in zip(calls, records):
            where = f"{name}_update on a state in the assignment's format"
            if not rec.ok:
                return Outcome(False, f"{where} raised {rec.error}",
                               "use exactly the state keys of the table (and t for Adam)")
            exp_p, exp_s = update(*call.args, **call.kwargs)
            got = rec.value
            if not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], dict)):
                return Outcome(False, f"{where} returned {J.show(got)}",
                               "return a tuple (new_params, new_state) with state a dict")
            fake = type("R", (), {"ok": True, "value": got[0]})()
            reason = J.mismatch(fake, exp_p, rtol=1e-6)
            if reason:
                return Outcome(False, f"{where}: new params {reason.replace('returned', 'are')}",
                               hint)
            if set(got[1]) != set(exp_s):
                return Outcome(False, f"{where}: the new state has keys {sorted(got[1])}",
                               "keep the state's keys as in the table")
            for key, value in exp_s.items():
                fake = type("R", (), {"ok": True, "value": got[1][key]})()
                if np.ndim(value) == 0:
                    if got[1][key] != value:
                        return Outcome(False, f"{where}: the new state's {key!r} is wrong", hint)
                elif J.mismatch(fake, value, rtol=1e-6):
                    return Outcome(False, f"{where}: the new state's {key!r} is wrong", hint)
        return Outcome(True, f"correct from a given state ({len(calls)} cases)")
    return judge


def _invalid_cases(name):
    def cases(rng):
        spec = OPTIMIZERS[name]
        return [Call("call", f"{name}_update",
                     args=(np.ones(3), np.ones(3), spec["state"](rng, (3,))), kwargs=kw)
                for kw, _ in spec["invalid"]]
    return cases


def _register_optimizer(name, spec):
    fns = (f"{name}_init", f"{name}_update")
    hint = spec["hint"]
    register(Check(f"{A}.{name}.first_steps", fns,
                   f"{name}: init, then three updates on a 1-D array (default hyper-parameters "
                   "except lr), against the equations",
                   lambda rng: [_rollout(name, rng, (int(rng.integers(3, 8)),), 3,
                                         {"lr": spec["draw"](rng)["lr"]})],
                   _rollout_judge(name, hint)))
    register(Check(f"{A}.{name}.shapes", fns,
                   f"{name} works for params of any shape (2-D, 3-D) and for default arguments",
                   lambda rng: [_rollout(name, rng, (3, 4), 5, spec["draw"](rng)),
                                _rollout(name, rng, (2, 2, 2), 4, {})],
                   _rollout_judge(name, "use element-wise numpy operations only; "
                                        "np.zeros_like(params) keeps the shape")))
    register(Check(f"{A}.{name}.unchanged", fns,
                   f"{name}_update modifies neither params, grads nor state",
                   lambda rng: [_rollout(name, rng, (5,), 3, spec["draw"](rng))],
                   J.all_of(_well_formed_judge, _mutation_judge)))
    register(Check(f"{A}.{name}.from_state", (f"{name}_update",),
                   f"{name}_update continues correctly from a state it did not create",
                   _from_state_cases(name), _from_state_judge(name, hint)))
    arg_of = {tuple(sorted(kw.items())): bad for kw, bad in spec["invalid"]}
    register(Check(f"{A}.{name}.invalid", (f"{name}_update",),
                   f"{name}_update rejects invalid hyper-parameters with a ValueError naming them",
                   _invalid_cases(name),
                   J.raises_judge(lambda call: arg_of[tuple(sorted(call.kwargs.items()))],
                                  "check each hyper-parameter's range and raise ValueError")))


for _name, _spec in OPTIMIZERS.items():
    _register_optimizer(_name, _spec)

for _name in ("rmsprop", "adam"):
    register(Check(f"{A}.{_name}.scale_invariant", (f"{_name}_init", f"{_name}_update"),
                   f"{_name} follows the same path when every gradient is multiplied by 1000",
                   lambda rng, n=_name: (lambda seed: [
                       _rollout(n, np.random.default_rng(seed), (6,), 5, {"eps": 1e-12}),
                       _rollout(n, np.random.default_rng(seed), (6,), 5, {"eps": 1e-12},
                                scale=1000.0)])(int(rng.integers(2**31))),
                   J.all_of(_rollout_judge(_name, OPTIMIZERS[_name]["hint"]), _scale_judge)))

register(Check(f"{A}.adam.sign_first_step", ("adam_init", "adam_update"),
               "the first Adam step is about lr * sign(g), for tiny and huge gradients alike",
               lambda rng: [Call("rollout", "adam_update", init="adam_init",
                                 params=rng.normal(size=7),
                                 grads_seq=(rng.choice([-1, 1], 7) * np.logspace(-3, 3, 7),),
                                 kwargs={"lr": 0.01})],
               _sign_judge))
register(Check(f"{A}.adam.eps_placement", ("adam_init", "adam_update"),
               "Adam with small gradients and a large eps (where eps's place matters)",
               lambda rng: [_rollout("adam", rng, (5,), 3, {"lr": 0.01, "eps": 1e-3},
                                     scale=1e-3)],
               _rollout_judge("adam", "eps is added after the square root: "
                                      "sqrt(v_hat) + eps, not sqrt(v_hat + eps)")))

# --- the applied part ------------------------------------------------------------------

DIGITS = {"lr": 0.01, "num_steps": 300, "batch_size": 64, "target": 0.93}


def _train_cases(rng):
    return [Call("train", "adam_update", init="adam_init", problem="digits_logreg",
                 num_steps=DIGITS["num_steps"], seed=int(rng.integers(2**31)),
                 kwargs={"lr": DIGITS["lr"]}, options={"batch_size": DIGITS["batch_size"]})]


def _judge_digits(calls, records):
    rec = records[0]
    if not rec.ok:
        return Outcome(False, f"training with your Adam raised {rec.error}",
                       "adam_update must work on the model's flat parameter vector")
    from lr_course import models
    params = rec.value["params"]
    model = models.LogisticRegression()
    if not isinstance(params, np.ndarray) or params.shape != np.shape(model.x0) or \
            not np.all(np.isfinite(params)):
        return Outcome(False, "training ended with parameters that are not a finite array of "
                              "the model's shape", "check adam_update on a long run")
    _, accuracy = model.evaluate(params, split="val")
    if accuracy < DIGITS["target"]:
        return Outcome(False, f"validation accuracy after {DIGITS['num_steps']} steps is "
                              f"{accuracy:.3f}; the target is {DIGITS['target']}",
                       "the other Adam checks find most mistakes; a correct Adam with "
                       f"lr={DIGITS['lr']} reaches the target")
    return Outcome(True, f"validation accuracy {accuracy:.3f} >= {DIGITS['target']}")


register(Check(f"{A}.adam.trains_digits", ("adam_init", "adam_update"),
               f"your Adam (lr={DIGITS['lr']}, minibatches of {DIGITS['batch_size']}, seeded) "
               f"trains logistic regression on the digits to {DIGITS['target']:.0%} validation "
               f"accuracy within {DIGITS['num_steps']} steps", _train_cases, _judge_digits))

register_assignment("ps2_adaptive", [
    Test("test_sgd_momentum", 2, (f"{A}.sgd_momentum.first_steps",)),
    Test("test_adagrad", 2, (f"{A}.adagrad.first_steps",)),
    Test("test_rmsprop", 2, (f"{A}.rmsprop.first_steps",)),
    Test("test_adam", 3, (f"{A}.adam.first_steps",)),
    Test("test_adam_digits", 4, (f"{A}.adam.trains_digits",)),
    *[Test(f"test_{n}_hidden", 2 if n != "adam" else 3,
           (f"{A}.{n}.shapes", f"{A}.{n}.from_state",
            *([f"{A}.{n}.scale_invariant"] if n in ("rmsprop", "adam") else []),
            *([f"{A}.adam.sign_first_step", f"{A}.adam.eps_placement"] if n == "adam" else [])),
           hidden=True) for n in OPTIMIZERS],
    Test("test_inputs_unchanged", 2, tuple(f"{A}.{n}.unchanged" for n in OPTIMIZERS), hidden=True),
    Test("test_invalid_arguments", 2, tuple(f"{A}.{n}.invalid" for n in OPTIMIZERS), hidden=True),
])
