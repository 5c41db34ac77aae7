"""The range-test explorer: the learning-rate range test on the digits network, live.

Each change of optimizer, smoothing or seed runs :func:`lr_course.finder.range_test` again on
the real model (a small MLP on the 8x8 digits, minibatches of 64) and redraws the loss against
the lr with the suggestion, the lr of the lowest smoothed loss and the lr where the test
stopped. Changing the seed shows how much the suggestion moves from run to run.
"""

from __future__ import annotations

import ipywidgets
import numpy as np

from lr_course import optimizers
from lr_course.finder import range_test
from lr_course.models import MLP
from lr_course.widgets._view import Explorer, new_figure, show

#: Optimizer name -> factory of the optimizer from its lr (a schedule, in a range test).
RANGE_TEST_OPTIMIZERS = {
    "sgd": lambda lr: optimizers.sgd(lr),
    "momentum": lambda lr: optimizers.sgd(lr, momentum=0.9),
    "adam": lambda lr: optimizers.adam(lr),
}


class RangeTestExplorer(Explorer):
    """The range test on a model, re-run as its settings change; see :func:`range_test_explorer`.

    Attributes:
        model: the problem tested (an :class:`~lr_course.models.MLP` by default).
        result: the latest :class:`~lr_course.finder.RangeTestResult`.
        optimizer, smoothing, seed: the current settings; ``controls`` maps each to its widget.
    """

    def __init__(self, model, optimizer, smoothing, seed, lr_min, lr_max, num_steps, batch_size):
        if not (np.isfinite(lr_min) and lr_min > 0):
            raise ValueError(f"lr_min must be finite and > 0, got {lr_min}")
        if not (np.isfinite(lr_max) and lr_max > lr_min):
            raise ValueError(f"lr_max must be finite and > lr_min = {lr_min}, got {lr_max}")
        if int(num_steps) != num_steps or num_steps < 2:
            raise ValueError(f"num_steps must be an integer >= 2, got {num_steps}")
        self.model = MLP() if model is None else model
        self.lr_min, self.lr_max = float(lr_min), float(lr_max)
        self.num_steps, self.batch_size = int(num_steps), batch_size
        self.optimizer, self.smoothing, self.seed = "momentum", 0.9, 0
        self.controls = {
            "optimizer": ipywidgets.Dropdown(options=list(RANGE_TEST_OPTIMIZERS),
                                             value=self.optimizer, description="optimizer"),
            # One re-run per release, not per pixel dragged: a run costs tens of ms.
            "smoothing": ipywidgets.FloatSlider(self.smoothing, min=0.0, max=0.98, step=0.02,
                                                description="smoothing",
                                                continuous_update=False),
            "seed": ipywidgets.IntSlider(self.seed, min=0, max=20, description="seed",
                                         continuous_update=False),
        }
        self._build_figure()
        self.status = ipywidgets.HTML()
        self._finish(list(self.controls.values()), footer=[self.status])
        for name, control in self.controls.items():
            self._on_change(control, lambda value, name=name: self.update(**{name: value}))
        self.update(optimizer=optimizer, smoothing=smoothing, seed=seed)

    def _build_figure(self):
        fig = self.figure = new_figure(9.5, 3.6)
        ax = self._ax = fig.add_subplot()
        start = self.model.loss(self.model.x0)
        self._top = 1.6 * start if start > 0 else 1.0
        ax.set(xscale="log", xlim=(self.lr_min, self.lr_max), ylim=(0, self._top),
               xlabel="learning rate (one minibatch step each, growing geometrically)",
               ylabel="training loss",
               title=f"range test: {getattr(self.model, 'name', type(self.model).__name__)} "
                     f"on the digits")
        ax.axhline(start, color="0.6", lw=0.8, ls=":")
        (self._raw,) = ax.plot([], [], color="C0", alpha=0.35, lw=1, animated=True, label="loss")
        (self._smooth,) = ax.plot([], [], color="C0", lw=2, animated=True, label="smoothed")
        self._marks = {
            "suggestion": ax.axvline(1, color="#2e7d32", lw=2, animated=True,
                                     label="suggestion = best / 10"),
            "best": ax.axvline(1, color="#ef6c00", lw=1.2, ls="--", animated=True,
                               label="lowest smoothed loss"),
            "diverged": ax.axvline(1, color="#c62828", lw=1.2, ls="--", animated=True,
                                   label="stopped: blew up"),
        }
        ax.legend(loc="upper left", fontsize=8)

    def update(self, optimizer=None, smoothing=None, seed=None):
        """Change settings, run the range test again and redraw in place.

        Args:
            optimizer: a key of :data:`RANGE_TEST_OPTIMIZERS`.
            smoothing: the loss EMA coefficient, in [0, 0.98].
            seed: seed of the minibatch order, an int in [0, 20].
        """
        if optimizer is not None:
            if optimizer not in RANGE_TEST_OPTIMIZERS:
                raise ValueError(f"optimizer must be one of {sorted(RANGE_TEST_OPTIMIZERS)}, "
                                 f"got {optimizer!r}")
            self.optimizer = optimizer
        if smoothing is not None:
            if not 0.0 <= smoothing <= 0.98:
                raise ValueError(f"smoothing must be in [0, 0.98], got {smoothing}")
            self.smoothing = float(smoothing)
        if seed is not None:
            if int(seed) != seed or not 0 <= seed <= 20:
                raise ValueError(f"seed must be an integer in [0, 20], got {seed}")
            self.seed = int(seed)
        with self._syncing():
            for name, control in self.controls.items():
                control.value = getattr(self, name)

        r = self.result = range_test(
            self.model, RANGE_TEST_OPTIMIZERS[self.optimizer], lr_min=self.lr_min,
            lr_max=self.lr_max, num_steps=self.num_steps, batch_size=self.batch_size,
            rng=np.random.default_rng(self.seed), smoothing=self.smoothing)
        big = 10 * self._top  # off the top, but finite for Agg
        self._raw.set_data(r.lrs, np.clip(np.nan_to_num(r.losses, nan=big), -big, big))
        self._smooth.set_data(r.lrs, np.clip(np.nan_to_num(r.smoothed, nan=big), -big, big))
        self._marks["suggestion"].set_xdata([r.suggestion] * 2)
        self._marks["best"].set_xdata([r.best_lr] * 2)
        self._marks["diverged"].set_visible(r.diverged)
        if r.diverged:
            self._marks["diverged"].set_xdata([r.diverged_lr] * 2)
        stop = (f"blew up at lr = {r.diverged_lr:.3g}" if r.diverged
                else f"never blew up below lr_max = {self.lr_max:g}")
        self.status.value = (f"suggestion <b>{r.suggestion:.3g}</b> (lowest smoothed loss at "
                             f"{r.best_lr:.3g}); the test {stop}, after {len(r.lrs)} steps")
        self._show_frame()

    def __repr__(self):
        return f"<RangeTestExplorer {self.optimizer}: suggestion {self.result.suggestion:.3g}>"


def range_test_explorer(model=None, optimizer="momentum", *, smoothing=0.9, seed=0,
                        lr_min=1e-4, lr_max=100.0, num_steps=100, batch_size=64):
    r"""Run the learning-rate range test on a real model; re-run it as the settings change.

    The lr grows geometrically, :math:`lr_i = lr_{min} (lr_{max}/lr_{min})^{i/(N-1)}` with
    :math:`N` = ``num_steps``, one minibatch update each; the smoothed loss is watched for the
    blow-up, and ``best_lr / 10`` is suggested (see :func:`lr_course.finder.range_test`).

    Args:
        model: a course model or problem; ``MLP()`` on the digits if None.
        optimizer: "sgd", "momentum" (0.9) or "adam".
        smoothing: EMA coefficient of the loss, in [0, 0.98].
        seed: seed of the minibatch order, in [0, 20].
        lr_min, lr_max: the sweep, 0 < lr_min < lr_max.
        num_steps: updates in the sweep, >= 2; batch_size: minibatch size (None: full batch).

    Returns:
        The :class:`RangeTestExplorer`, displayed when running under IPython.

    >>> from lr_course.problems import Quadratic
    >>> ex = range_test_explorer(Quadratic([0.5, 10.0]), "sgd", lr_min=1e-3, lr_max=10.0,
    ...                          batch_size=None)
    >>> bool(ex.result.suggestion < ex.result.best_lr < ex.result.diverged_lr)
    True
    """
    return show(RangeTestExplorer(model, optimizer, smoothing, seed, lr_min, lr_max, num_steps,
                                  batch_size))
