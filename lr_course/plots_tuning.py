"""Figures for lessons 04-06: schedules side by side, the range test, and search layouts.

Same conventions as :mod:`lr_course.plots`: each function draws on a matplotlib ``Axes`` (a new
figure when ``ax`` is None) and returns it, except :func:`plot_schedule_gallery`, which lays out
one small panel per schedule and returns the ``Figure``. A learning rate that spans decades goes
on a log axis. Like ``plots``, this module imports matplotlib, so ``lr_course/__init__`` never
imports it.
"""

from __future__ import annotations

import math

import numpy as np
import matplotlib.pyplot as plt

from lr_course.plots import _axes

__all__ = [
    "plot_schedule_gallery",
    "plot_range_test",
    "plot_search_layout",
    "plot_mean_square",
]


def plot_schedule_gallery(panels, num_steps, *, ncols=4, logy=False, mark=None, panel_size=(2.9, 2.1)):
    """Small multiples: one panel per schedule (or group of schedules), same horizon for all.

    Args:
        panels: ``{title: schedule}`` or ``{title: {label: schedule}}`` to overlay several
            curves in one panel; a "schedule" is anything callable on an int array of steps,
            or an array of per-step values already computed (e.g. a reduce-on-plateau trace).
        num_steps: the horizon; steps ``0 .. num_steps - 1`` are drawn.
        ncols: panels per row.
        logy: a logarithmic lr axis on every panel.
        mark: an optional step drawn as a dotted vertical line on every panel (e.g. the
            ``total_steps`` a decay was built for, to show what happens past it).
        panel_size: (width, height) of one panel in inches.

    Returns:
        The ``Figure``.
    """
    if not panels:
        raise ValueError("panels must contain at least one schedule, got an empty dict")
    if isinstance(num_steps, bool) or not isinstance(num_steps, (int, np.integer)) or num_steps < 2:
        raise ValueError(f"num_steps must be an integer >= 2, got {num_steps!r}")
    steps = np.arange(num_steps)
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
                             layout="constrained", sharex=True, squeeze=False)
    for ax, (title, content) in zip(axes.flat, panels.items()):
        curves = content if isinstance(content, dict) else {None: content}
        for label, schedule in curves.items():
            values = np.asarray(schedule(steps) if callable(schedule) else schedule, dtype=float)
            ax.plot(steps[: len(values)], values[:num_steps], label=label, linewidth=1.5)
        if any(label is not None for label in curves):
            ax.legend(fontsize="x-small")
        if mark is not None:
            ax.axvline(mark, color="0.5", linestyle=":", linewidth=1)
        if logy:
            ax.set_yscale("log")
        ax.set_title(title, fontsize="small")
        ax.tick_params(labelsize="x-small")
    for ax in axes[-1]:
        ax.set_xlabel("step", fontsize="small")
    for ax in axes[:, 0]:
        ax.set_ylabel("learning rate", fontsize="small")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    return fig


def plot_range_test(result, *, ax=None, title=None):
    """The range test: raw and smoothed loss against lr, with the suggestion and the stop marked.

    Args:
        result: a :class:`lr_course.finder.RangeTestResult`.
        ax: the axes, or None for a new figure.
        title: the panel title.

    Returns:
        The axes.
    """
    ax = _axes(ax, figsize=(6, 3.8))
    lrs = np.asarray(result.lrs, dtype=float)
    raw = np.asarray(result.losses, dtype=float)
    smooth = np.asarray(result.smoothed, dtype=float)
    finite = np.isfinite(raw)
    ax.plot(lrs[finite], raw[finite], color="0.7", linewidth=0.8, label="loss after the update")
    ok = np.isfinite(smooth)
    ax.plot(lrs[ok], smooth[ok], color="tab:blue", linewidth=1.8, label="smoothed loss")
    ax.axvline(result.best_lr, color="tab:green", linestyle="--", linewidth=1.2,
               label=f"lowest smoothed loss ({result.best_lr:.2g})")
    ax.axvline(result.suggestion, color="tab:purple", linestyle="-", linewidth=1.6,
               label=f"suggestion ({result.suggestion:.2g})")
    if result.diverged_lr is not None:
        ax.axvline(result.diverged_lr, color="tab:red", linestyle="--", linewidth=1.2,
                   label=f"stopped: blew up ({result.diverged_lr:.2g})")
    ax.set_xscale("log")
    # The blow-up can be orders of magnitude above the interesting part: clip the view to it.
    top = np.nanmax(smooth[ok][: max(1, ok.sum() - 1)]) if ok.any() else 1.0
    bottom = np.nanmin(raw[finite]) if finite.any() else 0.0
    ax.set_ylim(bottom - 0.05 * abs(top - bottom), top + 0.6 * abs(top - bottom) + 1e-12)
    ax.set(xlabel="learning rate (log scale, grows every step)", ylabel="training loss")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="x-small", loc="upper left")
    return ax


def plot_search_layout(objective, space, layouts, *, ax=None, title=None, resolution=120):
    """Where two searches put their trials, over a heat map of a 2-D objective.

    Args:
        objective: ``objective(**point)`` for one point; it is called on the ``resolution``
            squared background grid, so keep it cheap (a closed form).
        space: ``{name: (scale, low, high)}`` with exactly two names, as in
            :mod:`lr_course.search`; the first goes on x, the second on y.
        layouts: ``{label: {name: array}}``, e.g. ``{"grid": grid_points(...),
            "random": random_points(...)}``; each set of trials gets its own marker.
        ax: the axes, or None for a new figure.
        title: the panel title.
        resolution: background samples per axis.

    Returns:
        The axes.
    """
    if len(space) != 2:
        raise ValueError(f"space must have exactly two hyperparameters, got {list(space)}")
    ax = _axes(ax, figsize=(5.2, 4.2))
    (xname, (xscale, xlow, xhigh)), (yname, (yscale, ylow, yhigh)) = space.items()
    xs = np.geomspace(xlow, xhigh, resolution) if xscale == "log" else np.linspace(xlow, xhigh, resolution)
    ys = np.geomspace(ylow, yhigh, resolution) if yscale == "log" else np.linspace(ylow, yhigh, resolution)
    Z = np.array([[objective(**{xname: x, yname: y}) for x in xs] for y in ys], dtype=float)
    mesh = ax.pcolormesh(xs, ys, Z, cmap="Greys_r", shading="auto")
    ax.figure.colorbar(mesh, ax=ax).set_label("score (lower is better)")
    markers = ["s", "o", "^", "D"]
    colours = ["tab:orange", "tab:cyan", "tab:pink", "tab:olive"]
    for (label, points), marker, colour in zip(layouts.items(), markers, colours):
        ax.scatter(points[xname], points[yname], marker=marker, s=40, color=colour,
                   edgecolors="k", linewidths=0.6, label=label, zorder=3, clip_on=False)
        # Each trial also casts a tick on the x axis: the distinct values of the parameter
        # that matters are what a search really buys.
        ax.plot(points[xname], np.zeros_like(points[xname]), "|", color=colour, markersize=14,
                transform=ax.get_xaxis_transform(), clip_on=False)
    if xscale == "log":
        ax.set_xscale("log")
    if yscale == "log":
        ax.set_yscale("log")
    ax.set(xlabel=xname, ylabel=yname)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", loc="upper right")
    return ax


def plot_mean_square(curves, *, floors=None, ax=None, title=None, ylabel=r"mean of $x_t^2$ over runs"):
    """Mean square error against step for several schedules, with noise floors as lines.

    Args:
        curves: ``{label: 1-D array}`` of E[x_t^2] estimates, one per schedule.
        floors: optional ``{label: value}`` drawn as dashed horizontal lines, or
            ``{label: 1-D array}`` drawn as dotted curves (a floor that moves with the lr).
        ax: the axes, or None for a new figure.
        title: the panel title.
        ylabel: the y label.

    Returns:
        The axes.
    """
    ax = _axes(ax, figsize=(6.4, 3.8))
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(len(values)), values, label=label, linewidth=1.4)
    for label, value in (floors or {}).items():
        value = np.asarray(value, dtype=float)
        if value.ndim == 0:
            ax.axhline(float(value), color="k", linestyle="--", linewidth=1.1, label=label)
        else:
            ax.plot(np.arange(len(value)), value, color="0.3", linestyle=":", linewidth=1.3, label=label)
    ax.set_yscale("log")
    ax.set(xlabel="step", ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="x-small", loc="lower left")
    return ax
