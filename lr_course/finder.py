r"""The learning-rate range test: one short run with a growing lr tells where training breaks.

Train from the start point while the lr grows geometrically from ``lr_min`` to ``lr_max``,
one step per lr; smooth the loss; stop when it blows up. While the lr is too small the loss
barely moves, then it falls, and past the edge of stability it shoots up. A good lr sits
safely below the blow-up.

Reference: L. N. Smith, "Cyclical Learning Rates for Training Neural Networks",
arXiv:1506.01186 (2017); popularised as ``lr_find`` by fastai.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _checks

from lr_course.training import train

__all__ = ["RangeTestResult", "range_test"]


@dataclass
class RangeTestResult:
    """What a range test measured and what it suggests.

    ``losses[i]`` is the training loss right after the update that used ``lrs[i]``, and
    ``smoothed[i]`` its bias-corrected moving average. They satisfy
    ``suggestion < best_lr < diverged_lr`` when the run diverged, except when it blew up on
    its very first update (then ``best_lr == diverged_lr == lrs[0]``: start lower).
    """

    lrs: np.ndarray             # the lr of each update made, increasing geometrically
    losses: np.ndarray          # loss after each of those updates (minibatch, if batched)
    smoothed: np.ndarray        # bias-corrected exponential moving average of losses
    suggestion: float           # best_lr / 10: the lr to try
    best_lr: float              # lr at the lowest smoothed loss
    diverged_lr: float | None   # lr at which the test stopped for divergence; None if it never did

    @property
    def diverged(self) -> bool:
        """True if the test stopped because the loss blew up."""
        return self.diverged_lr is not None


def _geometric_schedule(lr_min, lr_max, num_steps):
    ratio = lr_max / lr_min

    def schedule(step):
        return lr_min * ratio ** (np.asarray(step, dtype=float) / (num_steps - 1))

    return schedule


def _smooth(losses, smoothing):
    """Bias-corrected EMA: avg_i = s avg_{i-1} + (1 - s) loss_i; smoothed_i = avg_i / (1 - s^(i+1))."""
    out = np.empty(len(losses))
    avg = 0.0
    with np.errstate(all="ignore"):
        for i, loss in enumerate(losses):
            avg = smoothing * avg + (1.0 - smoothing) * loss
            out[i] = avg / (1.0 - smoothing ** (i + 1))
    return out


def range_test(problem, make_optimizer, params=None, *, lr_min=1e-6, lr_max=10.0,
               num_steps=100, batch_size=None, rng=None, smoothing=0.98,
               diverge_factor=4.0) -> RangeTestResult:
    r"""Run the learning-rate range test and suggest a learning rate.

    Update i (``i = 0 .. num_steps - 1``) uses

    .. math::

        lr_i = lr_{min} \left(\frac{lr_{max}}{lr_{min}}\right)^{i / (num\_steps - 1)}

    and the loss after it is smoothed by a bias-corrected exponential moving average

    .. math::

        a_i = s\,a_{i-1} + (1 - s)\,\ell_i, \qquad \bar\ell_i = a_i / (1 - s^{i+1}),
        \qquad a_{-1} = 0

    with :math:`s` = ``smoothing``. The test stops at the first i where :math:`\bar\ell_i` is
    not finite or exceeds ``diverge_factor`` times the best smoothed loss so far, the loss at
    the start included (for a loss that can go negative: rises above the best by
    ``diverge_factor - 1`` times its size); that lr is ``diverged_lr``.

    On a quadratic the blow-up shows a few times above ``2 / L``, not at it: by then the loss
    is tiny and the unstable direction needs some steps to grow back (and the smoothing lags).
    So ``diverged_lr`` overestimates the stability limit, and a suggestion must stay well below.

    The suggestion is ``best_lr / 10``, where ``best_lr`` is the lr at the lowest smoothed loss:
    the minimum already sits close to the edge of stability (and the smoothing makes it lag
    behind the raw loss), so the rule steps back one decade. It is the rule fastai reports as
    ``lr_min``, except that fastai applies it to the records left after dropping the first
    10% and the last 5 (``lrs[n // 10 : -5]``), which can change the answer; here every
    record counts. Unlike "steepest descent of the curve" it does not depend on
    differentiating a noisy curve. Since the best smoothed loss comes before the stop,
    ``suggestion < best_lr < diverged_lr``.

    Args:
        problem: a course problem or model (see :func:`lr_course.training.train`).
        make_optimizer: ``make_optimizer(lr) -> Optimizer`` where ``lr`` is a schedule, e.g.
            ``lambda lr: optimizers.sgd(lr=lr, momentum=0.9)``.
        params: the start; ``problem.x0`` if None. Never modified.
        lr_min: first lr, > 0.
        lr_max: last lr, > lr_min.
        num_steps: number of updates (and of lrs tried), >= 2.
        batch_size: minibatch size for a model; None for full batch.
        rng: ``numpy.random.Generator`` for the minibatches (see ``train``).
        smoothing: the EMA coefficient s, in [0, 1); 0 means no smoothing.
        diverge_factor: the blow-up factor, > 1.

    Returns:
        A :class:`RangeTestResult`.

    Note: fastai's ``lr_find`` pairs each lr with the loss measured *before* its update and
    suggests the steepest point or a "valley"; here each lr is paired with the loss its
    update produced. :mod:`lr_course.suggestions` applies fastai's rules to a result.

    >>> from lr_course.problems import Quadratic
    >>> from lr_course.optimizers import sgd
    >>> r = range_test(Quadratic([0.5, 10.0]), lambda lr: sgd(lr=lr))
    >>> bool(r.suggestion < r.best_lr < r.diverged_lr), bool(0.2 < r.diverged_lr < 2.0)
    (True, True)
    """
    lr_min = _checks.real("lr_min", lr_min, low=0, low_open=True)
    lr_max = _checks.real("lr_max", lr_max, low=lr_min, low_open=True,
                          rule=f"a finite number > lr_min = {lr_min}")
    num_steps = _checks.integer("num_steps", num_steps, minimum=2)
    smoothing = _checks.real("smoothing", smoothing, low=0, high=1, high_open=True)
    diverge_factor = _checks.real("diverge_factor", diverge_factor, low=1, low_open=True)
    _checks.function("make_optimizer", make_optimizer, "a function lr -> Optimizer")

    # 1. The live stopping rule, as a training callback (entry k >= 1 is the loss after
    #    update k - 1, the one made with lrs[k - 1]).
    ema = {"avg": 0.0, "count": 0, "best": math.inf, "blown_up": False}

    def stop_when_blown_up(step, _params, loss):
        if step == 0:  # the start's loss is the first reference, so a first-step blow-up counts
            ema["best"] = loss
            return False
        ema["avg"] = smoothing * ema["avg"] + (1.0 - smoothing) * loss
        ema["count"] += 1
        smoothed = ema["avg"] / (1.0 - smoothing ** ema["count"])
        best = ema["best"]
        if not math.isfinite(smoothed) or (math.isfinite(best)
                                            and smoothed - best > (diverge_factor - 1) * abs(best)):
            ema["blown_up"] = True
            return True
        ema["best"] = min(best, smoothed)
        return False

    # 2. One training run; train() also stops (diverged) on a non-finite loss or params.
    history = train(problem, make_optimizer(_geometric_schedule(lr_min, lr_max, num_steps)),
                    params, num_steps, batch_size=batch_size, rng=rng, blowup=None,
                    callback=stop_when_blown_up)
    made = history.num_steps
    if made == 0:
        raise ValueError(f"the loss at the start params is not finite ({history.loss[0]}); "
                         f"pick other params")
    lrs = history.lr[:made].copy()
    losses = history.loss[1:made + 1].copy()
    smoothed = _smooth(losses, smoothing)

    # 3. Read off the answers. The last entry is the blow-up, so the best comes before it.
    diverged_lr = float(lrs[-1]) if history.diverged or ema["blown_up"] else None
    usable = smoothed[:-1] if diverged_lr is not None else smoothed
    if usable.size == 0:  # blew up on the very first update: lr_min is already too large
        best_lr = float(lrs[0])
    else:
        best_lr = float(lrs[np.argmin(np.where(np.isfinite(usable), usable, np.inf))])
    suggestion = best_lr / 10.0
    assert diverged_lr is None or suggestion < diverged_lr
    return RangeTestResult(lrs=lrs, losses=losses, smoothed=smoothed, suggestion=suggestion,
                           best_lr=best_lr, diverged_lr=diverged_lr)
