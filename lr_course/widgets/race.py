"""The optimizer race: several optimizers, each with its own lr, on one 2-D landscape.

The landscape comes from :data:`lr_course.problems.SURFACES`; each racer is trained once per
lr change with :func:`lr_course.training.train` (trajectory recorded) and the step control only
shows a prefix of the recorded runs, so stepping and playing cost no computation at all.
"""

from __future__ import annotations

import ipywidgets
import numpy as np

from lr_course import optimizers
from lr_course.problems import SURFACES
from lr_course.training import train
from lr_course.widgets._view import Explorer, in_range, log_slider, new_figure, show

#: Racer name -> (legend label, factory of the optimizer from its lr).
RACERS = {
    "sgd": ("SGD", lambda lr: optimizers.sgd(lr)),
    "momentum": ("momentum 0.9", lambda lr: optimizers.sgd(lr, momentum=0.9)),
    "nesterov": ("Nesterov 0.9", lambda lr: optimizers.sgd(lr, momentum=0.9, nesterov=True)),
    "adagrad": ("Adagrad", lambda lr: optimizers.adagrad(lr)),
    "rmsprop": ("RMSprop", lambda lr: optimizers.rmsprop(lr)),
    "adam": ("Adam", lambda lr: optimizers.adam(lr)),
    "adamw": ("AdamW", lambda lr: optimizers.adamw(lr)),
}

# Starting lrs that make a fair race on Rosenbrock (the default landscape); on the others a
# learner is meant to tune them, which is part of the lesson.
DEFAULT_LRS = {"sgd": 1e-3, "momentum": 2e-4, "nesterov": 2e-4, "adagrad": 0.3,
               "rmsprop": 1e-2, "adam": 5e-2, "adamw": 5e-2}

LR_LOW, LR_HIGH = 1e-5, 1.0  # range of every racer's slider
LOSS_FLOOR = 1e-10  # the loss panel plots loss - min_value on a log axis from here


class OptimizerRace(Explorer):
    """Several optimizers on one 2-D surface; see :func:`optimizer_race`.

    Attributes:
        surface: the name of the current landscape (a key of ``SURFACES``); ``problem`` is it.
        lrs: racer name -> current lr.
        histories: racer name -> the :class:`~lr_course.training.History` of its run.
        step: the last step drawn (0 .. num_steps).
        sliders: racer name -> its lr slider; ``surface_menu``, ``step_slider``, ``play``.
    """

    def __init__(self, surface, racers, lrs, num_steps):
        if surface not in SURFACES:
            raise ValueError(f"surface must be one of {sorted(SURFACES)}, got {surface!r}")
        racers = list(racers)
        unknown = [r for r in racers if r not in RACERS]
        if unknown or not racers:
            raise ValueError(f"optimizers must be a non-empty list from {sorted(RACERS)}, got {racers!r}")
        if len(set(racers)) != len(racers):
            raise ValueError(f"optimizers must not repeat a name, got {racers!r}")
        if int(num_steps) != num_steps or not 1 <= num_steps <= 5000:
            raise ValueError(f"num_steps must be an integer in [1, 5000], got {num_steps}")
        lrs = dict(lrs or {})
        if set(lrs) - set(racers):
            raise ValueError(f"lrs names racers that are not racing: {sorted(set(lrs) - set(racers))}")
        self.racers = racers
        self.num_steps = int(num_steps)
        self.lrs = {r: float(lrs.get(r, DEFAULT_LRS[r])) for r in racers}
        for r, lr in self.lrs.items():
            self._check_lr(r, lr)
        self.histories = {}
        self.step = self.num_steps

        self.figure = new_figure(9.5, 4.0)
        self._ax_map, self._ax_loss = self.figure.subplots(1, 2, width_ratios=[1, 1.15])
        self._paths, self._heads, self._losses = {}, {}, {}
        for i, r in enumerate(racers):
            colour = f"C{i}"
            (self._paths[r],) = self._ax_map.plot([], [], "-", lw=1.4, color=colour, animated=True)
            (self._heads[r],) = self._ax_map.plot([], [], "o", ms=6, color=colour, mec="k",
                                                 animated=True)
            (self._losses[r],) = self._ax_loss.plot([], [], lw=1.4, color=colour, animated=True,
                                                   label=RACERS[r][0])
        self._ax_loss.legend(loc="lower left", fontsize=8)
        self._step_line = self._ax_loss.axvline(0, color="0.4", lw=0.8, ls=":", animated=True)
        # The standings go in an HTML widget, not the figure: glyphs are the costliest thing
        # Agg draws, and the browser renders text for free.
        self.status = ipywidgets.HTML()
        self._static = []  # contour set and markers of the current surface

        self.surface_menu = ipywidgets.Dropdown(options=list(SURFACES), value=surface,
                                                description="landscape")
        self.sliders = {}
        for r in racers:
            s = log_slider(RACERS[r][0], self.lrs[r], LR_LOW, LR_HIGH)
            self.sliders[r] = s
        self.step_slider = ipywidgets.IntSlider(value=self.num_steps, min=0, max=self.num_steps,
                                                description="step")
        self.play = ipywidgets.Play(value=self.num_steps, min=0, max=self.num_steps,
                                    step=max(1, self.num_steps // 100), interval=60)
        # The link lives in the front end, so playing does not round-trip through Python twice.
        ipywidgets.jslink((self.play, "value"), (self.step_slider, "value"))
        controls = [self.surface_menu, *self.sliders.values(),
                    ipywidgets.HBox([self.play, self.step_slider])]
        self._finish(controls, footer=[self.status])
        self._on_change(self.surface_menu, lambda value: self.update(surface=value))
        for r, s in self.sliders.items():
            self._on_change(s, lambda value, r=r: self.update(lrs={r: value}))
        self._on_change(self.step_slider, lambda value: self.update(step=value))
        self._set_surface(surface)
        self._draw_runs()
        self._show_frame(full=True)

    @staticmethod
    def _check_lr(racer, lr):
        if not in_range(lr, LR_LOW, LR_HIGH):
            raise ValueError(f"lr of {racer!r} must be in [{LR_LOW:g}, {LR_HIGH:g}], got {lr}")

    def _set_surface(self, surface):
        """Draw the landscape's contours and fix the axes; rerun every racer."""
        for artist in self._static:
            artist.remove()
        self.surface = surface
        self.problem = problem = SURFACES[surface]()
        (x_lo, x_hi), (y_lo, y_hi) = problem.bounds
        X, Y = np.meshgrid(np.linspace(x_lo, x_hi, 150), np.linspace(y_lo, y_hi, 150))
        gap = problem.loss(np.stack([X, Y])) - problem.min_value
        levels = np.geomspace(max(np.percentile(gap, 1), 1e-3), gap.max(), 16)
        contours = self._ax_map.contour(X, Y, np.maximum(gap, 1e-12), levels=levels,
                                        colors="0.72", linewidths=0.7)
        minima = getattr(problem, "minima", [problem.minimum])
        marks = [self._ax_map.plot(*m, "k*", ms=9)[0] for m in minima]
        start = self._ax_map.plot(*problem.x0, "ks", ms=5)[0]
        self._static = [contours, *marks, start]
        self._ax_map.set(xlim=(x_lo, x_hi), ylim=(y_lo, y_hi),
                         title=f"{getattr(problem, 'name', surface)}: trajectories",
                         xlabel="x₁", ylabel="x₂")
        self._run(self.racers)
        top = max(h.loss[0] for h in self.histories.values()) - problem.min_value
        self._ax_loss.set(yscale="log", xlim=(0, self.num_steps),
                          ylim=(LOSS_FLOOR, max(top, 1.0) * 1e3),
                          title="loss − minimum", xlabel="step", ylabel="f − f* (log scale)")

    def _run(self, racers):
        for r in racers:
            optimizer = RACERS[r][1](self.lrs[r])
            self.histories[r] = train(self.problem, optimizer, num_steps=self.num_steps,
                                      record_params=True)

    def update(self, surface=None, lrs=None, step=None):
        """Change the landscape, some racers' lrs and/or the step shown; redraw in place.

        Args:
            surface: a key of ``SURFACES`` (reruns everything and redraws the contours).
            lrs: racer name -> new lr (reruns only those racers).
            step: how many steps of the recorded runs to show, 0 .. num_steps.
        """
        full = False
        if lrs:
            for r, lr in lrs.items():
                if r not in self.lrs:
                    raise ValueError(f"lrs names a racer that is not racing: {r!r}")
                self._check_lr(r, lr)
            self.lrs.update({r: float(lr) for r, lr in lrs.items()})
        if step is not None:
            if int(step) != step or not 0 <= step <= self.num_steps:
                raise ValueError(f"step must be an integer in [0, {self.num_steps}], got {step}")
            self.step = int(step)
        if surface is not None and surface != self.surface:
            if surface not in SURFACES:
                raise ValueError(f"surface must be one of {sorted(SURFACES)}, got {surface!r}")
            self._set_surface(surface)
            full = True
        elif lrs:
            self._run(list(lrs))
        with self._syncing():
            self.surface_menu.value = self.surface
            for r, lr in self.lrs.items():
                self.sliders[r].value = lr
            self.step_slider.value = self.play.value = self.step
        self._draw_runs()
        self._show_frame(full=full)

    def _draw_runs(self):
        k = self.step
        big = 1e6  # keep runaway coordinates finite for Agg; they still leave the plot
        for r, h in self.histories.items():
            shown = np.clip(np.nan_to_num(h.params[: k + 1], nan=big), -big, big)
            self._paths[r].set_data(shown[:, 0], shown[:, 1])
            self._heads[r].set_data(shown[-1:, 0], shown[-1:, 1])
            gap = np.nan_to_num(h.loss[: k + 1] - self.problem.min_value, nan=big, posinf=big)
            self._losses[r].set_data(np.arange(len(gap)), np.clip(gap, LOSS_FLOOR / 2, big))
        self._step_line.set_xdata([k, k])
        cells = []
        for r, h in self.histories.items():
            if h.diverged and h.diverged_at <= k:
                result = f"diverged at step {h.diverged_at}"
            else:
                result = f"{h.loss[min(k, h.num_steps)] - self.problem.min_value:.3g}"
            cells.append(f"<td>{RACERS[r][0]}</td><td>{result}</td>")
        self.status.value = (f"<b>loss − minimum at step {k}</b><table><tr>"
                             + "</tr><tr>".join(cells) + "</tr></table>")

    def __repr__(self):
        return f"<OptimizerRace on {self.surface}: {', '.join(self.racers)}>"


def optimizer_race(surface="rosenbrock", optimizers=("sgd", "momentum", "rmsprop", "adam"),
                   lrs=None, *, num_steps=200):
    """Race optimizers, each with its own lr slider, on a 2-D landscape; step or play through.

    Args:
        surface: the landscape, a key of :data:`lr_course.problems.SURFACES` ("quadratic",
            "ill_conditioned", "rosenbrock", "beale", "himmelblau", "saddle").
        optimizers: names from :data:`RACERS` ("sgd", "momentum", "nesterov", "adagrad",
            "rmsprop", "adam", "adamw").
        lrs: racer name -> starting lr in [1e-5, 1]; :data:`DEFAULT_LRS` for the rest.
        num_steps: steps each racer runs, 1 .. 5000.

    Returns:
        The :class:`OptimizerRace`, displayed when running under IPython.

    >>> race = optimizer_race("ill_conditioned", ["sgd", "adam"], {"sgd": 0.1}, num_steps=50)
    >>> race.histories["sgd"].final_loss < 1e-3
    True
    """
    return show(OptimizerRace(surface, optimizers, lrs, num_steps))
