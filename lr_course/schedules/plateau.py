"""Reduce-on-plateau: the one stateful schedule, driven by a metric rather than the step."""

from __future__ import annotations

import math

import numpy as np

from lr_course import _checks

__all__ = ["ReduceOnPlateau"]


class ReduceOnPlateau:
    """Cut the lr by ``factor`` when a metric has stopped improving for ``patience`` checks.

    Call :meth:`step` once per evaluation with the metric (say a validation loss); it returns
    the lr to use until the next call, also kept in :attr:`lr`. The rule, per call:

    1. the metric *improves* if it beats the best so far by more than ``threshold``
       (``"rel"``: ``metric < best * (1 - threshold)`` in ``"min"`` mode; ``"abs"``:
       ``metric < best - threshold``; mirrored for ``"max"``); otherwise it is a bad check;
    2. during a cooldown bad checks are not counted;
    3. after more than ``patience`` bad checks in a row, ``lr <- max(lr * factor, lr_min)``
       (skipped if that changes the lr by less than ``eps``) and a cooldown of ``cooldown``
       checks starts.

    A NaN metric (a diverged run) never improves, so it counts as a bad check.

    Args:
        lr0: the starting lr, >= 0.
        factor: the multiplier at each cut, in (0, 1).
        patience: the bad checks tolerated before a cut, an integer >= 0.
        threshold: the smallest change that counts as an improvement, >= 0.
        threshold_mode: ``"rel"`` (a fraction of the best) or ``"abs"``.
        mode: ``"min"`` (lower is better, a loss) or ``"max"`` (an accuracy).
        cooldown: checks to wait after a cut before counting again, an integer >= 0.
        lr_min: the lr never goes below this, >= 0.
        eps: cuts smaller than this are skipped, >= 0.

    Note: the semantics and defaults of torch's ``ReduceLROnPlateau(min_lr=lr_min)``. Keras's
    ``ReduceLROnPlateau`` counts both patience and cooldown one check shorter: it cuts after
    ``patience`` bad checks (torch after ``patience + 1``), and its cooldown ignores
    ``cooldown - 1`` checks after a cut (torch ``cooldown``), so Keras with ``(patience=p,
    cooldown=C)`` behaves as this class with ``(patience=p - 1, cooldown=C - 1)``.

    Calling the object, ``plateau(step)``, returns the current :attr:`lr` whatever the step,
    so it can be handed to an optimizer wherever a schedule goes.

    >>> plateau = ReduceOnPlateau(lr0=1.0, factor=0.5, patience=1)
    >>> [plateau.step(loss) for loss in [3.0, 2.0, 2.0, 2.0, 2.0, 2.0]]
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]
    >>> plateau(1000)
    0.25
    """

    def __init__(self, lr0, factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 mode="min", cooldown=0, lr_min=0.0, eps=1e-8):
        self.lr = _checks.real("lr0", lr0, low=0)
        self.factor = _checks.real("factor", factor, low=0, high=1, low_open=True, high_open=True)
        self.patience = _checks.integer("patience", patience, minimum=0)
        self.threshold = _checks.real("threshold", threshold, low=0)
        self.threshold_mode = _checks.choice("threshold_mode", threshold_mode, ("rel", "abs"))
        if self.threshold_mode == "rel" and self.threshold >= 1:
            # best * (1 - threshold) would be inf * 0 = NaN at the start: nothing could improve.
            raise ValueError(f"threshold must be < 1 when threshold_mode='rel', got {threshold!r}")
        self.mode = _checks.choice("mode", mode, ("min", "max"))
        self.cooldown = _checks.integer("cooldown", cooldown, minimum=0)
        self.lr_min = _checks.real("lr_min", lr_min, low=0)
        self.eps = _checks.real("eps", eps, low=0)
        self.best = math.inf if mode == "min" else -math.inf  # the best metric seen so far
        self.num_bad_steps = 0  # bad checks in a row, outside cooldown
        self.cooldown_counter = 0  # checks left in the current cooldown

    def _improves(self, metric):
        if self.mode == "min":
            bar = self.best * (1 - self.threshold) if self.threshold_mode == "rel" \
                else self.best - self.threshold
            return metric < bar
        bar = self.best * (1 + self.threshold) if self.threshold_mode == "rel" \
            else self.best + self.threshold
        return metric > bar

    def step(self, metric):
        """Record one evaluation of the metric and return the lr to use next."""
        try:
            metric = float(metric)
        except (TypeError, ValueError):
            raise ValueError(f"metric must be a number, got {metric!r}") from None
        if self._improves(metric):
            self.best, self.num_bad_steps = metric, 0
        else:
            self.num_bad_steps += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_steps = 0
        if self.num_bad_steps > self.patience:
            new_lr = max(self.lr * self.factor, self.lr_min)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter, self.num_bad_steps = self.cooldown, 0
        return self.lr

    def __call__(self, step):
        """The current lr (the step is checked but otherwise ignored: the metric decides)."""
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
            raise ValueError(f"step must be an int >= 0, got {step!r}")
        return self.lr

    def __repr__(self):
        return (f"ReduceOnPlateau(lr={self.lr!r}, best={self.best!r}, "
                f"num_bad_steps={self.num_bad_steps}, cooldown_counter={self.cooldown_counter})")
