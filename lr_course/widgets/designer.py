"""The schedule designer: a schedule's lr curve and what it does to noisy SGD.

Many independent runs of SGD on the 1-D quadratic ``f(x) = lambda x^2 / 2`` with Gaussian
gradient noise are simulated at once by :func:`lr_course.training.noisy_sgd_runs`. Their mean
loss is drawn for the chosen schedule and for the constant ``lr0`` it starts from, against that
constant rate's noise floor :func:`lr_course.analysis.noise_floor`. Both runs use the same seed,
so any gap between the curves comes from the schedule, not from luck.

Why not :func:`lr_course.training.train` on a :class:`~lr_course.problems.NoisyGradient`: it
computes the same numbers (a test checks they agree exactly) but its general per-step
machinery costs ~80 ms for 300 steps, too slow for a slider; ``noisy_sgd_runs`` evaluates the
schedule once for all steps and each step is three vector operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets
import numpy as np

from lr_course import schedules
from lr_course.analysis import noise_floor
from lr_course.training import noisy_sgd_runs
from lr_course.widgets._view import Explorer, log_slider, new_figure, show

# Which controls each schedule uses, and how its factory is called from them. ``T`` is the
# number of steps in the run; ``p`` holds the controls' values.
DESIGNS = {
    "constant": ((), lambda p, T: schedules.constant(p["lr0"])),
    "step_decay": (("drop_every", "factor"),
                   lambda p, T: schedules.step_decay(p["lr0"], p["drop_every"], p["factor"])),
    "exponential_decay": (("decay_rate",),
                          lambda p, T: schedules.exponential_decay(p["lr0"], p["decay_rate"],
                                                                   decay_steps=T)),
    "inverse_time_decay": (("decay_rate",),
                           lambda p, T: schedules.inverse_time_decay(p["lr0"], p["decay_rate"])),
    "cosine_decay": (("lr_min",),
                     lambda p, T: schedules.cosine_decay(p["lr0"], T, min(p["lr_min"], p["lr0"]))),
    "warmup_cosine": (("warmup_steps", "lr_min"),
                      lambda p, T: schedules.warmup_cosine(p["lr0"], p["warmup_steps"], T,
                                                           min(p["lr_min"], p["lr0"]))),
    "one_cycle": (("pct_start",),
                  lambda p, T: schedules.one_cycle(p["lr0"], T, pct_start=p["pct_start"])),
}


@dataclass
class NoisySGDConfig:
    """The noisy problem the designer runs (all optional in :func:`schedule_designer`)."""

    curvature: float = 1.0  # lambda of f(x) = lambda x^2 / 2
    sigma: float = 1.0  # gradient-noise standard deviation
    x0: float = 3.0  # start of every run: far enough that early progress is visible
    num_runs: int = 200  # independent runs averaged (the curves' noise shrinks as 1/sqrt)
    num_steps: int = 300  # steps per run
    seed: int = 0  # the noise, shared by the schedule's and the constant runs


class ScheduleDesigner(Explorer):
    """A schedule's lr curve and its noisy-SGD loss against a constant lr; see :func:`schedule_designer`.

    Attributes:
        schedule_name: the current key of :data:`DESIGNS`; ``schedule`` the built schedule.
        params: control name -> value (``lr0``, ``drop_every``, ``factor``, ``decay_rate``,
            ``warmup_steps``, ``lr_min``, ``pct_start``).
        mean_loss, constant_mean_loss: the mean loss over the runs after each step, for the
            schedule and for the constant lr0; ``diverged_at``, ``constant_diverged_at``
            the step where they blew up (None if they did not).
        floor: the expected loss the constant lr0 settles at (inf if it diverges).
        controls: control name -> its widget; ``menu`` picks the schedule.
    """

    def __init__(self, schedule, params, config: NoisySGDConfig):
        c = config
        if not (np.isfinite(c.curvature) and c.curvature > 0):
            raise ValueError(f"curvature must be a finite number > 0, got {c.curvature}")
        if not (np.isfinite(c.sigma) and c.sigma >= 0):
            raise ValueError(f"sigma must be a finite number >= 0, got {c.sigma}")
        for name, low in (("num_runs", 1), ("num_steps", 10)):
            value = getattr(c, name)
            if int(value) != value or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value}")
        self.config = c
        T = self.num_steps = int(c.num_steps)
        self.lr_high = 1.9 / c.curvature  # past 2/lambda every constant run diverges
        self.controls = {
            "lr0": log_slider("lr0 (peak)", 0.5 / c.curvature, 1e-3 / c.curvature, self.lr_high),
            "drop_every": ipywidgets.IntSlider(T // 4, 1, T, description="drop_every"),
            "factor": ipywidgets.FloatSlider(0.5, min=0.05, max=1.0, step=0.05,
                                             description="factor"),
            "decay_rate": log_slider("decay_rate", 0.01, 1e-3, 1.0),
            "warmup_steps": ipywidgets.IntSlider(T // 10, 1, T - 1, description="warmup_steps"),
            "lr_min": log_slider("lr_min", 1e-3 / c.curvature, 1e-5 / c.curvature, self.lr_high),
            "pct_start": ipywidgets.FloatSlider(0.3, min=0.05, max=0.95, step=0.05,
                                                description="pct_start"),
        }
        self.menu = ipywidgets.Dropdown(options=list(DESIGNS), value="constant",
                                        description="schedule")
        self.params = {name: w.value for name, w in self.controls.items()}
        self.schedule_name = "constant"
        self._constant_for = None
        self._build_figure()
        self.status = ipywidgets.HTML()
        self._finish([self.menu, *self.controls.values()], footer=[self.status])
        self._on_change(self.menu, lambda value: self.update(schedule=value))
        for name, control in self.controls.items():
            self._on_change(control, lambda value, name=name: self.update(**{name: value}))
        self.update(schedule=schedule, **(params or {}))

    def _build_figure(self):
        c = self.config
        fig = self.figure = new_figure(9.5, 3.6)
        ax_lr, ax_loss = fig.subplots(1, 2)
        T = self.num_steps
        ax_lr.set(yscale="log", xlim=(0, T), ylim=(1e-5 / c.curvature, 3 / c.curvature),
                  title="learning rate", xlabel="step", ylabel="lr (log scale)")
        ax_lr.axhline(2 / c.curvature, color="#c62828", lw=0.8, ls="--")
        ax_lr.text(T, 2 / c.curvature, "2/λ: diverges above ", ha="right", va="bottom",
                   fontsize=8, color="#c62828")
        (self._lr_line,) = ax_lr.plot([], [], color="C0", lw=1.6, animated=True, label="schedule")
        (self._lr_const,) = ax_lr.plot([], [], color="0.45", ls="--", lw=1, animated=True,
                                       label="constant lr0")
        ax_lr.legend(loc="lower left", fontsize=8)
        loss0 = 0.5 * c.curvature * c.x0**2
        self._loss_lo, self._loss_hi = 1e-6 * max(loss0, 1e-12), 1e2 * max(loss0, 1e-12)
        ax_loss.set(yscale="log", xlim=(0, T), ylim=(self._loss_lo, self._loss_hi),
                    title=f"noisy SGD, mean loss of {c.num_runs} runs", xlabel="step",
                    ylabel="mean loss (log scale)")
        (self._loss_line,) = ax_loss.plot([], [], color="C0", lw=1.4, animated=True,
                                          label="schedule")
        (self._loss_const,) = ax_loss.plot([], [], color="0.45", lw=1, animated=True,
                                           label="constant lr0")
        self._floor_line = ax_loss.axhline(1.0, color="C3", ls=":", lw=1.2, animated=True,
                                           label="noise floor of lr0")
        ax_loss.legend(loc="lower left", fontsize=8)

    def _check(self, name, value):
        control = self.controls[name]
        low, high = (control.min, control.max)
        if isinstance(control, ipywidgets.FloatLogSlider):
            low, high = control.base**low, control.base**high
        if isinstance(control, ipywidgets.IntSlider) and int(value) != value:
            raise ValueError(f"{name} must be an integer, got {value}")
        if not (np.isfinite(value) and low * (1 - 1e-9) <= value <= high * (1 + 1e-9)):
            raise ValueError(f"{name} must be in [{low:.3g}, {high:.3g}], got {value}")

    def _mean_loss_run(self, schedule):
        c = self.config
        return noisy_sgd_runs(schedule(np.arange(self.num_steps)), c.curvature, c.sigma, c.x0,
                              int(c.num_runs), np.random.default_rng(c.seed))

    def update(self, schedule=None, **params):
        """Change the schedule and/or its parameters; rerun noisy SGD and redraw in place.

        Args:
            schedule: a key of :data:`DESIGNS`.
            **params: new values of controls (``lr0=0.3``, ``drop_every=50``, ...).
        """
        if schedule is not None and schedule not in DESIGNS:
            raise ValueError(f"schedule must be one of {sorted(DESIGNS)}, got {schedule!r}")
        for name, value in params.items():
            if name not in self.controls:
                raise ValueError(f"unknown schedule parameter {name!r}; "
                                 f"expected one of {sorted(self.controls)}")
            self._check(name, value)
        self.params.update(params)
        if schedule is not None:
            self.schedule_name = schedule
        used, build = DESIGNS[self.schedule_name]
        with self._syncing():
            self.menu.value = self.schedule_name
            for name, control in self.controls.items():
                control.value = self.params[name]
                # Show only the knobs the chosen schedule has.
                control.layout.display = None if name == "lr0" or name in used else "none"

        T, lr0 = self.num_steps, self.params["lr0"]
        self.schedule = build(self.params, T)
        self.mean_loss, self.diverged_at = self._mean_loss_run(self.schedule)
        if self._constant_for != lr0:  # the reference run depends on lr0 only
            self.constant_mean_loss, self.constant_diverged_at = self._mean_loss_run(
                schedules.constant(lr0))
            self._constant_for = lr0
        c = self.config
        self.floor = 0.5 * c.curvature * noise_floor(lr0, c.curvature, c.sigma)

        steps = np.arange(T + 1)
        self._lr_line.set_data(steps, self.schedule(steps))
        self._lr_const.set_data([0, T], [lr0, lr0])
        lo, hi = self._loss_lo / 2, self._loss_hi * 2
        for line, loss in ((self._loss_line, self.mean_loss),
                           (self._loss_const, self.constant_mean_loss)):
            line.set_data(np.arange(len(loss)), np.clip(np.nan_to_num(loss, nan=hi), lo, hi))
        self._floor_line.set_ydata([min(self.floor, hi)] * 2)
        self.status.value = self._summary()
        self._show_frame()

    def _summary(self):
        def last(mean_loss, diverged_at):
            if diverged_at is not None:
                return f"diverged at step {diverged_at}"
            return f"{np.mean(mean_loss[-max(1, self.num_steps // 10):]):.3g}"

        return (f"<b>{self.schedule!r}</b><br>mean loss over the last 10% of steps: "
                f"schedule <b>{last(self.mean_loss, self.diverged_at)}</b>, constant lr0 "
                f"{last(self.constant_mean_loss, self.constant_diverged_at)}; "
                f"noise floor of lr0 {self.floor:.3g}")

    def __repr__(self):
        return f"<ScheduleDesigner {self.schedule!r}>"


def schedule_designer(schedule="cosine_decay", params=None, *, curvature=1.0, sigma=1.0,
                      num_runs=200, num_steps=300, seed=0):
    r"""Design a schedule with sliders; watch its effect on noisy SGD against a constant lr.

    Each run is SGD on :math:`f(x) = \tfrac12 \lambda x^2` with gradient
    :math:`\lambda x + \sigma \xi`; a constant lr stalls at the expected loss
    :math:`\tfrac12 \lambda \cdot \mathrm{lr}\,\sigma^2 / (\lambda (2 - \mathrm{lr}\,\lambda))`
    (:math:`\lambda` = ``curvature``), which a decaying schedule goes below.

    Args:
        schedule: a key of :data:`DESIGNS` ("constant", "step_decay", "exponential_decay",
            "inverse_time_decay", "cosine_decay", "warmup_cosine", "one_cycle").
        params: starting control values, e.g. ``{"lr0": 0.5, "lr_min": 1e-3}``.
        curvature, sigma: the problem's lambda (> 0) and noise level (>= 0).
        num_runs: independent runs averaged; num_steps: steps per run (>= 10).
        seed: seed of the noise (shared by the schedule's and the constant runs).

    Returns:
        The :class:`ScheduleDesigner`, displayed when running under IPython.

    >>> d = schedule_designer("cosine_decay", {"lr0": 0.5}, num_runs=50, num_steps=200)
    >>> bool(d.mean_loss[-1] < d.floor)  # decay goes below the constant rate's noise floor
    True
    """
    config = NoisySGDConfig(curvature=float(curvature), sigma=float(sigma), num_runs=num_runs,
                            num_steps=num_steps, seed=seed)
    return show(ScheduleDesigner(schedule, params, config))
