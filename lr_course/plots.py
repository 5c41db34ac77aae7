"""Static figures shared by the lessons, grouped by lesson topic.

Every function draws on a matplotlib ``Axes`` (a new figure when ``ax`` is None) and returns
that ``Axes``, so a lesson can compose panels with ``plt.subplots`` and add its own labels.
Learning rates that span decades go on log axes; each figure labels its axes and a legend
or colour bar says which curve is which. Computations the figures need and no other module
provides (the Pareto front) live here too, next to the figure that shows them.

This is the only teaching module besides ``widgets`` that imports matplotlib, so
``import lr_course`` stays fast.

Sections: general helpers; step size and curvature (lessons 00-01); adaptive methods and
2-D paths (lesson 02); time against accuracy (lesson 03).
"""

from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt
from matplotlib import colors as mcolors
from matplotlib import ticker

__all__ = [
    "lr_colors",
    "mark_lrs",
    "plot_curves",
    "plot_loss_curves",
    "plot_lr_scan",
    "plot_descent_on_parabola",
    "plot_contour_paths",
    "pareto_front",
    "plot_pareto",
]


# --- general helpers ---------------------------------------------------------------------------


def _axes(ax, figsize=(5.5, 3.6)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def lr_colors(lrs, cmap="viridis"):
    """One colour per learning rate, spread evenly over log10(lr).

    Args:
        lrs: positive learning rates.
        cmap: a matplotlib colormap name.

    Returns:
        ``(colors, norm)``: a list of RGBA tuples, and the ``LogNorm`` used (for a colour bar).

    >>> colors, norm = lr_colors([1e-3, 1e-1])
    >>> len(colors), round(norm.vmin, 6), round(norm.vmax, 6)
    (2, 0.001, 0.1)
    """
    lrs = np.asarray(lrs, dtype=float)
    if lrs.size == 0 or np.any(lrs <= 0):
        raise ValueError(f"lrs must be positive and non-empty, got {lrs}")
    low, high = lrs.min(), lrs.max()
    norm = mcolors.LogNorm(vmin=low, vmax=high if high > low else low * 10)
    colormap = plt.get_cmap(cmap)
    return [colormap(norm(lr)) for lr in lrs], norm


def mark_lrs(ax, marks, *, axis="x", colors=None):
    """Draw labelled vertical (or horizontal) dashed lines at special learning rates.

    Args:
        ax: the axes.
        marks: ``{label: lr}``, e.g. ``{"1/L": 0.1, "2/L": 0.2}``.
        axis: ``"x"`` for vertical lines, ``"y"`` for horizontal ones.
        colors: optional list of colours, one per mark.

    Returns:
        The axes.
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    palette = colors or ["0.35", "tab:red", "tab:green", "tab:purple", "tab:brown"]
    for (label, value), colour in zip(marks.items(), palette * len(marks)):
        line = ax.axvline if axis == "x" else ax.axhline
        line(value, color=colour, linestyle="--", linewidth=1.2, label=label)
    return ax


def plot_curves(curves, *, ax=None, logy=False, xlabel="step", ylabel="loss", title=None,
                colors=None):
    """Plot several per-step curves, one per label.

    Args:
        curves: ``{label: 1-D array}``; non-finite values (after a divergence) are not drawn.
        ax: the axes, or None for a new figure.
        logy: a logarithmic y axis.
        xlabel, ylabel, title: the labels.
        colors: optional ``{label: colour}``.

    Returns:
        The axes.
    """
    ax = _axes(ax)
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        kwargs = {"color": colors[label]} if colors and label in colors else {}
        ax.plot(np.arange(len(values)), np.where(np.isfinite(values), values, np.nan), label=label, **kwargs)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def _log_lr_axis(ax, lrs):
    """A log x axis whose labels stay readable: 1-2-5 ticks when lr spans under two decades."""
    ax.set_xscale("log")
    lrs = np.asarray(lrs, dtype=float)
    if lrs.size and np.log10(lrs.max() / lrs.min()) < 2:
        ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())


# --- step size and curvature (lessons 00-01) --------------------------------------------------------


def plot_loss_curves(losses_by_lr, *, ax=None, title=None, ylabel="training loss", x=None,
                     xlabel="step"):
    """Loss against step for many learning rates, coloured by lr on a log colour bar.

    A run that diverged (its loss becomes non-finite or is cut short) ends in a cross.

    Args:
        losses_by_lr: ``{lr: 1-D array of losses}``.
        ax: the axes, or None for a new figure.
        title, ylabel, xlabel: the labels.
        x: optional x values shared by every curve (e.g. epochs); default the step index.

    Returns:
        The axes.
    """
    ax = _axes(ax)
    lrs = sorted(losses_by_lr)
    colours, norm = lr_colors(lrs)
    longest = max(len(losses_by_lr[lr]) for lr in lrs)
    for lr, colour in zip(lrs, colours):
        loss = np.asarray(losses_by_lr[lr], dtype=float)
        finite = np.isfinite(loss) & (loss > 0)
        steps = np.arange(len(loss)) if x is None else np.asarray(x)[: len(loss)]
        ax.plot(steps[finite], loss[finite], color=colour, linewidth=1.4)
        if len(loss) < longest or not finite[-1]:
            last = np.flatnonzero(finite)
            if last.size:
                ax.plot(steps[last[-1]], loss[last[-1]], "x", color=colour, markersize=8, mew=2)
    ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title)
    bar = ax.figure.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=ax)
    bar.set_label("learning rate")
    return ax


def plot_lr_scan(lrs, values, *, ax=None, logy=True, ylabel="value", marks=None, label=None,
                 style="o-", title=None):
    """A quantity measured at each learning rate, on a log lr axis, with special lrs marked.

    Args:
        lrs: the learning rates (x).
        values: the measurements (y); non-finite values (diverged runs) are drawn as
            triangles on the top edge so they stay visible.
        ax: the axes, or None for a new figure.
        logy: a logarithmic y axis.
        ylabel, title, label: the labels.
        marks: ``{label: lr}`` drawn as vertical dashed lines (see :func:`mark_lrs`).
        style: the matplotlib format string of the measured points.

    Returns:
        The axes.
    """
    ax = _axes(ax)
    lrs = np.asarray(lrs, dtype=float)
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    ax.plot(lrs[finite], values[finite], style, markersize=4, label=label)
    _log_lr_axis(ax, lrs)
    if logy:
        ax.set_yscale("log")
    if np.any(~finite):
        ax.plot(lrs[~finite], np.full((~finite).sum(), 0.97), "^", color="tab:red",
                transform=ax.get_xaxis_transform(), label="diverged", markersize=6)
    if marks:
        mark_lrs(ax, marks)
    ax.set(xlabel="learning rate", ylabel=ylabel)
    if title:
        ax.set_title(title)
    if label or marks or np.any(~finite):
        ax.legend(fontsize="small")
    return ax


def plot_descent_on_parabola(iterates, curvature, *, ax=None, title=None):
    """Gradient-descent iterates drawn on the parabola 0.5 * curvature * w**2 they descend.

    Args:
        iterates: 1-D array of successive weights w_0, w_1, ...
        curvature: the parabola's second derivative (lambda).
        ax: the axes, or None for a new figure.
        title: the panel title.

    Returns:
        The axes.
    """
    ax = _axes(ax, figsize=(4, 3))
    w = np.asarray(iterates, dtype=float)
    w = w[np.isfinite(w)]
    reach = max(1.2 * np.max(np.abs(w)), 1e-3)
    grid = np.linspace(-reach, reach, 200)
    ax.plot(grid, 0.5 * curvature * grid**2, color="0.7", zorder=1)
    loss = 0.5 * curvature * w**2
    ax.plot(w, loss, "-", color="tab:blue", linewidth=0.8, zorder=2)
    ax.scatter(w, loss, c=np.arange(len(w)), cmap="plasma", s=18, zorder=3)
    ax.plot(w[0], loss[0], "s", color="k", markersize=5, zorder=4, label="start")
    ax.set(xlabel="weight w", ylabel="loss")
    if title:
        ax.set_title(title)
    return ax


# --- adaptive methods and 2-D paths (lesson 02) ------------------------------------------------------


def plot_contour_paths(problem, paths, *, ax=None, title=None, bounds=None, num_levels=20):
    """Contours of a 2-D problem with optimizer paths drawn over them.

    Args:
        problem: a 2-D problem whose ``loss`` broadcasts over a stacked grid ``(2, ...)``.
        paths: ``{label: array of shape (num_points, 2)}``; points after a divergence are cut.
        ax: the axes, or None for a new figure.
        title: the panel title.
        bounds: ``((xmin, xmax), (ymin, ymax))``; default ``problem.bounds``.
        num_levels: the number of log-spaced contour levels.

    Returns:
        The axes.
    """
    ax = _axes(ax, figsize=(5, 4))
    (x0, x1), (y0, y1) = bounds if bounds is not None else problem.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, 160), np.linspace(y0, y1, 160))
    Z = np.asarray(problem.loss(np.stack([X, Y])), dtype=float)
    floor = getattr(problem, "min_value", Z.min())
    shifted = Z - floor + 1e-12 * max(1.0, abs(Z).max())
    levels = np.geomspace(max(shifted.min(), shifted.max() * 1e-6), shifted.max(), num_levels)
    ax.contour(X, Y, shifted, levels=levels, cmap="Greys", linewidths=0.6,
               norm=mcolors.LogNorm())
    for label, path in paths.items():
        path = np.asarray(path, dtype=float)
        keep = np.all(np.isfinite(path), axis=1)
        path = path[: np.argmin(keep) if not keep.all() else len(path)]
        ax.plot(path[:, 0], path[:, 1], ".-", markersize=3, linewidth=1.2, label=label)
    if hasattr(problem, "minimum"):
        ax.plot(*np.asarray(problem.minimum)[:2], "*", color="gold", markersize=12, mec="k", label="minimum")
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$w_1$", ylabel="$w_2$")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", loc="best")
    return ax


# --- time against accuracy (lesson 03) ------------------------------------------------------------


def pareto_front(times, accuracies):
    """Which runs are on the time-against-accuracy front (not beaten by any other run).

    Run j dominates run i when it is at least as fast and at least as accurate, and strictly
    better in one of the two; the front is the set of runs that nothing dominates. Two equal
    runs do not dominate each other.

    Args:
        times: wall-clock time of each run (lower is better).
        accuracies: final validation accuracy of each run (higher is better).

    Returns:
        A boolean mask, True for the runs on the front.

    >>> pareto_front([1.0, 2.0, 3.0], [0.8, 0.7, 0.9]).tolist()
    [True, False, True]
    """
    t = np.asarray(times, dtype=float)
    a = np.asarray(accuracies, dtype=float)
    if t.shape != a.shape or t.ndim != 1:
        raise ValueError(f"times and accuracies must be 1-D of the same length, got {t.shape} and {a.shape}")
    no_worse = (t[None, :] <= t[:, None]) & (a[None, :] >= a[:, None])
    better = (t[None, :] < t[:, None]) | (a[None, :] > a[:, None])
    return ~np.any(no_worse & better, axis=1)


def plot_pareto(times, accuracies, labels=None, *, ax=None, title=None, colors=None):
    """Runs as points in (time, accuracy), the front joined by a staircase.

    Args:
        times: wall-clock seconds per run (x, log scale).
        accuracies: validation accuracy per run (y).
        labels: optional text per run, written next to its point.
        ax: the axes, or None for a new figure.
        title: the panel title.
        colors: optional colour per run.

    Returns:
        The axes.
    """
    ax = _axes(ax, figsize=(6, 4))
    t = np.asarray(times, dtype=float)
    a = np.asarray(accuracies, dtype=float)
    front = pareto_front(t, a)
    ax.scatter(t, a, c=colors if colors is not None else "tab:blue", s=28, zorder=3,
               label="run" if colors is None else None)  # coloured runs have their own legend
    order = np.argsort(t[front])
    ax.step(t[front][order], a[front][order], where="post", color="tab:red", linewidth=1.5,
            label="Pareto front", zorder=2)
    ax.scatter(t[front], a[front], s=90, facecolors="none", edgecolors="tab:red", zorder=4)
    if labels is not None:
        for x, y, text in zip(t, a, labels):
            ax.annotate(text, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
    ax.set_xscale("log")
    ax.set(xlabel="wall-clock time (s)", ylabel="validation accuracy")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", loc="lower right")
    return ax
