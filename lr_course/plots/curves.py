"""Curves over steps and scans over learning rates: loss against step, a value against lr.

These are the figures of "too small, too large": one curve per learning rate coloured on a
log scale, a quantity against lr with the rules (1/L, 2/L) marked, and mean squares over many
noisy runs with their noise floors.
"""

from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt

from lr_course.plots.base import _axes, log_lr_axis, lr_colors, mark_lrs

__all__ = ["plot_curves", "plot_loss_curves", "plot_lr_scan", "plot_mean_square"]


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
    log_lr_axis(ax, lrs)
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
