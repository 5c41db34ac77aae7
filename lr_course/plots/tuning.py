"""Figures of tuning: a learning-rate range test and the layouts of a search.

The range test shows the smoothed loss against lr with the suggested rates marked; a search
layout shows where grid, random or other trials fall over a toy objective.
"""

from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt

from lr_course.plots.base import _axes

__all__ = ["plot_range_test", "plot_search_layout"]


_MARKERS = ("o", "s", "^", "D", "v", "P")


def plot_range_test(result, *, ax=None, title=None, marks=None):
    """The range test: raw and smoothed loss against lr, with the suggestion and the stop marked.

    Args:
        result: a :class:`lr_course.finder.RangeTestResult`.
        ax: the axes, or None for a new figure.
        title: the panel title.
        marks: optional ``{label: lr}`` (for example the rules of
            :func:`lr_course.suggestions.fastai_suggestions`), each drawn as a marker on the
            smoothed curve, at the loss interpolated in log(lr).

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
    for (label, lr), marker in zip((marks or {}).items(), _MARKERS * 2):
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"marks must be positive lrs, got {label!r}: {lr!r}")
        at = np.interp(np.log(lr), np.log(lrs[ok]), smooth[ok])
        ax.plot([lr], [at], marker, markersize=8, markeredgecolor="k", zorder=5,
                label=f"{label} ({lr:.2g})")
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
