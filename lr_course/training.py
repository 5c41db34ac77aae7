"""Run an optimizer on a problem and record what happened, stopping cleanly if it diverges.

>>> from lr_course.problems import Quadratic
>>> from lr_course.optimizers import sgd
>>> h = train(Quadratic([1.0, 10.0]), sgd(lr=0.1), num_steps=50)
>>> h.num_steps, h.diverged, h.final_loss < 1e-3
(50, False, True)
>>> h = train(Quadratic([1.0, 10.0]), sgd(lr=0.25), num_steps=1000)
>>> h.diverged, h.diverged_at < 1000
(True, True)

Divergence is an outcome to look at, never an exception: the run stops, the history says where,
and no numpy warning escapes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from . import _checks

__all__ = ["History", "noisy_sgd_runs", "train", "train_on_plateau"]


@dataclass
class History:
    """What one training run recorded, one entry per step.

    Index k runs over ``0, ..., num_steps`` where ``num_steps`` is the number of updates
    actually made, so every array has ``num_steps + 1`` entries and they line up:

    - ``loss[k]``: the training loss at the params *before* update k, i.e. after k updates.
      It is the loss on the batch update k used (the whole training set when full-batch), except
      the last entry, which is always the full training loss ``problem.loss`` at
      ``final_params``, so ``final_loss`` is exact even with minibatches.
    - ``lr[k]``: the learning rate update k uses; the last entry is the one the next update
      would have used (so ``plt.plot(h.lr, h.loss)`` works).
    - ``val_loss[k]``, ``val_metric[k]``: ``problem.evaluate`` (loss, accuracy) at the same
      params as ``loss[k]``; NaN where not evaluated.
    - ``time[k]``: wall seconds spent computing gradients and updates to reach those params
      (``time[0] == 0``); evaluation, recording and the callback are not counted.
    - ``params[k]``: the params themselves, only with ``record_params=True``.

    If the run diverged, ``diverged_at`` is the k at which it was detected: ``loss[k]`` is the
    first non-finite or blown-up loss (or ``params[k]`` the first non-finite params), no update
    was made from there, and ``final_params`` are those params.
    """

    loss: np.ndarray               # training loss before each update, plus the final loss
    lr: np.ndarray                 # lr of each update (last entry: the next one's)
    val_loss: np.ndarray           # validation loss where evaluated, else NaN
    val_metric: np.ndarray         # validation accuracy where evaluated, else NaN
    time: np.ndarray               # cumulative wall seconds of training work
    final_params: np.ndarray       # params after the last update made
    diverged: bool = False         # True if the run stopped because it blew up
    diverged_at: int | None = None  # k at which divergence was detected, else None
    stopped_early: bool = False    # True if the callback asked to stop
    params: np.ndarray | None = None  # (num_steps + 1, dim) trajectory if record_params
    name: str = ""                 # the optimizer's name, for legends

    @property
    def num_steps(self) -> int:
        """Number of updates made (``len(loss) - 1``)."""
        return len(self.loss) - 1

    @property
    def steps(self) -> np.ndarray:
        """The step index of every entry, ``0 .. num_steps`` (an x-axis for plots)."""
        return np.arange(len(self.loss))

    @property
    def final_loss(self) -> float:
        """The training loss at ``final_params`` (inf or NaN if the run diverged)."""
        return float(self.loss[-1])

    @property
    def best_loss(self) -> float:
        """The lowest recorded training loss (NaN entries ignored; NaN if all are)."""
        finite = self.loss[~np.isnan(self.loss)]
        return float(finite.min()) if finite.size else math.nan

    @property
    def best_val(self) -> float:
        """The highest validation accuracy recorded (NaN if never evaluated)."""
        seen = self.val_metric[~np.isnan(self.val_metric)]
        return float(seen.max()) if seen.size else math.nan

    @property
    def final_val(self) -> float:
        """The last validation accuracy recorded (NaN if never evaluated)."""
        seen = self.val_metric[~np.isnan(self.val_metric)]
        return float(seen[-1]) if seen.size else math.nan

    @property
    def total_time(self) -> float:
        """Wall seconds of training work for the whole run."""
        return float(self.time[-1])

    def evaluated(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The steps at which the run was evaluated, with the validation loss and metric there.

        Returns:
            ``(steps, val_loss, val_metric)``: the indices k where ``val_metric[k]`` is not
            NaN, in order, and ``val_loss`` and ``val_metric`` at them. Empty arrays if the
            run was never evaluated.

        >>> h = History(loss=np.zeros(4), lr=np.zeros(4), val_loss=np.array([2.0, np.nan, 1.0, 0.5]),
        ...             val_metric=np.array([0.1, np.nan, 0.6, 0.7]), time=np.zeros(4),
        ...             final_params=np.zeros(1))
        >>> h.evaluated()
        (array([0, 2, 3]), array([2. , 1. , 0.5]), array([0.1, 0.6, 0.7]))
        """
        steps = np.flatnonzero(~np.isnan(self.val_metric))
        return steps, self.val_loss[steps], self.val_metric[steps]

    def to_dict(self) -> dict:
        """Plain Python lists and numbers (NaN/inf kept as floats), e.g. for ``json.dump``."""
        out = {}
        for key, value in self.__dict__.items():
            out[key] = value.tolist() if isinstance(value, np.ndarray) else value
        return out


def _batches(num_train, batch_size, rng):
    """Endless minibatches: a fresh permutation per epoch, cut into consecutive chunks.

    The last chunk of an epoch may be smaller (PyTorch's ``drop_last=False``), so every
    example is seen exactly once per epoch.
    """
    while True:
        order = rng.permutation(num_train)
        for start in range(0, num_train, batch_size):
            yield order[start:start + batch_size]


def train(problem, optimizer, params=None, num_steps=None, *, batch_size=None, rng=None,
          num_epochs=None, eval_every=0, eval_split="val", record_params=False, blowup=1e6,
          callback=None, on_eval=None) -> History:
    r"""Train ``params`` on ``problem`` with ``optimizer`` and return the :class:`History`.

    Each step k computes the loss and gradient at the current params (on a minibatch or the
    whole training set), records them, and applies ``optimizer.update``. The run stops after
    ``num_steps`` updates, when the callback returns True, or when it diverges:

    .. math::

        \text{diverged at } k \iff \text{loss}_k \notin \mathbb{R}
        \;\lor\; \text{params}_k \notin \mathbb{R}^d
        \;\lor\; \text{loss}_k > \text{blowup} \cdot \max(|\text{loss}_0|, 1)

    The floor of 1 keeps a run that starts at the minimum (loss 0) from being called diverged
    merely for moving. Numpy floating-point warnings are silenced for the whole run (callback
    included), since overflow is an expected outcome here, not a bug.

    Args:
        problem: any course problem or model: ``loss``, ``loss_and_grad``, ``x0``, ``dim``;
            models add ``num_train`` (for ``batch_size``) and ``evaluate`` (for ``eval_every``).
        optimizer: an :class:`lr_course.optimizers.Optimizer` (``init``, ``update``, ``lr_at``).
        params: the start; ``problem.x0`` if None. Never modified.
        num_steps: number of updates; 100 if neither this nor ``num_epochs`` is given.
        batch_size: minibatch size (a model's ``loss_and_grad(params, batch=...)``), in
            ``[1, problem.num_train]``; None for full batch.
        rng: a ``numpy.random.Generator`` that shuffles the minibatches, one permutation per
            epoch; ``default_rng(0)`` if None, so runs are reproducible unless you pass your own.
        num_epochs: train for this many passes over the training set instead of ``num_steps``
            (``ceil(num_train / batch_size)`` steps each; one step each when full-batch).
        eval_every: evaluate on ``eval_split`` at every ``eval_every``-th step and at the end;
            0 never evaluates.
        eval_split: the split passed to ``problem.evaluate`` ("val", "test" or "train").
        record_params: keep the whole trajectory in ``History.params`` (for 2-D plots).
        blowup: the relative loss increase that counts as divergence, > 1; ``math.inf`` or
            None to stop only on non-finite values.
        callback: ``callback(step, params, loss)`` after each entry is recorded (not at a
            diverged one); return True to stop early. For example, feed a
            ``schedules.ReduceOnPlateau`` whose ``lr`` the optimizer's schedule reads.
        on_eval: ``on_eval(step, val_loss, val_metric)`` right after each evaluation, before
            the callback and before the lr of that step is read (see :func:`train_on_plateau`).

    Returns:
        The :class:`History` of the run.

    Note: like a PyTorch loop that logs ``loss.item()`` before ``optimizer.step()``, ``loss[k]``
    is measured before update k; unlike it, a final full-batch loss is appended.

    >>> from lr_course.problems import Quadratic
    >>> from lr_course.optimizers import sgd
    >>> h = train(Quadratic([1.0]), sgd(lr=0.5), num_steps=3)
    >>> h.loss.tolist(), h.lr.tolist()
    ([0.5, 0.125, 0.03125, 0.0078125], [0.5, 0.5, 0.5, 0.5])
    """
    # 1. Check the arguments, before any work is done.
    for attr in ("loss", "loss_and_grad", "x0"):
        if not hasattr(problem, attr):
            raise ValueError(f"problem must have .{attr} (see lr_course.problems), got {problem!r}")
    for attr in ("init", "update", "lr_at"):
        if not hasattr(optimizer, attr):
            raise ValueError(f"optimizer must have .{attr} (see lr_course.optimizers), "
                             f"got {optimizer!r}")
    num_steps = _checks.integer("num_steps", num_steps, minimum=0, allow_none=True)
    num_epochs = _checks.integer("num_epochs", num_epochs, minimum=0, allow_none=True)
    batch_size = _checks.integer("batch_size", batch_size, minimum=1, allow_none=True)
    eval_every = _checks.integer("eval_every", eval_every, minimum=0)
    if num_steps is not None and num_epochs is not None:
        raise ValueError(f"give num_steps or num_epochs, not both; got num_steps={num_steps}, "
                         f"num_epochs={num_epochs}")
    if blowup is None or blowup == math.inf:
        blowup = math.inf
    else:
        blowup = _checks.real("blowup", blowup, low=1, low_open=True,
                              rule="a number > 1 (or inf/None)")
    rng = np.random.default_rng(0) if rng is None else _checks.generator(rng, allow_none=True)
    _checks.function("callback", callback, allow_none=True)
    _checks.function("on_eval", on_eval, allow_none=True)

    batches = None
    if batch_size is not None:
        num_train = getattr(problem, "num_train", None)
        if num_train is None:
            raise ValueError(f"batch_size needs a model with num_train (minibatches); "
                             f"{problem!r} has none, so use batch_size=None")
        if batch_size > num_train:
            raise ValueError(f"batch_size must be <= num_train = {num_train}, got {batch_size}")
        batches = _batches(num_train, batch_size, rng)
        steps_per_epoch = -(-num_train // batch_size)
    else:
        steps_per_epoch = 1
    if num_epochs is not None:
        num_steps = num_epochs * steps_per_epoch
    elif num_steps is None:
        num_steps = 100
    if eval_every and not hasattr(problem, "evaluate"):
        raise ValueError(f"eval_every={eval_every} needs a model with evaluate(); "
                         f"{problem!r} has none, so use eval_every=0")

    params = np.array(problem.x0 if params is None else params, dtype=float)  # a copy
    dim = getattr(problem, "dim", params.size)
    if params.shape != (dim,):
        raise ValueError(f"params must be a flat array of shape ({dim},), got shape {params.shape}")

    # 2. The loop. Lists, not preallocated arrays: a diverged run stops early.
    losses, lrs, val_losses, val_metrics, times, trajectory = [], [], [], [], [], []
    diverged_at, stopped_early = None, False
    elapsed = 0.0
    threshold = None
    state = optimizer.init(params)
    with np.errstate(all="ignore"):
        for k in range(num_steps + 1):
            last = k == num_steps
            times.append(elapsed)  # the cost of reaching these params
            start = time.perf_counter()
            if last:
                loss, grads = float(problem.loss(params)), None
            elif batches is not None:
                loss, grads = problem.loss_and_grad(params, batch=next(batches))
            else:
                loss, grads = problem.loss_and_grad(params)
            elapsed += time.perf_counter() - start
            loss = float(loss)

            losses.append(loss)
            if record_params:
                trajectory.append(params.copy())
            if threshold is None:
                threshold = blowup * max(abs(loss), 1.0) if math.isfinite(loss) else math.inf
            # 3. Divergence: stop here, record nothing further.
            if (not math.isfinite(loss) or loss > threshold
                    or not np.all(np.isfinite(params))):
                diverged_at = k
                lrs.append(optimizer.lr_at(k))
                val_losses.append(math.nan)
                val_metrics.append(math.nan)
                break
            if eval_every and (k % eval_every == 0 or last):
                val_loss, val_metric = problem.evaluate(params, split=eval_split)
                val_losses.append(float(val_loss))
                val_metrics.append(float(val_metric))
                if on_eval is not None:
                    on_eval(k, val_losses[-1], val_metrics[-1])
            else:
                val_losses.append(math.nan)
                val_metrics.append(math.nan)
            if callback is not None and callback(k, params.copy(), loss):
                stopped_early = not last
                lrs.append(optimizer.lr_at(k))
                break
            # The lr is read after the callback, which may have changed a plateau schedule.
            lrs.append(optimizer.lr_at(k))
            if last:
                break
            # 4. The update itself.
            start = time.perf_counter()
            params, state = optimizer.update(params, grads, state)
            elapsed += time.perf_counter() - start

    assert len(losses) == len(lrs) == len(val_metrics) == len(times)
    return History(
        loss=np.array(losses),
        lr=np.array(lrs, dtype=float),
        val_loss=np.array(val_losses),
        val_metric=np.array(val_metrics),
        time=np.array(times),
        final_params=np.asarray(params, dtype=float),
        diverged=diverged_at is not None,
        diverged_at=diverged_at,
        stopped_early=stopped_early,
        params=np.array(trajectory) if record_params else None,
        name=getattr(optimizer, "name", ""),
    )


def train_on_plateau(problem, make_optimizer, plateau, params=None, num_steps=None, *,
                     eval_every, monitor="loss", **kwargs) -> History:
    """Train with an lr that a ``ReduceOnPlateau`` cuts when the validation result stalls.

    At every evaluation (each ``eval_every``-th step and the last) the validation loss, or the
    metric, is fed to ``plateau.step``; the optimizer's lr is the plateau itself, so the new
    lr applies from the update of that same step on, as in a PyTorch loop that calls
    ``scheduler.step(val_loss)`` after validating and before the next ``optimizer.step()``.

    Args:
        problem: a model with ``evaluate`` (see :func:`train`).
        make_optimizer: ``lr -> Optimizer``, e.g. ``lambda lr: optimizers.sgd(lr=lr)``; it is
            called once, with ``plateau`` as the lr.
        plateau: a :class:`lr_course.schedules.ReduceOnPlateau`; it keeps its state after the
            run (``plateau.lr`` is the last lr).
        params, num_steps: as in :func:`train`.
        eval_every: evaluate (and feed the plateau) every this many steps, >= 1.
        monitor: ``"loss"`` feeds the validation loss (the plateau's mode must be ``"min"``),
            ``"metric"`` the validation accuracy (mode ``"max"``).
        **kwargs: the other arguments of :func:`train` (batch_size, rng, ...).

    Returns:
        The :class:`History` of the run; ``History.lr`` shows the cuts.

    >>> from lr_course.models import LogisticRegression
    >>> from lr_course.optimizers import sgd
    >>> from lr_course.schedules import ReduceOnPlateau
    >>> plateau = ReduceOnPlateau(2.0, factor=0.5, patience=0)
    >>> h = train_on_plateau(LogisticRegression(), lambda lr: sgd(lr=lr), plateau, num_steps=60,
    ...                      eval_every=10, batch_size=16)
    >>> bool(h.lr[0] == 2.0 and h.lr[-1] < 2.0 and np.all(np.diff(h.lr) <= 0))
    True
    """
    if not (hasattr(plateau, "step") and callable(plateau)):
        raise ValueError(f"plateau must be a schedules.ReduceOnPlateau, got {plateau!r}")
    _checks.choice("monitor", monitor, ("loss", "metric"))
    wanted = "min" if monitor == "loss" else "max"
    if getattr(plateau, "mode", wanted) != wanted:
        raise ValueError(f"monitor={monitor!r} needs a plateau with mode={wanted!r}, "
                         f"got mode={plateau.mode!r}")
    _checks.integer("eval_every", eval_every, minimum=1)
    _checks.function("make_optimizer", make_optimizer, "a function lr -> Optimizer")

    def feed(step, val_loss, val_metric):
        plateau.step(val_loss if monitor == "loss" else val_metric)

    return train(problem, make_optimizer(plateau), params, num_steps, eval_every=eval_every,
                 on_eval=feed, **kwargs)


def noisy_sgd_runs(lrs, curvature, sigma, x0, num_runs, rng, blowup=1e8):
    r"""Mean loss of ``num_runs`` independent SGD runs on a 1-D quadratic with noisy gradients.

    .. math::

        x_{k+1} = x_k - \mathrm{lr}_k (\lambda x_k + \sigma \xi_k), \qquad
        \text{loss}_k = \tfrac12 \lambda\, \overline{x_k^2}

    with :math:`\lambda` = ``curvature``, :math:`\sigma` = ``sigma``, :math:`\xi_k` standard
    normal per run, drawn from ``rng`` one step at a time (the order
    :class:`~lr_course.problems.NoisyGradient` draws in, so results match :func:`train` on it).
    It is :func:`train` specialised to this one problem, fast enough to redraw under a slider
    (the schedule designer) and cheap enough to average thousands of runs (lesson 03).

    Args:
        lrs: the lr of each step, shape (num_steps,).
        curvature: lambda > 0; sigma: noise level >= 0; x0: start of every run.
        num_runs: number of runs, >= 1; rng: a ``numpy.random.Generator``.
        blowup: a mean loss above ``blowup * max(loss_0, 1)`` counts as diverged (as in train).

    Returns:
        ``(mean_loss, diverged_at)``: mean loss after 0 .. k updates (length up to
        num_steps + 1; it stops at divergence) and the step of divergence or None.

    >>> loss, diverged_at = noisy_sgd_runs(np.full(100, 0.1), 1.0, 0.0, 1.0, 3,
    ...                                     np.random.default_rng(0))
    >>> round(float(loss[-1] / loss[0]), 6) == round(0.9 ** 200, 6), diverged_at
    (True, None)
    """
    lrs = _checks.real_array("lrs", lrs, ndim=1)
    curvature = _checks.real("curvature", curvature, low=0, low_open=True)
    sigma = _checks.real("sigma", sigma, low=0)
    x0 = _checks.real("x0", x0)
    num_runs = _checks.integer("num_runs", num_runs, minimum=1)
    rng = _checks.generator(rng)
    blowup = _checks.real("blowup", blowup, low=1, low_open=True)
    noise = sigma * rng.standard_normal((len(lrs), num_runs))
    x = np.full(num_runs, float(x0))
    mean_loss = np.empty(len(lrs) + 1)
    limit = blowup * max(0.5 * curvature * x0**2, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        for k, lr in enumerate(lrs):
            mean_loss[k] = 0.5 * curvature * np.dot(x, x) / num_runs
            if not mean_loss[k] <= limit:  # also catches NaN
                return mean_loss[: k + 1], k
            x = x - lr * (curvature * x + noise[k])
        mean_loss[-1] = 0.5 * curvature * np.dot(x, x) / num_runs
    if not mean_loss[-1] <= limit:
        return mean_loss, len(lrs)
    return mean_loss, None
