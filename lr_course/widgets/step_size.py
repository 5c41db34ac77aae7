"""The step-size explorer: one learning rate on a 1-D and a 2-D quadratic, side by side.

A log-scale slider sets ``lr``; gradient descent runs from the same start on the 1-D bowl
``f(x) = L x^2 / 2`` and on a 2-D ill-conditioned bowl with curvatures ``mu`` and ``L``. The
iterates are drawn on the parabola and on the contour plot, the losses beside them, and a strip
under the plots marks the thresholds ``1/L`` and ``2/L``, the best fixed step ``2/(mu + L)``
and where the current lr sits among the three regimes (monotone, oscillating, diverging).
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets
import numpy as np

from lr_course.analysis import contraction_rate, critical_lr, optimal_lr, regime
from lr_course.problems import Quadratic
from lr_course.widgets._view import Explorer, in_range, log_slider, new_figure, show

# Colours of the three regimes, shared by the strip and the label.
REGIME_COLOURS = {"monotone": "#2e7d32", "oscillating": "#ef6c00", "marginal": "#6a1b9a",
                  "diverging": "#c62828"}


@dataclass
class StepSizeConfig:
    """What the step-size explorer shows (all optional in :func:`step_size_explorer`)."""

    mu: float = 1.0  # smallest curvature of the 2-D bowl
    L: float = 10.0  # largest curvature: of the 2-D bowl and of the 1-D parabola
    angle: float = np.pi / 6  # turn of the bowl's axes, so the zig-zag is not axis-aligned
    num_steps: int = 30  # gradient-descent steps drawn
    lr_low_factor: float = 0.05  # slider starts at lr_low_factor / L ...
    lr_high_factor: float = 3.0  # ... and ends at lr_high_factor / L (past divergence at 2/L)


class StepSizeExplorer(Explorer):
    """Gradient descent with one lr on a 1-D and a 2-D quadratic; see :func:`step_size_explorer`.

    Attributes:
        lr: the current step size.
        regime: what the current lr does along the stiffest direction (curvature ``L``), from
            :func:`lr_course.analysis.regime`: ``"monotone"``, ``"oscillating"``,
            ``"marginal"`` (exactly 2/L) or ``"diverging"``.
        rate: the error's contraction per step, ``max |1 - lr * lambda_i|``.
        path_1d, path_2d: the iterates, arrays of shape (num_steps + 1, 1) and (num_steps + 1, 2).
        loss_1d, loss_2d: the losses along them.
        problem_1d, problem_2d: the two :class:`~lr_course.problems.Quadratic` problems.
        slider: the lr slider (a ``FloatLogSlider``).
    """

    def __init__(self, config: StepSizeConfig, lr=None):
        c = config
        if not (np.isfinite(c.mu) and c.mu > 0):
            raise ValueError(f"mu must be a finite number > 0, got {c.mu}")
        if not (np.isfinite(c.L) and c.L >= c.mu):
            raise ValueError(f"L must be a finite number >= mu = {c.mu}, got {c.L}")
        if int(c.num_steps) != c.num_steps or not 1 <= c.num_steps <= 10_000:
            raise ValueError(f"num_steps must be an integer in [1, 10000], got {c.num_steps}")
        if not 0 < c.lr_low_factor < c.lr_high_factor:
            raise ValueError(
                f"lr_low_factor must be in (0, lr_high_factor = {c.lr_high_factor}), "
                f"got {c.lr_low_factor}"
            )
        self.config = c
        self.num_steps = int(c.num_steps)
        self.problem_2d = Quadratic.ill_conditioned(mu=c.mu, L=c.L, angle=c.angle)
        self.problem_1d = Quadratic.one_d(curvature=c.L, x0=1.0)
        self.lr_low, self.lr_high = c.lr_low_factor / c.L, c.lr_high_factor / c.L
        if lr is None:
            lr = 0.5 / c.L
        self._check_lr(lr)
        self._build_figure()
        self.slider = log_slider("learning rate", lr, self.lr_low, self.lr_high)
        self.label = ipywidgets.HTML()
        self._finish([self.slider, self.label])
        self._on_change(self.slider, lambda value: self.update(lr=value))
        self.update(lr=lr)

    def _check_lr(self, lr):
        if not in_range(lr, self.lr_low, self.lr_high):
            raise ValueError(f"lr must be in [{self.lr_low:.3g}, {self.lr_high:.3g}], got {lr}")

    # --- the view, built once ------------------------------------------------------------

    def _build_figure(self):
        c = self.config
        fig = self.figure = new_figure(9.5, 4.3)
        grid = fig.add_gridspec(2, 3, height_ratios=[4, 1])
        ax1, ax2, ax3 = (fig.add_subplot(grid[0, i]) for i in range(3))
        strip = fig.add_subplot(grid[1, :])

        # 1-D: the parabola and the iterates as a zig-zag on it.
        reach = 1.6
        xs = np.linspace(-reach, reach, 200)
        ax1.plot(xs, self.problem_1d.loss(xs[None, :]), color="0.55", lw=1)
        ax1.set(xlim=(-reach, reach), ylim=(-0.05 * c.L, 0.5 * c.L * reach**2),
                title=f"1-D: f(x) = {c.L:g} x²/2", xlabel="x", ylabel="f(x)")
        (self._line_1d,) = ax1.plot([], [], "o-", ms=3, lw=1, color="C0", animated=True)

        # 2-D: contours of the bowl and the iterates.
        (x_lo, x_hi), (y_lo, y_hi) = self.problem_2d.bounds
        X, Y = np.meshgrid(np.linspace(x_lo, x_hi, 120), np.linspace(y_lo, y_hi, 120))
        Z = self.problem_2d.loss(np.stack([X, Y]))
        levels = np.geomspace(max(Z.max() * 1e-4, 1e-12), Z.max(), 14)
        ax2.contour(X, Y, Z, levels=levels, colors="0.7", linewidths=0.7)
        ax2.plot(*self.problem_2d.minimum, "k+", ms=8)
        ax2.set(xlim=(x_lo, x_hi), ylim=(y_lo, y_hi), aspect="equal",
                title=f"2-D: curvatures {c.mu:g} and {c.L:g}", xlabel="x₁", ylabel="x₂")
        (self._line_2d,) = ax2.plot([], [], "o-", ms=3, lw=1, color="C1", animated=True)

        # Losses on fixed log axes, so curves can be compared as the slider moves.
        f0 = max(self.problem_2d.loss(self.problem_2d.x0), self.problem_1d.loss(self.problem_1d.x0))
        self._loss_floor, self._loss_ceiling = f0 * 1e-12, f0 * 1e4
        ax3.set(yscale="log", xlim=(0, self.num_steps), ylim=(self._loss_floor, self._loss_ceiling),
                title="loss", xlabel="step", ylabel="f(x) (log scale)")
        (self._loss_line_1d,) = ax3.plot([], [], color="C0", label="1-D", animated=True)
        (self._loss_line_2d,) = ax3.plot([], [], color="C1", label="2-D", animated=True)
        ax3.legend(loc="lower left", fontsize=8)

        # The lr strip: regimes shaded, thresholds marked, the current lr as a moving line.
        mu, L = c.mu, c.L
        strip.set(xscale="log", xlim=(self.lr_low, self.lr_high), ylim=(0, 1), yticks=[])
        strip.axvspan(self.lr_low, 1 / L, color=REGIME_COLOURS["monotone"], alpha=0.15)
        strip.axvspan(1 / L, 2 / L, color=REGIME_COLOURS["oscillating"], alpha=0.15)
        strip.axvspan(2 / L, self.lr_high, color=REGIME_COLOURS["diverging"], alpha=0.15)
        # Labels at three heights: for small condition numbers 2/(mu+L) sits close to 2/L.
        marks = ((1 / L, "1/L", 0.95), (optimal_lr(mu, L), "best 2/(μ+L)", 0.65),
                 (critical_lr(L), "2/L", 0.35))
        for x, name, height in marks:
            strip.axvline(x, color="0.3", lw=0.8, ls="--")
            strip.text(x, height, f" {name}", va="top", fontsize=8)
        strip.set_xlabel("learning rate")
        self._lr_marker = strip.axvline(self.lr_low, color="k", lw=2.5, animated=True)
        # The moving title is an axes child placed in figure coordinates: savefig skips animated
        # figure-level artists but not axes ones. A blank suptitle reserves its room.
        fig.suptitle(" ", fontsize=11)
        self._title = ax2.text(0.5, 0.985, " ", transform=fig.transFigure, ha="center",
                               va="top", fontsize=11, animated=True)
        self._title.set_in_layout(False)  # the blank suptitle already holds its place

    # --- the model: recompute, then move the artists -------------------------------------

    def _descend(self, problem, lr):
        x = problem.x0
        path = np.empty((self.num_steps + 1, problem.dim))
        path[0] = x
        with np.errstate(over="ignore", invalid="ignore"):
            for step in range(self.num_steps):
                x = x - lr * problem.grad(x)
                path[step + 1] = x
            loss = problem.loss(path.T)
        return path, loss

    def update(self, lr):
        """Run gradient descent with ``lr`` and redraw the frame in place."""
        self._check_lr(lr)
        self.lr = float(lr)
        self.path_1d, self.loss_1d = self._descend(self.problem_1d, self.lr)
        self.path_2d, self.loss_2d = self._descend(self.problem_2d, self.lr)
        # The stiffest direction settles last to change sign and first to blow up: it decides.
        self.regime = regime(self.lr, self.problem_2d.L)
        self.rate = float(contraction_rate(self.lr, self.problem_2d.eigenvalues))

        # Points far outside the axes are pulled to just outside them: Agg draws nothing
        # useful for coordinates near 1e300, and the line should still leave the plot.
        big = 1e6
        x1 = np.clip(self.path_1d[:, 0], -big, big)
        self._line_1d.set_data(x1, np.clip(self.loss_1d, 0, big))
        p2 = np.clip(self.path_2d, -big, big)
        self._line_2d.set_data(p2[:, 0], p2[:, 1])
        steps = np.arange(self.num_steps + 1)
        lo, hi = self._loss_floor / 2, self._loss_ceiling * 2
        self._loss_line_1d.set_data(steps, np.clip(np.nan_to_num(self.loss_1d, nan=hi), lo, hi))
        self._loss_line_2d.set_data(steps, np.clip(np.nan_to_num(self.loss_2d, nan=hi), lo, hi))
        with self._syncing():
            self.slider.value = self.lr
        self._lr_marker.set_xdata([self.lr, self.lr])
        colour = REGIME_COLOURS[self.regime]
        self._title.set_text(
            f"lr = {self.lr:.3g}: {self.regime} (error × {self.rate:.2f} per step)"
        )
        self._title.set_color(colour)
        self.label.value = (
            f"<b style='color:{colour}'>{self.regime}</b>: the error is multiplied by "
            f"max|1 − lr·λ| = {self.rate:.3f} each step"
        )
        self._show_frame()

    def __repr__(self):
        return f"<StepSizeExplorer lr={self.lr:.3g} ({self.regime})>"


def step_size_explorer(lr=None, *, mu=1.0, L=10.0, angle=np.pi / 6, num_steps=30):
    r"""Show gradient descent with a slider-chosen lr on a 1-D and a 2-D quadratic.

    Each step is :math:`x \leftarrow x - \mathrm{lr}\,\nabla f(x)`; on a quadratic with
    curvatures :math:`\mu \le \lambda_i \le L` it converges iff :math:`0 < \mathrm{lr} < 2/L`,
    monotonically below :math:`1/L`, and fastest at :math:`2/(\mu + L)`.

    Args:
        lr: the starting lr; ``0.5 / L`` if None. The slider spans ``[0.05/L, 3/L]``.
        mu: the small curvature of the 2-D bowl, > 0.
        L: the large curvature (2-D bowl and 1-D parabola), >= mu.
        angle: rotation of the 2-D bowl's axes, radians.
        num_steps: number of steps drawn.

    Returns:
        The :class:`StepSizeExplorer`, displayed when running under IPython. Move it from code
        with ``explorer.update(lr=...)`` or ``explorer.slider.value = ...``.

    >>> explorer = step_size_explorer(lr=0.15)
    >>> explorer.regime
    'oscillating'
    >>> explorer.png()[:4]
    b'\x89PNG'
    """
    config = StepSizeConfig(mu=float(mu), L=float(L), angle=float(angle), num_steps=num_steps)
    return show(StepSizeExplorer(config, lr=lr))
