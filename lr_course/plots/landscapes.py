"""Paths on loss landscapes: iterates on a parabola, and 2-D paths over contour lines.

These show *where* the iterates go rather than how the loss falls: the zig-zag across a
parabola when lr * curvature passes 1, and optimizers' paths through an ill-conditioned valley.
"""

from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt
from matplotlib import colors as mcolors

from lr_course.plots.base import _axes

__all__ = ["plot_descent_on_parabola", "plot_contour_paths"]


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
