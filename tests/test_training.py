"""Tests for lr_course.training: the History conventions, divergence, minibatches, evaluation."""

import json
import math
import warnings

import numpy as np
import pytest

from lr_course import schedules, training
from lr_course.models import LogisticRegression
from lr_course.optimizers import adam, sgd
from lr_course.problems import NoisyGradient, Quadratic
from lr_course.training import History, noisy_sgd_runs, train


@pytest.fixture(scope="module")
def model():
    return LogisticRegression()


class Recorder:
    """A 1-D 'model' with num_train examples that records every batch it is asked for."""

    def __init__(self, num_train=10):
        self.num_train = num_train
        self.dim = 1
        self.x0 = np.array([1.0])
        self.batches = []

    def loss(self, params, batch=None):
        return float(params[0] ** 2)

    def loss_and_grad(self, params, batch=None):
        self.batches.append(None if batch is None else np.array(batch))
        return float(params[0] ** 2), 2 * params


# --------------------------------------------------------------------------- conventions


def test_loss_lr_and_params_line_up_with_the_closed_form():
    lam, lr, x0 = 4.0, 0.1, 3.0
    h = train(Quadratic.one_d(lam, x0=x0), sgd(lr=lr), num_steps=20, record_params=True)
    k = np.arange(21)
    x = x0 * (1 - lr * lam) ** k
    assert h.num_steps == 20 and len(h.loss) == len(h.lr) == len(h.time) == 21
    np.testing.assert_allclose(h.params[:, 0], x, rtol=1e-12)
    np.testing.assert_allclose(h.loss, 0.5 * lam * x**2, rtol=1e-12)
    np.testing.assert_allclose(h.lr, lr)
    np.testing.assert_allclose(h.final_params, [x[-1]], rtol=1e-12)
    assert h.final_loss == h.loss[-1]
    assert not h.diverged and h.diverged_at is None and not h.stopped_early
    assert h.params.shape == (21, 1)
    np.testing.assert_array_equal(h.steps, k)


def test_lr_follows_a_schedule_step_by_step():
    schedule = schedules.exponential_decay(0.2, decay_rate=0.5, decay_steps=3)
    q = Quadratic([1.0, 2.0])
    h = train(q, sgd(lr=schedule), num_steps=12, record_params=True)
    np.testing.assert_allclose(h.lr, schedule(np.arange(13)))
    x = q.x0
    for k in range(12):  # the same run, by hand
        x = x - schedule(k) * q.grad(x)
        np.testing.assert_allclose(h.params[k + 1], x, rtol=1e-12)


def test_inputs_are_not_modified_and_default_start_is_x0():
    q = Quadratic([1.0, 3.0], x0=[2.0, -1.0])
    start = np.array([5.0, 5.0])
    train(q, adam(lr=0.1), params=start, num_steps=5)
    np.testing.assert_array_equal(start, [5.0, 5.0])
    h = train(q, sgd(lr=0.1), num_steps=0, record_params=True)
    np.testing.assert_array_equal(h.params[0], q.x0)
    assert h.num_steps == 0 and h.loss.tolist() == [q.loss(q.x0)]


def test_time_is_cumulative_training_work(monkeypatch):
    """On a fake clock: a gradient costs 1 s, an update 0.25 s, the callback 100 s (not counted)."""
    clock = {"now": 0.0}
    monkeypatch.setattr(training.time, "perf_counter", lambda: clock["now"])
    q = Quadratic([1.0, 2.0])

    class SlowProblem:
        dim, x0 = q.dim, q.x0

        def loss(self, params):
            clock["now"] += 1.0
            return q.loss(params)

        def loss_and_grad(self, params):
            clock["now"] += 1.0
            return q.loss_and_grad(params)

    opt = sgd(lr=0.1)

    def slow_update(params, grads, state):
        clock["now"] += 0.25
        return opt.update(params, grads, state)

    def slow_callback(step, params, loss):
        clock["now"] += 100.0

    h = train(SlowProblem(), opt._replace(update=slow_update), num_steps=8, callback=slow_callback)
    np.testing.assert_array_equal(h.time, 1.25 * np.arange(9))
    assert h.total_time == 10.0


def test_to_dict_is_json_serialisable():
    h = train(Quadratic([1.0]), sgd(lr=0.1), num_steps=3)
    data = json.loads(json.dumps(h.to_dict()))
    assert data["loss"] == h.loss.tolist() and data["diverged"] is False
    assert data["name"] == h.name and History(**{k: (np.array(v) if isinstance(v, list) else v)
                                                  for k, v in data.items()}).num_steps == 3


# --------------------------------------------------------------------------- divergence


def test_blowup_detected_at_the_predicted_step_without_warnings():
    lam, lr = 10.0, 0.25  # |1 - lr * lam| = 1.5: the loss grows by 2.25 a step
    q = Quadratic.one_d(lam, x0=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = train(q, sgd(lr=lr), num_steps=1000)
    loss0 = 0.5 * lam
    predicted = next(k for k in range(1000) if loss0 * 2.25**k > 1e6 * loss0)
    assert h.diverged and h.diverged_at == predicted == h.num_steps
    assert h.loss[-1] > 1e6 * loss0 and np.all(h.loss[:-1] <= 1e6 * loss0)
    assert len(h.lr) == len(h.loss) == predicted + 1


def test_overflow_to_inf_stops_cleanly_with_blowup_disabled():
    q = Quadratic([1.0, 1e3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = train(q, sgd(lr=10.0), num_steps=10_000, blowup=None)
    assert h.diverged and not np.isfinite(h.final_loss)
    assert np.all(np.isfinite(h.loss[:-1]))
    assert h.diverged_at == h.num_steps < 10_000


def test_non_finite_params_count_as_divergence():
    class Flat:  # finite loss everywhere, but a NaN gradient poisons the params
        dim, x0 = 2, np.zeros(2)

        def loss(self, params):
            return 1.0

        def loss_and_grad(self, params):
            return 1.0, np.full(2, np.nan)

    h = train(Flat(), sgd(lr=0.1), num_steps=10)
    assert h.diverged and h.diverged_at == 1 and np.all(np.isnan(h.final_params))


def test_a_run_starting_at_the_minimum_is_not_called_diverged():
    # loss0 = 0: the threshold's floor of 1 keeps the noise from counting as a blow-up.
    noisy = NoisyGradient(Quadratic.one_d(1.0, x0=0.0), 0.5, np.random.default_rng(0))
    h = train(noisy, sgd(lr=0.1), num_steps=500)
    assert not h.diverged and h.loss[0] == 0.0 and h.best_loss == 0.0


def test_divergence_just_above_two_over_L_not_just_below():
    q = Quadratic([0.5, 4.0, 8.0], rotation=np.random.default_rng(0))
    assert not train(q, sgd(lr=0.98 * 2 / q.L), num_steps=2000).diverged
    assert train(q, sgd(lr=1.02 * 2 / q.L), num_steps=2000).diverged


# --------------------------------------------------------------------------- minibatches


def test_each_epoch_sees_every_example_once():
    problem = Recorder(num_train=10)
    h = train(problem, sgd(lr=0.01), batch_size=4, num_epochs=3,
              rng=np.random.default_rng(1))
    assert h.num_steps == 9  # ceil(10 / 4) = 3 steps per epoch
    batches = problem.batches
    assert [len(b) for b in batches] == [4, 4, 2] * 3
    for epoch in range(3):
        seen = np.concatenate(batches[3 * epoch:3 * epoch + 3])
        np.testing.assert_array_equal(np.sort(seen), np.arange(10))
    assert not np.array_equal(np.concatenate(batches[:3]), np.concatenate(batches[3:6]))


def test_minibatches_seeded_and_final_loss_is_full_batch(model):
    a = train(model, sgd(lr=0.5), num_steps=30, batch_size=16, rng=np.random.default_rng(3))
    b = train(model, sgd(lr=0.5), num_steps=30, batch_size=16, rng=np.random.default_rng(3))
    c = train(model, sgd(lr=0.5), num_steps=30, batch_size=16, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a.loss, b.loss)
    assert not np.array_equal(a.loss, c.loss)
    assert a.final_loss == pytest.approx(model.loss(a.final_params), rel=1e-12)


def test_full_batch_num_epochs_is_num_steps(model):
    assert train(model, sgd(lr=0.1), num_epochs=4).num_steps == 4
    assert train(Quadratic([1.0]), sgd(lr=0.1)).num_steps == 100


def test_trains_the_digits_model_with_minibatch_sgd(model):
    h = train(model, sgd(lr=0.5, momentum=0.9), batch_size=64, num_epochs=3,
              eval_every=10, rng=np.random.default_rng(0))
    assert not h.diverged
    assert h.final_loss < 0.5 * h.loss[0]
    assert h.final_val > 0.9 and h.best_val >= h.final_val


# --------------------------------------------------------------------------- evaluation


def test_eval_every_evaluates_on_schedule_and_at_the_end(model):
    h = train(model, sgd(lr=0.1), num_steps=25, eval_every=10, record_params=True,
              eval_split="test")
    evaluated = np.flatnonzero(~np.isnan(h.val_metric)).tolist()
    assert evaluated == [0, 10, 20, 25]
    assert np.flatnonzero(~np.isnan(h.val_loss)).tolist() == evaluated
    for k in evaluated:
        loss, acc = model.evaluate(h.params[k], split="test")
        assert h.val_loss[k] == loss and h.val_metric[k] == acc
    assert h.final_val == h.val_metric[25]


def test_no_evaluation_gives_nan_metrics():
    h = train(Quadratic([1.0]), sgd(lr=0.1), num_steps=5)
    assert np.all(np.isnan(h.val_metric)) and math.isnan(h.best_val)
    assert math.isnan(h.final_val)


# --------------------------------------------------------------------------- callback


def test_callback_sees_every_step_and_can_stop():
    seen = []

    def callback(step, params, loss):
        seen.append((step, loss))
        params[:] = 99.0  # a copy: must not affect the run
        return step == 4

    h = train(Quadratic([1.0]), sgd(lr=0.1), num_steps=20, callback=callback,
              record_params=True)
    assert [s for s, _ in seen] == [0, 1, 2, 3, 4]
    assert h.stopped_early and h.num_steps == 4 and not h.diverged
    np.testing.assert_allclose([loss for _, loss in seen], h.loss)
    assert np.all(h.params < 99.0)


def test_callback_drives_reduce_on_plateau():
    plateau = schedules.ReduceOnPlateau(lr0=0.5, factor=0.5, patience=2)
    # Noise keeps the loss on a plateau, so the lr is cut; the history shows every cut.
    noisy = NoisyGradient(Quadratic.one_d(1.0), 1.0, np.random.default_rng(0))
    h = train(noisy, sgd(lr=lambda t: plateau.lr), num_steps=200,
              callback=lambda step, params, loss: plateau.step(loss) and None)
    assert h.lr[0] == 0.5 and h.lr[-1] < 0.5
    assert np.all(np.diff(h.lr) <= 0)
    assert h.lr[-1] == plateau.lr


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, name", [
    (dict(num_steps=-1), "num_steps"),
    (dict(num_steps=2.5), "num_steps"),
    (dict(num_steps=5, num_epochs=2), "num_epochs"),
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=4), "batch_size"),  # a quadratic has no minibatches
    (dict(eval_every=-1), "eval_every"),
    (dict(eval_every=5), "eval_every"),  # ... and no evaluate()
    (dict(blowup=1.0), "blowup"),
    (dict(rng=0), "rng"),
    (dict(params=np.zeros(3)), "params"),
    (dict(callback=3), "callback"),
])
def test_bad_arguments_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        train(Quadratic([1.0, 2.0]), sgd(lr=0.1), **kwargs)


def test_bad_problem_optimizer_and_batch_size(model):
    with pytest.raises(ValueError, match="problem"):
        train(object(), sgd(lr=0.1))
    with pytest.raises(ValueError, match="optimizer"):
        train(Quadratic([1.0]), 0.1)
    with pytest.raises(ValueError, match="batch_size"):
        train(model, sgd(lr=0.1), batch_size=model.num_train + 1)


# --------------------------------------------------------------------------- noisy_sgd_runs


def test_noisy_sgd_runs_matches_train_on_noisy_gradient():
    schedule = schedules.step_decay(0.4, drop_every=10)
    runs, num_steps = 7, 40
    problem = NoisyGradient(Quadratic(np.full(runs, 2.0), x0=np.full(runs, 1.5)), sigma=0.7,
                            rng=np.random.default_rng(3))
    reference = train(problem, sgd(schedule), num_steps=num_steps).loss / runs
    ours, diverged_at = noisy_sgd_runs(schedule(np.arange(num_steps)), 2.0, 0.7, 1.5, runs,
                                       np.random.default_rng(3))
    assert diverged_at is None
    np.testing.assert_allclose(ours, reference, rtol=1e-12)


def test_noisy_sgd_runs_reports_divergence():
    loss, diverged_at = noisy_sgd_runs(np.full(100, 2.5), 1.0, 0.1, 1.0, 4,
                                       np.random.default_rng(0))
    assert diverged_at is not None and len(loss) == diverged_at + 1 and loss[-1] > 1e8


# --------------------------------------------------------------------------- evaluated, plateau


def test_evaluated_gives_the_evaluation_steps_and_their_values(model):
    h = train(model, sgd(lr=0.1), num_steps=25, eval_every=10)
    steps, val_loss, val_metric = h.evaluated()
    assert steps.tolist() == [0, 10, 20, 25]
    np.testing.assert_array_equal(val_loss, h.val_loss[[0, 10, 20, 25]])
    np.testing.assert_array_equal(val_metric, h.val_metric[[0, 10, 20, 25]])
    assert not np.any(np.isnan(val_loss)) and val_metric[-1] == h.final_val
    steps, val_loss, val_metric = train(Quadratic([1.0]), sgd(lr=0.1), num_steps=5).evaluated()
    assert steps.size == val_loss.size == val_metric.size == 0


def test_train_on_plateau_equals_the_hand_written_loop(model):
    """The loop lesson 04 used to write: a callback evaluating and feeding the plateau."""
    kwargs = dict(num_steps=120, batch_size=16, rng=np.random.default_rng(4))
    by_hand = schedules.ReduceOnPlateau(2.0, factor=0.3, patience=1)

    def feed(step, params, loss):
        if step % 20 == 0 or step == 120:
            by_hand.step(model.evaluate(params, "val")[0])

    expected = train(model, sgd(lr=by_hand), eval_every=20, callback=feed, **kwargs)
    plateau = schedules.ReduceOnPlateau(2.0, factor=0.3, patience=1)
    h = training.train_on_plateau(model, lambda lr: sgd(lr=lr), plateau, eval_every=20,
                                  num_steps=120, batch_size=16, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(h.lr, expected.lr)
    np.testing.assert_array_equal(h.loss, expected.loss)
    assert plateau.lr == by_hand.lr and plateau.lr < 2.0
    cuts = np.flatnonzero(np.diff(h.lr) < 0) + 1
    assert cuts.size >= 1 and np.all(cuts % 20 == 0)  # the lr moves only at an evaluation


def test_train_on_plateau_can_watch_the_accuracy(model):
    fed = []

    class Spy(schedules.ReduceOnPlateau):
        def step(self, metric):
            fed.append(metric)
            return super().step(metric)

    h = training.train_on_plateau(model, lambda lr: sgd(lr=lr), Spy(0.5, mode="max"),
                                  num_steps=30, eval_every=10, monitor="metric")
    assert fed == h.evaluated()[2].tolist()
    fed.clear()
    h = training.train_on_plateau(model, lambda lr: sgd(lr=lr), Spy(0.5), num_steps=30,
                                  eval_every=10)
    assert fed == h.evaluated()[1].tolist() and len(fed) == 4


@pytest.mark.parametrize("kwargs, name", [
    (dict(plateau=0.1), "plateau"), (dict(monitor="val"), "monitor"),
    (dict(monitor="metric"), "mode"), (dict(eval_every=0), "eval_every"),
    (dict(eval_every=True), "eval_every"), (dict(make_optimizer=sgd()), "make_optimizer"),
])
def test_train_on_plateau_bad_args(model, kwargs, name):
    args = dict(make_optimizer=lambda lr: sgd(lr=lr), plateau=schedules.ReduceOnPlateau(0.1),
                eval_every=5) | kwargs
    with pytest.raises(ValueError, match=name):
        training.train_on_plateau(model, num_steps=5, **args)


def _defaults(function):
    import inspect

    return {k: p.default for k, p in inspect.signature(function).parameters.items()
            if p.default is not inspect.Parameter.empty}


def test_the_documented_defaults():
    assert _defaults(train) == dict(params=None, num_steps=None, batch_size=None, rng=None,
                                    num_epochs=None, eval_every=0, eval_split="val",
                                    record_params=False, blowup=1e6, callback=None, on_eval=None)
    assert _defaults(noisy_sgd_runs) == dict(blowup=1e8)
    assert _defaults(training.train_on_plateau) == dict(params=None, num_steps=None, monitor="loss")
    h = History(loss=np.zeros(2), lr=np.zeros(2), val_loss=np.zeros(2), val_metric=np.zeros(2),
                time=np.zeros(2), final_params=np.zeros(1))
    assert (h.diverged, h.diverged_at, h.stopped_early, h.params, h.name) == (False, None, False,
                                                                              None, "")
    # the default blowup is used: a loss a million times the start's is divergence, just below not
    q = Quadratic.one_d(1.0, x0=1.0)  # loss 0.5 at the start; 1e6 * max(0.5, 1) = 1e6
    grow = lambda factor: train(q, sgd(lr=1.0 + factor), num_steps=1)  # x -> -factor x
    assert grow(np.sqrt(2e6) * 1.001).diverged and not grow(np.sqrt(2e6) * 0.999).diverged


def test_noisy_sgd_runs_reports_a_blow_up_at_the_last_step():
    lrs = np.concatenate([np.full(5, 0.1), [1e6]])
    loss, diverged_at = noisy_sgd_runs(lrs, 1.0, 0.0, 1.0, 3, np.random.default_rng(0))
    assert diverged_at == 6 and len(loss) == 7 and loss[-1] > 1e8
    loss, diverged_at = noisy_sgd_runs(lrs[:-1], 1.0, 0.0, 1.0, 3, np.random.default_rng(0))
    assert diverged_at is None and len(loss) == 6
