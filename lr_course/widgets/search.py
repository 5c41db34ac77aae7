"""The search explorer: grid against random search when one hyperparameter does not matter.

The objective is a validation-loss stand-in over two hyperparameters, the lr (which matters,
on a log scale) and a second one that barely matters. A grid of ``n = k * k`` trials tries only
``k`` distinct lrs; ``n`` random trials try ``n`` of them, so the random search usually lands
closer to the best lr (Bergstra & Bengio 2012). The samples come from
:func:`lr_course.search.grid_points` and :func:`lr_course.search.random_points`.
"""

from __future__ import annotations

import ipywidgets
import numpy as np

from lr_course.search import grid_points, prob_random_in_top, random_points
from lr_course.widgets._view import Explorer, new_figure, show

BEST_LR = 0.02  # where the default objective is lowest: between the points of most log grids


def default_objective(lr, momentum):
    r"""A stand-in validation loss where only the lr matters much.

    .. math::  f = (\log_{10} \mathrm{lr} - \log_{10} 0.02)^2 + 0.01\,(\mathrm{momentum} - 0.5)^2

    >>> float(default_objective(0.02, 0.5))
    0.0
    """
    return (np.log10(lr) - np.log10(BEST_LR)) ** 2 + 0.01 * (momentum - 0.5) ** 2


#: The search space of the explorer, in :func:`lr_course.search.grid_points`'s format.
SPACE = {"lr": ("log", 1e-4, 1.0), "momentum": ("linear", 0.0, 0.99)}
BUDGETS = [k * k for k in range(2, 11)]  # grids need a square number of trials


class SearchExplorer(Explorer):
    """Grid and random search with the same budget; see :func:`search_explorer`.

    Attributes:
        num_trials: the budget n (a square, 4 .. 100); seed: the random search's seed.
        grid, random: ``{"lr": ..., "momentum": ...}`` trial points, in the order tried.
        grid_scores, random_scores: the objective at them.
        grid_best, random_best: index of the best trial of each.
    """

    def __init__(self, objective, num_trials, seed):
        self.objective = default_objective if objective is None else objective
        if not callable(self.objective):
            raise ValueError(f"objective must be a function (lr, momentum) -> score, got {objective!r}")
        self.num_trials, self.seed = 16, 0
        self.controls = {
            "num_trials": ipywidgets.SelectionSlider(options=BUDGETS, value=16,
                                                     description="trials n"),
            "seed": ipywidgets.IntSlider(0, min=0, max=99, description="seed"),
        }
        self._build_figure()
        self.status = ipywidgets.HTML()
        self._finish(list(self.controls.values()), footer=[self.status])
        for name, control in self.controls.items():
            self._on_change(control, lambda value, name=name: self.update(**{name: value}))
        self.update(num_trials=num_trials, seed=seed)

    def _build_figure(self):
        fig = self.figure = new_figure(9.5, 3.8)
        ax_map, ax_best = self._ax_map, self._ax_best = fig.subplots(1, 2)
        (_, lr_lo, lr_hi), (_, m_lo, m_hi) = SPACE["lr"], SPACE["momentum"]
        LR, M = np.meshgrid(np.geomspace(lr_lo, lr_hi, 120), np.linspace(m_lo, m_hi, 60))
        Z = self.objective(LR, M)
        ax_map.contourf(LR, M, Z, levels=14, cmap="Greys_r", alpha=0.55)
        ax_map.set(xscale="log", xlim=(lr_lo, lr_hi), ylim=(m_lo - 0.04, m_hi),
                   xlabel="lr (matters)", ylabel="momentum (barely matters)",
                   title="trials on the objective")
        (self._grid_pts,) = ax_map.plot([], [], "s", ms=5, mfc="none", mec="C0", mew=1.4,
                                        animated=True, label="grid")
        (self._rand_pts,) = ax_map.plot([], [], "o", ms=4, color="C1", animated=True,
                                        label="random")
        # Rugs under the map: the distinct lrs each search tried.
        (self._grid_rug,) = ax_map.plot([], [], "|", ms=9, mew=1.6, color="C0", animated=True)
        (self._rand_rug,) = ax_map.plot([], [], "|", ms=6, mew=1.0, color="C1", animated=True)
        (self._best_marks,) = ax_map.plot([], [], "*", ms=13, color="gold", mec="k",
                                          animated=True)
        ax_map.legend(loc="upper right", fontsize=8)
        ax_best.set(xlim=(1, max(BUDGETS)), yscale="log", ylim=(1e-6, 20),
                    xlabel="trial", ylabel="best objective so far",
                    title="best found so far")
        (self._grid_curve,) = ax_best.step([], [], where="post", color="C0", lw=1.6,
                                           animated=True, label="grid")
        (self._rand_curve,) = ax_best.step([], [], where="post", color="C1", lw=1.6,
                                           animated=True, label="random")
        ax_best.legend(loc="upper right", fontsize=8)

    def update(self, num_trials=None, seed=None):
        """Change the budget and/or the random seed; redraw in place.

        Args:
            num_trials: n, one of 4, 9, ..., 100 (a grid has sqrt(n) values per axis).
            seed: seed of the random search, an int in [0, 99].
        """
        if num_trials is not None:
            if num_trials not in BUDGETS:
                raise ValueError(f"num_trials must be one of {BUDGETS}, got {num_trials}")
            self.num_trials = int(num_trials)
        if seed is not None:
            if int(seed) != seed or not 0 <= seed <= 99:
                raise ValueError(f"seed must be an integer in [0, 99], got {seed}")
            self.seed = int(seed)
        with self._syncing():
            self.controls["num_trials"].value = self.num_trials
            self.controls["seed"].value = self.seed

        n, k = self.num_trials, int(round(np.sqrt(self.num_trials)))
        self.grid = grid_points(SPACE, k)
        self.random = random_points(SPACE, n, np.random.default_rng(self.seed))
        with np.errstate(all="ignore"):
            self.grid_scores = np.asarray(self.objective(self.grid["lr"], self.grid["momentum"]), float)
            self.random_scores = np.asarray(self.objective(self.random["lr"], self.random["momentum"]), float)
        # A NaN/inf (diverged) trial is never best, as in lr_course.search.
        g = np.where(np.isfinite(self.grid_scores), self.grid_scores, np.inf)
        r = np.where(np.isfinite(self.random_scores), self.random_scores, np.inf)
        self.grid_best, self.random_best = int(np.argmin(g)), int(np.argmin(r))

        self._grid_pts.set_data(self.grid["lr"], self.grid["momentum"])
        self._rand_pts.set_data(self.random["lr"], self.random["momentum"])
        rug_y = SPACE["momentum"][1] - 0.025
        self._grid_rug.set_data(self.grid["lr"], np.full(n, rug_y))
        self._rand_rug.set_data(self.random["lr"], np.full(n, rug_y))
        self._best_marks.set_data(
            [self.grid["lr"][self.grid_best], self.random["lr"][self.random_best]],
            [self.grid["momentum"][self.grid_best], self.random["momentum"][self.random_best]])
        trials = np.arange(1, n + 1)
        floor = 1e-6  # the log axis needs positive values; a perfect hit sits on the floor
        self._grid_curve.set_data(trials, np.maximum(np.minimum.accumulate(g), floor))
        self._rand_curve.set_data(trials, np.maximum(np.minimum.accumulate(r), floor))

        best = lambda pts, i, s: f"lr {pts['lr'][i]:.3g}, momentum {pts['momentum'][i]:.2f}: {s[i]:.3g}"  # noqa: E731
        self.status.value = (
            f"<b>grid</b> ({k}×{k}, {len(np.unique(self.grid['lr']))} distinct lrs): best "
            f"{best(self.grid, self.grid_best, self.grid_scores)}<br>"
            f"<b>random</b> ({n} trials, {len(np.unique(self.random['lr']))} distinct lrs): best "
            f"{best(self.random, self.random_best, self.random_scores)}<br>"
            f"chance that {n} random trials hit the best 5% of the space: "
            f"{prob_random_in_top(0.05, n):.0%}")
        self._show_frame()

    def __repr__(self):
        return f"<SearchExplorer n={self.num_trials} seed={self.seed}>"


def search_explorer(objective=None, *, num_trials=16, seed=0):
    r"""Compare grid and random search with the same budget on a 2-D objective.

    With ``n`` trials a grid tries :math:`\sqrt n` distinct values per hyperparameter; random
    search tries ``n``, and lands in the best fraction ``q`` of the space with probability
    :math:`1 - (1 - q)^n` however many hyperparameters there are.

    Args:
        objective: ``objective(lr, momentum) -> score`` (lower is better), vectorised over
            numpy arrays; :func:`default_objective` if None.
        num_trials: the budget n, a square in 4 .. 100.
        seed: the random search's seed, 0 .. 99.

    Returns:
        The :class:`SearchExplorer`, displayed when running under IPython.

    >>> ex = search_explorer(num_trials=25, seed=1)
    >>> len(set(ex.grid["lr"])), len(set(ex.random["lr"]))
    (5, 25)
    """
    return show(SearchExplorer(objective, num_trials, seed))
